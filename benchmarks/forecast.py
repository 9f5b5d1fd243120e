"""Benchmark: capacity forecast fit time per series.

What the capacity-planning flow pays per (service, resource): `forecast()` on 30 days of
5-minute samples (8,640 points, resampled to 720 hourly), 30 days ahead, which fits the
backtest model(s) and the final model and simulates 400 paths. Three shapes, in turn:
growth with a daily cycle (Holt-Winters with trend and season), a flat daily cycle (season,
no trend) and steady growth with noise (Holt). The statsmodels import is timed apart: it is
paid once per process.

    .venv/bin/python benchmarks/forecast.py --series 12
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time

DAY = 86400


def series(kind: int, days: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    t0 = 1_790_000_000 // DAY * DAY
    out = []
    for i in range(days * 288):
        t = t0 + i * 300
        cycle = math.sin(2 * math.pi * (t % DAY) / DAY)
        growth = (t - t0) / DAY
        value = (
            100 + 2 * growth + 10 * cycle + rng.gauss(0, 2),
            0.2 + 0.08 * cycle + rng.gauss(0, 0.02),
            180e6 + 2.4e6 * growth + rng.gauss(0, 2e6),
        )[kind % 3]
        out.append((float(t), value))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=12)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--horizon-days", type=int, default=30)
    args = parser.parse_args()

    start = time.perf_counter()
    import statsmodels.tsa.holtwinters  # noqa: F401

    imported = time.perf_counter() - start
    from postdeploy.adapters.forecasting import forecast

    inputs = [series(i, args.days, i) for i in range(args.series)]
    times: dict[str, list[float]] = {}
    for points in inputs:
        start = time.perf_counter()
        f = forecast(points, horizon_s=args.horizon_days * DAY)
        times.setdefault(f.method, []).append(time.perf_counter() - start)
    every = [t for ts in times.values() for t in ts]
    print(f"statsmodels import: {imported:.2f} s (once per process)")
    print(f"{len(every)} series of {args.days} d at 5 min, {args.horizon_days} d ahead:")
    print(f"  median {statistics.median(every):.2f} s, max {max(every):.2f} s,"
          f" total {sum(every):.1f} s")  # fmt: skip
    for method, ts in sorted(times.items()):
        print(f"  {method}: median {statistics.median(ts):.2f} s over {len(ts)}")


if __name__ == "__main__":
    main()
