"""knowledge-base (weekly): resolved tickets grouped by category and error signature into a FAQ
page, the most frequent issues first, with how they were resolved (reports/kb/)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.common import catalog as load
from flows.common import store_url, with_store_retries
from postdeploy.domain.kb import format_hours
from postdeploy.reporting.kb import write_kb
from postdeploy.settings import get_settings
from tasks.kb import group_resolved_tickets


@flow(name="knowledge-base", description="Frequent resolved issues and their resolutions: a FAQ.")
def knowledge_base(
    catalog_path: str | None = None, store_block: str | None = None, days: int = 90
) -> dict[str, Any]:
    """Refresh the knowledge base from the tickets resolved in the last `days` days.

    Args:
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG.
        store_block: a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
        days: the window of resolution times read.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    load(catalog_path)  # like every flow: a broken catalog fails the run before anything else
    url = store_url(store_block)
    now = datetime.now(UTC)
    entries, tickets = with_store_retries(group_resolved_tickets)(url, now, days)
    path, md = write_kb(entries, out_dir=get_settings().reports_dir, tickets=tickets, days=days,
                        now=now)  # fmt: skip
    create_markdown_artifact(
        key="knowledge-base",
        markdown=md + f"\nHTML page: `{path.resolve()}`\n",
        description="Frequent resolved issues and how they were resolved",
    )
    get_run_logger().info("%d issues from %d resolved tickets", len(entries), tickets)
    return {
        "report": str(path),
        "tickets": tickets,
        "entries": [
            {
                "anchor": e.anchor,
                "category": e.category,
                "signature": e.signature,
                "count": e.count,
                "median_to_resolve": format_hours(e.median_hours),
                "resolutions": [[r.signature, r.count] for r in e.resolutions],
                "last_seen": e.last_seen.isoformat(),
            }
            for e in entries
        ],
    }
