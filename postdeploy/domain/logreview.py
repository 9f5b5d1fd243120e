"""The daily log review: the signatures (templates) of a day's log lines, which are new, which
are spiking against their baseline, and the top errors with sample lines."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from postdeploy.domain.logtemplates import TemplateMiner

ERROR_LEVELS = {"error", "err", "fatal", "critical", "crit", "alert", "emerg", "severe", "e", "f"}
ERROR_WORDS = re.compile(r"\b(error|exception|fail(ed|ure)?|fatal|panic|traceback)\b", re.I)
SAMPLES = 3
UNPARSED = "unparsed"


@dataclass
class Signature:
    id: str
    template: str
    count: int = 0
    errors: int = 0
    samples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Line:
    message: str
    level: str | None
    raw: str
    parsed: bool = True


def is_error(level: str | None, message: str) -> bool:
    if level:
        return level.strip().lower() in ERROR_LEVELS
    return bool(ERROR_WORDS.search(message))


def signatures(lines: Iterable[Line]) -> list[Signature]:
    """Mine the lines' templates; unparsed lines are one signature of their own."""
    lines = list(lines)
    parsed = [ln for ln in lines if ln.parsed]
    mined = TemplateMiner().mine(ln.message for ln in parsed)
    found: dict[str, Signature] = {}
    for ln, (tid, text) in zip(parsed, mined, strict=True):
        _count(found.setdefault(tid, Signature(tid, text)), ln)
    for ln in (ln for ln in lines if not ln.parsed):
        _count(found.setdefault(UNPARSED, Signature(UNPARSED, UNPARSED)), ln)
    return sorted(found.values(), key=lambda s: (-s.count, s.id))


def _count(sig: Signature, line: Line) -> None:
    sig.count += 1
    if is_error(line.level, line.message):
        sig.errors += 1
    if len(sig.samples) < SAMPLES:
        sig.samples.append(line.raw[:500])


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(".+?".join(map(re.escape, template.split("<*>"))) + "$", re.S)


def same_signature(template: str, known: str) -> bool:
    """A day's template may be more or less general than the stored one for the same event."""
    return template == known or bool(
        _pattern(known).match(template) or _pattern(template).match(known)
    )


@dataclass(frozen=True)
class Review:
    new: list[Signature]
    spiking: list[tuple[Signature, float]]  # with its daily baseline
    top_errors: list[Signature]
    canonical: dict[str, str]  # the day's id -> the stored signature it is


def review(
    today: list[Signature], known: Mapping[str, str], baseline: Mapping[str, float], top: int = 10
) -> Review:
    """`known`: stored id -> template; `baseline`: stored id -> mean daily count before today."""
    canonical: dict[str, str] = {}
    new, spiking = [], []
    for sig in today:
        match = sig.id if sig.id in known else next(
            (kid for kid, text in known.items() if same_signature(sig.template, text)), None
        )  # fmt: skip
        if match is None:
            new.append(sig)
            canonical[sig.id] = sig.id
            continue
        canonical[sig.id] = match
        base = baseline.get(match, 0.0)
        if sig.count >= 10 and sig.count > 3 * base and sig.count - base > 4 * math.sqrt(base + 1):
            spiking.append((sig, base))
    errors = sorted((s for s in today if s.errors), key=lambda s: (-s.errors, s.id))[:top]
    return Review(new, spiking, errors, canonical)
