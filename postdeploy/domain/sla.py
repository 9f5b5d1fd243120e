"""SLA clocks: response and resolution time per priority, paused while waiting, on business
hours if asked; the near-breach and breach thresholds they cross and the escalation that follows."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal, NamedTuple, Protocol

from postdeploy.domain.tickets import INITIAL_STATUS, LEVELS, STATUS_PHASES, StatusChange, phase

Priority = Literal["critical", "high", "medium", "low"]
ClockState = Literal["ok", "near_breach", "breached"]
NEAR_BREACH = 0.75


class Targets(Protocol):
    @property
    def response(self) -> timedelta: ...
    @property
    def resolution(self) -> timedelta: ...


@dataclass(frozen=True)
class SlaTarget:
    response: timedelta
    resolution: timedelta


# Support guide, "Response Time SLAs".
DEFAULT_TARGETS: dict[Priority, SlaTarget] = {
    "critical": SlaTarget(timedelta(hours=1), timedelta(hours=4)),
    "high": SlaTarget(timedelta(hours=4), timedelta(hours=24)),
    "medium": SlaTarget(timedelta(hours=24), timedelta(hours=72)),
    "low": SlaTarget(timedelta(hours=72), timedelta(weeks=1)),
}


@dataclass(frozen=True)
class BusinessHours:
    """Working hours [start, end) in a zone on the given weekdays (Monday = 0), less holidays.
    Durations are wall-clock seconds within those hours."""

    tz: tzinfo = UTC
    start: time = time(9)
    end: time = time(17)
    days: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = frozenset()
    _day: float = field(init=False, repr=False)
    _before: tuple[int, ...] = field(init=False, repr=False)
    _off: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"business hours start {self.start} must be before end {self.end}")
        if not self.days or not self.days <= set(range(7)):
            raise ValueError(f"business days must be weekdays 0 (Monday) to 6, not {self.days}")
        day = _seconds(self.end) - _seconds(self.start)
        before = tuple(sum(d in self.days for d in range(i)) for i in range(8))
        off = tuple(sorted(h.toordinal() for h in self.holidays if h.weekday() in self.days))
        object.__setattr__(self, "_day", day)
        object.__setattr__(self, "_before", before)
        object.__setattr__(self, "_off", off)

    def seconds(self, a: datetime, b: datetime) -> float:
        """Business seconds from a to b (0 when b is not after a)."""
        return max(0.0, self._since_origin(b) - self._since_origin(a))

    def _since_origin(self, t: datetime) -> float:
        local = t.astimezone(self.tz)
        ordinal = local.toordinal()
        weeks, weekday = divmod(ordinal - 1, 7)  # day 1 (0001-01-01) is a Monday
        days = weeks * self._before[7] + self._before[weekday] - bisect_left(self._off, ordinal)
        total = days * self._day
        if weekday in self.days and not _is_in(self._off, ordinal):
            into = _seconds(local.time()) - _seconds(self.start)
            total += min(max(into, 0.0), self._day)
        return total


def _seconds(t: time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


def _is_in(ordered: tuple[int, ...], value: int) -> bool:
    i = bisect_left(ordered, value)
    return i < len(ordered) and ordered[i] == value


class Clock(NamedTuple):
    target: timedelta
    elapsed: timedelta
    running: bool  # False once stopped (responded, resolved) or while paused (waiting)

    @property
    def remaining(self) -> timedelta:
        return self.target - self.elapsed

    def state(self, near: float = NEAR_BREACH) -> ClockState:
        if self.elapsed > self.target:
            return "breached"
        return "near_breach" if self.elapsed >= self.target * near else "ok"


# The thresholds a ticket can cross, as bits of one int (the store keeps it per ticket);
# each escalates the ticket once.
RESPONSE_NEAR_BREACH, RESPONSE_BREACHED, RESOLUTION_NEAR_BREACH, RESOLUTION_BREACHED = 1, 2, 4, 8
THRESHOLDS = {
    RESPONSE_NEAR_BREACH: "response near-breach",
    RESPONSE_BREACHED: "response breached",
    RESOLUTION_NEAR_BREACH: "resolution near-breach",
    RESOLUTION_BREACHED: "resolution breached",
}


def describe(crossed: int) -> list[str]:
    """['response near-breach', ...] for the thresholds in `crossed`, in threshold order."""
    return [name for bit, name in THRESHOLDS.items() if crossed & bit]


class Sla(NamedTuple):
    response: Clock
    resolution: Clock

    def crossed(self, near: float = NEAR_BREACH) -> int:
        """Thresholds crossed by running clocks: a paused or stopped clock escalates nothing."""
        return _bits(self.response, near, RESPONSE_NEAR_BREACH) | _bits(
            self.resolution, near, RESOLUTION_NEAR_BREACH
        )


def _bits(clock: Clock, near: float, near_bit: int) -> int:
    state = clock.state(near) if clock.running else "ok"
    if state == "ok":
        return 0
    return near_bit | (near_bit << 1 if state == "breached" else 0)


def timeline(
    created_at: datetime,
    status: str,
    changes: Sequence[StatusChange] = (),
    updated_at: datetime | None = None,
) -> list[tuple[datetime, str]]:
    """(since, status) points from creation on. Without a recorded change into the current
    status, the ticket is taken to have entered it at updated_at (or creation)."""
    ordered = sorted(changes, key=lambda c: c.ts) if len(changes) > 1 else changes
    first = ordered[0].from_status if ordered and ordered[0].from_status else INITIAL_STATUS
    points = [(created_at, first)] + [(max(c.ts, created_at), c.to_status) for c in ordered]
    if points[-1][1] != status:
        points.append((max(points[-1][0], updated_at or created_at), status))
    return points


def evaluate(
    *,
    created_at: datetime,
    status: str,
    target: Targets,
    now: datetime,
    changes: Sequence[StatusChange] = (),
    first_response_at: datetime | None = None,
    updated_at: datetime | None = None,
    calendar: BusinessHours | None = None,
) -> Sla:
    """Both clocks at `now`. The clocks run only while the ticket is open (not waiting, not
    done); the response clock stops at the first response or the first change of status."""
    points = [p for p in timeline(created_at, status, changes, updated_at) if p[0] <= now]
    points = points or [(created_at, INITIAL_STATUS)]  # created after `now`: nothing elapsed
    responded = first_response_at or next((t for t, s in points if s != INITIAL_STATUS), None)
    if responded and responded > now:
        responded = None
    is_open = phase(points[-1][1]) == "open"
    resolution = _active(points, now, calendar)
    response = _active(points, responded, calendar) if responded else resolution
    return Sla(
        Clock(target.response, timedelta(seconds=response), is_open and responded is None),
        Clock(target.resolution, timedelta(seconds=resolution), is_open),
    )


def _active(
    points: list[tuple[datetime, str]], until: datetime, cal: BusinessHours | None
) -> float:
    """Seconds the clock ran (status open) from the first point until `until`."""
    total = 0.0
    for i, (since, status) in enumerate(points):
        end = min(points[i + 1][0], until) if i + 1 < len(points) else until
        if end > since and STATUS_PHASES.get(status, "open") == "open":
            total += cal.seconds(since, end) if cal else (end - since).total_seconds()
    return total


class Escalation(NamedTuple):
    from_level: str
    to_level: str  # the same as from_level at the top level: recorded, not raised
    new: int  # thresholds newly crossed
    crossed: int  # every threshold crossed so far, the new ones included


def escalate(level: str, already: int, sla: Sla, *, near: float = NEAR_BREACH) -> Escalation | None:
    """One level up when a running clock crosses a threshold not crossed before. A sweep that
    finds several new thresholds at once still moves one level: a late sweep does not jump."""
    new = sla.crossed(near) & ~already
    if not new:
        return None
    index = LEVELS.index(level) if level in LEVELS else 0
    return Escalation(level, LEVELS[min(index + 1, len(LEVELS) - 1)], new, already | new)
