"""The `postdeploy` command as an operator runs it: the real console script in a subprocess.

Each test points the store and the reports folder into its own tmp_path, probes real local
servers (the sample service fixtures) and judges what the operator sees: exit code, stdout,
stderr and the files written.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from postdeploy.store.migrate import head_revision
from tests.conftest import free_port

POSTDEPLOY = Path(sys.executable).parent / "postdeploy"
EXAMPLE_CATALOG = Path(__file__).resolve().parents[2] / "data" / "postdeploy.yaml"
JSON_KEYS = {"service", "check", "ok", "latency_ms", "status", "detail"}


def run(
    tmp_path: Path, *args: str, url: str | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run `postdeploy ARGS` in tmp_path with the store and reports pointed into tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDEPLOY_")}
    env |= {
        "POSTDEPLOY_DATABASE_URL": url or f"sqlite:///{tmp_path / 'var' / 'store.db'}",
        "POSTDEPLOY_REPORTS_DIR": str(tmp_path / "reports"),
        "COLUMNS": "200",  # rich wraps the table at the terminal width; keep rows on one line
        **extra,
    }
    # a session of its own, so a command that overruns (a regressed `up`) is killed with
    # every process it started, not left serving on this machine's ports
    proc = subprocess.Popen(
        [str(POSTDEPLOY), *args], cwd=tmp_path, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def write_catalog(tmp_path: Path, services: dict[str, str], name: str = "catalog.yaml") -> Path:
    """A catalog with a `liveness` check on /healthz for each service (name -> base URL)."""
    catalog = {
        "services": [
            {"name": service, "url": base, "checks": [{"name": "liveness", "url": "/healthz"}]}
            for service, base in services.items()
        ]
    }
    path = tmp_path / name
    path.write_text(yaml.safe_dump(catalog, sort_keys=False), encoding="utf-8")
    return path


def sample_catalog(tmp_path: Path, base: str) -> Path:
    """Three checks on the sample service, none on /api/orders (it fails 1% of requests)."""
    catalog = {
        "services": [
            {
                "name": "sample",
                "url": base,
                "checks": [
                    {"name": "liveness", "url": "/healthz", "expect_keyword": '"status": "ok"'},
                    {"name": "build-version", "url": "/version", "expect_keyword": "1.2.3"},
                    {"name": "prom-metrics", "url": "/metrics", "expect_keyword": "sample_build"},
                ],
            }
        ]
    }
    path = tmp_path / "sample.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False), encoding="utf-8")
    return path


def json_lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


# --- check ----------------------------------------------------------------------------------


def test_check_json_prints_one_object_per_check_and_exits_0(
    sample_service: str, tmp_path: Path
) -> None:
    catalog = sample_catalog(tmp_path, sample_service)
    result = run(tmp_path, "check", "--catalog", str(catalog), "--json")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    assert [(o["service"], o["check"]) for o in lines] == [
        ("sample", "liveness"),
        ("sample", "build-version"),
        ("sample", "prom-metrics"),
    ]
    for outcome in lines:
        assert JSON_KEYS <= outcome.keys()
        assert outcome["ok"] is True
        assert outcome["status"] == 200
        assert outcome["detail"] == "HTTP 200"
        assert isinstance(outcome["latency_ms"], float) and outcome["latency_ms"] > 0
    assert "Traceback" not in result.stderr


def test_a_broken_service_fails_the_sweep_with_exit_1_and_the_reason_in_detail(
    sample_service: str, broken_sample_service: str, tmp_path: Path
) -> None:
    catalog = write_catalog(
        tmp_path,
        {
            "good": sample_service,
            "broken": broken_sample_service,
            "gone": f"http://127.0.0.1:{free_port()}",  # nothing listens there
        },
    )
    result = run(tmp_path, "check", "--catalog", str(catalog), "--json")
    assert result.returncode == 1
    by_service = {o["service"]: o for o in json_lines(result.stdout)}
    assert by_service.keys() == {"good", "broken", "gone"}
    assert by_service["good"]["ok"] is True
    assert by_service["broken"]["ok"] is False
    assert by_service["broken"]["status"] == 503
    assert by_service["broken"]["detail"] == "HTTP 503, expected 200"
    assert by_service["gone"]["ok"] is False
    assert by_service["gone"]["status"] is None
    assert str(by_service["gone"]["detail"]).startswith("connection refused")
    assert "Traceback" not in result.stderr


def test_the_human_output_is_a_table_with_one_row_per_check(
    sample_service: str, broken_sample_service: str, tmp_path: Path
) -> None:
    catalog = write_catalog(tmp_path, {"good": sample_service, "broken": broken_sample_service})
    result = run(tmp_path, "check", "--catalog", str(catalog))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "service" in line)
    for column in ("check", "ok", "status", "latency ms", "detail"):
        assert column in header
    good = [line for line in lines if "good" in line]
    broken = [line for line in lines if "broken" in line]
    assert len(good) == 1 and "liveness" in good[0] and "ok" in good[0] and "200" in good[0]
    assert len(broken) == 1 and "FAIL" in broken[0] and "HTTP 503, expected 200" in broken[0]
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])  # a table, not JSON


def test_the_service_option_limits_the_sweep_to_that_service(
    sample_service: str, broken_sample_service: str, tmp_path: Path
) -> None:
    catalog = write_catalog(tmp_path, {"good": sample_service, "broken": broken_sample_service})
    result = run(tmp_path, "check", "--catalog", str(catalog), "--service", "good", "--json")
    assert result.returncode == 0, result.stderr  # the broken service was not swept
    assert [o["service"] for o in json_lines(result.stdout)] == ["good"]


def test_an_unknown_service_name_exits_2_with_a_message(
    sample_service: str, tmp_path: Path
) -> None:
    catalog = write_catalog(tmp_path, {"good": sample_service})
    result = run(tmp_path, "check", "--catalog", str(catalog), "--service", "nosuch", "--json")
    assert result.returncode == 2
    assert "nosuch" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_a_typo_in_one_of_several_service_names_is_refused_not_skipped(
    sample_service: str, tmp_path: Path
) -> None:
    catalog = write_catalog(tmp_path, {"good": sample_service})
    result = run(tmp_path, "check", "--catalog", str(catalog), "-s", "good", "-s", "goood")
    assert result.returncode == 2
    assert "goood" in result.stderr and result.stdout == ""


# --- catalog errors -------------------------------------------------------------------------

INVALID_FIELD = """\
services:
  - name: api
    url: http://127.0.0.1:1
    tier: 9
    checks:
      - name: health
        url: /healthz
        timeout: soon
