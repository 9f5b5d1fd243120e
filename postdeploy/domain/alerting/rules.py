"""Alert rules evaluated over stored data, and the pending -> firing -> resolved state of the
alerts they raise (Prometheus semantics: a condition must hold for `for` before it fires)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Literal

from postdeploy.domain.alerting.labels import fingerprint

Kind = Literal["threshold", "check_failing", "cert_expiring", "anomaly", "slo_burn"]
Points = Sequence[tuple[float, float]]  # (epoch seconds, value), oldest first
Scores = Callable[[Sequence[float]], Sequence[int]]  # an anomaly detector: 1 = anomalous
STALE_S = 300.0  # like Prometheus' lookback delta: an older latest sample is no data
OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "==": operator.eq, "!=": operator.ne,
}  # fmt: skip
DEFAULT_SUMMARY: dict[str, str] = {
    "threshold": "{{ labels.service }} {{ labels.series }} is {{ value | round(2) }} "
    "({{ op }} {{ threshold }})",
    "check_failing": "{{ labels.service }}/{{ labels.check }} failed {{ value | int }} times "
    "in a row: {{ detail }}",
    "cert_expiring": "{{ labels.service }}/{{ labels.check }} certificate expires in "
    "{{ value | round(1) }} days",
    "anomaly": "{{ labels.service }} {{ labels.series }} is anomalous at {{ value | round(2) }}",
    "slo_burn": "{{ labels.service }} burns its error budget too fast ({{ labels.burn }})",
}


@dataclass(frozen=True)
class Rule:
    name: str
    kind: Kind
    services: tuple[str, ...]
    severity: str = "medium"
    for_s: float = 0.0
    labels: tuple[tuple[str, str], ...] = ()
    summary: str = ""  # Jinja template, rendered outside the domain
    annotations: tuple[tuple[str, str], ...] = ()
    series: str = ""
    op: str = ">"
    value: float = 0.0
    times: int = 1
    checks: tuple[str, ...] = ()  # empty: every check of the service
    within_s: float = 0.0
    lookback_s: float = 3600.0
    hold_s: float = 0.0  # anomaly: keep firing this long after the latest flagged value
    severities: tuple[tuple[str, str], ...] = ()  # SLO burn severity -> alert severity

    @property
    def window_s(self) -> float:
        """How far back the rule reads its series."""
        return self.lookback_s if self.kind == "anomaly" else self.for_s + STALE_S


@dataclass(frozen=True)
class CheckFacts:
    failures: int  # failures in a row, from the check's state
    detail: str = ""
    cert_expires_at: float | None = None  # from its latest result


@dataclass(frozen=True)
class BurnFact:
    service: str
    severity: str  # the burn-rate rule's: page or ticket
    firing: bool


@dataclass(frozen=True)
class RuleData:
    series: Mapping[tuple[str, str], Points] = field(default_factory=dict)  # (series, service)
    checks: Mapping[tuple[str, str], CheckFacts] = field(default_factory=dict)
    burns: Sequence[BurnFact] = ()


@dataclass(frozen=True)
class Signal:
    """A rule's condition holding now for one label set."""

    rule: Rule
    labels: Mapping[str, str]
    value: float | None
    since: float | None  # when the condition began, when the data tells; None: remembered
    detail: str = ""

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.labels["alertname"], self.labels)


def trailing_run(points: Points, flags: Sequence[bool], now: float) -> tuple[float, float] | None:
    """(start, latest value) of the run of flagged points ending at the latest fresh one."""
    if not points or points[-1][0] < now - STALE_S or not flags[-1]:
        return None
    start = len(flags) - 1
    while start > 0 and flags[start - 1]:
        start -= 1
    return points[start][0], points[-1][1]


def recent_flags(
    points: Points, flags: Sequence[bool], now: float, hold_s: float
) -> tuple[float, float] | None:
    """(first flagged in the last hold_s, latest value): for detectors that flag an event's
    onset only, so its alert lasts hold_s instead of one evaluation."""
    if not points or points[-1][0] < now - STALE_S:
        return None
    hits = [ts for (ts, _), flag in zip(points, flags, strict=True) if flag and ts > now - hold_s]
    return (hits[0], points[-1][1]) if hits else None


