"""The daily log review report: reports/logs/<day>/index.html and review.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from postdeploy.domain.logreview import Review
from postdeploy.reporting.files import write_atomic
from postdeploy.reporting.html import render


@dataclass
class ServiceLogs:
    name: str
    review: Review
    lines: int
    files: int
    signatures: int
    unparsed: int
    problems: list[str] = field(default_factory=list)


def markdown(title: str, services: list[ServiceLogs]) -> str:
    out = [f"# {title}", ""]
    for s in services:
        r = s.review
        out += [
            f"## {s.name}",
            "",
            f"{s.lines} new lines, {s.signatures} signatures, {s.unparsed} unparsed"
            + (f"; problems: {'; '.join(s.problems)}" if s.problems else ""),
            "",
            f"- new signatures: {len(r.new)}",
        ]
        out += [f"  - `{n.template}` ({n.count} lines, {n.errors} errors)" for n in r.new[:20]]
        out += [f"- spiking: {len(r.spiking)}"]
        out += [f"  - `{x.template}`: {x.count} today, {b:.1f}/day before" for x, b in r.spiking]
        out += [f"- top errors: {len(r.top_errors)}"]
        out += [
            f"  - `{e.template}`: {e.errors} errors, e.g. `{e.samples[0]}`" for e in r.top_errors
        ]
        out.append("")
    return "\n".join(out)


def write_log_review(services: list[ServiceLogs], *, out_dir: Path, day: str) -> tuple[Path, str]:
    title = f"Log review {day}"
    total_new = sum(len(s.review.new) for s in services)
    subtitle = f"{sum(s.lines for s in services)} lines · {total_new} new signatures · postdeploy"
    views = [
        {
            "name": s.name,
            "lines": s.lines,
            "files": s.files,
            "signatures": s.signatures,
            "unparsed": s.unparsed,
            "problems": s.problems,
            "new": s.review.new,
            "spiking": s.review.spiking,
            "top_errors": s.review.top_errors,
        }
        for s in services
    ]
    html = render("logreview.html", title=title, subtitle=subtitle, demo=False, services=views)
    md = markdown(title, services)
    folder = out_dir / "logs" / day
    write_atomic(folder / "review.md", md)
    return write_atomic(folder / "index.html", html), md
