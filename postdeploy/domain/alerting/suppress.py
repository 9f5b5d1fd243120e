"""What keeps an alert quiet: silences, maintenance windows and inhibition rules."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from postdeploy.domain.alerting.labels import Labels, Matcher, matches_all

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RECURRING = re.compile(r"^\s*(?:([a-z]{3})[a-z]*\s+)?(\d{1,2}):(\d{2})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Silence:
    id: int
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str = ""
    comment: str = ""

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def mutes(self, labels: Labels, now: datetime) -> bool:
        return self.active(now) and matches_all(self.matchers, labels)


def _minute(text: str) -> tuple[str, int] | None:
    """('daily' or 'weekly', minute of the day or week) for '02:00' or 'sun 02:00'."""
    match = _RECURRING.match(text)
    if not match:
        return None
    day, hour, minute = match[1], int(match[2]), int(match[3])
    if hour > 23 or minute > 59 or (day and day.lower() not in _DAYS):
        raise ValueError(f"{text!r} is not a time such as 02:00 or sun 02:00")
    if day is None:
        return "daily", hour * 60 + minute
    return "weekly", _DAYS.index(day.lower()) * 1440 + hour * 60 + minute


def _instant(text: str, tz: tzinfo) -> datetime:
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
    first, last = _minute(start), _minute(end)
    if first is None and last is None:
        return _instant(start, tz) <= now < _instant(end, tz)
    if first is None or last is None or first[0] != last[0]:
        raise ValueError(f"window {start!r} to {end!r}: start and end must be of the same kind")
    local = now.astimezone(tz)
    at = local.hour * 60 + local.minute + (local.weekday() * 1440 if first[0] == "weekly" else 0)
    lo, hi = first[1], last[1]
    return lo <= at < hi if lo < hi else at >= lo or at < hi


@dataclass(frozen=True)
class Window:
    name: str
    services: tuple[str, ...]  # empty: every alert
    start: str
    end: str

    def mutes(self, labels: Labels, now: datetime, tz: tzinfo) -> bool:
        wanted = not self.services or labels.get("service", "") in self.services
        return wanted and window_active(self.start, self.end, now, tz)


@dataclass(frozen=True)
class Inhibition:
    """Firing alerts matching `source` mute alerts matching `target` with equal `equal` labels."""

    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()


def suppressed(
    alerts: Iterable[tuple[str, Labels, bool]],
    *,
    now: datetime,
    silences: Sequence[Silence] = (),
    windows: Sequence[Window] = (),
    inhibitions: Sequence[Inhibition] = (),
    tz: tzinfo | None = None,
) -> Mapping[str, str]:
    """Fingerprint -> why it is muted, for alerts given as (fingerprint, labels, firing)."""
    alerts = list(alerts)
    zone = tz or now.tzinfo
    assert zone is not None, "now must be timezone-aware"
    out: dict[str, str] = {}
    for fp, labels, _ in alerts:
        silence = next((s for s in silences if s.mutes(labels, now)), None)
        window = next((w for w in windows if w.mutes(labels, now, zone)), None)
        if silence is not None:
            out[fp] = f"silenced by {silence.id}"
        elif window is not None:
            out[fp] = f"maintenance window {window.name}"
    for rule in inhibitions:
        sources = [
            (f, lab) for f, lab, firing in alerts if firing and matches_all(rule.source, lab)
        ]
        for fp, labels, _ in alerts:
            if fp in out or not matches_all(rule.target, labels):
                continue
            for src, src_labels in sources:
                same = all(src_labels.get(k, "") == labels.get(k, "") for k in rule.equal)
                if src != fp and same:
                    out[fp] = f"inhibited by {src_labels.get('alertname', src)}"
                    break
    return out
