"""Every deployment postdeploy serves, defined once; prefect.yaml is kept equal by a test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from prefect import Flow

from flows.health_check import health_check
from flows.metrics import collect_metrics
from flows.post_deploy import post_deploy_check


@dataclass(frozen=True)
class Spec:
    name: str
    flow: Flow[Any, Any]
    entrypoint: str
    interval: timedelta | None = None
    cron: str | None = None
    description: str = ""


CALENDAR: tuple[Spec, ...] = (
    Spec(
        name="health-check",
        flow=health_check,
        entrypoint="flows/health_check.py:health_check",
        interval=timedelta(minutes=1),
        description="Probe every check in the catalog every minute.",
    ),
    Spec(
        name="collect-metrics",
        flow=collect_metrics,
        entrypoint="flows/metrics.py:collect_metrics",
        interval=timedelta(minutes=1),
        description="Store latency, error rate, throughput, CPU and memory of every service.",
    ),
    Spec(
        name="post-deploy-check",
        flow=post_deploy_check,
        entrypoint="flows/post_deploy.py:post_deploy_check",
        description="Started by the deploy hook: version, smoke checks, canary, verdict.",
    ),
)

TIMEZONE = "UTC"


def build_deployments() -> list[Any]:
    """RunnerDeployments for `serve()`; built when called, never at import."""
    out = []
    for spec in CALENDAR:
        kwargs: dict[str, Any] = {"name": spec.name, "description": spec.description}
        if spec.interval is not None:
            kwargs["interval"] = spec.interval
        if spec.cron is not None:
            kwargs["cron"] = spec.cron
        out.append(spec.flow.to_deployment(tags=["postdeploy"], **kwargs))
    return out
