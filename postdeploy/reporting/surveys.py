"""The survey report of a period: reports/surveys/<period>/ index.html, summary.md and
scores.csv: NPS, CSAT and CES with 95% intervals overall and per segment and service, comment
themes, what detractors say that promoters do not, and sample comments shown as written."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from postdeploy.domain.kpi.value import BETTER, trend
from postdeploy.domain.periods import Period, previous
from postdeploy.domain.surveys import Estimate, Response, Scores, by_group, nps_group, scores
from postdeploy.domain.themes import Contrast, Theme, contrast, themes
from postdeploy.reporting.files import write_atomic
from postdeploy.reporting.html import render
from postdeploy.store.surveys import has_demo_answers, responses_between

LABELS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}
TOP_CONTRASTS = 10
SAMPLES = 5  # comments shown per group


@dataclass(frozen=True)
class SurveySummary:
    period: Period
    previous: Period
    overall: Scores
    before: Scores  # the previous period, for the change
    segments: dict[str, Scores]
    services: dict[str, Scores]
    comments: list[str]  # every comment of the period; themes index into it
    themes: list[Theme]
    detractor_themes: list[Contrast]
    promoter_themes: list[Contrast]
    detractor_comments: list[str]  # the latest first
    promoter_comments: list[str]
    demo: bool = False


def summarize(
    period: Period,
    previous: Period,
    responses: list[Response],
    previous_responses: list[Response],
    *,
    demo: bool = False,
) -> SurveySummary:
    commented = [r for r in responses if r.comment]
    by_kind: dict[str | None, list[str]] = {"detractor": [], "promoter": []}
    others: list[str] = []
    for r in commented:
        by_kind.get(nps_group(r.nps), others).append(r.comment or "")
    found = contrast(by_kind["detractor"], by_kind["promoter"], others)
    return SurveySummary(
        period, previous, scores(responses), scores(previous_responses),
        by_group(responses, lambda r: r.segment), by_group(responses, lambda r: r.service),
        [r.comment or "" for r in commented], themes([r.comment or "" for r in commented]),
        [c for c in found if c.z > 0 and c.count_a >= 2][:TOP_CONTRASTS],
        [c for c in reversed(found) if c.z < 0 and c.count_b >= 2][:TOP_CONTRASTS],
        by_kind["detractor"][::-1][:SAMPLES], by_kind["promoter"][::-1][:SAMPLES], demo,
    )  # fmt: skip


def value(metric: str, x: float | None) -> str:
    if x is None:
        return "no data"
    return f"{x:+.0f}" if metric == "nps" else f"{x:.0f}%" if metric == "csat" else f"{x:.1f}"


def interval(metric: str, e: Estimate) -> str:
    if e.low is None or e.high is None:
        return "–"
    return f"{value(metric, e.low)} to {value(metric, e.high)}"


def change(metric: str, now: Estimate, before: Estimate) -> str:
    t = trend(now.kpi, before.kpi, BETTER[metric])
    if t.change is None:
        return "–"
    unit = " points" if metric != "ces" else ""
    return f"{t.change:+.1f}{unit}" if metric == "ces" else f"{t.change:+.0f}{unit}"


def _score_row(name: str, s: Scores) -> dict[str, Any]:
    row: dict[str, Any] = {"name": name, "responses": s.responses}
    for metric, e in s.items():
        row[metric] = {"value": value(metric, e.kpi.value), "ci": interval(metric, e), "n": e.kpi.n}
    return row


def views(s: SurveySummary) -> dict[str, Any]:
    overall = [
        {"metric": LABELS[m], "value": value(m, e.kpi.value), "ci": interval(m, e), "n": e.kpi.n,
         "previous": value(m, b.kpi.value), "change": change(m, e, b)}
        for (m, e), (_, b) in zip(s.overall.items(), s.before.items(), strict=True)
    ]  # fmt: skip
    return {
        "overall": overall,
        "segments": [_score_row(k, v) for k, v in s.segments.items()],
        "services": [_score_row(k, v) for k, v in s.services.items()],
        "themes": [
            {
                "term": t.term,
                "count": t.count,
                "share": f"{t.share:.0%}",
                "example": s.comments[t.examples[0]],
            }
            for t in s.themes
        ],  # fmt: skip
    }


def _md(text: str) -> str:
    """A comment inside a Markdown table cell: one line, no table or HTML syntax."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ⏎ ".join(text.replace("|", "\\|").splitlines())


