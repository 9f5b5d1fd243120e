"""The streaming detector: novelty at several time scales, one threshold, a quiet period.

An incident shows as a stretch of the series unlike any stretch before it: a spike, a drop,
a level shift, a lost daily cycle, a change in noise. At each time scale (1, 4, 16 and 64
points per block) the detector measures how far the latest shape is from its nearest past
shape, relative to how far new shapes usually were (novelty.py), and takes the largest ratio.
It alerts when that ratio passes the threshold, after a warm-up, and then stays quiet for a
while unless a much stronger departure follows: one alert per event. The approach follows
the nearest-neighbour and "new category" detectors that lead the Numenta Anomaly Benchmark
(KNN-CAD, ARTime); benchmarks/nab_score.py measures it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from postdeploy.domain.anomalies.novelty import ScaleNovelty


@dataclass(frozen=True)
class DetectorConfig:
    """One configuration for every series; the defaults are the measured ones (benchmarks/)."""

    scales: tuple[int, ...] = (1, 4, 16, 64)  # block sizes in points: spikes up to slow drifts
    width: int = 6  # blocks per shape
    memory: int = 4000  # how many past points' shapes each scale searches
    quantile: float = 0.98  # of past nearest distances, the yardstick for "new"
    threshold: float = 1.1  # alert when a distance exceeds the yardstick by 10%
    warmup: int = 150  # points seen before any alert: the detector is still learning
    quiet: int = 100  # points after an alert during which only a stronger one is raised
    escalation: float = 3.0  # "stronger": this many times the ratio that raised the last alert
    history: int = 20_000  # distances (and block means) kept for the quantiles
    min_history: int = 10  # past shapes and distances needed before judging
    # Shapes closer than this (in units of the series' 10-90% spread) are the same shape, so
    # a perfectly regular series does not alert on rounding noise.
    resolution: float = 0.01

    def __post_init__(self) -> None:
        if not self.scales or min(self.scales) < 1:
            raise ValueError("scales must be positive block sizes")
        if not 0.0 < self.quantile <= 1.0 or self.threshold <= 0:
            raise ValueError("quantile must be in (0, 1] and threshold positive")


class Detector:
    """Feed values in time order; each gets a score in [0, 1) and an alert flag.

    Causal: the result for a value depends only on it and the values fed before it.
    Non-finite values (NaN, inf) are treated as missing: score 0, no alert, no effect on state.
    """

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        c = self.config
        self._scales = [
            ScaleNovelty(
                block=block,
                width=c.width,
                memory=c.memory,
                quantile=c.quantile,
                min_history=c.min_history,
                history=c.history,
                resolution=c.resolution,
            )
            for block in c.scales
        ]
        self._seen = 0
        self._last_alert: int | None = None
        self._last_ratio = 0.0

    def update(self, value: float) -> tuple[float, int]:
        if not math.isfinite(value):
            return 0.0, 0
        self._seen += 1
        ratios = [r for scale in self._scales if (r := scale.update(value)) is not None]
        ratio = max(ratios, default=0.0)
        threshold = self.config.threshold
        alert = ratio > threshold and self._seen > self.config.warmup and self._news(ratio)
        if alert:
            self._last_alert, self._last_ratio = self._seen, ratio
        # ratio / (ratio + threshold) maps the alert threshold to 0.5 and stays below 1.
        return ratio / (ratio + threshold), int(alert)

    def _news(self, ratio: float) -> bool:
        """One alert per event: repeats within the quiet period are dropped, escalations not."""
        if self._last_alert is None or self._seen - self._last_alert > self.config.quiet:
            return True
        return ratio > self.config.escalation * self._last_ratio


def detect(
    values: Sequence[float], config: DetectorConfig | None = None
) -> list[tuple[float, int]]:
    """(score, alert) for each value, as a fresh Detector fed them in order would give."""
    detector = Detector(config)
    return [detector.update(float(value)) for value in values]
