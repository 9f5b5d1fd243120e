"""One transaction on the store, with connection failures turned into StoreUnavailable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from postdeploy.store.engine import StoreUnavailable, make_engine, mask_url

T = TypeVar("T")


@contextmanager
def store_transaction(url: str) -> Iterator[Connection]:
    """Commit on success, roll back on error; the error names the URL with its password masked."""
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
