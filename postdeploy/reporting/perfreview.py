"""The weekly performance review report: HTML and Markdown in reports/performance/<week>/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from postdeploy.domain.perfreview import Change
from postdeploy.reporting.files import write_atomic
from postdeploy.reporting.html import render


@dataclass(frozen=True)
class ServiceReview:
    name: str
    changes: list[Change]
    unavailable: str | None = None


def _num(series: str, value: float | None) -> str:
    if value is None:
        return "no data"
    if series == "error_rate":
        return f"{value:.2%}"
    return f"{value:.1f}" + (" ms" if series.endswith("_ms") else " rps" if "rps" in series else "")


def _row(c: Change) -> dict[str, Any]:
    day = datetime.fromtimestamp(c.since, UTC).strftime("%a %d %b") if c.since else ""
    suspect = ""
    if c.suspect:
        stamp = datetime.fromtimestamp(c.suspect.at, UTC).strftime("%Y-%m-%d %H:%M")
        suspect = f"deploy {c.suspect.version} at {stamp} UTC"
    elif c.regressed:
        suspect = "no deploy in the window"
    return {
        "series": c.series,
        "last": _num(c.series, c.last_week),
        "this": _num(c.series, c.this_week),
        "recent": _num(c.series, c.recent),
        "pct": "–" if c.change_pct is None else f"{c.change_pct:+.0f}%",
        "regressed": c.regressed,
        "since": day,
        "suspect": suspect,
    }


def markdown(title: str, services: list[ServiceReview]) -> str:
    lines = [f"# {title}", ""]
    for svc in services:
        lines += [f"## {svc.name}", ""]
        if svc.unavailable:
            lines += [svc.unavailable, ""]
            continue
        lines += [
            "| series | previous 7 days | last 7 days | last 2 days | change | verdict | cause |"
        ]
        lines += ["|---|---:|---:|---:|---:|---|---|"]
        for r in map(_row, svc.changes):
            verdict = f"REGRESSED since {r['since']}" if r["regressed"] else "ok"
            if r["this"] == "no data":
                verdict = "no data"
            lines.append(
                f"| {r['series']} | {r['last']} | {r['this']} | {r['recent']} | {r['pct']} "
                f"| {verdict} "
                f"| {r['suspect']} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_review(
    services: list[ServiceReview], *, out_dir: Path, now: float, demo: bool = False
) -> tuple[Path, str]:
    week = datetime.fromtimestamp(now, UTC).strftime("%G-W%V")
    title = f"Performance review {week}"
    views = [
        {
            "name": s.name,
            "unavailable": s.unavailable,
            "regressions": sum(c.regressed for c in s.changes),
            "changes": [_row(c) for c in s.changes],
        }
        for s in services
    ]
    regressions = sum(v["regressions"] for v in views)  # type: ignore[misc]
    subtitle = f"last 7 days against the 7 before · {regressions} regressions · postdeploy"
    html = render("perfreview.html", title=title, subtitle=subtitle, demo=demo, services=views)
    folder = out_dir / "performance" / week
    md = markdown(title, services)
    write_atomic(folder / "review.md", md)
    return write_atomic(folder / "index.html", html), md
