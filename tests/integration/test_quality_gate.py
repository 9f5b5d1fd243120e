"""The data-quality gate with real Great Expectations over real stores (SQLite and PostgreSQL):
the period's rows validated as SQL, failures counted with examples, blocked KPIs named."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from typer.testing import CliRunner

from postdeploy.adapters.quality import SUITES_DIR, run_gate
from postdeploy.cli import app
from postdeploy.domain.quality import GateReport, SuiteResult
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import (
    check_result,
    deployment,
    incident,
    metric_sample,
    metric_series,
    service,
    survey_response,
    ticket,
)
from postdeploy.store.session import store_transaction

ROOT = Path(__file__).parents[2]
START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)
TICKET_KPIS = ("first_response_time", "resolution_time", "sla_compliance", "issues_resolved",
               "backlog_size", "backlog_age")  # fmt: skip


def seed_clean(url: str) -> None:
    """A healthy October: 20 check results, 4 tickets, 3 survey answers, 2 incidents, 2 deploys,
    10 metric samples; and a September whose rows are all broken (outside the period)."""
    with store_transaction(url) as conn:
        conn.execute(insert(service), [{"name": "shop", "updated_at": START}])
        series = conn.execute(
            insert(metric_series).values(name="latency", labels_key="", labels={})
        ).inserted_primary_key
        assert series is not None
        t0 = START.timestamp()
        conn.execute(insert(check_result), [
            {"service_id": 1, "check_name": "health", "sweep_id": f"s{i}", "ts": t0 + i * 3600,
             "ok": i != 3, "status": 200 if i != 3 else 503, "latency_ms": 12.5 + i}
            for i in range(20)
        ])  # fmt: skip
        conn.execute(insert(ticket), [
            ticket_row("T1", created=START + DAY, responded=START + DAY * 1.1,
                       resolved=START + 2 * DAY, status="resolved"),
            ticket_row("T2", created=START + 3 * DAY, priority="critical"),
            # opened in September and still open: the backlog at the end of October reads it
            ticket_row("T3", created=START - 5 * DAY, status="in_progress"),
            # resolved in October
            ticket_row("T4", created=START - 2 * DAY, resolved=START + DAY, status="closed"),
        ])  # fmt: skip
        conn.execute(insert(survey_response), [
            survey_row("S1", START + DAY, nps=9, csat=5, ces=6),
            survey_row("S2", START + 2 * DAY, nps=3, csat=2),
            survey_row("S3", START + 3 * DAY, nps=10),
        ])  # fmt: skip
        conn.execute(insert(incident), [
            incident_row("INC-1", START + DAY, acked=START + DAY * 1.01, resolved=START + 2 * DAY),
            incident_row("INC-2", START + 4 * DAY),
        ])  # fmt: skip
        conn.execute(insert(deployment), [
            {"service": "shop", "version": "1.0", "committed_at": START,
             "deployed_at": START + DAY, "failed": False, "recovered_at": None},
            {"service": "shop", "version": "1.1", "committed_at": None,
             "deployed_at": START + 2 * DAY, "failed": True, "recovered_at": START + 2.1 * DAY},
        ])  # fmt: skip
        conn.execute(insert(metric_sample), [
            {"series_id": series[0], "ts": int(t0) + 60 * i, "value": 0.1 * i} for i in range(10)
        ])  # fmt: skip
        # September, all wrong: the gate for October must not see any of it
        before = START - 10 * DAY
        conn.execute(insert(check_result), [
            {"service_id": 1, "check_name": "health", "sweep_id": "old", "ts": before.timestamp(),
             "ok": True, "status": 999, "latency_ms": -1.0}
        ])  # fmt: skip
        conn.execute(insert(ticket), [
            ticket_row("OLD", created=before, resolved=before - DAY, priority="p1", status="closed")
        ])  # fmt: skip
        conn.execute(insert(survey_response), [survey_row("OLD", before, nps=42)])


def ticket_row(
    external_id: str,
    created: datetime,
    responded: datetime | None = None,
    resolved: datetime | None = None,
    priority: str = "high",
    status: str = "open",
) -> dict[str, Any]:
    return {"source": "core", "external_id": external_id, "service": "shop", "priority": priority,
            "status": status, "created_at": created, "first_response_at": responded,
            "resolved_at": resolved}  # fmt: skip


def survey_row(external_id: str, at: datetime, **scores: int) -> dict[str, Any]:
    answers = {"nps": None, "csat": None, "ces": None} | scores
    return {"source": "nps-tool", "external_id": external_id, "submitted_at": at, **answers}


def incident_row(
    key: str, opened: datetime, acked: datetime | None = None, resolved: datetime | None = None
) -> dict[str, Any]:
    return {"key": key, "service": "shop", "severity": "high", "level": "L2",
            "status": "resolved" if resolved else "open", "title": key, "opened_at": opened,
            "acknowledged_at": acked, "resolved_at": resolved}  # fmt: skip


def suite(report: GateReport, name: str) -> SuiteResult:
    return next(s for s in report.suites if s.name == name)


def custom_gate(folder: Path, gate: str, copies: tuple[str, ...] = ()) -> Path:
    folder.mkdir()
    (folder / "gate.yaml").write_text(gate)
    for name in copies:
        shutil.copy(SUITES_DIR / f"{name}.json", folder / f"{name}.json")
    return folder


def test_clean_data_passes_every_suite_and_rows_outside_the_period_are_not_counted(
    store_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    seed_clean(store_url)
    report = run_gate(store_url, START, END, label="2026-10")
    assert [(s.name, s.status, s.rows) for s in report.suites] == [
        ("check_results", "passed", 20),
        ("tickets", "passed", 4),
        ("surveys", "passed", 3),
        ("incidents", "passed", 2),
        ("deployments", "passed", 2),
        ("metrics", "passed", 10),
    ]
    assert report.passed and report.blocked == {} and report.warnings == []
    assert "passed" in report.to_markdown()
    # GX drew no progress bars and logged nothing, and wrote no project folder
    out, err = capfd.readouterr()
    assert "Calculating Metrics" not in out + err and err == ""
    assert not (ROOT / "gx").exists() and not (Path.cwd() / "gx").exists()


def test_bad_rows_fail_the_named_expectations_with_counts_examples_and_blocked_kpis(
    store_url: str,
) -> None:
    seed_clean(store_url)
    with store_transaction(store_url) as conn:
        t = START.timestamp() + 7200.5
        conn.execute(insert(check_result), [
            {"service_id": 1, "check_name": "login", "sweep_id": f"neg{i}", "ts": t + i,
             "ok": True, "status": 200, "latency_ms": -5.0 - i} for i in range(2)
        ])  # fmt: skip
        negative = conn.execute(
            select(check_result.c.id).where(check_result.c.latency_ms < 0, check_result.c.ts >= t)
        ).scalars().all()  # fmt: skip
        conn.execute(insert(ticket), [
            ticket_row("BACKWARDS", created=START + 5 * DAY, resolved=START + 4 * DAY,
                       status="resolved"),
            ticket_row("URGENT", created=START + 6 * DAY, priority="urgent"),
        ])  # fmt: skip
        conn.execute(insert(survey_response), [survey_row("ELEVEN", START + 7 * DAY, nps=11)])

    report = run_gate(store_url, START, END, label="2026-10")
    failures = {(s.name, f.expectation, f.column): f for s in report.suites for f in s.failures}
    assert set(failures) == {
        ("check_results", "expect_column_values_to_be_between", "latency_ms"),
        ("tickets", "expect_column_values_to_be_in_set", "priority"),
        ("tickets", "expect_column_pair_values_a_to_be_greater_than_b", "resolved_at, created_at"),
        ("surveys", "expect_column_values_to_be_between", "nps"),
    }
    latency = failures["check_results", "expect_column_values_to_be_between", "latency_ms"]
    assert latency.unexpected == 2 and latency.severity == "critical"
    assert sorted(latency.examples) == [
        f"id={negative[0]} check_name=login: latency_ms=-5.0",
        f"id={negative[1]} check_name=login: latency_ms=-6.0",
    ]
    priority = failures["tickets", "expect_column_values_to_be_in_set", "priority"]
    assert (priority.unexpected, priority.examples) == (
        1, ["source=core external_id=URGENT: priority=urgent"]
    )  # fmt: skip
    order = failures[
        "tickets", "expect_column_pair_values_a_to_be_greater_than_b", "resolved_at, created_at"
    ]
    assert order.unexpected == 1 and order.examples[0].startswith(
        "source=core external_id=BACKWARDS: resolved_at=2026-10-05"
    )
    nps = failures["surveys", "expect_column_values_to_be_between", "nps"]
    assert (nps.unexpected, nps.examples) == (1, ["source=nps-tool external_id=ELEVEN: nps=11"])
    assert (suite(report, "check_results").rows, suite(report, "tickets").rows) == (22, 6)

    blocked = report.blocked
    assert set(blocked) == {
        "availability", "error_budget_remaining", *TICKET_KPIS, "csat", "nps", "ces"
    }  # fmt: skip
    assert "latency_ms" in blocked["availability"] and "2 of 22 rows" in blocked["availability"]
    assert "external_id=URGENT" in blocked["backlog_size"]
    assert "external_id=BACKWARDS" in blocked["resolution_time"]
    assert "ELEVEN" in blocked["nps"]
    # the other KPIs still come out: incidents and deployments passed
    assert suite(report, "incidents").success and suite(report, "deployments").success
    markdown = report.to_markdown()
    assert "## Blocked KPIs" in markdown and "external_id=ELEVEN: nps=11" in markdown
    assert any(r["examples"].startswith("source=core external_id=URGENT") for r in report.rows())


def test_a_warning_suite_failure_blocks_nothing_and_a_suite_that_cannot_run_names_why(
    store_url: str, tmp_path: Path
) -> None:
    seed_clean(store_url)
    with store_transaction(store_url) as conn:
        conn.execute(insert(survey_response), [survey_row("ELEVEN", START + 7 * DAY, nps=11)])
    query = "SELECT * FROM survey_response WHERE submitted_at >= :start AND submitted_at < :end"
    folder = custom_gate(
        tmp_path / "suites",
        f"""
