"""Survey responses and their scores: NPS, CSAT and CES (defined once, in kpi.satisfaction)
with the number of answers and a 95% confidence interval, overall, per period and per group.

Intervals (docs/surveys.md): CSAT, a share, by the Wilson score interval; NPS by the adjusted
Wald interval of Rocks (2016): 3/4 added to promoters and to detractors and 3 to n, then the
variance of a difference of two trinomial shares; CES, a mean, by Student's t interval."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from postdeploy.domain.kpi.satisfaction import ces, csat, nps
from postdeploy.domain.kpi.value import KpiValue
from postdeploy.domain.periods import Period

SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
CONFIDENCE = 0.95
Z95 = statistics.NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)  # 1.959964
NONE = "(none)"  # the group of responses without a segment or service
# Student's t 97.5% quantiles for 1 to 30 degrees of freedom; beyond, the Cornish-Fisher series
T975 = (12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004,
        2.262157, 2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905,
        2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899,
        2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272)  # fmt: skip


class Response(NamedTuple):
    source: str
    external_id: str
    submitted_at: datetime
    nps: int | None
    csat: int | None
    ces: int | None
    service: str | None = None
    segment: str | None = None
    comment: str | None = None


def nps_group(score: int | None) -> str | None:
    """promoter (9-10), passive (7-8), detractor (0-6) or None without an NPS answer."""
    if score is None:
        return None
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


@dataclass(frozen=True)
class Estimate:
    kpi: KpiValue  # value None: no data
    low: float | None  # the 95% interval; None without data (or, for CES, with one answer)
    high: float | None


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a share (0..1)."""
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def nps_interval(promoters: int, detractors: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Adjusted Wald interval of promoters/n - detractors/n (-1..1), Rocks (2016)."""
    m = n + 3
    p, d = (promoters + 0.75) / m, (detractors + 0.75) / m
    half = z * math.sqrt((p + d - (p - d) ** 2) / m)
    return max(-1.0, p - d - half), min(1.0, p - d + half)


def t975(df: int) -> float:
    """The 97.5% quantile of Student's t: tabled to 30 degrees of freedom, then the
    Cornish-Fisher expansion around the normal quantile (error < 1e-6 beyond)."""
    if df < 1:
        raise ValueError("t needs at least 1 degree of freedom")
    if df <= len(T975):
        return T975[df - 1]
    z, v = Z95, float(df)
    terms = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    return z + sum(term / v**k for k, term in enumerate(terms, 1))


def csat_estimate(scores: Sequence[int]) -> Estimate:
    kpi = csat(scores)
    if not kpi.has_data:
        return Estimate(kpi, None, None)
    low, high = wilson(sum(s >= 4 for s in scores), len(scores))
    return Estimate(kpi, 100 * low, 100 * high)


def nps_estimate(scores: Sequence[int]) -> Estimate:
    kpi = nps(scores)
    if not kpi.has_data:
        return Estimate(kpi, None, None)
    low, high = nps_interval(sum(s >= 9 for s in scores), sum(s <= 6 for s in scores), len(scores))
    return Estimate(kpi, 100 * low, 100 * high)


def ces_estimate(scores: Sequence[int]) -> Estimate:
    kpi = ces(scores)
    if kpi.value is None or len(scores) < 2:  # one answer has no spread
        return Estimate(kpi, None, None)
    half = t975(len(scores) - 1) * statistics.stdev(scores) / math.sqrt(len(scores))
    return Estimate(kpi, max(1.0, kpi.value - half), min(7.0, kpi.value + half))


@dataclass(frozen=True)
class Scores:
    responses: int
    nps: Estimate
    csat: Estimate
    ces: Estimate

    def items(self) -> list[tuple[str, Estimate]]:
        return [("nps", self.nps), ("csat", self.csat), ("ces", self.ces)]


def scores(responses: Iterable[Response]) -> Scores:
    """Each score over the responses that answered it; 'no data' where none did."""
    rows = list(responses)
    return Scores(
        len(rows),
        nps_estimate([r.nps for r in rows if r.nps is not None]),
        csat_estimate([r.csat for r in rows if r.csat is not None]),
        ces_estimate([r.ces for r in rows if r.ces is not None]),
    )


def by_group(
    responses: Iterable[Response], key: Callable[[Response], str | None]
) -> dict[str, Scores]:
    """Scores per group (e.g. lambda r: r.segment), largest group first; None groups as
    '(none)'."""
    groups: dict[str, list[Response]] = defaultdict(list)
    for r in responses:
        groups[key(r) or NONE].append(r)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return {name: scores(rows) for name, rows in ordered}


def by_period(responses: Iterable[Response], periods: Sequence[Period]) -> dict[str, Scores]:
    """Scores per period label, in the order given; a period without responses: no data."""
    rows = list(responses)
    return {p.label: scores(r for r in rows if r.submitted_at in p) for p in periods}
