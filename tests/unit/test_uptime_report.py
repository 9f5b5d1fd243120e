"""The uptime report's daily bars: one per day of the window, coloured by that day's uptime,
a day without checks grey, each with its date and figures on hover, names escaped."""

from __future__ import annotations

import re
from pathlib import Path

from postdeploy.domain.uptime import DAY, UptimeRow
from postdeploy.reporting.uptime import write_uptime_report

FIRST = 20_400  # 2025-11-08 as days since the epoch


def bars(page: str) -> list[list[tuple[str, str, str]]]:
    """Per row: (class, x, title) of each rect."""
    return [
        re.findall(r'<rect class="(\w+)" x="(\d+)"[^>]*><title>([^<]*)</title></rect>', svg)
        for svg in re.findall(r"<svg class=\"bars\".*?</svg>", page, re.S)
    ]


def test_each_day_gets_a_bar_with_its_level_date_and_figures(tmp_path: Path) -> None:
    row = UptimeRow(
        service="<api>", check="health", total=576 + 100, ok=575 + 90,
        avg_latency_ms=20.0, p95_latency_ms=40.0, last_ok=True, last_detail="HTTP 200",
        days=((FIRST, 288, 288), (FIRST + 1, 288 - 1, 288), (FIRST + 3, 90, 100)),
    )  # fmt: skip
    report = write_uptime_report(
        [row], out_dir=tmp_path, since=FIRST * DAY + 3600, until=(FIRST + 3) * DAY + 7200
    )
    page = report.html.read_text(encoding="utf-8")

    assert bars(page) == [
        [
            ("good", "0", "2025-11-08: 100.00% of 288"),
            ("minor", "6", "2025-11-09: 99.65% of 288"),
            ("nodata", "12", "2025-11-10: no data"),
            ("major", "18", "2025-11-11: 90.00% of 100"),
        ]
    ]
    assert "&lt;api&gt;" in page and "<api>" not in page
