"""Status page rules: a component's state from its checks, SLOs, incidents and maintenance."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from postdeploy.domain.windows import instant, recurring

State = Literal["operational", "maintenance", "degraded", "partial_outage", "major_outage"]

# Worst last: the page shows its worst component; planned maintenance is better news than
# anything unplanned.
ORDER: tuple[State, ...] = (
    "operational",
    "maintenance",
    "degraded",
    "partial_outage",
    "major_outage",
)
LABELS: dict[State, str] = {
    "operational": "Operational",
    "maintenance": "Under maintenance",
    "degraded": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
}
HEADLINES: dict[State, str] = {
    "operational": "All systems operational",
    "maintenance": "Scheduled maintenance in progress",
    "degraded": "Degraded performance",
    "partial_outage": "Partial system outage",
    "major_outage": "Major system outage",
}

FLAP_WINDOW_S = 3600
FLAP_FLIPS = 4  # up/down changes in the window: two failures that each recovered


@dataclass(frozen=True)
class CheckNow:
    """A check's current state (up, down, unknown) and how often its results flipped lately."""

    check: str
    status: str
    since: float
    detail: str = ""
    flips: int = 0

    @property
    def flapping(self) -> bool:
        return self.flips >= FLAP_FLIPS


@dataclass(frozen=True)
class Maintenance:
    """One occurrence of a maintenance window; `recurs` is '', 'daily' or 'weekly'."""

    name: str
    services: tuple[str, ...]  # empty: every service
    start: datetime
    end: datetime
    recurs: str = ""

    def covers(self, service: str) -> bool:
        return not self.services or service in self.services

    def active(self, now: datetime) -> bool:
        return self.start <= now < self.end

    def upcoming(self, now: datetime) -> bool:
        return now < self.start


def maintenance_at(
    name: str, services: Sequence[str], start: str, end: str, *, now: datetime, tz: tzinfo
) -> Maintenance:
    """The window's occurrence in progress at `now`, else its next one (a one-off window's only
    one). As the catalog writes them (and alerting reads them): two ISO 8601 instants (once),
    two times '02:00' (daily) or two day-times 'sun 02:00' (weekly), in the catalog's zone
    `tz` unless an instant has an offset; a recurring window whose end is before its start
    wraps past midnight or the week's end."""
    try:
        first, last = recurring(start), recurring(end)
        if first is None and last is None:
            begins, ends = instant(start, tz), instant(end, tz)
            if ends <= begins:
                raise ValueError(f"end {end!r} is not after start {start!r}")
            return Maintenance(name, tuple(services), begins, ends)
        if first is None or last is None or first[0] != last[0]:
            raise ValueError(f"{start!r} to {end!r}: start and end must be of the same kind")
    except ValueError as exc:
        raise ValueError(f"maintenance window {name!r}: {exc}") from None
    period = 1440 if first[0] == "daily" else 7 * 1440
    length = (last[1] - first[1]) % period or period
    local = now.astimezone(tz).replace(second=0, microsecond=0)
    at = local.hour * 60 + local.minute + (local.weekday() * 1440 if period > 1440 else 0)
    since = (at - first[1]) % period  # minutes since the latest start
    begins = local - timedelta(minutes=since)
    if since >= length:
        begins += timedelta(minutes=period)
    return Maintenance(
        name, tuple(services), begins, begins + timedelta(minutes=length), recurs=first[0]
    )


@dataclass(frozen=True)
class Verdict:
    state: State
    reasons: tuple[str, ...]


def component_state(
    checks: Sequence[CheckNow],
    *,
    in_maintenance: bool = False,
    slo_burning: Sequence[str] = (),
    open_incidents: int = 0,
) -> Verdict:
    """Maintenance wins (failures in it are expected); then all known checks down is a major
    outage, some down a partial one; a flapping check, an SLO burning its budget at paging
    speed or an open incident is degraded. Checks never run yet (unknown) count neither way."""
    if in_maintenance:
        return Verdict("maintenance", ("scheduled maintenance",))
    known = [c for c in checks if c.status in ("up", "down")]
    down = [c.check for c in known if c.status == "down"]
    if known and len(down) == len(known):
        return Verdict("major_outage", tuple(f"{c} down" for c in down))
    if down:
        return Verdict("partial_outage", tuple(f"{c} down" for c in down))
    reasons = [f"{c.check} flapping" for c in known if c.flapping]
    reasons += [f"{name} SLO burning its error budget" for name in slo_burning]
    if open_incidents:
        reasons.append(f"{open_incidents} open incident{'s' if open_incidents > 1 else ''}")
    return Verdict("degraded" if reasons else "operational", tuple(reasons))


def worst(states: Iterable[State]) -> State:
    return max(states, key=ORDER.index, default="operational")


@dataclass(frozen=True)
class Update:
    ts: datetime
    kind: str
    message: str


@dataclass(frozen=True)
class IncidentNotice:
    key: str
    title: str
    service: str
    severity: str
    status: str
    opened_at: datetime
    resolved_at: datetime | None
    updates: tuple[Update, ...]  # newest first

    @property
    def open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True)
class Component:
    name: str
    description: str
    verdict: Verdict
    measured: bool  # a check of it has a known state
    days: tuple[tuple[int, int, int], ...]  # (day index since epoch, ok, total), as uptime


@dataclass(frozen=True)
class StatusPage:
    generated_at: datetime
    components: tuple[Component, ...]
    incidents: tuple[IncidentNotice, ...]  # open first, then recently resolved
    maintenance: tuple[Maintenance, ...]  # active or upcoming
    first_day: int
    last_day: int

    @property
    def state(self) -> State:
        return worst(c.verdict.state for c in self.components)
