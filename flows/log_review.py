"""log-review (daily): what each service's logs gained since the last review, as signatures:
new ones, spiking ones, and the top errors with sample lines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.common import catalog as load
from flows.common import store_url, with_store_retries
from postdeploy.reporting.logreview import write_log_review
from postdeploy.settings import get_settings
from tasks.logs import review_logs


@flow(name="log-review", description="New and spiking log signatures, top errors.")
def log_review(catalog_path: str | None = None, store_block: str | None = None) -> dict[str, Any]:
    """Review the log lines written since the last review, for every service with `logs:`.

    Args:
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG.
        store_block: a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
    """
    cat = load(catalog_path)
    url = store_url(store_block)
    now = datetime.now(UTC)
    reviews = [
        with_store_retries(review_logs)(url, s.name, s.logs, now) for s in cat.services if s.logs
    ]
    path, md = write_log_review(
        reviews, out_dir=get_settings().reports_dir, day=now.date().isoformat()
    )
    create_markdown_artifact(key="log-review", markdown=md, description="Daily log review")
    return {
        "report": str(path),
        "services": {
            r.name: {
                "lines": r.lines,
                "new": [s.template for s in r.review.new],
                "spiking": [s.template for s, _ in r.review.spiking],
                "top_errors": [s.template for s in r.review.top_errors],
                "unparsed": r.unparsed,
                "problems": r.problems,
            }
            for r in reviews
        },
    }
