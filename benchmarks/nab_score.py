"""Benchmark: NAB standard score and speed of the causal anomaly detector.

Runs postdeploy's detector (postdeploy.domain.anomalies, default configuration, the same for
every file) and a windowed-gaussian baseline over every file in ../shared/eval/nab/data,
writes their alerts where the scorer expects them (DETECTIONS/<category>/<prefix><file>.csv,
in a temporary folder unless --keep), runs ../shared/eval/score_nab.py on each and prints
both scores, a per-file breakdown and the detector time per 10,000 points.

    .venv/bin/python benchmarks/nab_score.py [--keep DIR] [--nab DIR]

--nab scores another folder in NAB's layout (data/<category>/*.csv and windows.json or
labels/combined_windows.json, e.g. a checkout of numenta/NAB) with the same configuration.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from postdeploy.domain.anomalies import DetectorConfig, detect

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"
NAB = EVAL / "nab"
SCORER = EVAL / "score_nab.py"

Detect = Callable[[Sequence[float]], list[int]]


def postdeploy_alerts(values: Sequence[float]) -> list[int]:
    return [alert for _, alert in detect(values)]


def gaussian_alerts(values: Sequence[float], window: int = 6400, z: float = 4.0) -> list[int]:
    """Windowed gaussian: |value - mean| > z sd of the previous `window` values, with the
    same warm-up and quiet period as the detector, so the comparison is of the scoring."""
    config = DetectorConfig()
    past: deque[float] = deque(maxlen=window)
    total = squares = 0.0
    last: int | None = None
    out = []
    for i, value in enumerate(values):
        alert = 0
        if len(past) >= 20:
            mean = total / len(past)
            sd = math.sqrt(max(squares / len(past) - mean * mean, 0.0)) or 1e-12
            quiet = last is not None and i - last <= config.quiet
            if abs(value - mean) > z * sd and i >= config.warmup and not quiet:
                alert, last = 1, i
        out.append(alert)
        if len(past) == window:
            total -= past[0]
            squares -= past[0] ** 2
        past.append(value)
        total += value
        squares += value * value
    return out


def read(path: Path) -> tuple[list[str], list[float]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["timestamp"] for r in rows], [float(r["value"]) for r in rows]


def windows_of(nab: Path) -> dict[str, list[list[str]]]:
    """Labelled windows of the files present under nab/data."""
    found = nab / "windows.json"
    if not found.exists():
        found = nab / "labels" / "combined_windows.json"
    labels: dict[str, list[list[str]]] = json.loads(found.read_text())
    return {rel: spans for rel, spans in labels.items() if (nab / "data" / rel).exists()}


def run(name: str, alerts_of: Detect, out: Path, nab: Path) -> tuple[float, int]:
    """Write `name`_ detections for every labelled file; return detector seconds and points."""
    seconds, points = 0.0, 0
    for data in (nab / "data" / rel for rel in sorted(windows_of(nab))):
        timestamps, values = read(data)
        start = time.perf_counter()
        flags = alerts_of(values)
        seconds += time.perf_counter() - start
        points += len(values)
        target = out / data.parent.name / f"{name}_{data.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        lines = ["timestamp,alert", *(f"{t},{a}" for t, a in zip(timestamps, flags, strict=True))]
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return seconds, points


def score(name: str, out: Path, nab: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(SCORER), str(nab), str(out), "--prefix", f"{name}_"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def breakdown(names: list[str], out: Path, nab: Path) -> None:
    """Per-file raw score (TP/FN/FP contributions) from the scorer's own score_file."""
    spec = importlib.util.spec_from_file_location("score_nab", SCORER)
    assert spec and spec.loader
    scorer: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    windows = windows_of(nab)
    print(f"\n| file | windows | {' | '.join(f'{n} detected, alerts, raw' for n in names)} |")
    print(f"|---|---:|{'---:|' * len(names)}")
    for rel, spans in sorted(windows.items()):
        timestamps, _ = read(nab / "data" / rel)
        spans = [(a.split(".")[0], b.split(".")[0]) for a, b in spans]
        cells = []
        for name in names:
            category, file = rel.split("/")
            with (out / category / f"{name}_{file}").open(encoding="utf-8") as handle:
                flags = [row["alert"] == "1" for row in csv.DictReader(handle)]
            raw, _, detected, alerts = scorer.score_file(timestamps, flags, spans, 1.0, 1.0, 0.11)
            cells.append(f"{detected}/{len(spans)}, {alerts}, {raw:.2f}")
        print(f"| {rel} | {len(spans)} | {' | '.join(cells)} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="write the detections here and keep them")
    parser.add_argument("--nab", type=Path, default=NAB, help="a folder in NAB's layout")
    args = parser.parse_args()
    if not SCORER.exists():
        print(f"scorer not found: {SCORER}", file=sys.stderr)
        return 2
    detectors: dict[str, Detect] = {"postdeploy": postdeploy_alerts, "gaussian": gaussian_alerts}
    with tempfile.TemporaryDirectory() as scratch:
        out = args.keep or Path(scratch)
        for name, alerts_of in detectors.items():
            seconds, points = run(name, alerts_of, out, args.nab)
            print(f"== {name}: {points} points, {1e7 * seconds / points:.0f} ms per 10,000 points")
            print(score(name, out, args.nab))
        breakdown(list(detectors), out, args.nab)
    print(f"\nconfiguration: {DetectorConfig()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
