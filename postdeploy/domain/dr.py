"""Disaster recovery rules: restored tables against their snapshot, RTO and RPO against the
catalog's objectives, the drill's verdict and which old backups to prune. Values in, values out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin, urlsplit

from postdeploy.domain.checks import ProbeSpec


@dataclass(frozen=True)
class TableDigest:
    rows: int
    checksum: str


@dataclass(frozen=True)
class TableCheck:
    table: str
    expected: TableDigest | None
    actual: TableDigest | None

    @property
    def ok(self) -> bool:
        return self.expected is not None and self.expected == self.actual

    @property
    def problem(self) -> str:
        if self.expected is None:
            return "not in the snapshot"
        if self.actual is None:
            return "missing from the restore"
        if self.expected.rows != self.actual.rows:
            return f"{self.actual.rows} rows restored, {self.expected.rows} expected"
        if self.expected.checksum != self.actual.checksum:
            return "content checksum differs"
        return ""


def compare_tables(
    expected: Mapping[str, TableDigest], actual: Mapping[str, TableDigest]
) -> list[TableCheck]:
    """One check per table of either side, by name."""
    names = sorted(set(expected) | set(actual))
    return [TableCheck(n, expected.get(n), actual.get(n)) for n in names]


@dataclass(frozen=True)
class Objectives:
    rto_s: float
    rpo_s: float


@dataclass(frozen=True)
class Measure:
    name: str
    measured_s: float | None
    objective_s: float

    @property
    def met(self) -> bool:
        return self.measured_s is not None and self.measured_s <= self.objective_s

    @property
    def summary(self) -> str:
        got = "not measured" if self.measured_s is None else duration(self.measured_s)
        verdict = "met" if self.met else "MISSED"
        return f"{self.name} {got} against {duration(self.objective_s)}: {verdict}"


def rpo_age(newest_good_at: float | None, now: float) -> float | None:
    """The data a disaster now would lose: the age of the newest good backup; None if none."""
    return None if newest_good_at is None else max(0.0, now - newest_good_at)


def judge(rto_s: float | None, rpo_s: float | None, objectives: Objectives) -> list[Measure]:
    return [Measure("RTO", rto_s, objectives.rto_s), Measure("RPO", rpo_s, objectives.rpo_s)]


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reasons: list[str] = field(default_factory=list)


def drill_verdict(
    *,
    backup_error: str | None,
    checks: Sequence[TableCheck] | None,
    verify_error: str | None,
    failover_error: str | None,
    measures: Sequence[Measure],
) -> Verdict:
    """Pass only when every step that ran succeeded and every objective was met.

    `checks` None means the verify step did not run; a failover error None means it passed or
    did not run (a drill without a service skips it)."""
    reasons = []
    if backup_error:
        reasons.append(f"backup failed: {backup_error}")
    if verify_error:
        reasons.append(f"verify failed: {verify_error}")
    reasons += [f"table {c.table}: {c.problem}" for c in checks or () if not c.ok]
    if failover_error:
        reasons.append(f"failover failed: {failover_error}")
    reasons += [m.summary for m in measures if not m.met]
    return Verdict(not reasons, reasons)


@dataclass(frozen=True)
class BackupEntry:
    location: str
    created_at: float
    status: str


def to_prune(backups: Sequence[BackupEntry], keep: int) -> list[str]:
    """Locations beyond the newest `keep`, never the newest good one, oldest first."""
    newest_first = sorted(backups, key=lambda b: b.created_at, reverse=True)
    live = [b for b in newest_first if b.status != "pruned"]
    good = next((b for b in live if b.status == "good"), None)
    old = [b for b in live[max(keep, 0) :] if b is not good]
    return [b.location for b in reversed(old)]


def duration(seconds: float) -> str:
    """12ms, 3.2s, 4m 05s, 2h 10m, 3d 4h."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


@dataclass(frozen=True)
class Probe:
    check: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Failover:
    """A failover of one service to its standby: switched only if every standby check passed."""

    service: str
    from_url: str | None
    to_url: str
    switched: bool
    standby: tuple[Probe, ...]
    primary: tuple[Probe, ...] = ()

    @property
    def error(self) -> str | None:
        failed = [f"{p.check}: {p.detail}" for p in self.standby if not p.ok]
        if failed:
            return f"standby {self.to_url} unhealthy ({'; '.join(failed)})"
        if not self.standby:
            return f"standby {self.to_url} has no checks to prove it healthy"
        return None


def rebase(spec: ProbeSpec, base: str | None, target: str) -> ProbeSpec:
    """The check pointed at `target`: a URL under the service's `base`, or a relative one,
    keeps its path; any other absolute URL is left as it is."""
    root = target.rstrip("/") + "/"
    if base and (spec.url == base.rstrip("/") or spec.url.startswith(base.rstrip("/") + "/")):
        return replace(spec, url=urljoin(root, spec.url[len(base.rstrip("/")) :].lstrip("/")))
    if not urlsplit(spec.url).scheme:
        return replace(spec, url=urljoin(root, spec.url.lstrip("/")))
    return spec
