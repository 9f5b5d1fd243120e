"""The quarterly update and docs review: HTML and Markdown in reports/updates/<quarter>/."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from postdeploy.domain.docsreview import DocsReview, staleness
from postdeploy.domain.updates import Update
from postdeploy.reporting.files import write_atomic
from postdeploy.reporting.html import render


@dataclass(frozen=True)
class ServiceUpdates:
    name: str
    updates: list[Update] = field(default_factory=list)
    dependencies: str = ""  # why there are none, if so
    docs: DocsReview | None = None
    docs_problem: str = ""


def quarter(now: float) -> str:
    at = datetime.fromtimestamp(now, UTC)
    return f"{at.year}-Q{(at.month - 1) // 3 + 1}"


def _day(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d") if ts is not None else "–"


def _docs(review: DocsReview | None, problem: str) -> dict[str, Any]:
    if review is None:
        return {"problem": problem or "no `docs:` folder in the catalog"}
    return {
        "problem": review.problem or "",
        "newest": _day(review.newest_change),
        "deploy": _day(review.last_deploy),
        "staleness": staleness(review),
        "stale": review.stale,
        "missing": list(review.missing),
        "found": review.found,
        "broken": [f"{doc} → {link}" for doc, link in review.broken_links],
    }


def _update(u: Update) -> dict[str, Any]:
    return {
        "name": u.name,
        "installed": u.installed,
        "latest": u.latest or "?",
        "behind": "–" if u.majors_behind is None else str(u.majors_behind),
        "eol": u.eol.isoformat() if u.eol else "",
        "verdict": u.verdict,
        "severity": u.severity,
    }


def markdown(title: str, index: str, services: list[ServiceUpdates]) -> str:
    lines = [f"# {title}", "", index, ""]
    for svc in services:
        lines += [f"## {svc.name}", "", "### Dependencies", ""]
        if svc.dependencies:
            lines += [svc.dependencies, ""]
        if svc.updates:
            lines += ["| package | installed | latest | majors behind | end of life | verdict |"]
            lines += ["|---|---|---|---:|---|---|"]
            for r in map(_update, svc.updates):
                lines.append(
                    f"| {r['name']} | {r['installed']} | {r['latest']} | {r['behind']} "
                    f"| {r['eol']} | {r['verdict']} |"
                )
            lines.append("")
        d = _docs(svc.docs, svc.docs_problem)
        lines += ["### Documentation", ""]
        if d["problem"]:
            lines += [d["problem"], ""]
            continue
        lines.append(f"- staleness: {d['staleness']} (newest {d['newest']}, deploy {d['deploy']})")
        lines.append(f"- missing: {', '.join(d['missing']) or 'none'}")
        lines.append(f"- broken links: {'; '.join(d['broken']) or 'none'}")
        lines.append("")
    return "\n".join(lines)


def write_report(
    services: list[ServiceUpdates], *, index: str, out_dir: Path, now: float, demo: bool = False
) -> tuple[Path, str]:
    period = quarter(now)
    title = f"Update and documentation review {period}"
    behind = sum(1 for s in services for u in s.updates if (u.majors_behind or 0) > 0)
    subtitle = f"{behind} dependencies a major version or more behind · postdeploy"
    views = [
        {
            "name": s.name,
            "dependencies": s.dependencies,
            "updates": [_update(u) for u in s.updates],
            "docs": _docs(s.docs, s.docs_problem),
        }
        for s in services
    ]
    html = render(
        "updates.html", title=title, subtitle=subtitle, demo=demo, index=index, services=views
    )
    folder = out_dir / "updates" / period
    md = markdown(title, index, services)
    write_atomic(folder / "report.md", md)
    return write_atomic(folder / "index.html", html), md