def markdown(s: SurveySummary, v: dict[str, Any]) -> str:
    before = f"{s.before.responses} in {s.previous.label}"
    out = [f"# Surveys {s.period.label}", ""]
    out += [f"{s.overall.responses} responses ({before}); 95% confidence intervals.", ""]
    out += [
        "| score | value | 95% CI | answers | previous | change |",
        "|---|---:|---|---:|---:|---:|",
    ]
    out += [
        f"| {r['metric']} | {r['value']} | {r['ci']} | {r['n']} | {r['previous']} | {r['change']} |"
        for r in v["overall"]
    ]
    for title, rows in (("Segments", v["segments"]), ("Services", v["services"])):
        out += [
            "",
            f"## {title}",
            "",
            "| | responses | NPS | CSAT | CES |",
            "|---|---:|---|---|---|",
        ]
        out += [
            f"| {_md(r['name'])} | {r['responses']} | "
            + " | ".join(f"{r[m]['value']} ({r[m]['ci']}, n={r[m]['n']})" for m in LABELS)
            + " |"
            for r in rows
        ]
    out += ["", "## Themes", ""]
    out += ["| theme | comments | share |", "|---|---:|---:|"] if v["themes"] else ["No themes."]
    out += [f"| {_md(t['term'])} | {t['count']} | {t['share']} |" for t in v["themes"]]
    for title, rows in (
        ("Detractors say", s.detractor_themes),
        ("Promoters say", s.promoter_themes),
    ):
        out += ["", f"## {title}", ""]
        out += ["| theme | detractors | promoters | z |", "|---|---:|---:|---:|"] if rows else ["–"]
        out += [f"| {_md(c.term)} | {c.count_a} | {c.count_b} | {c.z:+.1f} |" for c in rows]
    return "\n".join(out) + "\n"


def scores_csv(s: SurveySummary) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["period", "group", "name", "metric", "value", "ci_low", "ci_high", "n", "unit"]
    )
    groups = [("overall", "all", s.overall)] + [("previous", "all", s.before)]
    groups += [("segment", k, x) for k, x in s.segments.items()]
    groups += [("service", k, x) for k, x in s.services.items()]
    for group, name, x in groups:
        label = s.previous.label if group == "previous" else s.period.label
        for metric, e in x.items():
            nums = [e.kpi.value, e.low, e.high]
            writer.writerow([label, group, name, metric,
                             *("" if n is None else f"{n:.2f}" for n in nums), e.kpi.n,
                             e.kpi.unit])  # fmt: skip
    return buffer.getvalue()


@dataclass(frozen=True)
class SurveyReportFiles:
    html: Path
    markdown: Path
    csv: Path
    markdown_text: str
    table: list[dict[str, Any]]  # overall and per segment, for a Prefect table artifact


def write_survey_report(s: SurveySummary, *, out_dir: Path) -> SurveyReportFiles:
    """Write reports/surveys/<period>/ (replacing a previous run's files)."""
    v = views(s)
    title = f"Surveys {s.period.label}"
    last_day = s.period.end - timedelta(days=1)
    subtitle = (f"{s.overall.responses} responses · {len(s.comments)} comments · "
                f"{s.period.start:%Y-%m-%d} to {last_day:%Y-%m-%d} · postdeploy")  # fmt: skip
    html = render("surveys.html", title=title, subtitle=subtitle, demo=s.demo, s=s, v=v,
                  labels=LABELS)  # fmt: skip
    folder = out_dir / "surveys" / s.period.label
    md = markdown(s, v)
    table = [
        {"group": group, "name": r["name"], "responses": r["responses"],
         **{LABELS[m]: f"{r[m]['value']} ({r[m]['ci']})" for m in LABELS}}
        for group, rows in (("overall", [_score_row("all", s.overall)]),
                            ("segment", v["segments"]), ("service", v["services"]))
        for r in rows
    ]  # fmt: skip
    return SurveyReportFiles(
        write_atomic(folder / "index.html", html), write_atomic(folder / "summary.md", md),
        write_atomic(folder / "scores.csv", scores_csv(s)), md, table,
    )  # fmt: skip


def as_dict(x: Scores) -> dict[str, Any]:
    """Scores as plain JSON values; a score without answers is null with note 'no data'."""
    out: dict[str, Any] = {"responses": x.responses}
    for metric, e in x.items():
        k = e.kpi
        note = {"note": k.note} if k.note else {}
        out[metric] = {"value": k.value, "low": e.low, "high": e.high, "n": k.n, "unit": k.unit}
        out[metric] |= note
    return out


def summary_dict(s: SurveySummary) -> dict[str, Any]:
    return {
        "period": s.period.label,
        "previous": {"period": s.previous.label, **as_dict(s.before)},
        **as_dict(s.overall),
        "segments": {k: as_dict(x) for k, x in s.segments.items()},
        "services": {k: as_dict(x) for k, x in s.services.items()},
        "themes": [[t.term, t.count] for t in s.themes],
        "detractor_themes": [c.term for c in s.detractor_themes],
        "promoter_themes": [c.term for c in s.promoter_themes],
    }


def load_summary(conn: Connection, period: Period) -> SurveySummary:
    """The summary of a period's responses in the store, with the period before it."""
    before = previous(period)
    now, then = (responses_between(conn, start=p.start, end=p.end) for p in (period, before))
    demo = has_demo_answers(conn, start=period.start, end=period.end)
    return summarize(period, before, now, then, demo=demo)
