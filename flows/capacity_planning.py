"""capacity-planning (monthly): forecast every service's CPU, memory, disk and request rate from
the stored history, days until each catalog threshold, recommendations by urgency."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from prefect import flow

from flows.common import catalog as load
from flows.common import store_url, with_store_retries
from postdeploy.domain.capacity import DAY
from postdeploy.domain.periods import period_of
from postdeploy.settings import get_settings
from tasks.capacity import capacity_report, forecast_batch, read_history

BATCH = 25  # series per forecasting task: about a second of fitting each


@flow(name="capacity-planning", description="Forecasts of CPU, memory, disk and request rate.")
def capacity_planning(
    catalog_path: str | None = None,
    store_block: str | None = None,
    horizon_days: int = 30,
    history_days: int = 30,
    services: list[str] | None = None,
) -> dict[str, Any]:
    """Write reports/capacity/<month>/ and the capacity-planning artifacts.

    Args:
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG.
        store_block: a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
        horizon_days: how far ahead to forecast.
        history_days: how much stored history to fit on.
        services: only these services; default every service in the catalog.
    """
    if not (1 <= horizon_days <= 730 and 1 <= history_days <= 730):
        raise ValueError("horizon_days and history_days must be 1 to 730")
    cat = load(catalog_path)
    known = [s.name for s in cat.services]
    if unknown := sorted(set(services or ()) - set(known)):
        raise ValueError(f"unknown services {unknown}: not in the catalog")
    names = services or known
    url, now, horizon_s = store_url(store_block), time.time(), horizon_days * DAY
    history, demo = with_store_retries(read_history)(url, names, now - history_days * DAY, now)
    thresholds = cat.capacity_thresholds(names)
    keys = sorted(set(history) | {k for k, v in thresholds.items() if v is not None})
    futures = [
        forecast_batch.submit(
            {k: history[k] for k in batch if k in history},
            {k: thresholds.get(k) for k in batch},
            horizon_s,
        )
        for batch in (keys[i : i + BATCH] for i in range(0, len(keys), BATCH))
    ]
    items = [a for future in futures for a in future.result()]
    period = period_of("month", datetime.fromtimestamp(now, UTC), cat.zone()).label
    return capacity_report(  # type: ignore[no-any-return]
        items, get_settings().reports_dir, period, horizon_s, demo
    )
