"""post-deploy-check: after a deploy, verify the version, run the smoke checks, compare errors
and latency after the deploy with before it, and give a verdict."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.common import catalog as load
from flows.common import store_url, with_store_retries
from postdeploy.domain.canary import CanaryThresholds, compare
from postdeploy.settings import get_settings
from postdeploy.store.deployments import get_deployment, record_deployment
from postdeploy.store.session import in_store
from tasks.checks import probe_all
from tasks.deploys import (
    open_deploy_incident,
    record_verdict,
    series_after,
    series_before,
    verify_version,
)


@flow(name="post-deploy-check", description="Version, smoke checks and canary after a deploy.")
def post_deploy_check(
    service: str,
    version: str,
    deployment_id: int | None = None,
    environment: str = "production",
    commit: str | None = None,
    catalog_path: str | None = None,
    store_block: str | None = None,
    canary_window_s: float = 120.0,
    version_timeout_s: float = 60.0,
) -> dict[str, Any]:
    """Judge a deploy: pass, or fail with the reasons.

    Args:
        service: the catalog service that was deployed.
        version: the version it should now report.
        deployment_id: the recorded deployment (the deploy hook passes it); else one is recorded.
        environment: where it was deployed.
        commit: the commit deployed, when the deployment is recorded here.
        canary_window_s: how long to watch error rate and latency after the deploy.
        version_timeout_s: how long the version endpoint may take to report the new version.
    """
    log = get_run_logger()
    cat = load(catalog_path)
    svc = cat.service(service)
    url = store_url(store_block)
    if deployment_id is None:
        deployment_id, _ = in_store(
            url,
            lambda conn: record_deployment(
                conn, service=service, version=version, environment=environment, commit=commit,
                committed_at=None, deployed_at=datetime.now(UTC),
            ),
        )  # fmt: skip
    row = in_store(url, lambda conn: get_deployment(conn, deployment_id=deployment_id))
    if row is None:
        raise ValueError(f"deployment {deployment_id} is not in the store")
    deployed_at = row["deployed_at"].timestamp()

    checks: list[str] = []
    reasons: list[str] = []
    if svc.version_url:
        ok, detail = verify_version(svc.resolve(svc.version_url), version, version_timeout_s)
        (checks if ok else reasons).append(detail)
    smoke = [s for s in cat.probe_specs([service]) if any(
        c.smoke and c.name == s.check for c in svc.checks
    )]  # fmt: skip
    settings = get_settings()
    outcomes = probe_all(
        smoke, batch_size=settings.probe_batch_size, concurrency=settings.probe_concurrency
    )
    for outcome in outcomes:
        line = f"smoke {outcome.check}: {outcome.detail}"
        (checks if outcome.ok else reasons).append(line)

    # before: the stored series (collected every minute); at least 30 minutes of them
    before = series_before(url, service, deployed_at, max(canary_window_s, 1800.0))
    after: dict[str, list[float]] = {}
    if svc.metrics and svc.metrics.scrape and not cat.prometheus:
        after = series_after(svc.resolve(svc.metrics.scrape), svc.metrics.names(), canary_window_s)
    else:
        time.sleep(max(0.0, deployed_at + canary_window_s - time.time()))
        after = series_before(url, service, deployed_at + canary_window_s, canary_window_s)
    canary = compare(before, after, CanaryThresholds())
    if canary.verdict == "fail":
        reasons += [f"canary: {r}" for r in canary.reasons]
    else:
        checks.append(
            f"canary: {canary.verdict}" + (f" ({canary.reasons[0]})" if canary.reasons else "")
        )

    verdict = "fail" if reasons else "pass"
    releases = settings.reports_dir / "releases.md"
    note = with_store_retries(record_verdict)(
        url, deployment_id, verdict, reasons, checks, releases
    )
    key = re.sub(r"[^a-z0-9-]+", "-", f"post-deploy-{service}".lower())
    create_markdown_artifact(key=key, markdown=note, description="Post-deploy verdict")
    (log.error if reasons else log.info)("%s %s: %s %s", service, version, verdict, reasons)
    incident = None
    if verdict == "fail":
        levels: dict[str, str] = dict(cat.escalation.severity_levels)
        incident = with_store_retries(open_deploy_incident)(url, deployment_id, reasons, levels)
    return {
        "deployment_id": deployment_id,
        "verdict": verdict,
        "reasons": reasons,
        "checks": checks,
        "incident": incident,
    }
