"""The post-incident review: what happened when, how fast it was acknowledged, mitigated and
resolved, whether the SLA held, what to do next and by when the review is due."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

# Business days from resolution to the review meeting; the more severe, the sooner, while
# memories are fresh (Google SRE workbook: "within days"; we chose 3/5/10/15).
REVIEW_DUE_BUSINESS_DAYS = {"critical": 3, "high": 5, "medium": 10, "low": 15}


@dataclass(frozen=True)
class Event:
    ts: datetime
    kind: str
    actor: str
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IncidentFacts:
    id: int
    key: str
    service: str
    severity: str
    level: str
    status: str
    title: str
    commander: str | None
    opened_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class SlaCheck:
    name: str  # response | resolution
    target: timedelta
    took: timedelta | None  # None: not reached yet
    met: bool | None  # None: still running and within target


@dataclass(frozen=True)
class Review:
    incident: IncidentFacts
    timeline: tuple[Event, ...]
    time_to_acknowledge: timedelta | None
    time_to_mitigate: timedelta | None
    time_to_resolve: timedelta | None
    sla: tuple[SlaCheck, ...]
    alerts: tuple[Event, ...]
    deploys: tuple[Mapping[str, Any], ...]
    action_items: tuple[str, ...]
    due: date
    impact: str

    @property
    def sla_met(self) -> bool | None:
        if any(c.met is False for c in self.sla):
            return False
        return None if any(c.met is None for c in self.sla) else True


def add_business_days(start: date, days: int) -> date:
    """`days` weekdays after `start` (Saturday and Sunday do not count)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def review_due(severity: str, resolved: date) -> date:
    return add_business_days(resolved, REVIEW_DUE_BUSINESS_DAYS.get(severity, 10))


def _since(opened: datetime, at: datetime | None) -> timedelta | None:
    return None if at is None else max(at - opened, timedelta(0))


def _check(name: str, target: timedelta, took: timedelta | None, elapsed: timedelta) -> SlaCheck:
    if took is not None:
        return SlaCheck(name, target, took, took <= target)
    return SlaCheck(name, target, None, False if elapsed > target else None)


def _action_items(
    facts: IncidentFacts, timeline: Sequence[Event], sla: Sequence[SlaCheck]
) -> list[str]:
    items = [e.message for e in timeline if e.kind == "action_item" and e.message]
    if any(e.kind == "fix_failed" for e in timeline):
        items.append(
            f"Make the emergency fix of {facts.service} reliable: it failed during the incident."
        )
    if not any(e.kind.startswith("fix_") for e in timeline):
        items.append(
            f"Add an emergency fix action for {facts.service} to the catalog (`actions:`)."
        )
    for check in sla:
        if check.met is False:
            items.append(f"Find why the {check.name} SLA ({check.target}) was breached.")
    if any(e.kind == "monitor_timeout" for e in timeline):
        items.append(f"Find why {facts.service} did not recover within the monitoring window.")
    items.append("Write down the root cause and how to detect it earlier.")
    return list(dict.fromkeys(items))


def build_review(
    facts: IncidentFacts,
    events: Sequence[Event],
    *,
    response: timedelta,
    resolution: timedelta,
    deploys: Sequence[Mapping[str, Any]] = (),
    now: datetime,
) -> Review:
    """The review of an incident from its row, its events and the SLA targets of its severity."""
    timeline = tuple(sorted(events, key=lambda e: e.ts))
    ack = _since(facts.opened_at, facts.acknowledged_at)
    mitigate = _since(facts.opened_at, facts.mitigated_at)
    resolve = _since(facts.opened_at, facts.resolved_at)
    elapsed = now - facts.opened_at
    sla = (
        _check("response", response, ack, elapsed),
        _check("resolution", resolution, resolve, elapsed),
    )
    alerts = tuple(e for e in timeline if e.kind in ("alerts", "assessment_alert"))
    end = facts.resolved_at or now
    impact = (
        f"{facts.service} was affected for {_text(end - facts.opened_at)}"
        f" ({facts.severity}, {facts.level}): {facts.title}"
    )
    return Review(
        facts, timeline, ack, mitigate, resolve, sla, alerts, tuple(deploys),
        tuple(_action_items(facts, timeline, sla)), review_due(facts.severity, end.date()), impact,
    )  # fmt: skip


def _text(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def duration_text(d: timedelta | None) -> str:
    return "not reached" if d is None else _text(d)


# What users read on the status page at each state of an incident.
USER_MESSAGES = {
    "investigating": "We are investigating a problem with {service}: {summary}."
    " We will post an update as soon as we know more.",
    "identified": "We have identified the cause of the problem with {service} and are working"
    " on a fix.",
    "monitoring": "We are monitoring {service} while it recovers and will confirm once the"
    " problem is gone.",
    "resolved": "The problem with {service} is resolved. We are sorry for the disruption.",
}


def user_message(state: str, *, service: str, summary: str) -> str:
    return USER_MESSAGES[state].format(service=service, summary=summary.rstrip("."))
