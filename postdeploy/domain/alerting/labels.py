"""Label matchers (`service=api`, `alertname=~"High.*"`) and stable alert fingerprints."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

Labels = Mapping[str, str]
Op = Literal["=", "!=", "=~", "!~"]

_MATCHER = re.compile(r"^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Matcher:
    """Alertmanager semantics: a missing label is the empty string; regexes match whole."""

    name: str
    op: Op
    value: str

    def matches(self, labels: Labels) -> bool:
        have = labels.get(self.name, "")
        if self.op == "=":
            return have == self.value
        if self.op == "!=":
            return have != self.value
        found = re.fullmatch(self.value, have) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


def parse_matcher(text: str) -> Matcher:
    match = _MATCHER.match(text)
    if not match:
        raise ValueError(f'{text!r} is not a matcher such as service=api or alertname=~"High.*"')
    name, op, value = match[1], match[2], match[3]
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    if op in ("=~", "!~"):
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{text!r}: bad regular expression: {exc}") from None
    return Matcher(name, op, value)  # type: ignore[arg-type]


def parse_matchers(texts: Iterable[str]) -> tuple[Matcher, ...]:
    return tuple(parse_matcher(t) for t in texts)


def matches_all(matchers: Iterable[Matcher], labels: Labels) -> bool:
    return all(m.matches(labels) for m in matchers)


def fingerprint(alertname: str, labels: Labels) -> str:
    """A stable hash of the alert name and its sorted labels: the alert's identity."""
    parts = [alertname] + [f"{k}={labels[k]}" for k in sorted(labels) if k != "alertname"]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]
