"""Benchmark: the NAB score of the anomaly detector around its default settings, on one or
more folders in NAB's layout, to see whether the defaults generalise or only fit one set.

    .venv/bin/python benchmarks/nab_grid.py [--nab DIR ...] [--grid JSON]

Each folder is scored as benchmarks/nab_score.py scores it (NAB standard profile, normalised
so no detections = 0 and perfect = 100); the default folder is ../shared/eval/nab. --grid maps
DetectorConfig fields to lists of values; every combination is run, one line each.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from nab_score import NAB, SCORER, read, windows_of

from postdeploy.domain.anomalies import DetectorConfig, detect

Series = tuple[list[str], list[float], list[tuple[str, str]]]
DEFAULT_GRID = {"threshold": [1.0, 1.1, 1.25], "quiet": [50, 100, 200], "quantile": [0.97, 0.98]}


def scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("score_nab", SCORER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(nab: Path) -> list[Series]:
    out = []
    for rel, spans in sorted(windows_of(nab).items()):
        timestamps, values = read(nab / "data" / rel)
        out.append((timestamps, values, [(a.split(".")[0], b.split(".")[0]) for a, b in spans]))
    return out


def normalised(module: ModuleType, files: list[Series], config: DetectorConfig) -> float:
    """NAB's normalised standard score over the files, as score_nab.py computes it."""
    total = null = perfect = 0.0
    for timestamps, values, spans in files:
        flags = [alert for _, alert in detect(values, config)]
        total += module.score_file(timestamps, flags, spans, 1.0, 1.0, 0.11)[0]
        none = [0] * len(timestamps)
        null += module.score_file(timestamps, none, spans, 1.0, 1.0, 0.11)[0]
        perfect += len(spans)
    return 100 * (total - null) / (perfect - null)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nab", type=Path, action="append", help="folder(s) in NAB's layout")
    parser.add_argument("--grid", type=json.loads, default=DEFAULT_GRID)
    args = parser.parse_args()
    folders: list[Path] = args.nab or [NAB]
    module = scorer()
    sets = [(folder, load(folder)) for folder in folders]
    grid: dict[str, list[Any]] = args.grid
    print(f"| {' | '.join(grid)} | {' | '.join(str(f) for f, _ in sets)} |")
    print(f"|{'---:|' * (len(grid) + len(sets))}")
    for combo in itertools.product(*grid.values()):
        config = DetectorConfig(**dict(zip(grid, combo, strict=True)))
        scores = [f"{normalised(module, files, config):.1f}" for _, files in sets]
        print(f"| {' | '.join(map(str, combo))} | {' | '.join(scores)} |", flush=True)
    print(f"\ndefaults: {DetectorConfig()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
