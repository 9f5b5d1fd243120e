"""Store tasks: record sweeps and state changes; retried with backoff while the store is down."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from postdeploy.catalog import Catalog
from postdeploy.domain.checks import CheckOutcome, Transition
from postdeploy.store import checks
from postdeploy.store.engine import StoreUnavailable, make_engine, mask_url
from postdeploy.store.services import sync_services

T = TypeVar("T")


@contextmanager
def store_transaction(url: str) -> Iterator[Connection]:
    """One transaction on the store; connection failures become StoreUnavailable (masked URL)."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            yield conn
    except (OperationalError, ProgrammingError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "no such table" in reason or "does not exist" in reason:
            reason += " (run `postdeploy db upgrade`)"
        raise StoreUnavailable(f"store unreachable at {mask_url(url)}: {reason}") from None
    except DBAPIError as exc:
        raise StoreUnavailable(f"store error at {mask_url(url)}: {exc.orig}") from None
    finally:
        engine.dispose()


def in_store(url: str, work: Callable[[Connection], T]) -> T:
    with store_transaction(url) as conn:
        return work(conn)


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
