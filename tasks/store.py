"""Store tasks: record sweeps and state changes; retried with backoff while the store is down."""

from __future__ import annotations

from collections.abc import Sequence

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection

from postdeploy.catalog import Catalog
from postdeploy.domain.checks import CheckOutcome, Transition
from postdeploy.store import checks
from postdeploy.store.engine import mask_url
from postdeploy.store.services import sync_services
from postdeploy.store.session import in_store


@task(name="record-sweep", cache_policy=NO_CACHE)
def record_sweep(
    url: str, catalog: Catalog, sweep_id: str, outcomes: Sequence[CheckOutcome]
) -> list[Transition]:
    """Store results, fold them into check states, record alerts; idempotent per sweep_id."""

    def work(conn: Connection) -> list[Transition]:
        ids = sync_services(conn, services=catalog.services)
        return checks.record_sweep(
            conn, sweep_id=sweep_id, outcomes=outcomes, ids=ids, thresholds=catalog.thresholds()
        )

    transitions = in_store(url, work)
    get_run_logger().info(
        "stored %d results, %d state changes in %s", len(outcomes), len(transitions), mask_url(url)
    )
    return transitions
