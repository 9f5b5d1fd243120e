"""Capacity forecasts as JSON, CSV, Markdown and the HTML report in reports/capacity/<period>/."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from postdeploy.domain.capacity import (
    Assessment,
    format_days,
    format_value,
    rank,
    span_text,
)
from postdeploy.reporting.charts import forecast_chart
from postdeploy.reporting.files import write_atomic
from postdeploy.reporting.html import render

CSV_COLUMNS = (
    "service", "resource", "urgency", "threshold", "last_value", "forecast_end", "lower_end",
    "upper_end", "forecast_peak", "days_to_threshold", "days_to_threshold_upper", "crosses_at",
    "mape_pct", "backtest_points", "method", "seasonality", "trend", "history_start", "history_end",
    "history_points", "step_s", "horizon_days", "level", "error", "recommendation",
)  # fmt: skip


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _r(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def to_json(a: Assessment, *, points: bool = False) -> dict[str, Any]:
    """The stable machine-readable form (docs/capacity.md); None where there is no value."""
    out: dict[str, Any] = {
        "service": a.service or None,
        "resource": a.resource or None,
        "threshold": a.threshold,
        "urgency": a.urgency,
        "days_to_threshold": _r(a.days, 3),
        "days_to_threshold_upper": _r(a.days_earliest, 3),
        "crosses_at": iso(a.crosses_at),
        "recommendation": a.recommendation,
        "error": a.error,
        "forecast": None,
    }
    f = a.forecast
    if f is None:
        return out
    peak = max(range(len(f.mean)), key=f.mean.__getitem__)
    out["forecast"] = {
        "method": f.method,
        "seasonality": f.seasonality.name,
        "seasonality_note": f.seasonality.note,
        "trend_note": f.trend,
        "step_s": f.history.step,
        "history_points": len(f.history.values),
        "history_start": iso(f.history.start),
        "history_end": iso(f.last_time),
        "last_value": f.last_value,
        "horizon_days": _r(f.horizon_s / 86400, 3),
        "level": f.level,
        "end": {"mean": f.mean[-1], "lower": f.lower[-1], "upper": f.upper[-1]},
        "peak": {"mean": f.mean[peak], "at": iso(f.times[peak])},
        "backtest": {"mape_pct": _r(f.mape, 2), "points": f.holdout},
    }
    if points:
        out["forecast"]["points"] = [
            {"ts": iso(t), "mean": m, "lower": lo, "upper": hi}
            for t, m, lo, hi in zip(f.times, f.mean, f.lower, f.upper, strict=True)
        ]
    return out


def csv_row(a: Assessment) -> dict[str, Any]:
    j, f = to_json(a), a.forecast
    row = {k: j.get(k) for k in CSV_COLUMNS}
    if f is not None:
        fc = j["forecast"]
        row.update(
            last_value=f.last_value, forecast_end=f.mean[-1], lower_end=f.lower[-1],
            upper_end=f.upper[-1], forecast_peak=max(f.mean), mape_pct=fc["backtest"]["mape_pct"],
            backtest_points=f.holdout, method=f.method, seasonality=f.seasonality.name or "none",
            trend=f.trend, history_start=fc["history_start"], history_end=fc["history_end"],
            history_points=fc["history_points"], step_s=f.history.step,
            horizon_days=fc["horizon_days"], level=f.level,
        )  # fmt: skip
    return {k: "" if v is None else v for k, v in row.items()}


def forecasts_csv(items: list[Assessment]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_row(a) for a in items)
    return out.getvalue()


def summary_row(a: Assessment) -> dict[str, str]:
    """One line of the summary table (report, Markdown, table artifact)."""
    f = a.forecast
    return {
        "service": a.service,
        "resource": a.resource,
        "urgency": a.urgency,
        "now": format_value(a.resource, f.last_value) if f else "no data",
        "threshold": format_value(a.resource, a.threshold) if a.threshold else "none",
        "crosses in": format_days(a.days) if f and a.threshold else "",
        "earliest": format_days(a.days_earliest) if f and a.threshold else "",
        "MAPE": "no data" if f is None or f.mape is None else f"{f.mape:.1f}%",
        "method": f.method if f else (a.error or ""),
    }


def markdown(title: str, subtitle: str, items: list[Assessment]) -> str:
    rows = [summary_row(a) for a in items]
    lines = [f"# {title}", "", subtitle, "", "## Recommendations (most urgent first)", ""]
    lines += [f"{i}. {a.recommendation}" for i, a in enumerate(items, 1)] or ["Nothing forecast."]
    if rows:
        lines += ["", "## Forecasts", "", "| " + " | ".join(rows[0]) + " |"]
        lines += ["|" + "---|" * len(rows[0])]
        lines += ["| " + " | ".join(r.values()).replace("\n", " ") + " |" for r in rows]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CapacityFiles:
    html: Path
    markdown: Path
    csv: Path
    markdown_text: str
    table: list[dict[str, str]]


def write_capacity_report(
    items: list[Assessment], *, out_dir: Path, period: str, horizon_s: float, demo: bool = False
) -> CapacityFiles:
    """Write index.html, summary.md and forecasts.csv in out_dir/capacity/<period>/
    (a rerun in the same period replaces them)."""
    ordered = rank(items)
    title = f"Capacity planning {period}"
    crossing = sum(a.days is not None for a in ordered)
    subtitle = (
        f"{len(ordered)} forecasts, {span_text(horizon_s)} ahead · {crossing} reach their"
        f" threshold within it · postdeploy"
    )
    views = [
        {
            "id": f"{a.service}-{a.resource}",
            "row": summary_row(a),
            "urgency": a.urgency,
            "recommendation": a.recommendation,
            "chart": forecast_chart(a),  # built from escaped parts; `|safe` in the template
            "seasonality": a.forecast.seasonality.note if a.forecast else "",
            "trend": a.forecast.trend if a.forecast else "",
            "history": (
                f"{len(a.forecast.history.values)} points of {span_text(a.forecast.history.step)}"
                f" from {iso(a.forecast.history.start)} to {iso(a.forecast.last_time)}"
                if a.forecast
                else ""
            ),
            "error": a.error,
        }
        for a in ordered
    ]
    html = render("capacity.html", title=title, subtitle=subtitle, demo=demo, items=views)
    folder = out_dir / "capacity" / period
    md = markdown(title, subtitle, ordered)
    table = [summary_row(a) for a in ordered]
    return CapacityFiles(
        write_atomic(folder / "index.html", html),
        write_atomic(folder / "summary.md", md),
        write_atomic(folder / "forecasts.csv", forecasts_csv(ordered)),
        md,
        table,
    )
