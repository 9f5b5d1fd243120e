"""The maintenance calendar of the support guide: daily, weekly, monthly and quarterly
maintenance, each running its capability flows as subflows. A failing part fails its own
subflow; the others still run and report, and the calendar run fails at the end naming what
failed."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from prefect import State, flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.states import Completed, Failed

from flows.capacity_planning import capacity_planning
from flows.disaster_recovery import disaster_recovery
from flows.health_check import health_check
from flows.knowledge_base import knowledge_base
from flows.kpi_report import kpi_report
from flows.log_review import log_review
from flows.performance_review import performance_review
from flows.security_scan import security_scan
from flows.survey_processing import survey_processing
from flows.update_review import update_review

Part = tuple[str, Callable[..., Any]]


def run_parts(kind: str, parts: list[Part], catalog_path: str | None) -> State[dict[str, Any]]:
    log = get_run_logger()
    outcome: dict[str, Any] = {}
    failed = []
    for name, subflow in parts:
        state = subflow(catalog_path=catalog_path, return_state=True)
        if state.is_completed():
            outcome[name] = {"state": "completed", "result": state.result(raise_on_failure=False)}
        else:
            failed.append(name)
            outcome[name] = {"state": state.name, "error": state.message}
            log.error("%s: %s failed: %s", kind, name, state.message)
    lines = [f"# {kind}", "", "| part | state |", "|---|---|"]
    lines += [f"| {name} | {v['state']} |" for name, v in outcome.items()]
    create_markdown_artifact(key=kind, markdown="\n".join(lines), description=f"{kind} summary")
    if failed:
        return Failed(message=f"{kind}: {', '.join(failed)} failed", data=outcome)
    return Completed(message=f"{kind}: all {len(parts)} parts completed", data=outcome)


@flow(name="daily-maintenance", description="Daily: health check summary and log review.")
def daily_maintenance(catalog_path: str | None = None) -> State[dict[str, Any]]:
    parts: list[Part] = [("health-check", health_check), ("log-review", log_review)]
    return run_parts("daily-maintenance", parts, catalog_path)


@flow(
    name="weekly-maintenance",
    description="Weekly: performance review, security scan, knowledge base, KPI report.",
)
def weekly_maintenance(catalog_path: str | None = None) -> State[dict[str, Any]]:
    parts: list[Part] = [
        ("performance-review", performance_review),
        ("security-scan", security_scan),
        ("knowledge-base", knowledge_base),
        ("kpi-report", partial(kpi_report, kind="weekly")),
    ]
    return run_parts("weekly-maintenance", parts, catalog_path)


@flow(
    name="monthly-maintenance",
    description="Monthly: capacity planning, user survey processing, KPI report.",
)
def monthly_maintenance(catalog_path: str | None = None) -> State[dict[str, Any]]:
    parts: list[Part] = [
        ("capacity-planning", capacity_planning),
        ("survey-processing", survey_processing),
        ("kpi-report", partial(kpi_report, kind="monthly")),
    ]
    return run_parts("monthly-maintenance", parts, catalog_path)


@flow(
    name="quarterly-maintenance",
    description="Quarterly: major-update and documentation review, DR drill, KPI report.",
)
def quarterly_maintenance(catalog_path: str | None = None) -> State[dict[str, Any]]:
    parts: list[Part] = [
        ("update-review", update_review),
        ("dr-drill", disaster_recovery),
        ("kpi-report", partial(kpi_report, kind="quarterly")),
    ]
    return run_parts("quarterly-maintenance", parts, catalog_path)
