"""What every flow loads at its start: the catalog, the store URL and notification targets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from prefect.tasks import exponential_backoff

from postdeploy.adapters.notify import Target
from postdeploy.catalog import Catalog, load_catalog
from postdeploy.settings import get_settings

T = TypeVar("T")


def catalog(path: str | None) -> Catalog:
    return load_catalog(Path(path) if path else get_settings().catalog)


def store_url(store_block: str | None) -> str:
    """The store URL from a StoreConnection block when one is named, else from settings."""
    if store_block:
        from blocks.store import StoreConnection

        block = StoreConnection.load(store_block)
        return block.url.get_secret_value()  # type: ignore[union-attr,no-any-return]
    return get_settings().database_url


def with_store_retries(task: T) -> T:
    """The task retried with exponential backoff while the store is unreachable."""
    settings = get_settings()
    return task.with_options(  # type: ignore[attr-defined, no-any-return]
        retries=settings.store_retries,
        retry_delay_seconds=exponential_backoff(backoff_factor=settings.store_retry_delay_s),
    )


def route_targets(cat: Catalog) -> dict[str, Target]:
    """Each route's target: secrets from its Notifier block, if any; an email route takes its
    server and addresses from the catalog."""
    targets = {}
    for route in cat.routes:
        if route.block:
            from blocks.notifier import Notifier

            target = Notifier.load(route.block).target()  # type: ignore[union-attr]
        else:
            target = Target(kind=route.kind, url=route.url)
        if route.kind == "email":
            target = replace(
                target, kind="email", smtp_host=route.smtp_host, smtp_port=route.smtp_port,
                smtp_security=route.smtp_security, sender=route.email_from,
                recipients=tuple(route.email_to),
            )  # fmt: skip
        targets[route.name] = target
    return targets
