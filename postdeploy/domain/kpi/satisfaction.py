"""Survey KPIs: CSAT (share of 4-5 on 1..5), NPS (% promoters - % detractors on 0..10) and
CES (mean of 1..7, higher = easier)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from postdeploy.domain.kpi.value import KpiValue, no_data, share


def _checked(scores: Sequence[int], low: int, high: int, name: str) -> Sequence[int]:
    bad = [s for s in scores if not low <= s <= high]
    if bad:
        raise ValueError(f"{name} scores must be {low} to {high}, not {bad[:5]}")
    return scores


def csat(scores: Sequence[int]) -> KpiValue:
    """% of answers that are satisfied (4) or very satisfied (5)."""
    _checked(scores, 1, 5, "CSAT")
    return share(sum(s >= 4 for s in scores), len(scores))


def nps(scores: Sequence[int]) -> KpiValue:
    """% promoters (9-10) minus % detractors (0-6): -100 to 100, in points."""
    _checked(scores, 0, 10, "NPS")
    if not scores:
        return no_data("points")
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    return KpiValue(100.0 * (promoters - detractors) / len(scores), "points", len(scores))


def ces(scores: Sequence[int]) -> KpiValue:
    """Mean Customer Effort Score, 1 (very hard) to 7 (very easy)."""
    _checked(scores, 1, 7, "CES")
    if not scores:
        return no_data("score 1-7")
    return KpiValue(statistics.fmean(scores), "score 1-7", len(scores))