"""


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(None, ["file not found"], id="missing file"),
        pytest.param("services: [\n  - name: x\n", ["not valid YAML"], id="malformed YAML"),
        pytest.param(
            INVALID_FIELD,
            ["services[0].checks[0].timeout", "'soon' is not a duration", "services[0].tier"],
            id="invalid field",
        ),
    ],
)
def test_a_bad_catalog_exits_2_naming_the_file_and_the_problem_without_a_traceback(
    tmp_path: Path, content: str | None, expected: list[str]
) -> None:
    path = tmp_path / "ops-catalog.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = run(tmp_path, "check", "--catalog", str(path))
    assert result.returncode == 2
    assert "ops-catalog.yaml" in result.stderr
    for text in expected:
        assert text in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("workers", [[], ["--workers"]], ids=["served", "workers"])
def test_up_with_a_bad_catalog_stops_before_starting_anything_and_names_it(
    tmp_path: Path, workers: list[str]
) -> None:
    path = tmp_path / "ops-catalog.yaml"
    path.write_text(INVALID_FIELD, encoding="utf-8")
    result = run(
        tmp_path, "up", "--no-sample", *workers,
        POSTDEPLOY_CATALOG=str(path), POSTDEPLOY_VAR_DIR=str(tmp_path / "var"),
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error:" in result.stdout and "ops-catalog.yaml" in result.stdout
    assert "'soon' is not a duration" in result.stdout
    assert "prefect" not in result.stdout.split("error:")[0]  # nothing was started
    assert not (tmp_path / "var" / "log" / "prefect-server.log").exists()


def test_catalog_validate_accepts_the_example_catalog(tmp_path: Path) -> None:
    result = run(tmp_path, "catalog", "validate", str(EXAMPLE_CATALOG))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok: 1 services, 4 checks, 1 routes"


def test_catalog_validate_names_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "ops-catalog.yaml"
    path.write_text(INVALID_FIELD, encoding="utf-8")
    result = run(tmp_path, "catalog", "validate", str(path))
    assert result.returncode == 2
    assert "services[0].tier" in result.stderr
    assert "services[0].checks[0].timeout" in result.stderr
    assert "Traceback" not in result.stderr


# --- db -------------------------------------------------------------------------------------


def test_db_upgrade_creates_a_fresh_sqlite_store_and_db_current_shows_its_revision(
    tmp_path: Path,
) -> None:
    db = tmp_path / "fresh" / "nested" / "store.db"
    url = f"sqlite:///{db}"
    result = run(tmp_path, "db", "upgrade", "--url", url)
    assert result.returncode == 0, result.stderr
    assert db.is_file()
    head = head_revision()
    assert result.stdout.strip() == f"store {url} at revision {head}"
    current = run(tmp_path, "db", "current", url=url)  # from POSTDEPLOY_DATABASE_URL this time
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip() == f"{head} (head: {head})"


def test_db_upgrade_on_an_unreachable_postgres_exits_2_with_the_password_masked(
    tmp_path: Path,
) -> None:
    url = f"postgresql://u:secret@127.0.0.1:{free_port()}/x"
    result = run(tmp_path, "db", "upgrade", "--url", url)
    assert result.returncode == 2
    assert "secret" not in result.stdout + result.stderr
    assert "u:***@127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["db", "current"], ["db", "downgrade", "base"]])
def test_db_commands_on_an_unreachable_store_exit_2_with_one_masked_line(
    tmp_path: Path, command: list[str]
) -> None:
    url = f"postgresql://u:secret@127.0.0.1:{free_port()}/x"
    result = run(tmp_path, *command, "--url", url)
    assert result.returncode == 2
    assert "u:***@127.0.0.1" in result.stderr and "secret" not in result.stderr
    assert "Traceback" not in result.stderr


# --- check --record and reports -------------------------------------------------------------


def test_check_record_stores_the_results_that_report_uptime_then_shows(
    sample_service: str, store_url: str, tmp_path: Path
) -> None:
    catalog = sample_catalog(tmp_path, sample_service)
    result = run(tmp_path, "check", "--catalog", str(catalog), "--record", "--json", url=store_url)
    assert result.returncode == 0, result.stderr
    assert len(json_lines(result.stdout)) == 3

    report = run(tmp_path, "report", "uptime", url=store_url)
    assert report.returncode == 0, report.stderr
    html = tmp_path / "reports" / "uptime" / "index.html"
    assert html.is_file()
    page = html.read_text(encoding="utf-8")
    for check in ("liveness", "build-version", "prom-metrics"):
        assert check in page
    markdown = (tmp_path / "reports" / "uptime" / "uptime.md").read_text(encoding="utf-8")
    rows = [line for line in markdown.splitlines() if line.startswith("| sample |")]
    assert len(rows) == 3
    assert all("| up |" in row and "| 1 | 0 |" in row for row in rows)  # 1 check, 0 failed


def test_check_record_on_an_unmigrated_store_exits_2_and_says_to_upgrade(
    sample_service: str, tmp_path: Path
) -> None:
    catalog = sample_catalog(tmp_path, sample_service)
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = run(tmp_path, "check", "--catalog", str(catalog), "--record", url=url)
    assert result.returncode == 2
    assert "postdeploy db upgrade" in result.stderr
    assert "Traceback" not in result.stderr
