"""The KPI report as one Prefect task (every KPI of every service is a handful of grouped
queries; a task per KPI would only add overhead), with its artifacts under stable keys."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE

from postdeploy.catalog import Catalog
from postdeploy.domain.periods import Period
from postdeploy.domain.quality import GateReport
from postdeploy.reporting.kpi_build import assemble
from postdeploy.reporting.kpis import HEADLINE, fmt, markdown, write_report
from postdeploy.store.session import store_transaction
from postdeploy.store.uptime import has_demo_data


@task(name="kpi-report", cache_policy=NO_CACHE)
def kpi_report_task(
    url: str,
    cat: Catalog,
    period: Period,
    gate: GateReport | None,
    reports_dir: Path,
) -> dict[str, Any]:
    """Compute, snapshot and write the period's report; publish kpi-<kind> artifacts."""
    log = get_run_logger()
    with store_transaction(url) as conn:
        report = assemble(conn, cat, period, now=datetime.now(UTC), gate=gate)
        span = (period.start.timestamp(), period.end.timestamp())
        demo = has_demo_data(conn, since=span[0], until=span[1])
    paths = write_report(report, reports_dir, demo=demo)
    key = f"kpi-{report.kind}"
    create_markdown_artifact(
        key=key, markdown=markdown(report) + f"\nHTML: `{paths['html'].resolve()}`\n",
        description=report.title(),
    )  # fmt: skip
    table = [
        {"kpi": v["label"], "value": v["value"], "previous": v.get("previous", ""),
         "change": f"{v.get('arrow', '')} {v.get('change', '')}".strip(), "n": v.get("n", 0)}
        for v in report.table("", HEADLINE)
    ]  # fmt: skip
    create_table_artifact(key=f"{key}-table", table=table, description=report.title())
    create_link_artifact(
        key=f"{key}-link", link=paths["html"].resolve().as_uri(),
        link_text=f"{report.title()} (HTML)",
    )  # fmt: skip
    for name, why in report.current.failed.items():
        log.warning("KPI %s not computed: %s", name, why)
    headline = {v["label"]: v["value"] for v in report.table("", HEADLINE)}
    log.info("%s: availability %s", report.title(), fmt(report.current.get("", "availability")))
    return {
        "period": period.label,
        "files": {k: str(p) for k, p in paths.items()},
        "not_computed": report.current.failed,
        "headline": headline,
    }
