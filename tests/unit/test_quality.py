"""The data-quality gate's rules without Great Expectations: the gate file, what blocks, what
warns, and how a report reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postdeploy.domain.quality import (
    KPI_NAMES,
    Failure,
    GateConfigError,
    GateReport,
    SuiteResult,
    artifact_key,
    parse_gate,
)

START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
NEGATIVE = Failure("expect_column_values_to_be_between", "latency_ms", 2,
                   ["id=7: latency_ms=-5.0"], detail="min_value=0")  # fmt: skip
NO_ROWS = Failure("expect_table_row_count_to_be_between", None, 0, ["observed 0"], "warning",
                  "min_value=1", "No check results in the period.")  # fmt: skip


def result(name: str, blocking: bool, *failures: Failure, error: str | None = None) -> SuiteResult:
    feeds = {"checks": ("availability",), "surveys": ("csat", "nps"), "metrics": ()}[name]
    ok = not failures and error is None
    return SuiteResult(name, blocking, ok, feeds, 100, list(failures), error)


def test_the_gate_file_reads_modes_feeds_queries_and_example_columns() -> None:
    specs = parse_gate(
        {"suites": {
            "checks": {"mode": "blocking", "feeds": ["availability"], "query": " SELECT 1 "},
            "metrics": {"mode": "warning", "query": "SELECT 2", "example_columns": ["ts"]},
        }},
        "gate.yaml",
    )  # fmt: skip
    assert [(s.name, s.blocking, s.feeds, s.query, s.example_columns) for s in specs] == [
        ("checks", True, ("availability",), "SELECT 1", ("id",)),
        ("metrics", False, (), "SELECT 2", ("ts",)),
    ]


def test_a_bad_gate_file_names_the_file_and_every_problem() -> None:
    with pytest.raises(GateConfigError) as caught:
        parse_gate(
            {"suites": {
                "checks": {"mode": "sometimes", "feeds": ["uptime"], "query": "", "when": 1},
                "Bad Name": {"mode": "warning", "query": "SELECT 1"},
            }},
            "data/expectations/gate.yaml",
        )  # fmt: skip
    message = str(caught.value)
    assert message.startswith("invalid data-quality gate data/expectations/gate.yaml: ")
    for part in ("'sometimes' is not blocking or warning", "unknown KPIs ['uptime']",
                 "suites.checks.query", "unknown keys ['when']", "suites.Bad Name"):  # fmt: skip
        assert part in message
    with pytest.raises(GateConfigError, match="'suites' must map"):
        parse_gate(["checks"], "gate.yaml")


def test_a_failed_blocking_suite_blocks_the_kpis_it_feeds_with_the_reason() -> None:
    report = GateReport(START, END, [result("checks", True, NEGATIVE), result("surveys", True)])
    assert report.blocked == {
        "availability": "data-quality suite checks failed: expect_column_values_to_be_between"
        "(latency_ms): 2 of 100 rows, e.g. id=7: latency_ms=-5.0"
    }
    assert not report.passed and report.warnings == []


def test_a_warning_suite_and_a_non_critical_expectation_warn_without_blocking() -> None:
    report = GateReport(
        START, END, [result("metrics", False, NEGATIVE), result("checks", True, NO_ROWS)]
    )
    assert report.passed and report.blocked == {}
    assert report.warnings == [
        "data-quality suite metrics failed: expect_column_values_to_be_between(latency_ms): 2 of"
        " 100 rows, e.g. id=7: latency_ms=-5.0 (warning suite: nothing blocked)",
        "data-quality suite checks: expect_table_row_count_to_be_between(min_value=1)"
        " [No check results in the period], e.g. observed 0 (severity warning: nothing blocked)",
    ]


def test_a_suite_that_could_not_run_blocks_like_a_failure_and_shows_its_error() -> None:
    report = GateReport(
        START, END, [result("surveys", True, error="no suite file data/expectations/x.json")]
    )
    reason = "data-quality suite surveys could not run: no suite file data/expectations/x.json"
    assert report.blocked == {"csat": reason, "nps": reason}
    assert report.rows() == [
        {"suite": "surveys", "mode": "blocking", "status": "error", "rows": "100",
         "expectation": "", "column": "", "severity": "", "unexpected": "",
         "examples": "no suite file data/expectations/x.json", "blocks": "csat, nps"}
    ]  # fmt: skip


def test_the_markdown_lists_suites_blocked_kpis_failures_and_warnings() -> None:
    pipe = Failure("expect_column_values_to_be_in_set", "priority", 1, ["external_id=A|B"])
    report = GateReport(
        START, END, [result("checks", True, NEGATIVE, NO_ROWS), result("surveys", True, pipe)],
        label="2026-10",
    )  # fmt: skip
    text = report.to_markdown()
    assert text.startswith("# Data-quality gate 2026-10\n")
    assert "3 KPIs blocked" in text
    assert "| checks | blocking | 100 | 2 failed | availability |" in text
    assert "- **csat, nps**: data-quality suite surveys failed" in text
    assert "external_id=A\\|B" in text  # a pipe in a value does not break the table
    assert "## Warnings" in text and "severity warning" in text


def test_artifact_keys_are_stable_lower_case_slugs() -> None:
    assert artifact_key("2026-W48") == "data-quality-2026-w48"
    assert artifact_key("2026-Q4") == "data-quality-2026-q4"
    assert artifact_key("2026-11-27") == "data-quality-2026-11-27"
    assert artifact_key("") == "data-quality-period"


def test_every_kpi_of_the_report_can_be_blocked() -> None:
    assert len(KPI_NAMES) == 18 and "error_budget_remaining" in KPI_NAMES
