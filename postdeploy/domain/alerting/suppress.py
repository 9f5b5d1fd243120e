"""What keeps an alert quiet: silences, maintenance windows and inhibition rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from postdeploy.domain.alerting.labels import Labels, Matcher, matches_all
from postdeploy.domain.windows import window_active


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
