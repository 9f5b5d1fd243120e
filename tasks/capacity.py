"""Capacity-planning tasks: read the resource history, forecast it in batches, write the report
and its artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection

from postdeploy.adapters.forecasting import plan
from postdeploy.domain.capacity import RESOURCES, Assessment, rank
from postdeploy.reporting.capacity import to_json, write_capacity_report
from postdeploy.store.capacity import History, resource_history
from postdeploy.store.session import in_store
from postdeploy.store.uptime import has_demo_data

Thresholds = dict[tuple[str, str], float | None]


@task(name="read-capacity-history", cache_policy=NO_CACHE)
def read_history(url: str, services: list[str], since: float, until: float) -> tuple[History, bool]:
    """Every service's resource series in [since, until], and whether the store holds demo data."""

    def read(conn: Connection) -> tuple[History, bool]:
        history = resource_history(
            conn, services=services, resources=RESOURCES, since=since, until=until
        )
        return history, has_demo_data(conn, since=since, until=until)

    history, demo = in_store(url, read)
    get_run_logger().info(
        "%d resource series, %d samples", len(history), sum(map(len, history.values()))
    )
    return history, demo


@task(name="forecast-capacity", cache_policy=NO_CACHE)
def forecast_batch(history: History, thresholds: Thresholds, horizon_s: float) -> list[Assessment]:
    """Fit and assess a batch of series (about a second each); one that cannot be forecast is
    an assessment saying why."""
    items = plan(history, thresholds, horizon_s=horizon_s)
    failed = [a for a in items if a.error]
    for a in failed:
        get_run_logger().warning("%s %s: no forecast: %s", a.service, a.resource, a.error)
    return items


@task(name="capacity-report", cache_policy=NO_CACHE)
def capacity_report(
    items: list[Assessment], reports_dir: Path, period: str, horizon_s: float, demo: bool
) -> dict[str, Any]:
    """reports/capacity/<period>/ and the capacity-planning, capacity-forecasts and
    capacity-report artifacts (stable keys: each run is the newest version)."""
    ordered = rank(items)
    files = write_capacity_report(
        ordered, out_dir=Path(reports_dir), period=period, horizon_s=horizon_s, demo=demo
    )
    html = files.html.resolve()
    create_markdown_artifact(
        key="capacity-planning",
        markdown=files.markdown_text + f"\nHTML report: `{html}`\n",
        description="Capacity forecasts and recommendations, most urgent first",
    )
    if files.table:
        create_table_artifact(
            key="capacity-forecasts", table=files.table, description="Capacity forecasts"
        )
    create_link_artifact(
        key="capacity-report", link=html.as_uri(), link_text=f"Capacity planning {period}",
        description="The HTML report with a chart per forecast",
    )  # fmt: skip
    return {
        "report": str(files.html),
        "recommendations": [a.recommendation for a in ordered if a.urgency != "ok"],
        "forecasts": [{k: v for k, v in to_json(a).items() if k != "forecast"} for a in ordered],
    }
