"""The KPI report of a period: every KPI with its trend against the previous period, as
self-contained HTML (inline SVG sparklines, no network), Markdown and CSV, in
reports/<kind>/<period>/. `kpi_rows` is also what `postdeploy kpi --json` prints."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from postdeploy.domain.kpi import BETTER, KpiValue, Trend, trend
from postdeploy.domain.quality import GateReport
from postdeploy.reporting.files import write_atomic
from postdeploy.reporting.html import render
from postdeploy.store.kpis import KpiSet

Values = Mapping[tuple[str, str], KpiValue]  # (scope, metric) -> value
KINDS = {"week": "weekly", "month": "monthly", "quarter": "quarterly", "day": "daily"}

# The headline: (metric, label) in the order an analyst reads them.
HEADLINE: tuple[tuple[str, str], ...] = (
    ("availability", "Availability"),
    ("error_budget_remaining", "SLO error budget remaining"),
    ("mtta.median", "MTTA (median)"),
    ("mttr.median", "MTTR (median)"),
    ("mttr.p90", "MTTR (p90)"),
    ("first_response_time.median", "Ticket first response (median)"),
    ("resolution_time.median", "Ticket resolution (median)"),
    ("sla_compliance", "SLA compliance"),
    ("issues_resolved", "Issues resolved"),
    ("backlog_size", "Backlog"),
    ("backlog_age.median", "Backlog age (median)"),
    ("csat", "CSAT"),
    ("nps", "NPS"),
    ("ces", "CES"),
    ("deployment_frequency", "Deployment frequency"),
    ("lead_time", "Change lead time"),
    ("change_fail_rate", "Change fail rate"),
    ("failed_deployment_recovery_time", "Failed-deployment recovery time"),
)
SEVERITIES = ("critical", "high", "medium", "low")
PRIORITIES = ("critical", "high", "medium", "low")


def fmt(value: KpiValue | None) -> str:
    """A value with its unit as a reader expects it; 'no data' for a gap."""
    if value is None or value.value is None:
        return "no data"
    v, unit = value.value, value.unit
    if unit in ("%", "% of budget"):
        return f"{v:.2f}%" if unit == "%" else f"{v:.1f}% of budget"
    if unit == "points":
        return f"{v:+.1f}"
    if unit == "deploys/day":
        return f"{v:.2f}/day"
    if unit in ("incidents", "issues", "tickets"):
        return f"{v:,.0f}"
    if unit == "score 1-7":
        return f"{v:.2f} / 7"
    return f"{v:,.1f} {unit}"


def fmt_change(t: Trend, unit: str) -> str:
    if t.change is None:
        return ""
    if t.direction == "flat":
        return "no change"
    if unit in ("incidents", "issues", "tickets"):
        return f"{t.change:+,.0f}"
    number = f"{t.change:+,.2f}" if abs(t.change) < 10 else f"{t.change:+,.1f}"
    return f"{number} pts" if unit in ("%", "% of budget", "points") else f"{number} {unit}"


@dataclass(frozen=True)
class KpiRow:
    scope: str
    metric: str
    value: KpiValue
    previous: KpiValue | None
    trend: Trend

    def as_json(self) -> dict[str, Any]:
        prev = self.previous
        return {
            "scope": self.scope or "overall",
            "metric": self.metric,
            "value": self.value.value,
            "unit": self.value.unit,
            "n": self.value.n,
            "note": self.value.note,
            "tier": self.value.tier,
            "previous": prev.value if prev else None,
            "change": self.trend.change,
            "direction": self.trend.direction,
            "improved": self.trend.improved,
        }


def kpi_rows(current: KpiSet, previous: Values) -> list[KpiRow]:
    rows = []
    for k in current.kpis:
        prev = previous.get((k.scope, k.metric))
        better = BETTER.get(k.name, "higher")
        t = trend(k.value, prev, better) if prev is not None else Trend(None, None, None)
        rows.append(KpiRow(k.scope, k.metric, k.value, prev, t))
    order = {scope: i for i, scope in enumerate(dict.fromkeys(k.scope for k in current.kpis))}
    return sorted(rows, key=lambda r: order[r.scope])  # overall first, then each service


def sparkline(points: Sequence[float | None], better: str, width: int = 120) -> str:
    """A tiny inline SVG line of the last periods (gaps break the line), the last point marked."""
    height, pad = 28, 3
    known = [p for p in points if p is not None]
    if len(known) < 2:
        return ""
    lo, hi = min(known), max(known)
    span = (hi - lo) or 1.0
    step = (width - 2 * pad) / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> str:
        return f"{pad + i * step:.1f},{height - pad - (v - lo) / span * (height - 2 * pad):.1f}"

    runs: list[list[str]] = [[]]
    for i, v in enumerate(points):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(xy(i, v))
    lines = "".join(
        f'<polyline points="{" ".join(r)}" fill="none" stroke="#0969da" stroke-width="1.5"/>'
        for r in runs
        if len(r) > 1
    )
    last = next(((i, v) for i, v in reversed(list(enumerate(points))) if v is not None))
    x, y = xy(*last).split(",")
    title = f"last {len(points)} periods, {'higher' if better == 'higher' else 'lower'} is better"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="spark" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label="{title}"><title>{title}</title>'
        f'{lines}<circle cx="{x}" cy="{y}" r="2.5" fill="#0969da"/></svg>'
    )


def _view(row: KpiRow | None, label: str, history: list[float | None]) -> dict[str, Any]:
    if row is None:
        return {"label": label, "value": "no data", "nodata": True}
    t = row.trend
    arrow = {"up": "▲", "down": "▼", "flat": "="}.get(t.direction or "", "")
    better = BETTER.get(row.metric.split(".", 1)[0], "higher")
    return {
        "label": label,
        "metric": row.metric,
        "value": fmt(row.value),
        "nodata": row.value.value is None,
        "previous": fmt(row.previous) if row.previous is not None else "not computed",
        "change": fmt_change(t, row.value.unit),
        "arrow": arrow,
        "trend_class": "" if t.improved is None else ("up" if t.improved else "down"),
        "n": row.value.n,
        "note": row.value.note,
        "tier": row.value.tier or "",
        "spark": sparkline(history, better),
    }


@dataclass(frozen=True)
class KpiReport:
    current: KpiSet
    previous: Values
    history: Sequence[tuple[str, Values]]  # (period label, values), oldest first, current last
    quality: GateReport | None
    tz: str

    @property
    def kind(self) -> str:
        return KINDS[self.current.period.kind]

    @property
    def folder(self) -> str:
        return f"{self.kind}/{self.current.period.label}"

    def rows(self) -> list[KpiRow]:
        return kpi_rows(self.current, self.previous)

    def _series(self, scope: str, metric: str) -> list[float | None]:
        out = []
        for _, values in self.history:
            v = values.get((scope, metric))
            out.append(v.value if v is not None else None)
        return out

    def scopes(self) -> list[str]:
        seen: dict[str, None] = {}
        for k in self.current.kpis:
            seen.setdefault(k.scope, None)
        return list(seen)

    def table(self, scope: str, metrics: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        by = {(r.scope, r.metric): r for r in self.rows()}
        views = []
        for metric, label in metrics:
            row = by.get((scope, metric))
            if row is None and metric == "error_budget_remaining" and scope == "":
                continue  # an SLO belongs to a service: no overall budget
            views.append(_view(row, label, self._series(scope, metric)))
        return views

    def title(self) -> str:
        return f"KPI report {self.current.period.label} ({self.kind})"


def markdown(report: KpiReport) -> str:
    p = report.current.period
    lines = [
        f"# {report.title()}",
        "",
        f"{p.start.isoformat()} to {p.end.isoformat()} ({report.tz}), as of "
        f"{report.current.as_of.astimezone(UTC):%Y-%m-%d %H:%M} UTC; trends against the "
        "previous period.",
        "",
        "| KPI | value | previous | change | n | note |",
        "|---|---:|---:|---|---:|---|",
    ]
    for v in report.table("", HEADLINE):
        if "metric" not in v:
            lines.append(f"| {v['label']} | no data | | | 0 | |")
            continue
        change = f"{v['arrow']} {v['change']}".strip()
        note = ", ".join(x for x in (v["tier"] and f"DORA {v['tier']}", v["note"]) if x)
        lines.append(
            f"| {v['label']} | {v['value']} | {v['previous']} | {change} | {v['n']} | {note} |"
        )
    if report.current.failed:
        lines += ["", "## KPIs not computed", ""]
        lines += [f"- **{name}**: {why}" for name, why in report.current.failed.items()]
    if report.quality is not None:
        q = report.quality
        lines += ["", "## Data quality", ""]
        lines += [f"{'passed' if q.passed else 'FAILED: ' + ', '.join(q.blocked)}."]
        lines += [f"- {w}" for w in q.warnings]
    lines.append("")
    return "\n".join(lines)


def csv_text(report: KpiReport) -> str:
    out = io.StringIO()
    fields = ["period", "scope", "metric", "value", "unit", "n", "note", "tier", "previous",
              "change", "direction", "improved"]  # fmt: skip
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in report.rows():
        data = row.as_json()
        data["period"] = report.current.period.label
        data["scope"] = row.scope
        writer.writerow({k: "" if data[k] is None else data[k] for k in fields})
    return out.getvalue()


def html(report: KpiReport, *, demo: bool = False) -> str:
    p = report.current.period
    services = [s for s in report.scopes() if s]
    severities = [
        {"scope": s or "overall",
         "counts": [fmt(report.current.get(s, f"incidents.{sev}")) for sev in SEVERITIES]}
        for s in ["", *services]
    ]  # fmt: skip
    support = []
    for pr in PRIORITIES:
        cells = [
            fmt(report.current.get("", f"{m}.{pr}.{stat}"))
            for m in ("first_response_time", "resolution_time")
            for stat in ("median", "p90")
        ]
        support.append({"priority": pr, "cells": cells,
                        "sla": fmt(report.current.get("", f"sla_compliance.{pr}"))})  # fmt: skip
    return render(
        "kpis.html",
        title=report.title(),
        subtitle=(
            f"{p.start:%Y-%m-%d %H:%M} to {p.end:%Y-%m-%d %H:%M} {report.tz} · trends against "
            f"the previous {report.current.period.kind} · postdeploy"
        ),
        demo=demo,
        headline=report.table("", HEADLINE),
        services=[{"name": s, "rows": report.table(s, HEADLINE)} for s in services],
        severities=severities,
        severity_names=SEVERITIES,
        support=support,
        failed=report.current.failed,
        quality=report.quality,
        history=[label for label, _ in report.history],
    )


def write_report(report: KpiReport, out_dir: Path, *, demo: bool = False) -> dict[str, Path]:
    """index.html, summary.md, kpis.csv (and data-quality.csv) in reports/<kind>/<period>/;
    each file is written whole, then renamed, so no reader sees a partial one."""
    folder = out_dir / report.folder
    paths = {
        "csv": write_atomic(folder / "kpis.csv", csv_text(report)),
        "markdown": write_atomic(folder / "summary.md", markdown(report)),
    }
    if report.quality is not None:
        rows = report.quality.rows()
        out = io.StringIO()
        if rows:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        paths["quality"] = write_atomic(folder / "data-quality.csv", out.getvalue())
    paths["html"] = write_atomic(folder / "index.html", html(report, demo=demo))
    return paths