suites:
  surveys: {{mode: warning, feeds: [csat, nps, ces], example_columns: [external_id],
             query: "{query}"}}
  ghosts: {{mode: blocking, feeds: [lead_time], query: "SELECT * FROM deployment"}}
  surveys_elsewhere:
    mode: blocking
    feeds: [mtta]
    query: SELECT * FROM no_such_table
""",
        copies=("surveys",),
    )
    shutil.copy(folder / "surveys.json", folder / "surveys_elsewhere.json")
    (folder / "unused.json").write_text("{}")
    report = run_gate(store_url, START, END, suites_dir=folder)

    surveys = suite(report, "surveys")
    assert surveys.status == "failed" and not surveys.blocks
    assert [f.examples for f in surveys.failures] == [["external_id=ELEVEN: nps=11"]]
    assert "csat" not in report.blocked and "nps" not in report.blocked
    assert any("surveys" in w and "nothing blocked" in w for w in report.warnings)

    ghosts = suite(report, "ghosts")
    assert ghosts.status == "error" and ghosts.error == f"no suite file {folder / 'ghosts.json'}"
    assert str(folder / "ghosts.json") in report.blocked["lead_time"]

    elsewhere = suite(report, "surveys_elsewhere")
    assert elsewhere.status == "error" and elsewhere.error is not None
    assert "no_such_table" in elsewhere.error
    assert "could not run" in report.blocked["mtta"]
    assert any("unused.json is not named" in w for w in report.warnings)
    assert not report.passed


def test_an_empty_period_warns_that_availability_has_no_data_but_blocks_nothing(
    store_url: str, tmp_path: Path
) -> None:
    query = "SELECT * FROM check_result WHERE ts >= :start_epoch AND ts < :end_epoch"
    folder = custom_gate(
        tmp_path / "suites",
        f'suites:\n  check_results: {{mode: blocking, feeds: [availability], query: "{query}"}}\n',
        copies=("check_results",),
    )
    report = run_gate(store_url, START, END, suites_dir=folder)
    assert report.passed and report.blocked == {}
    [failure] = suite(report, "check_results").failures
    assert (failure.expectation, failure.severity) == (
        "expect_table_row_count_to_be_between", "warning"
    )  # fmt: skip
    assert "availability has no data" in report.warnings[0]


def test_a_store_file_that_is_not_there_fails_every_suite_and_is_not_created(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nowhere.db"
    report = run_gate(f"sqlite:///{missing}", START, END)
    assert {s.status for s in report.suites} == {"error"}
    assert all(str(missing) in (s.error or "") for s in report.suites)
    assert not missing.exists()
    assert "availability" in report.blocked


def cli(*args: str) -> Any:
    catalog = str(ROOT / "data" / "postdeploy.yaml")
    return CliRunner().invoke(app, ["quality", "--catalog", catalog, *args])


def test_the_cli_exits_1_naming_blocked_kpis_and_0_when_clean(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    seed_clean(url)
    clean = cli("--period", "2026-10", "--url", url)
    assert clean.exit_code == 0, clean.output
    assert "# Data-quality gate 2026-10" in clean.output
    with store_transaction(url) as conn:
        conn.execute(insert(survey_response), [survey_row("ELEVEN", START + 7 * DAY, nps=11)])
    bad = cli("--period", "2026-10", "--url", url, "--json")
    assert bad.exit_code == 1
    body = json.loads(bad.output)
    assert set(body["blocked"]) == {"csat", "nps", "ces"} and body["passed"] is False
    [failure] = next(s for s in body["suites"] if s["name"] == "surveys")["failures"]
    assert failure["unexpected"] == 1 and failure["column"] == "nps"
    # the same period a week earlier does not hold the bad answer
    assert cli("--period", "2026-W40", "--url", url).exit_code == 0


def test_the_cli_refuses_a_bad_period_or_gate_file_with_exit_2(tmp_path: Path) -> None:
    period = cli("--period", "October", "--url", "sqlite:///x.db")
    assert period.exit_code == 2 and "is not a period" in period.output
    (tmp_path / "gate.yaml").write_text("suites:\n  tickets: {mode: sometimes, feeds: [vibes]}\n")
    gate = cli("--period", "2026-10", "--url", "sqlite:///x.db", "--suites", str(tmp_path))
    assert gate.exit_code == 2
    assert str(tmp_path / "gate.yaml") in gate.output
    assert "'sometimes' is not blocking or warning" in gate.output and "vibes" in gate.output


def test_the_cli_starts_without_importing_great_expectations() -> None:
    code = "import sys, postdeploy.cli; sys.exit('great_expectations' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_the_gate_leaves_no_connection_open_on_postgresql(pg_database: str) -> None:
    upgrade(pg_database)
    name = pg_database.rsplit("/", 1)[1]
    for _ in range(2):
        run_gate(pg_database, START, END)
    with store_transaction(pg_database) as conn:
        count = text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name")
        assert conn.execute(count, {"name": name}).scalar_one() == 1  # this one
