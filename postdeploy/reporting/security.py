"""The weekly security scan report: HTML and Markdown in reports/security/<ISO week>/."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from postdeploy.domain.security import SEVERITIES, Finding, rank
from postdeploy.reporting.files import write_atomic
from postdeploy.reporting.html import render


@dataclass(frozen=True)
class EndpointRow:
    check: str
    url: str
    protocol: str
    certificate: str
    problem: str = ""


@dataclass(frozen=True)
class ServiceScan:
    name: str
    endpoints: list[EndpointRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    dependencies: str = "no `dependencies:` in the catalog"


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (rank(f.severity), f.kind, f.subject, f.rule))


def counts(services: list[ServiceScan]) -> dict[str, int]:
    out = dict.fromkeys(SEVERITIES, 0)
    for f in (f for s in services for f in s.findings):
        out[f.severity] = out.get(f.severity, 0) + 1
    return out


def markdown(title: str, feed: str, services: list[ServiceScan]) -> str:
    tally = counts(services)
    lines = [f"# {title}", "", f"Advisory feed: {feed}", ""]
    lines += [" · ".join(f"{n} {s}" for s, n in tally.items()), ""]
    for svc in services:
        lines += [f"## {svc.name}", "", f"Dependencies: {svc.dependencies}", ""]
        if svc.endpoints:
            lines += ["| check | url | protocol | certificate | problem |", "|---|---|---|---|---|"]
            lines += [
                f"| {e.check} | {e.url} | {e.protocol} | {e.certificate} | {e.problem} |"
                for e in svc.endpoints
            ]
            lines.append("")
        if not svc.findings:
            lines += ["No findings.", ""]
            continue
        lines += ["| severity | kind | subject | finding |", "|---|---|---|---|"]
        lines += [
            f"| {f.severity} | {f.kind} | {f.subject} | {f.summary.replace('|', '/')} |"
            for f in _sorted(svc.findings)
        ]
        lines.append("")
    return "\n".join(lines)


def write_report(
    services: list[ServiceScan], *, feed: str, out_dir: Path, now: float, demo: bool = False
) -> tuple[Path, str]:
    week = datetime.fromtimestamp(now, UTC).strftime("%G-W%V")
    title = f"Security scan {week}"
    tally = counts(services)
    subtitle = " · ".join(f"{n} {s}" for s, n in tally.items()) + " · postdeploy"
    views = [
        {
            "name": s.name,
            "endpoints": s.endpoints,
            "dependencies": s.dependencies,
            "findings": _sorted(s.findings),
        }
        for s in services
    ]
    html = render(
        "security.html", title=title, subtitle=subtitle, demo=demo, feed=feed, services=views
    )
    folder = out_dir / "security" / week
    md = markdown(title, feed, services)
    write_atomic(folder / "report.md", md)
    return write_atomic(folder / "index.html", html), md
