"""Report tasks: write report files and publish them as Prefect artifacts with stable keys."""

from __future__ import annotations

import time
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from postdeploy.catalog import Catalog
from postdeploy.domain.uptime import DAY
from postdeploy.reporting.status import write_status_page
from postdeploy.reporting.uptime import write_uptime_report
from postdeploy.store.session import in_store
from postdeploy.store.uptime import has_demo_data, uptime_rows


@task(name="uptime-report", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def uptime_report(url: str, reports_dir: Path, days: int = 30) -> str:
    until = time.time()
    since = (until // DAY - (days - 1)) * DAY
    rows, demo = in_store(
        url,
        lambda conn: (
            uptime_rows(conn, since=since, until=until),
            has_demo_data(conn, since=since, until=until),
        ),
    )
    report = write_uptime_report(
        rows, out_dir=Path(reports_dir) / "uptime", since=since, until=until, demo=demo
    )
    create_markdown_artifact(
        key="uptime-report",
        markdown=report.markdown_text + f"\nHTML report: `{report.html.resolve()}`\n",
        description="Uptime per service and check over the last days",
    )
    if report.table:
        create_table_artifact(key="uptime-table", table=report.table, description="Uptime by check")
    return str(report.html)


STATUS_MAX_AGE_S = 900  # maintenance, flapping and SLO burn change the page without a transition


@task(name="status-page", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def status_page(url: str, catalog: Catalog, reports_dir: Path, changed: bool) -> str | None:
    """Rewrite reports/status/ on a change of state, or when it is missing or 15 minutes old."""
    page = Path(reports_dir) / "status" / "index.html"
    fresh = page.exists() and time.time() - page.stat().st_mtime < STATUS_MAX_AGE_S
    if fresh and not changed:
        return None
    files = in_store(url, lambda conn: write_status_page(conn, catalog, page.parent))
    return f"{files.state}: {files.html}"
