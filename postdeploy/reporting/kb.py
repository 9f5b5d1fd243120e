"""The knowledge base page: reports/kb/index.html and faq.md, one linkable entry per issue."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from postdeploy.domain.kb import Entry, format_hours
from postdeploy.reporting.files import write_atomic
from postdeploy.reporting.html import render

TITLE = "Knowledge base: frequent issues and how they were resolved"


def _md_cell(text: str) -> str:
    return text.replace("`", "'")


def markdown(entries: list[Entry], *, tickets: int, days: int, now: datetime) -> str:
    out = [
        f"# {TITLE}",
        "",
        f"{len(entries)} issues from {tickets} tickets resolved in the last {days} days "
        f"(as of {now:%Y-%m-%d %H:%M} UTC); an issue is listed when at least two tickets share "
        "its category and title signature.",
        "",
    ]
    if not entries:
        out += ["No recurring issue in this window.", ""]
    for n, e in enumerate(entries, 1):
        out += [
            f'<a id="{e.anchor}"></a>',
            f"## {n}. {e.category}: `{_md_cell(e.signature)}`",
            "",
            f"{e.count} tickets · median time to resolve {format_hours(e.median_hours)} · "
            f"last seen {e.last_seen:%Y-%m-%d}"
            + (f" · services: {', '.join(e.services)}" if e.services else ""),
            "",
            "For example: " + "; ".join(f"“{t}”" for t in e.examples),
            "",
        ]
        if e.resolutions:
            out.append("How it was resolved:")
            out += [
                f"- {r.count}× `{_md_cell(r.signature)}`"
                + (f", e.g. “{r.example}”" if r.example != r.signature else "")
                for r in e.resolutions
            ]
        if e.undocumented:
            out.append(f"- {e.undocumented} closed without a resolution note")
        out.append("")
    return "\n".join(out)


def write_kb(
    entries: list[Entry], *, out_dir: Path, tickets: int, days: int, now: datetime
) -> tuple[Path, str]:
    """Write reports/kb/index.html and faq.md (replacing the previous refresh)."""
    subtitle = f"{len(entries)} issues · {tickets} resolved tickets · last {days} days · postdeploy"
    views = [
        {"n": n, "entry": e, "median": format_hours(e.median_hours)}
        for n, e in enumerate(entries, 1)
    ]
    html = render("kb.html", title=TITLE, subtitle=subtitle, demo=False, entries=views,
                  tickets=tickets, days=days, now=now)  # fmt: skip
    md = markdown(entries, tickets=tickets, days=days, now=now)
    folder = out_dir / "kb"
    write_atomic(folder / "faq.md", md)
    return write_atomic(folder / "index.html", html), md
