"""Fault injection: report commands SIGKILLed again and again at random moments (and right as a
temporary file appears) while a watcher lists the report folder without pause. No reader ever
sees a partial file: every visible file is complete (HTML ends with </html>, CSV rows are all
as wide as the header, JSON parses, and each has as many lines as the finished file). Writers
leave only hidden temporary files (.NAME.HOST-PID.RANDOM.tmp), which readers ignore; the next
complete run removes the ones of the killed writers.

Another report command joins with one line in REPORT_COMMANDS (see ReportCommand)."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from postdeploy.catalog import Service
from postdeploy.domain.checks import CheckOutcome
from postdeploy.reporting.files import remove_stale_temporaries, write_atomic
from postdeploy.store.checks import record_results
from postdeploy.store.migrate import upgrade
from postdeploy.store.services import sync_services
from postdeploy.store.session import store_transaction

KILLS = 4  # per command: half at a random moment, half as soon as a temporary file shows
DAY = 86400
CHECKS = [(f"svc-{i:03d}", name) for i in range(60) for name in ("health", "version")]
PERIOD = datetime.now(UTC).strftime("%Y-%m")  # the month of the newest results


@dataclass(frozen=True)
class Inputs:
    """What the report commands read: a store with 30 days of check results, its catalog."""

    url: str
    catalog: Path


@dataclass(frozen=True)
class ReportCommand:
    """A report command: its argv after `postdeploy`, given the inputs and the output folder,
    the files it writes there (relative paths), optionally more checks of a complete file
    (raise AssertionError naming what is wrong) on top of the checks by suffix, and more
    environment (POSTDEPLOY_* settings) for the process."""

    name: str
    argv: Callable[[Inputs, Path], list[str]]
    files: tuple[str, ...]
    extra: Callable[[Path, str], None] = field(default=lambda path, text: None)
    env: Callable[[Inputs, Path], dict[str, str]] = field(default=lambda inputs, out: {})


def uptime_md_lists_every_check(path: Path, text: str) -> None:
    if path.suffix == ".md":
        rows = [line for line in text.splitlines() if line.startswith("| svc-")]
        assert len(rows) == len(CHECKS), f"{len(rows)} of {len(CHECKS)} check rows"


REPORT_COMMANDS = [
    ReportCommand(
        "uptime",
        lambda i, out: ["report", "uptime", "--url", i.url, "--out", str(out)],
        ("uptime/index.html", "uptime/uptime.md"),
        uptime_md_lists_every_check,
    ),
    ReportCommand(
        "kpi",
        lambda i, out: [
            "kpi",
            "--period",
            PERIOD,
            "--report",
            "--no-gate",
            "--url",
            i.url,
            "--catalog",
            str(i.catalog),
        ],  # fmt: skip
        tuple(f"monthly/{PERIOD}/{name}" for name in ("index.html", "summary.md", "kpis.csv")),
        env=lambda i, out: {"POSTDEPLOY_REPORTS_DIR": str(out)},
    ),
]


def complete(
    path: Path, command: ReportCommand, lines: dict[str, set[int]] | None = None
) -> str | None:
    """Why the visible file at `path` is not a complete report file, or None; `lines` collects
    the line counts seen per file name (each must be the finished file's)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None  # replaced between listing and reading: a rename, fine
    except UnicodeDecodeError as exc:
        return f"{path.name}: not UTF-8 ({exc})"
    if lines is not None:
        lines.setdefault(str(path), set()).add(text.count("\n"))
    try:
        assert text.endswith("\n") or path.suffix == ".html", "no final newline"
        if path.suffix == ".html":
            assert text.rstrip().endswith("</html>"), f"ends {text[-40:]!r}"
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix == ".csv":
            rows = list(csv.reader(io.StringIO(text)))
            assert rows and all(len(r) == len(rows[0]) for r in rows), "ragged rows"
        command.extra(path, text)
    except (AssertionError, ValueError) as exc:
        return f"{path.name} ({len(text)} chars): {exc}"
    return None


class Watcher:
    """Lists the folder and reads every visible file, over and over, in a thread."""

    def __init__(self, folder: Path, command: ReportCommand) -> None:
        self.folder, self.command = folder, command
        self.problems: list[str] = []
        self.reads = 0
        self.seen: set[str] = set()
        self.lines: dict[str, set[int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for root, dirs, names in os.walk(self.folder):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in names:
                    if name.startswith("."):
                        continue  # hidden: a writer's temporary file, not a report
                    path = Path(root, name)
                    problem = complete(path, self.command, self.lines)
                    self.reads += 1
                    self.seen.add(str(path.relative_to(self.folder)))
                    if problem and problem not in self.problems:
                        self.problems.append(problem)
            time.sleep(0.002)  # continuous, but leaves the writer a CPU

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def hidden_temporaries(folder: Path) -> list[Path]:
    return list(folder.rglob(".*.tmp"))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    folder = tmp_path_factory.mktemp("report-inputs")
    url = f"sqlite:///{folder / 'store.db'}"
    upgrade(url)
    now = time.time()
    rng = random.Random(7)
    with store_transaction(url) as conn:
        ids = sync_services(conn, services=[Service(name=s) for s in {s for s, _ in CHECKS}])
        for day in range(30):
            for hour in (3, 15):
                ts = (now // DAY - day) * DAY + hour * 3600
                outcomes = [
                    CheckOutcome(s, c, rng.random() > 0.02, ts, rng.uniform(5, 80), 200, "HTTP 200")
                    for s, c in CHECKS
                ]
                record_results(conn, sweep_id=f"seed-{day}-{hour}", outcomes=outcomes, ids=ids)
    catalog = folder / "catalog.yaml"
    services = sorted({s for s, _ in CHECKS})
    catalog.write_text(
        "services:\n"
        + "".join(
            f"  - name: {s}\n    url: http://127.0.0.1:9\n    checks:\n"
            "      - {name: health, url: /healthz}\n      - {name: version, url: /version}\n"
            for s in services
        )
    )
    return Inputs(url, catalog)


def postdeploy(command: ReportCommand, inputs: Inputs, out: Path) -> subprocess.Popen[bytes]:
    cli = str(Path(sys.executable).parent / "postdeploy")
    return subprocess.Popen(
        [cli, *command.argv(inputs, out)],
        cwd=out.parent,
        env={**os.environ, **command.env(inputs, out)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def run_to_completion(command: ReportCommand, inputs: Inputs, out: Path) -> float:
    started = time.monotonic()
    proc = postdeploy(command, inputs, out)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    return time.monotonic() - started


def kill(proc: subprocess.Popen[bytes], when: float, folder: Path) -> bool:
    """SIGKILL at `when` (monotonic), or as soon as a temporary file shows if `when` is inf;
    returns whether a temporary file existed at the kill."""

    def writing() -> bool:
        return any(f"-{proc.pid}." in p.name for p in hidden_temporaries(folder))

    while proc.poll() is None and time.monotonic() < when:
        if when == float("inf") and writing():
            break
        time.sleep(0.001)
    mid_write = writing()
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    return mid_write


@pytest.mark.parametrize("command", REPORT_COMMANDS, ids=[c.name for c in REPORT_COMMANDS])
def test_a_report_killed_at_any_moment_never_shows_a_partial_file(
    command: ReportCommand, inputs: Inputs, tmp_path: Path
) -> None:
    seed = int(os.environ.get("FAULT_SEED") or random.randrange(1 << 32))
    rng = random.Random(seed)
    out = tmp_path / "reports"
    out.mkdir()
    mid_writes, duration = 0, 0.0
    with Watcher(out, command) as watcher:
        for n in range(KILLS):
            # even: as soon as a temporary file shows (or the end, which times a run); odd: at
            # a random moment of a run, the end of which writes the files
            at = time.monotonic() + rng.uniform(0.3, 1.1) * duration if n % 2 else float("inf")
            started = time.monotonic()
            mid_writes += kill(postdeploy(command, inputs, out), at, out)
            duration = max(duration, time.monotonic() - started)
        left_by_kills = hidden_temporaries(out)
        run_to_completion(command, inputs, out)
        time.sleep(0.05)  # one more pass over the finished files

    context = f"seed {seed}, {mid_writes} of {KILLS} kills mid-write, {watcher.reads} reads"
    print(f"{command.name}: {context}, {len(left_by_kills)} temporary files left by the kills")
    assert watcher.problems == [], context
    assert watcher.reads > 0 and set(command.files) <= watcher.seen, context
    for name in command.files:
        assert complete(out / name, command) is None, (name, context)
        finished = (out / name).read_text().count("\n")  # the same inputs, the same lines
        assert watcher.lines[str(out / name)] == {finished}, (name, watcher.lines, context)
    assert hidden_temporaries(out) == [], (left_by_kills, context)  # cleaned by the rerun


def test_the_watcher_sees_a_file_written_in_place(tmp_path: Path) -> None:
    """The watcher can fail: a writer that truncates and writes in place is caught."""
    folder = tmp_path
    html = "<!doctype html><html><body>" + "<p>row</p>\n" * 20_000 + "</body></html>\n"
    with Watcher(folder, REPORT_COMMANDS[0]) as watcher:
        deadline = time.monotonic() + 10
        while not watcher.problems and time.monotonic() < deadline:
            with (folder / "index.html").open("w") as handle:
                for start in range(0, len(html), 4096):
                    handle.write(html[start : start + 4096])
                    handle.flush()
    assert watcher.problems, "the watcher missed every partial file"


@pytest.fixture
def dead_pid() -> Iterator[int]:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    yield int(proc.stdout)


def test_write_atomic_removes_only_temporaries_of_dead_writers(
    tmp_path: Path, dead_pid: int
) -> None:
    import socket

    host = socket.gethostname().replace(".", "_")
    target = tmp_path / "index.html"
    dead = tmp_path / f".index.html.{host}-{dead_pid}.abcd1234.tmp"
    running = tmp_path / f".index.html.{host}-{os.getppid()}.abcd1234.tmp"
    other_file = tmp_path / f".index.html.5.{host}-{dead_pid}.abcd1234.tmp"  # index.html.5's
    other_host = tmp_path / f".index.html.elsewhere-{dead_pid}.abcd1234.tmp"
    for path in (dead, running, other_file, other_host):
        path.write_text("partial")

    write_atomic(target, "<html></html>\n")

    assert target.read_text() == "<html></html>\n"
    assert not dead.exists()
    assert running.exists() and other_file.exists() and other_host.exists()
    os.utime(other_host, (time.time() - 2 * 86400,) * 2)  # a day old: a leftover anywhere
    assert remove_stale_temporaries(target) == [other_host]
