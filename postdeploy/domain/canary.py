"""Canary analysis after a deploy: error rate and latency after it against before it."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CanaryThresholds:
    max_error_rate_increase: float = 0.01  # absolute, e.g. 1% -> 2% fails at 0.01
    max_latency_increase_pct: float = 25.0  # p95 latency after vs before
    min_samples: int = 2


@dataclass(frozen=True)
class CanaryResult:
    verdict: str  # pass | fail | skipped
    reasons: list[str] = field(default_factory=list)
    before: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)


def _level(points: Sequence[float]) -> float:
    return statistics.median(points)


def compare(
    before: Mapping[str, Sequence[float]],
    after: Mapping[str, Sequence[float]],
    thresholds: CanaryThresholds = CanaryThresholds(),
) -> CanaryResult:
    """Fail when the error rate rose by more than the allowed amount, or p95 latency by more
    than the allowed share; skip a series without enough points on both sides."""
    reasons: list[str] = []
    seen_before: dict[str, float] = {}
    seen_after: dict[str, float] = {}
    for series in ("error_rate", "latency_p95_ms"):
        b, a = before.get(series, ()), after.get(series, ())
        if len(b) < thresholds.min_samples or len(a) < thresholds.min_samples:
            continue
        seen_before[series], seen_after[series] = _level(b), _level(a)
    if not seen_after:
        return CanaryResult("skipped", ["not enough metrics before and after the deploy"])
    if "error_rate" in seen_after:
        rise = seen_after["error_rate"] - seen_before["error_rate"]
        if rise > thresholds.max_error_rate_increase:
            reasons.append(
                f"error rate {seen_before['error_rate']:.2%} -> {seen_after['error_rate']:.2%}"
                f" (allowed +{thresholds.max_error_rate_increase:.2%})"
            )
    if "latency_p95_ms" in seen_after and seen_before["latency_p95_ms"] > 0:
        pct = 100 * (seen_after["latency_p95_ms"] / seen_before["latency_p95_ms"] - 1)
        if pct > thresholds.max_latency_increase_pct:
            reasons.append(
                f"p95 latency {seen_before['latency_p95_ms']:.0f} ms -> "
                f"{seen_after['latency_p95_ms']:.0f} ms (+{pct:.0f}%, allowed "
                f"+{thresholds.max_latency_increase_pct:.0f}%)"
            )
    return CanaryResult("fail" if reasons else "pass", reasons, seen_before, seen_after)
