"""Major-update review: how far each pinned dependency is behind its latest release, and EOL."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

SOON = timedelta(days=180)


@dataclass(frozen=True)
class Update:
    name: str
    installed: str
    latest: str | None
    majors_behind: int | None
    eol: date | None
    verdict: str  # current | behind | N majors behind | EOL … | latest unknown: …
    severity: str  # high | medium | low | ok | unknown


def major(version: str) -> int:
    """The leading release number: '2.31.0' -> 2, 'v18.2' -> 18, '1!2.0' -> 2 (epoch dropped)."""
    match = re.match(r"\s*v?(?:\d+!)?(\d+)", version)
    if not match:
        raise ValueError(f"no major version in {version!r}")
    return int(match[1])


def majors_behind(installed: str, latest: str) -> int:
    return max(0, major(latest) - major(installed))


def eol_date(name: str, installed: str, table: Mapping[str, date]) -> date | None:
    """From `name@major` (one major line) or `name` (the whole package), the first found."""
    try:
        line = f"{name}@{major(installed)}"
    except ValueError:
        line = ""
    return table.get(line) or table.get(name)


def assess(
    name: str,
    installed: str,
    latest: str | None,
    *,
    eol: Mapping[str, date],
    today: date,
    error: str | None = None,
) -> Update:
    end = eol_date(name, installed, eol)
    behind: int | None = None
    verdict, severity = "current", "ok"
    if latest is None:
        verdict, severity = f"latest unknown: {error or 'not in the index'}", "unknown"
    else:
        try:
            behind = majors_behind(installed, latest)
        except ValueError as exc:
            verdict, severity = f"cannot compare: {exc}", "unknown"
        else:
            if behind >= 2:
                verdict, severity = f"{behind} majors behind", "high"
            elif behind == 1:
                verdict, severity = "1 major behind", "medium"
            elif installed.strip().lstrip("v") != latest.strip().lstrip("v"):
                verdict, severity = "behind (minor or patch)", "low"
    if end is not None and end <= today:
        verdict, severity = f"end of life since {end.isoformat()}; {verdict}", "high"
    elif end is not None and end - today <= SOON:
        verdict = f"end of life on {end.isoformat()}; {verdict}"
        severity = "high" if severity == "high" else "medium"
    return Update(name, installed, latest, behind, end, verdict, severity)
