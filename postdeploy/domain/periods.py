"""Report periods: a day '2026-11-27', an ISO week '2026-W48', a month '2026-11' or a quarter
'2026-Q4', as [start, end) between local midnights in the catalog's time zone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

Kind = Literal["day", "week", "month", "quarter"]
ACCEPTED = "2026-11-27 (day), 2026-W48 (ISO week), 2026-11 (month) or 2026-Q4 (quarter)"
_FORMS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("day", re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
    ("week", re.compile(r"^(\d{4})-W(\d{2})$")),
    ("month", re.compile(r"^(\d{4})-(\d{2})$")),
    ("quarter", re.compile(r"^(\d{4})-Q(\d)$")),
)


@dataclass(frozen=True)
class Period:
    """Local midnight to local midnight, so a day is 23 or 25 hours long across a DST change."""

    kind: Kind
    label: str
    start: datetime
    end: datetime  # exclusive

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    @property
    def elapsed(self) -> timedelta:
        """Real time from start to end. Not `end - start`: Python subtracts datetimes of one
        tzinfo as wall-clock times, which hides the DST hour."""
        return self.end.astimezone(UTC) - self.start.astimezone(UTC)

    @property
    def days(self) -> int:
        """Calendar days in the period (not elapsed hours / 24)."""
        return (self.end.date() - self.start.date()).days


def parse_period(label: str, tz: tzinfo) -> Period:
    """The period a label names; ValueError naming the accepted forms otherwise."""
    text = label.strip()
    for kind, form in _FORMS:
        match = form.match(text)
        if match:
            try:
                first = _first_day(kind, *(int(g) for g in match.groups()))
            except ValueError:
                break
            return _period(kind, first, tz)
    raise ValueError(f"{label!r} is not a period; use {ACCEPTED}")


def period_of(kind: Kind, moment: datetime, tz: tzinfo) -> Period:
    """The period of this kind that holds `moment` (read in `tz`)."""
    day = moment.astimezone(tz).date()
    if kind == "day":
        first = day
    elif kind == "week":
        first = day - timedelta(days=day.weekday())
    elif kind == "month":
        first = day.replace(day=1)
    elif kind == "quarter":
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    else:
        raise ValueError(f"{kind!r} is not a period kind; use day, week, month or quarter")
    return _period(kind, first, tz)


def previous(period: Period) -> Period:
    """The period of the same kind just before, for trends."""
    return period_of(period.kind, period.start - timedelta(days=1), _tz(period))


def following(period: Period) -> Period:
    return period_of(period.kind, period.end + timedelta(hours=12), _tz(period))


def iterate(first: Period, last: Period) -> Iterator[Period]:
    """first, the periods after it, ..., last (inclusive); nothing when last is before first."""
    if first.kind != last.kind:
        raise ValueError(f"cannot iterate from a {first.kind} to a {last.kind}")
    current = first
    while current.start <= last.start:
        yield current
        current = following(current)


def _tz(period: Period) -> tzinfo:
    tz = period.start.tzinfo
    assert tz is not None  # periods are built aware
    return tz


def _first_day(kind: Kind, year: int, number: int, day: int = 1) -> date:
    if kind == "day":
        return date(year, number, day)
    if kind == "week":
        return date.fromisocalendar(year, number, 1)
    if kind == "month":
        return date(year, number, 1)
    if not 1 <= number <= 4:
        raise ValueError(f"quarter {number} is not 1 to 4")
    return date(year, number * 3 - 2, 1)


def _period(kind: Kind, first: date, tz: tzinfo) -> Period:
    after = _next_first_day(kind, first)
    start = datetime.combine(first, time(), tzinfo=tz)
    end = datetime.combine(after, time(), tzinfo=tz)
    return Period(kind, _label(kind, first), start, end)


def _next_first_day(kind: Kind, first: date) -> date:
    if kind == "day":
        return first + timedelta(days=1)
    if kind == "week":
        return first + timedelta(days=7)
    months = 1 if kind == "month" else 3
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _label(kind: Kind, first: date) -> str:
    if kind == "day":
        return first.isoformat()
    if kind == "week":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "month":
        return f"{first.year}-{first.month:02d}"
    return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
