"""Health-check values and the up/down state machine that decides when to alert."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Status = Literal["up", "down", "unknown"]


@dataclass(frozen=True)
class ProbeSpec:
    service: str
    check: str
    url: str
    method: str = "GET"
    expect_status: tuple[int, ...] = (200,)
    expect_keyword: str | None = None
    timeout_s: float = 5.0
    cert_warning_s: float = 14 * 86400
    ca_file: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    failure_threshold: int = 1


@dataclass(frozen=True)
class CheckOutcome:
    service: str
    check: str
    ok: bool
    ts: float
    latency_ms: float | None
    status: int | None
    detail: str
    cert_expires_at: float | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "service": self.service,
            "check": self.check,
            "ok": self.ok,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "status": self.status,
            "detail": self.detail,
            "ts": self.ts,
            "cert_expires_at": self.cert_expires_at,
        }


@dataclass(frozen=True)
class CheckState:
    service: str
    check: str
    status: Status
    failures: int
    since: float
    detail: str = ""


@dataclass(frozen=True)
class Transition:
    service: str
    check: str
    previous: Status
    current: Status
    at: float
    detail: str

    @property
    def fingerprint(self) -> str:
        return f"check-down:{self.service}:{self.check}"

    @property
    def summary(self) -> str:
        verb = "is DOWN" if self.current == "down" else "recovered"
        return f"{self.service}/{self.check} {verb}: {self.detail}"


def advance(
    previous: CheckState | None, outcome: CheckOutcome, threshold: int = 1
) -> tuple[CheckState, Transition | None]:
    """Fold one outcome into a check's state; a transition is returned when up/down flips.

    A check goes down only after `threshold` failures in a row, so one flap is not an outage,
    and comes back up on the first success. The first outcome ever seen sets the state
    without a transition unless it is already down.
    """
    prev = previous or CheckState(outcome.service, outcome.check, "unknown", 0, outcome.ts)
    failures = 0 if outcome.ok else prev.failures + 1
    if outcome.ok:
        status: Status = "up"
    elif failures >= threshold:
        status = "down"
    else:
        status = prev.status
    if status == prev.status:
        return replace(prev, failures=failures, detail=outcome.detail), None
    state = CheckState(outcome.service, outcome.check, status, failures, outcome.ts, outcome.detail)
    if prev.status == "unknown" and status == "up":
        return state, None
    return state, Transition(
        outcome.service, outcome.check, prev.status, status, outcome.ts, outcome.detail
    )
