"""Knowledge-base task: read the resolved tickets of a window and group them into FAQ entries."""

from __future__ import annotations

from datetime import datetime, timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE

from postdeploy.domain.kb import Entry, build
from postdeploy.store.kb import resolved_tickets
from postdeploy.store.session import in_store


@task(name="group-resolved-tickets", cache_policy=NO_CACHE)
def group_resolved_tickets(url: str, now: datetime, days: int) -> tuple[list[Entry], int]:
    """The FAQ entries of the tickets resolved in the `days` before `now`, and how many
    tickets were read."""
    found = in_store(url, lambda conn: resolved_tickets(conn, since=now - timedelta(days=days),
                                                        until=now))  # fmt: skip
    return build(found), len(found)
