"""Maintenance windows as the catalog writes them: two ISO 8601 instants (once), two times
'02:00' (daily) or two day-times 'sun 02:00' (weekly), in the catalog's time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, tzinfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RECURRING = re.compile(r"^\s*(?:([a-z]{3})[a-z]*\s+)?(\d{1,2}):(\d{2})\s*$", re.IGNORECASE)


def recurring(text: str) -> tuple[str, int] | None:
    """('daily' or 'weekly', minute of the day or week) for '02:00' or 'sun 02:00'."""
    match = _RECURRING.match(text)
    if not match:
        return None
    day, hour, minute = match[1], int(match[2]), int(match[3])
    if hour > 23 or minute > 59 or (day and day.lower() not in DAYS):
        raise ValueError(f"{text!r} is not a time such as 02:00 or sun 02:00")
    if day is None:
        return "daily", hour * 60 + minute
    return "weekly", DAYS.index(day.lower()) * 1440 + hour * 60 + minute


def instant(text: str, tz: tzinfo) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time such as 2026-12-01T02:00, 02:00 (daily) or sun 02:00 (weekly)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def window_active(start: str, end: str, now: datetime, tz: tzinfo) -> bool:
    """A maintenance window: two instants (once), two times (daily) or two day-times (weekly),
    in the catalog's time zone; a recurring window whose end is before its start wraps."""
    first, last = recurring(start), recurring(end)
    if first is None and last is None:
        return instant(start, tz) <= now < instant(end, tz)
    if first is None or last is None or first[0] != last[0]:
        raise ValueError(f"window {start!r} to {end!r}: start and end must be of the same kind")
    local = now.astimezone(tz)
    at = local.hour * 60 + local.minute + (local.weekday() * 1440 if first[0] == "weekly" else 0)
    lo, hi = first[1], last[1]
    return lo <= at < hi if lo < hi else at >= lo or at < hi


Interval = tuple[datetime, datetime]


def occurrences(
    start: str, end: str, since: datetime, until: datetime, tz: tzinfo
) -> list[Interval]:
    """The times a window is open within [since, until), clipped to it, oldest first; the same
    rule as `window_active` (local times in `tz`, a recurring window that ends before it starts
    wraps past midnight or the week's end)."""
    first, last = recurring(start), recurring(end)
    if first is None and last is None:
        found = [(instant(start, tz), instant(end, tz))]
    elif first is None or last is None or first[0] != last[0]:
        raise ValueError(f"window {start!r} to {end!r}: start and end must be of the same kind")
    else:
        step = 1440 if first[0] == "daily" else 10080
        length = (last[1] - first[1]) % step
        day = since.astimezone(tz).date() - timedelta(days=8)
        if first[0] == "weekly":
            day -= timedelta(days=day.weekday())
        found = []
        while True:
            opens = datetime.combine(day, time(), tzinfo=tz) + timedelta(minutes=first[1])
            if opens >= until:
                break
            found.append((opens, opens + timedelta(minutes=length)))
            day += timedelta(days=step // 1440)
    clipped = [(max(a, since), min(b, until)) for a, b in found]
    return [(a, b) for a, b in clipped if a < b]


def merged(intervals: list[Interval]) -> list[Interval]:
    """Overlapping or touching intervals joined, sorted."""
    out: list[Interval] = []
    for a, b in sorted(intervals, key=lambda i: (i[0].astimezone(UTC), i[1].astimezone(UTC))):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
