"""The post-incident review report: reports/incidents/<id>/review.md and index.html."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from postdeploy.domain.incident_review import Review, duration_text
from postdeploy.reporting.files import write_atomic
from postdeploy.reporting.html import render


@dataclass(frozen=True)
class ReviewFiles:
    markdown: Path
    html: Path
    markdown_text: str


def _ts(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _met(value: bool | None) -> str:
    return {True: "met", False: "BREACHED", None: "running"}[value]


def markdown(r: Review) -> str:
    i = r.incident
    out = [
        f"# Incident {i.id}: {i.title}",
        "",
        f"Service **{i.service}**, severity **{i.severity}** ({i.level}), status **{i.status}**,"
        f" commander {i.commander or 'none'}.",
        "",
        "## Summary",
        "",
        f"Opened {_ts(i.opened_at)}, acknowledged {_ts(i.acknowledged_at)},"
        f" mitigated {_ts(i.mitigated_at)}, resolved {_ts(i.resolved_at)}.",
        "",
        "## Impact",
        "",
        r.impact,
        "",
        "## Response times",
        "",
        "| measure | took | SLA target | SLA |",
        "|---|---|---|---|",
        f"| time to acknowledge | {duration_text(r.time_to_acknowledge)} | {r.sla[0].target}"
        f" | {_met(r.sla[0].met)} |",
        f"| time to mitigate | {duration_text(r.time_to_mitigate)} | - | - |",
        f"| time to resolve | {duration_text(r.time_to_resolve)} | {r.sla[1].target}"
        f" | {_met(r.sla[1].met)} |",
        "",
        f"SLA overall: **{_met(r.sla_met)}**.",
        "",
        "## Timeline",
        "",
        "| time | event | by | message |",
        "|---|---|---|---|",
    ]
    out += [
        f"| {_ts(e.ts)} | {e.kind} | {e.actor} | {e.message.replace('|', '/')} |"
        for e in r.timeline
    ]
    out += ["", "## Contributing alerts", ""]
    out += [f"- {_ts(a.ts)} {a.message}" for a in r.alerts] or ["None recorded."]
    out += ["", "## Deploys in the 24 hours before", ""]
    out += [
        f"- {_ts(d['deployed_at'])} {d['service']} {d['version']}"
        f" (verdict {d.get('verdict') or '-'})"
        for d in r.deploys
    ] or ["None."]
    out += ["", "## Action items", ""]
    out += [f"- [ ] {item}" for item in r.action_items]
    out += ["", f"Review due by **{r.due.isoformat()}** (business days by severity).", ""]
    return "\n".join(out)


def write_incident_review(review: Review, *, out_dir: Path) -> ReviewFiles:
    folder = Path(out_dir) / str(review.incident.id)
    text = markdown(review)
    md = write_atomic(folder / "review.md", text)
    html = write_atomic(
        folder / "index.html",
        render(
            "incident_review.html",
            title=f"Incident {review.incident.id}: {review.incident.title}",
            subtitle=f"Post-incident review · due {review.due.isoformat()} · postdeploy",
            review=review,
            ts=_ts,
            met=_met,
            duration=duration_text,
        ),
    )
    return ReviewFiles(md, html, text)
