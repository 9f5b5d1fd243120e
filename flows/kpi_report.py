"""kpi-report: the weekly, monthly or quarterly KPI report, after the data-quality gate. The
maintenance calendar runs it as a part (weekly, monthly, quarterly); operators can run it for
any period from the UI."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from prefect import flow

from flows.common import catalog as load
from flows.common import store_url, with_store_retries
from postdeploy.domain.periods import Kind, Period, parse_period, period_of, previous
from postdeploy.settings import get_settings
from tasks.kpis import kpi_report_task
from tasks.quality import data_quality_gate

ReportKind = Literal["weekly", "monthly", "quarterly"]
KIND: dict[str, Kind] = {"weekly": "week", "monthly": "month", "quarterly": "quarter"}


def last_complete(kind: ReportKind, now: datetime, tz: Any) -> Period:
    """The last period of this kind that has ended (the one a scheduled report is about)."""
    return previous(period_of(KIND[kind], now, tz))


@flow(name="kpi-report", description="KPIs of a period with trends: HTML, Markdown, CSV.")
def kpi_report(
    kind: ReportKind = "monthly",
    period: str | None = None,
    gate: bool = True,
    catalog_path: str | None = None,
    store_block: str | None = None,
) -> dict[str, Any]:
    """Write reports/<kind>/<period>/ and the kpi-<kind> artifacts.

    Args:
        kind: weekly, monthly or quarterly.
        period: e.g. 2026-W47, 2026-10 or 2026-Q3; default the last complete one.
        gate: validate the inputs with the data-quality gate first.
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG.
        store_block: a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
    """
    cat = load(catalog_path)
    tz = cat.zone()
    span = parse_period(period, tz) if period else last_complete(kind, datetime.now(UTC), tz)
    if span.kind != KIND[kind]:
        raise ValueError(f"{period!r} is a {span.kind}, not a {KIND[kind]}: kind is {kind}")
    url = store_url(store_block)
    report = with_store_retries(data_quality_gate)(url, span) if gate else None
    return with_store_retries(kpi_report_task)(  # type: ignore[no-any-return]
        url, cat, span, report, get_settings().reports_dir
    )
