"""The data-quality gate as a Prefect task: one task for every suite of a period (a suite per
task would only add overhead), its report published as a markdown artifact with a stable key."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from postdeploy.adapters.quality import run_gate
from postdeploy.domain.periods import Period
from postdeploy.domain.quality import GateReport, artifact_key


@task(name="data-quality-gate", cache_policy=NO_CACHE)
def data_quality_gate(url: str, period: Period, suites_dir: Path | None = None) -> GateReport:
    """Validate the period's input sets; the caller leaves out the KPIs in `report.blocked`.
    A suite that cannot run is a failed suite in the report; only a bad gate.yaml raises."""
    logger = get_run_logger()
    report = run_gate(url, period.start, period.end, suites_dir=suites_dir, label=period.label)
    create_markdown_artifact(
        key=artifact_key(period.label),
        markdown=report.to_markdown(),
        description=f"Data-quality gate for {period.label}",
    )
    for suite in report.suites:
        logger.info(
            "suite %s (%s): %s, %d rows, %.2f s",
            suite.name, suite.mode, suite.status, suite.rows, suite.seconds,
        )  # fmt: skip
    for kpi, reason in report.blocked.items():
        logger.warning("KPI %s blocked: %s", kpi, reason)
    for warning in report.warnings:
        logger.warning("%s", warning)
    return report
