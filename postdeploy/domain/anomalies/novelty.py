"""Novelty of a series' recent shape at one time scale: how far it is from every past shape."""

from __future__ import annotations

import bisect
import math
from collections import deque

import numpy as np


class RunningQuantiles:
    """Quantiles of the last `capacity` values added, kept sorted so a query costs nothing."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._sorted: list[float] = []
        self._arrival: deque[float] = deque()

    def __len__(self) -> int:
        return len(self._sorted)

    def add(self, value: float) -> None:
        bisect.insort(self._sorted, value)
        self._arrival.append(value)
        if len(self._arrival) > self._capacity:
            oldest = self._arrival.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, oldest)]

    def quantile(self, q: float) -> float:
        """Linear interpolation between order statistics (numpy's and pandas' default)."""
        position = q * (len(self._sorted) - 1)
        low = int(position)
        high = min(low + 1, len(self._sorted) - 1)
        return self._sorted[low] + (position - low) * (self._sorted[high] - self._sorted[low])


class ScaleNovelty:
    """Shapes are `width` consecutive means of `block` raw values.

    Each complete shape is compared with the stored past shapes that do not overlap it; the
    distance to the nearest one, in units of the series' spread, measures how new it is. The
    result is that distance over a high quantile of the earlier distances at this scale, so a
    series that is always irregular needs a larger departure than a regular one.
    """

    def __init__(
        self,
        *,
        block: int,
        width: int,
        memory: int,
        quantile: float,
        min_history: int,
        history: int,
        resolution: float,
    ) -> None:
        self._block = block
        self._resolution = resolution
        self._quantile = quantile
        self._min_history = min_history
        self._sum = 0.0
        self._count = 0
        self._means: deque[float] = deque(maxlen=width)
        # Shapes overlapping the newest one would be trivial near matches: they wait here.
        self._pending: deque[np.ndarray] = deque()
        self._width = width
        self._shapes = np.zeros((max(memory // block, min_history), width))
        # Squared lengths of the stored shapes; an empty slot is infinitely far from anything.
        self._norms = np.full(len(self._shapes), np.inf)
        self._origin: float | None = None  # shapes are stored relative to the first mean
        self._stored = 0
        self._next = 0
        self._spread = RunningQuantiles(history)
        self._distances = RunningQuantiles(history)

    def update(self, value: float) -> float | None:
        """The novelty ratio when `value` completes a shape that can be judged, else None."""
        self._sum += value
        self._count += 1
        if self._count < self._block:
            return None
        mean = self._sum / self._count
        self._sum, self._count = 0.0, 0
        self._means.append(mean)
        self._spread.add(mean)
        if len(self._means) < self._width:
            return None
        if self._origin is None:
            self._origin = self._means[0]
        shape = np.fromiter(self._means, float, self._width) - self._origin
        distance = self._nearest(shape)
        self._remember(shape)
        if distance is None:
            return None
        ratio = None
        if len(self._distances) >= self._min_history:
            yardstick = self._distances.quantile(self._quantile)
            ratio = distance / max(yardstick, self._resolution)
        self._distances.add(distance)
        return ratio

    def _nearest(self, shape: np.ndarray) -> float | None:
        if self._stored < self._min_history or len(self._spread) < 2 * self._min_history:
            return None
        # |a - b|^2 = |a|^2 - 2 a.b + |b|^2, one matrix-vector product for all stored shapes
        squared = (self._norms - 2.0 * (self._shapes @ shape)).min() + shape @ shape
        return math.sqrt(max(float(squared), 0.0)) / self._spread_unit()

    def _spread_unit(self) -> float:
        """Spread of the block means seen: 10-90% range, falling back to full range, then 1."""
        for low, high in ((0.1, 0.9), (0.0, 1.0)):
            spread = self._spread.quantile(high) - self._spread.quantile(low)
            if spread > 0:
                return spread
        return 1.0

    def _remember(self, shape: np.ndarray) -> None:
        self._pending.append(shape)
        if len(self._pending) <= self._width:
            return
        oldest = self._pending.popleft()
        self._shapes[self._next] = oldest
        self._norms[self._next] = oldest @ oldest
        self._next = (self._next + 1) % len(self._shapes)
        self._stored = min(self._stored + 1, len(self._shapes))
