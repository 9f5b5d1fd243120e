"""performance-review (weekly): week-over-week latency, errors and throughput per service,
regressions flagged with the deploy that preceded them."""

from __future__ import annotations

import time
from typing import Any

from prefect import flow

from flows.common import catalog as load
from flows.common import store_url, with_store_retries
from postdeploy.settings import get_settings
from tasks.reviews import performance_review as review_task


@flow(name="performance-review", description="Week over week: latency, errors, throughput.")
def performance_review(
    catalog_path: str | None = None, store_block: str | None = None
) -> dict[str, Any]:
    """Write reports/performance/<ISO week>/ and the `performance-review` artifact.

    Args:
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG.
        store_block: a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
    """
    cat = load(catalog_path)
    services = [s.name for s in cat.services if s.metrics]
    unavailable = {
        s.name: "metrics unavailable: no `metrics:` in the catalog"
        for s in cat.services
        if not s.metrics
    }
    regressions = with_store_retries(review_task)(
        store_url(store_block), services + sorted(unavailable), unavailable,
        get_settings().reports_dir, time.time(),
    )  # fmt: skip
    return {"regressions": {s: r for s, r in regressions.items() if r}}
