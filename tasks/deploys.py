"""Post-deploy check tasks: version, canary metrics, verdict and release notes."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection

from postdeploy.adapters.scrape import ScrapeError, scrape
from postdeploy.domain.metrics import ScrapeNames, derive
from postdeploy.reporting.releases import append_release, entry
from postdeploy.store.deployments import get_deployment, set_verdict
from postdeploy.store.incidents import open_or_update_incident
from postdeploy.store.metrics import read_series
from postdeploy.store.session import in_store

CANARY_SERIES = ("error_rate", "latency_p95_ms")


@task(name="verify-version", cache_policy=NO_CACHE)
def verify_version(url: str, version: str, timeout_s: float) -> tuple[bool, str]:
    """Poll the version endpoint until it reports `version` (a rollout takes time)."""
    deadline = time.monotonic() + timeout_s
    seen = "no answer"
    while True:
        try:
            response = httpx.get(url, timeout=5)
            try:
                reported = str(json.loads(response.text).get("version", ""))
            except (ValueError, AttributeError):
                reported = response.text.strip()[:80]
            seen = f"HTTP {response.status_code}, version {reported!r}"
            if response.status_code == 200 and reported == version:
                return True, f"version endpoint reports {version}"
        except httpx.HTTPError as exc:
            seen = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            return False, f"version endpoint {url} never reported {version!r}: last {seen}"
        time.sleep(1)


@task(name="canary-before", cache_policy=NO_CACHE)
def series_before(
    url: str, service: str, deployed_at: float, window_s: float
) -> dict[str, list[float]]:
    def read(conn: Connection) -> dict[str, list[float]]:
        return {
            name: [v for _, v in read_series(
                conn, name=name, labels={"service": service},
                since=deployed_at - window_s, until=deployed_at,
            )]
            for name in CANARY_SERIES
        }  # fmt: skip

    return in_store(url, read)


@task(name="canary-after", cache_policy=NO_CACHE)
def series_after(
    scrape_url: str, names: ScrapeNames, window_s: float, points: int = 4
) -> dict[str, list[float]]:
    """Scrape the service through the window after the deploy and derive the series."""
    out: dict[str, list[float]] = {name: [] for name in CANARY_SERIES}
    step = window_s / points
    try:
        previous, at = scrape(scrape_url), time.time()
        for _ in range(points):
            time.sleep(step)
            current, now = scrape(scrape_url), time.time()
            values = derive(previous, current, now - at, names)
            for name in CANARY_SERIES:
                if name in values:
                    out[name].append(values[name])
            previous, at = current, now
    except ScrapeError as exc:
        get_run_logger().warning("canary metrics unavailable: %s", exc)
    return out


@task(name="record-verdict", cache_policy=NO_CACHE)
def record_verdict(
    url: str,
    deployment_id: int,
    verdict: str,
    reasons: Sequence[str],
    checks: Sequence[str],
    releases: Path,
) -> str:
    def work(conn: Connection) -> str:
        set_verdict(conn, deployment_id=deployment_id, verdict=verdict)
        row = get_deployment(conn, deployment_id=deployment_id)
        assert row is not None
        text = entry(
            deployment_id=deployment_id,
            service=row["service"],
            version=row["version"],
            environment=row["environment"],
            deployed_at=row["deployed_at"] or datetime.now(UTC),
            commit=row["commit"],
            verdict=verdict,
            reasons=list(reasons),
            checks=list(checks),
        )
        append_release(releases, text)
        return text

    return in_store(url, work)


@task(name="open-deploy-incident", cache_policy=NO_CACHE)
def open_deploy_incident(
    url: str, deployment_id: int, reasons: Sequence[str], levels: dict[str, str]
) -> int:
    """A failed deploy is an incident (one per deployment, however often it is re-checked)."""

    def work(conn: Connection) -> int:
        row = get_deployment(conn, deployment_id=deployment_id)
        assert row is not None
        change = open_or_update_incident(
            conn,
            service=row["service"],
            severity="high",
            title=f"Deploy {row['version']} of {row['service']} failed its post-deploy check",
            key=f"deploy:{deployment_id}",
            now=datetime.now(UTC),
            levels=levels,
            data={"deployment_id": deployment_id, "reasons": list(reasons)},
        )
        return change.id

    return in_store(url, work)