def _signal(
    rule: Rule,
    service: str,
    extra: Mapping[str, str],
    value: float | None,
    since: float | None = None,
    detail: str = "",
    severity: str = "",
) -> Signal:
    labels = {"alertname": rule.name, "severity": severity or rule.severity, "service": service}
    return Signal(rule, {**labels, **extra, **dict(rule.labels)}, value, since, detail)


def _series(rule: Rule, data: RuleData, now: float, scores: Scores | None) -> list[Signal]:
    out = []
    for service in rule.services:
        points = [p for p in data.series.get((rule.series, service), ()) if p[0] <= now]
        if rule.kind == "threshold":
            flags = [OPS[rule.op](v, rule.value) for _, v in points]
        elif scores is None or not points:
            continue
        else:
            flags = [bool(s) for s in scores([v for _, v in points])]
            if len(flags) != len(points):
                scored = f"{len(flags)} of {len(points)} values"
                raise ValueError(f"rule {rule.name}: the detector scored {scored}")
        if rule.kind == "anomaly" and rule.hold_s > 0:
            run = recent_flags(points, flags, now, rule.hold_s)
        else:
            run = trailing_run(points, flags, now)
        if run:
            out.append(_signal(rule, service, {"series": rule.series}, run[1], run[0]))
    return out


def _checks(rule: Rule, data: RuleData, now: float) -> list[Signal]:
    out = []
    for (service, check), facts in sorted(data.checks.items()):
        if service not in rule.services or (rule.checks and check not in rule.checks):
            continue
        extra = {"check": check}
        if rule.kind == "check_failing" and facts.failures >= rule.times:
            out.append(_signal(rule, service, extra, facts.failures, None, facts.detail))
        expires = facts.cert_expires_at
        if rule.kind == "cert_expiring" and expires is not None and expires - now <= rule.within_s:
            out.append(_signal(rule, service, extra, (expires - now) / 86400, None, facts.detail))
    return out


def _burns(rule: Rule, data: RuleData) -> list[Signal]:
    by_burn = dict(rule.severities)
    return [
        _signal(rule, b.service, {"burn": b.severity}, None, severity=by_burn.get(b.severity, ""))
        for b in data.burns
        if b.firing and b.service in rule.services
    ]


def evaluate(
    rules: Sequence[Rule], data: RuleData, now: float, scores: Scores | None = None
) -> list[Signal]:
    """Every rule's signals; anomaly rules need a detector and yield nothing without one."""
    out: list[Signal] = []
    for rule in rules:
        if rule.kind in ("threshold", "anomaly"):
            out += _series(rule, data, now, scores)
        elif rule.kind in ("check_failing", "cert_expiring"):
            out += _checks(rule, data, now)
        else:
            out += _burns(rule, data)
    return out


@dataclass(frozen=True)
class RuleStep:
    firing: tuple[Signal, ...]  # firing now: newly or still
    fired: tuple[str, ...]  # fingerprints that started firing in this evaluation
    pending: Mapping[str, tuple[Signal, float]]  # fingerprint -> (signal, active since)
    resolved: tuple[str, ...]  # fingerprints that stopped firing


def advance(
    signals: Sequence[Signal], *, pending: Mapping[str, float], firing: Set[str], now: float
) -> RuleStep:
    """Pending until the condition has held for the rule's `for`; resolved once it clears."""
    firing_now: dict[str, Signal] = {}
    waiting: dict[str, tuple[Signal, float]] = {}
    for s in signals:
        fp = s.fingerprint
        if fp in firing_now or fp in waiting:
            continue
        since = s.since if s.since is not None else pending.get(fp, now)
        if fp in firing or now - since >= s.rule.for_s:
            firing_now[fp] = s
        else:
            waiting[fp] = (s, since)
    fired = tuple(fp for fp in firing_now if fp not in firing)
    resolved = tuple(sorted(set(firing) - set(firing_now)))
    return RuleStep(tuple(firing_now.values()), fired, waiting, resolved)
