"""Deployments of services (for post-deploy checks and DORA metrics)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from postdeploy.store.schema import deployment


def record_deployment(
    conn: Connection,
    *,
    service: str,
    version: str,
    environment: str,
    commit: str | None,
    committed_at: datetime | None,
    deployed_at: datetime,
) -> tuple[int, bool]:
    """The deployment's id, and whether it is new. The same service, environment, version and
    commit reported again (a retried hook) is the same deployment."""
    same = (
        (deployment.c.service == service)
        & (deployment.c.environment == environment)
        & (deployment.c.version == version)
        & (deployment.c.commit.is_(None) if commit is None else deployment.c.commit == commit)
    )
    found = conn.execute(select(deployment.c.id).where(same).order_by(deployment.c.id)).first()
    if found is not None:
        return int(found.id), False
    result = conn.execute(
        deployment.insert().values(
            service=service,
            version=version,
            environment=environment,
            commit=commit,
            committed_at=committed_at,
            deployed_at=deployed_at,
        )
    )
    return int(result.inserted_primary_key[0]), True  # type: ignore[index]


def get_deployment(conn: Connection, *, deployment_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(deployment).where(deployment.c.id == deployment_id)).first()
    return dict(row._mapping) if row else None


def set_verdict(conn: Connection, *, deployment_id: int, verdict: str) -> None:
    conn.execute(
        update(deployment)
        .where(deployment.c.id == deployment_id)
        .values(verdict=verdict, failed=verdict == "fail")
    )


def deployments_between(
    conn: Connection, *, service: str, since: datetime, until: datetime
) -> list[tuple[datetime, str]]:
    rows = conn.execute(
        select(deployment.c.deployed_at, deployment.c.version)
        .where(deployment.c.service == service)
        .where(deployment.c.deployed_at.between(since, until))
        .order_by(deployment.c.deployed_at)
    )
    return [(r.deployed_at, r.version) for r in rows]
