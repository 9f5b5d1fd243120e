"""Review tasks: read the store for a review window and write the review report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection

from postdeploy.domain.perfreview import RULES, WEEK, Deploy, review
from postdeploy.reporting.perfreview import ServiceReview, write_review
from postdeploy.store.deployments import deployments_between
from postdeploy.store.metrics import read_series
from postdeploy.store.session import in_store


@task(name="performance-review", cache_policy=NO_CACHE)
def performance_review(
    url: str, services: list[str], unavailable: dict[str, str], reports_dir: Path, now: float
) -> dict[str, list[str]]:
    """Review every service; returns the regressions found, by service."""

    def read(conn: Connection) -> list[ServiceReview]:
        out = []
        for name in services:
            since = now - 2 * WEEK
            points = {
                series: read_series(
                    conn, name=series, labels={"service": name}, since=since, until=now
                )
                for series in RULES
            }
            deploys = [
                Deploy(at.timestamp(), version)
                for at, version in deployments_between(
                    conn,
                    service=name,
                    since=datetime.fromtimestamp(since, UTC),
                    until=datetime.fromtimestamp(now, UTC),
                )
            ]
            changes = review(
                {k: [(float(t), v) for t, v in p] for k, p in points.items()}, deploys, now
            )
            out.append(ServiceReview(name, changes, unavailable.get(name)))
        return out

    reviews = in_store(url, read)
    path, md = write_review(reviews, out_dir=reports_dir, now=now)
    create_markdown_artifact(
        key="performance-review", markdown=md + f"\nHTML: `{path.resolve()}`\n",
        description="Week-over-week latency, errors and throughput",
    )  # fmt: skip
    return {
        r.name: [
            f"{c.series} {c.change_pct:+.0f}%"
            + (f" after deploy {c.suspect.version}" if c.suspect else "")
            for c in r.changes
            if c.regressed and c.change_pct is not None
        ]
        for r in reviews
    }
