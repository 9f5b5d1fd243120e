"""The disaster-recovery report: reports/dr/<timestamp>/index.html and report.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from postdeploy.domain.dr import Failover, Measure, TableCheck, Verdict, duration
from postdeploy.reporting.files import write_atomic
from postdeploy.reporting.html import render


@dataclass(frozen=True)
class BackupTaken:
    location: str
    kind: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class DrRun:
    action: str
    started_at: datetime
    verdict: Verdict
    measures: list[Measure]
    backup: BackupTaken | None = None
    backup_error: str | None = None
    verified: str | None = None
    checks: list[TableCheck] = field(default_factory=list)
    verify_error: str | None = None
    restore_seconds: float | None = None
    failover: Failover | None = None
    failover_error: str | None = None
    failover_note: str = ""
    newest_good: str | None = None
    pruned: list[str] = field(default_factory=list)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _digest(check: TableCheck) -> tuple[str, str, str, str]:
    e, a = check.expected, check.actual
    return (
        "–" if e is None else str(e.rows),
        "–" if a is None else str(a.rows),
        "–" if e is None else e.checksum[:16],
        "–" if a is None else a.checksum[:16],
    )


def markdown(run: DrRun, title: str) -> str:
    verdict = "PASSED" if run.verdict.passed else "FAILED"
    lines = [f"# {title}", "", f"**{verdict}**", ""]
    lines += [f"- {r}" for r in run.verdict.reasons] + ([""] if run.verdict.reasons else [])
    lines += ["## Objectives", "", "| measure | measured | objective | verdict |"]
    lines += ["|---|---:|---:|---|"]
    for m in run.measures:
        got = "–" if m.measured_s is None else duration(m.measured_s)
        met = "met" if m.met else "MISSED"
        lines.append(f"| {m.name} | {got} | {duration(m.objective_s)} | {met} |")
    lines += ["", "## Backup", ""]
    if run.backup:
        b = run.backup
        lines += [f"- `{b.location}` ({b.kind}, {_size(b.size_bytes)}, sha256 `{b.sha256}`)"]
    lines += [f"- failed: {run.backup_error}"] if run.backup_error else []
    lines += [f"- pruned: `{p}`" for p in run.pruned]
    lines += [f"- newest good backup: `{run.newest_good or 'none'}`", "", "## Verify", ""]
    if run.verified:
        restore = (
            "" if run.restore_seconds is None else f", restored in {duration(run.restore_seconds)}"
        )
        lines += [f"Backup `{run.verified}`{restore}.", ""]
    if run.verify_error:
        lines += [f"**Verify failed:** {run.verify_error}", ""]
    if run.checks:
        lines += ["| table | rows expected | rows restored | checksum expected | restored | ok |"]
        lines += ["|---|---:|---:|---|---|---|"]
        for c in run.checks:
            er, ar, ec, ac = _digest(c)
            lines.append(
                f"| {c.table} | {er} | {ar} | `{ec}` | `{ac}` | {'ok' if c.ok else c.problem} |"
            )
    lines += ["", "## Failover", ""]
    f = run.failover
    if f:
        state = "switched" if f.switched else "NOT switched"
        lines += [f"{f.service}: `{f.from_url}` → `{f.to_url}`: {state}", ""]
        lines += [
            f"- standby {p.check}: {'ok' if p.ok else 'FAILED'} ({p.detail})" for p in f.standby
        ]
        lines += [
            f"- primary {p.check}: {'ok' if p.ok else 'down'} ({p.detail})" for p in f.primary
        ]
    if run.failover_error:
        lines += [f"**Failover failed:** {run.failover_error}"]
    if run.failover_note:
        lines += [run.failover_note]
    return "\n".join(lines) + "\n"


def write_dr_report(run: DrRun, *, out_dir: Path) -> tuple[Path, str]:
    stamp = run.started_at.strftime("%Y%m%dT%H%M%SZ")
    title = f"Disaster recovery {run.action} {run.started_at:%Y-%m-%d %H:%M} UTC"
    md = markdown(run, title)
    html = render(
        "dr.html",
        title=title,
        subtitle=f"{run.action} · {'passed' if run.verdict.passed else 'FAILED'} · postdeploy",
        demo=False,
        run=run,
        size=_size(run.backup.size_bytes) if run.backup else "",
        digests={c.table: _digest(c) for c in run.checks},
        duration=duration,
    )
    folder = out_dir / "dr" / stamp
    write_atomic(folder / "report.md", md)
    return write_atomic(folder / "index.html", html), md
