"""What a new user runs: `postdeploy up` (the main job) and `postdeploy demo`, as real processes."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.conftest import Recorder, free_port

ROOT = Path(__file__).parents[2]
CLI = str(Path(sys.executable).parent / "postdeploy")


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "POSTDEPLOY_"))}
    env.update(
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        POSTDEPLOY_VAR_DIR=str(tmp / "var"),
        POSTDEPLOY_DATABASE_URL=f"sqlite:///{tmp / 'var' / 'store.db'}",
        **extra,
    )
    return env


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_up_serves_scheduled_health_checks_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    ports = {"prefect": free_port(), "api": free_port(), "sample": free_port()}
    catalog = yaml.safe_load((ROOT / "data" / "postdeploy.yaml").read_text())
    catalog["services"][0]["url"] = f"http://127.0.0.1:{ports['sample']}"
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    env = clean_env(
        tmp_path,
        POSTDEPLOY_CATALOG=str(tmp_path / "catalog.yaml"),
        POSTDEPLOY_PREFECT_PORT=str(ports["prefect"]),
        POSTDEPLOY_API_PORT=str(ports["api"]),
        POSTDEPLOY_SAMPLE_PORT=str(ports["sample"]),
    )
    started = time.monotonic()
    proc = subprocess.Popen(
        [CLI, "up"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    output: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if line.startswith(("ready", "error")):
                break
        assert output and output[-1].startswith("ready"), "".join(output)

        api = f"http://127.0.0.1:{ports['prefect']}/api"
        runs: list[dict[str, object]] = []
        while time.monotonic() - started < 90:
            runs = httpx.post(f"{api}/flow_runs/filter", json={}, timeout=5).json()
            if any(r["state_type"] == "COMPLETED" for r in runs):
                break
            time.sleep(1)
        completed = [r for r in runs if r["state_type"] == "COMPLETED"]
        assert completed, f"no completed health-check run: {[r['state_name'] for r in runs]}"
        assert time.monotonic() - started < 90

        for slug in (
            "postdeploy-store",
            "postdeploy-notifier",
        ):  # `prefect block register -m blocks`
            assert httpx.get(f"{api}/block_types/slug/{slug}").status_code == 200
        deployment = httpx.get(f"{api}/deployments/name/health-check/health-check").json()
        assert deployment["schedules"][0]["schedule"]["interval"] == 60.0
        health = httpx.get(f"http://127.0.0.1:{ports['api']}/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["checks"]["store"]["ok"]
        assert (tmp_path / "reports" / "uptime" / "index.html").exists()

        # a CI/CD pipeline: the deploy hook with --wait gives the verdict as its exit code
        deploy = subprocess.run(
            [CLI, "hook", "deployed", "--service", "sample", "--version", "1.0.0",
             "--commit", "e2e", "--canary-window", "2", "--wait", "--timeout", "120"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        assert "verdict: pass" in deploy.stdout
        assert (
            "## sample 1.0.0 (production): PASS"
            in (tmp_path / "reports" / "releases.md").read_text()
        )
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
        output.append(rest)
    text = "".join(output)
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "stopped" in text
    assert not any(listening(p) for p in ports.values()), "a child process outlived `up`"


# Known secret values given to the demo; none may appear in anything it writes or prints.
SECRETS = {
    "hooks token": "tok-SECRET-hooks-51be",
    "notifier URL path": "path-SECRET-notify-9d02",
    "notifier token": "tok-SECRET-notify-c4e1",
    "Prometheus token": "tok-SECRET-prom-0b77",
    "Prometheus password": "pw-SECRET-prom-e5d8",
}


def leaks(where: str, data: bytes) -> list[str]:
    return [f"{what} in {where}" for what, secret in SECRETS.items() if secret.encode() in data]


def files_under(*folders: Path) -> Iterator[tuple[str, bytes]]:
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            yield str(path), path.read_bytes()


async def prefect_records() -> dict[str, list[Any]]:
    """What the demo left on the Prefect server, as its API returns it, every page."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:

        async def every(read: Any) -> list[Any]:
            out: list[Any] = []
            while page := await read(limit=200, offset=len(out)):
                out += page
            return out

        return {
            "flow runs": await every(client.read_flow_runs),
            "task runs": await every(client.read_task_runs),
            "logs": await every(client.read_logs),
            "artifacts": await every(client.read_artifacts),
            "variables": await client.read_variables(),
        }


