"""Capacity resources, their thresholds as written ('2GiB', '85%', '1.5') and as shown."""

from __future__ import annotations

import math
import re

# resource (a standard metric series) -> (what it is, what to do before it runs out)
RESOURCES: dict[str, tuple[str, str]] = {
    "cpu_cores": ("CPU", "add CPU or scale out, or find what uses it"),
    "memory_bytes": ("memory", "raise the memory limit, or find the growth (a leak?)"),
    "disk_used_ratio": ("disk", "free or add disk space, or shorten retention"),
    "throughput_rps": ("request rate", "scale out for the load, or load-test the next level"),
}

_BYTES = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z%]*)\s*$")


def parse_quantity(value: object) -> float:
    """A number, a size in bytes ('2GiB', '500MB') or a percentage ('85%' is 0.85)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        number, unit = float(value), ""
    else:
        match = _QUANTITY.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a number such as 1.5, 2GiB, 500MB or 85%")
        number, unit = float(match[1]), match[2].lower()
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    if unit == "%":
        return number / 100
    if unit and unit not in _BYTES:
        raise ValueError(f"{value!r}: unknown unit {unit!r}; use B, KB, MB, GB, KiB, MiB, GiB or %")
    return number * _BYTES.get(unit, 1)


def format_value(resource: str, value: float | None) -> str:
    if value is None:
        return "no data"
    if resource.endswith("_bytes"):
        for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if abs(value) >= size:
                return f"{value / size:.2f} {unit}"
        return f"{value:.0f} B"
    if resource.endswith("_ratio"):
        return f"{value:.1%}"
    if resource == "cpu_cores":
        return f"{value:.2f} cores"
    if resource.endswith("_rps"):
        return f"{value:.1f} rps"
    return f"{value:.4g}"


def format_days(days: float | None) -> str:
    if days is None:
        return "not within horizon"
    if days <= 0:
        return "now"
    if days < 1:
        return f"{days * 24:.0f} h"
    return f"{days:.1f} d"
