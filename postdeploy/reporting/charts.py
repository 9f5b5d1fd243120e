"""Inline SVG charts for self-contained reports (no script, no network)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from postdeploy.domain.capacity import Assessment, format_value

W, H = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 70, 12, 14, 26


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d %b")


def forecast_chart(a: Assessment) -> str:
    """History, forecast, prediction interval band, threshold line and crossing, as one SVG."""
    f = a.forecast
    if f is None:
        return ""
    hist_t, hist_v = f.history.times(), list(f.history.values)
    t0, t1 = hist_t[0], f.times[-1]
    values = hist_v + list(f.lower) + list(f.upper) + ([a.threshold] if a.threshold else [])
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1.0
    lo, hi = lo - pad, hi + pad
    lo = 0.0 if lo < 0 <= min(values) else lo

    def x(t: float) -> float:
        return LEFT + (t - t0) / ((t1 - t0) or 1) * (W - LEFT - RIGHT)

    def y(v: float) -> float:
        return TOP + (hi - v) / ((hi - lo) or 1) * (H - TOP - BOTTOM)

    def points(ts: list[float], vs: list[float]) -> str:
        return " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(ts, vs, strict=True))

    ahead = [f.last_time, *f.times]
    band = (
        points(ahead, [f.last_value, *f.upper])
        + " "
        + points(ahead[::-1], [*f.lower[::-1], f.last_value])
    )
    label = escape(f"{a.service} {a.resource}: history, forecast and {f.level:.0%} interval")

    def fmt(v: float) -> str:
        return escape(format_value(a.resource, v))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="forecast" viewBox="0 0 {W} {H}"'
        f' width="{W}" height="{H}" role="img" aria-label="{label}">',
        f"<title>{label}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{W - LEFT - RIGHT}" height="{H - TOP - BOTTOM}"'
        ' fill="#ffffff" stroke="#d1d9e0"/>',
        f'<polygon class="band" points="{band}" fill="#0969da" fill-opacity="0.15"/>',
        f'<polyline class="history" points="{points(hist_t, hist_v)}" fill="none"'
        ' stroke="#59636e" stroke-width="1"/>',
        f'<polyline class="forecast" points="{points(ahead, [f.last_value, *f.mean])}"'
        ' fill="none" stroke="#0969da" stroke-width="1.5" stroke-dasharray="5 3"/>',
        f'<line class="now" x1="{x(f.last_time):.1f}" y1="{TOP}" x2="{x(f.last_time):.1f}"'
        f' y2="{H - BOTTOM}" stroke="#8c959f" stroke-dasharray="2 2"/>',
    ]
    if a.threshold is not None:
        ty = y(a.threshold)
        parts += [
            f'<line class="threshold" x1="{LEFT}" y1="{ty:.1f}" x2="{W - RIGHT}" y2="{ty:.1f}"'
            ' stroke="#cf222e" stroke-width="1.2"/>',
            f'<text x="{W - RIGHT - 4}" y="{ty - 4:.1f}" text-anchor="end" font-size="11"'
            f' fill="#cf222e">threshold {fmt(a.threshold)}</text>',
        ]
    if a.crosses_at is not None and a.threshold is not None:
        parts.append(
            f'<circle class="crossing" cx="{x(a.crosses_at):.1f}" cy="{y(a.threshold):.1f}"'
            ' r="4" fill="#cf222e"/>'
        )
    parts += [
        f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end" font-size="11">{fmt(hi)}</text>',
        f'<text x="{LEFT - 6}" y="{H - BOTTOM}" text-anchor="end" font-size="11">{fmt(lo)}</text>',
        f'<text x="{LEFT}" y="{H - 8}" font-size="11">{_day(t0)}</text>',
        f'<text x="{x(f.last_time):.1f}" y="{H - 8}" text-anchor="middle" font-size="11">'
        f"now {_day(f.last_time)}</text>",
        f'<text x="{W - RIGHT}" y="{H - 8}" text-anchor="end" font-size="11">{_day(t1)}</text>',
        "</svg>",
    ]
    return "\n".join(parts)