def demo_catalog_with_secrets(tmp: Path, notifier: str, prometheus: str) -> Path:
    catalog = yaml.safe_load((ROOT / "data" / "postdeploy.yaml").read_text())
    catalog["routes"] = [{"name": "ops", "kind": "webhook", "block": notifier}]
    catalog["prometheus"] = {"block": prometheus}
    (tmp / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    return tmp / "catalog.yaml"


def test_demo_seeds_history_runs_every_flow_and_writes_a_self_contained_report(
    tmp_path: Path, recorder: Recorder, prometheus: str
) -> None:
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL
    from prefect.testing.utilities import prefect_test_harness

    from blocks import Notifier, PrometheusConnection

    with prefect_test_harness(server_startup_timeout=120):
        # secrets live in blocks on the Prefect server the demo runs on, as in production
        Notifier(
            kind="webhook",
            url=f"{recorder.url}/{SECRETS['notifier URL path']}",
            token=SECRETS["notifier token"],
        ).save("demo-ops")
        PrometheusConnection(
            url=prometheus,
            token=SECRETS["Prometheus token"],
            username="demo",
            password=SECRETS["Prometheus password"],
        ).save("demo-prometheus")
        env = clean_env(
            tmp_path,
            POSTDEPLOY_CATALOG=str(
                demo_catalog_with_secrets(tmp_path, "demo-ops", "demo-prometheus")
            ),
            POSTDEPLOY_HOOKS_TOKEN=SECRETS["hooks token"],
            PREFECT_API_URL=PREFECT_API_URL.value(),
            PREFECT_HOME=str(tmp_path / "prefect-home"),  # any local result storage lands here
        )
        env.pop("POSTDEPLOY_DATABASE_URL")  # the demo uses a store of its own by default
        started = time.monotonic()
        done = subprocess.run(
            [CLI, "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        took = time.monotonic() - started
        records = asyncio.run(prefect_records())
        server_db = Path(PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split(":///", 1)[1])
        server_files = list(files_under(server_db.parent))  # every table, events included
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^health-check\s+Completed", done.stdout, re.M), done.stdout
    assert re.search(r"^collect-metrics\s+Completed.*'source': 'prometheus'", done.stdout, re.M)
    assert "Traceback" not in done.stdout + done.stderr

    html = (tmp_path / "reports" / "uptime" / "index.html").read_text()
    assert "DEMO DATA" in html and "legacy-billing" in html and "HTTP 503" in html
    # opens with no network: nothing is loaded from anywhere
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert (tmp_path / "reports" / "uptime" / "uptime.md").read_text().startswith("# Uptime")

    # the secrets were really in use: the notifier was called at its secret URL with its token
    assert any(SECRETS["notifier URL path"] in str(r["path"]) for r in recorder.requests)
    sent = [{k.lower(): v for k, v in dict(r["headers"]).items()} for r in recorder.requests]
    assert {"authorization": f"Bearer {SECRETS['notifier token']}"}.items() <= sent[0].items()
    assert records["flow runs"] and records["logs"] and records["artifacts"]

    found = leaks("demo stdout", done.stdout.encode()) + leaks("demo stderr", done.stderr.encode())
    for name, data in files_under(
        tmp_path / "reports", tmp_path / "var", tmp_path / "prefect-home"
    ):
        found += leaks(name, data)
    for kind, items in records.items():
        for item in items:
            found += leaks(
                f"Prefect {kind}: {getattr(item, 'name', '')}", item.model_dump_json().encode()
            )
    for name, data in server_files:
        found += leaks(f"Prefect server database {name}", data)
    assert not found, found
    missing = expected_reports() - report_files(tmp_path / "reports")
    assert not missing, missing
    print(f"demo on SQLite took {took:.0f} s")  # speed is benchmarked, not asserted


def expected_reports() -> set[str]:
    """The reports `make demo` writes on any day: the calendar's and the analysts'."""
    from postdeploy.domain.periods import period_of, previous

    now = datetime.now(UTC)
    week, month, quarter = (period_of(k, now, UTC) for k in ("week", "month", "quarter"))  # type: ignore[arg-type]
    last_week, last_month, last_quarter = previous(week), previous(month), previous(quarter)
    kpi = ("index.html", "summary.md", "kpis.csv", "data-quality.csv")
    found = {"uptime/index.html", "status/index.html", "releases.md", "kb/index.html"}
    found |= {f"weekly/{last_week.label}/{f}" for f in kpi}
    found |= {f"monthly/{p.label}/{f}" for p in (last_month, month) for f in kpi}
    found |= {f"quarterly/{p.label}/{f}" for p in (last_quarter, quarter) for f in kpi}
    found |= {f"capacity/{month.label}/{f}" for f in ("index.html", "summary.md", "forecasts.csv")}
    found |= {f"surveys/{p}/index.html" for p in (last_month.label, month.label, "2026-10")}
    found |= {f"performance/{week.label}/index.html", f"security/{week.label}/index.html"}
    return found


def report_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
