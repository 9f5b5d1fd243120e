"""Every deployment postdeploy serves, defined once; prefect.yaml is kept equal by a test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from prefect import Flow
from prefect.schedules import Cron, Interval

from flows.alerting import alerting
from flows.capacity_planning import capacity_planning
from flows.disaster_recovery import disaster_recovery
from flows.health_check import health_check
from flows.incident_response import incident_response
from flows.knowledge_base import knowledge_base
from flows.kpi_report import kpi_report
from flows.log_review import log_review
from flows.maintenance import (
    daily_maintenance,
    monthly_maintenance,
    quarterly_maintenance,
    weekly_maintenance,
)
from flows.metrics import collect_metrics
from flows.performance_review import performance_review
from flows.post_deploy import post_deploy_check
from flows.security_scan import security_scan
from flows.sla_watch import sla_watch
from flows.survey_processing import survey_processing
from flows.update_review import update_review


@dataclass(frozen=True)
class Spec:
    name: str
    flow: Flow[Any, Any]
    entrypoint: str
    interval: timedelta | None = None
    cron: str | None = None
    description: str = ""
    concurrency_limit: int | None = None


CALENDAR: tuple[Spec, ...] = (
    # The maintenance calendar of the support guide: each runs its parts as subflows.
    Spec(
        name="daily-maintenance",
        flow=daily_maintenance,
        entrypoint="flows/maintenance.py:daily_maintenance",
        cron="0 6 * * *",
        description="Daily: health check summary and log review.",
    ),
    Spec(
        name="weekly-maintenance",
        flow=weekly_maintenance,
        entrypoint="flows/maintenance.py:weekly_maintenance",
        cron="0 5 * * 1",
        description="Weekly: performance review, security scan, knowledge base, KPI report.",
    ),
    Spec(
        name="monthly-maintenance",
        flow=monthly_maintenance,
        entrypoint="flows/maintenance.py:monthly_maintenance",
        cron="0 3 1 * *",
        description="Monthly: capacity planning, user survey processing, KPI report.",
    ),
    Spec(
        name="quarterly-maintenance",
        flow=quarterly_maintenance,
        entrypoint="flows/maintenance.py:quarterly_maintenance",
        cron="0 4 1 1,4,7,10 *",
        description="Quarterly: major-update and documentation review, DR drill, KPI report.",
    ),
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
        name="alerting",
        flow=alerting,
        entrypoint="flows/alerting.py:alerting",
        interval=timedelta(minutes=1),
        description="Evaluate alert rules; group, silence and route alerts.",
        concurrency_limit=1,  # overlapping runs could send one notification twice
    ),
    Spec(
        name="knowledge-base",
        flow=knowledge_base,
        entrypoint="flows/knowledge_base.py:knowledge_base",
        description="Frequent resolved issues and how they were resolved (reports/kb/).",
    ),
    Spec(
        name="log-review",
        flow=log_review,
        entrypoint="flows/log_review.py:log_review",
        description="Daily: new and spiking log signatures, top errors with sample lines.",
    ),
    Spec(
        name="performance-review",
        flow=performance_review,
        entrypoint="flows/performance_review.py:performance_review",
        description="Weekly: latency, errors and throughput week over week, with suspect deploys.",
    ),
    Spec(
        name="security-scan",
        flow=security_scan,
        entrypoint="flows/security_scan.py:security_scan",
        description="Weekly: TLS, security headers and vulnerable dependencies; alerts.",
    ),
    Spec(
        name="update-review",
        flow=update_review,
        entrypoint="flows/update_review.py:update_review",
        description="Quarterly: dependencies behind their latest major, end of life, docs review.",
    ),
    Spec(
        name="kpi-report",
        flow=kpi_report,
        entrypoint="flows/kpi_report.py:kpi_report",
        description="KPIs of a period (weekly, monthly, quarterly) with trends, after the gate.",
    ),
    Spec(
        name="capacity-planning",
        flow=capacity_planning,
        entrypoint="flows/capacity_planning.py:capacity_planning",
        description="Monthly: resource forecasts, days to each threshold, recommendations.",
    ),
    Spec(
        name="survey-processing",
        flow=survey_processing,
        entrypoint="flows/survey_processing.py:survey_processing",
        description="Monthly: import survey exports; NPS, CSAT, CES with intervals and themes.",
    ),
    Spec(
        name="sla-watch",
        flow=sla_watch,
        entrypoint="flows/sla_watch.py:sla_watch",
        interval=timedelta(minutes=5),
        description="Escalate tickets near or past their SLA and notify.",
        concurrency_limit=1,  # two sweeps at once could escalate one ticket twice
    ),
    Spec(
        name="incident-response",
        flow=incident_response,
        entrypoint="flows/incident_response.py:incident_response",
        description="Runbook: respond to an incident on a service.",
    ),
    Spec(
        name="dr-backup",
        flow=disaster_recovery,
        entrypoint="flows/disaster_recovery.py:disaster_recovery",
        cron="0 2 * * *",
        description="Daily: back up the store and verify the backup by a scratch restore.",
        concurrency_limit=1,
    ),
    Spec(
        name="dr-drill",
        flow=disaster_recovery,
        entrypoint="flows/disaster_recovery.py:disaster_recovery",
        description="Quarterly DR drill: backup, verified restore, RTO and RPO vs the catalog.",
        concurrency_limit=1,
    ),
    Spec(
        name="post-deploy-check",
        flow=post_deploy_check,
        entrypoint="flows/post_deploy.py:post_deploy_check",
        description="Started by the deploy hook: version, smoke checks, canary, verdict.",
    ),
)

TIMEZONE = "UTC"


def build_deployments(services: list[str] | None = None) -> list[Any]:
    """RunnerDeployments for `serve()`; built when called, never at import.

    With `services` (the catalog's), a `service` parameter becomes a choice of them: the UI
    shows a list, and the server refuses a run for an unknown service before it starts.
    """
    out = []
    for spec in CALENDAR:
        schedules = []
        if spec.interval is not None:
            schedules.append(Interval(spec.interval, timezone=TIMEZONE))
        if spec.cron is not None:
            schedules.append(Cron(spec.cron, timezone=TIMEZONE))
        out.append(
            spec.flow.to_deployment(
                name=spec.name,
                description=spec.description,
                tags=["postdeploy"],
                schedules=schedules,
                concurrency_limit=spec.concurrency_limit,
            )
        )
        service = out[-1]._parameter_openapi_schema.properties.get("service")  # type: ignore[union-attr]
        if services and service is not None:
            service["enum"] = sorted(services)
    return out
