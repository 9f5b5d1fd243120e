"""The KPI report in a real headless Chromium: it renders with its numbers, trends and charts,
and nothing it asks for leaves its own file. The screenshot is kept in tests/artifacts/."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from postdeploy.domain.quality import Failure, GateReport, SuiteResult
from postdeploy.reporting.kpi_build import assemble
from postdeploy.reporting.kpis import fmt, write_report
from postdeploy.store.migrate import upgrade
from postdeploy.store.session import store_transaction
from tests.e2e.test_status_page import ARTIFACTS, QUIET, Served, chromium, page_requests
from tests.integration.test_kpi_store import CATALOG, NOW, OCTOBER, generate, load

__all__ = ["chromium"]  # the fixture, imported for its use here


@pytest.fixture
def report_site(tmp_path: Path) -> Iterator[tuple[Served, str, Path]]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    load(url, generate())
    gate = GateReport(
        OCTOBER.start, OCTOBER.end,
        [SuiteResult("check_results", True, True, ("availability",), 4100),
         SuiteResult("surveys", False, False, ("csat", "nps", "ces"), 130,
                     [Failure("expect_column_values_to_not_be_null", "service", 12,
                              ["form/S12", "form/S40"])])],
        label=OCTOBER.label,
    )  # fmt: skip
    with store_transaction(url) as conn:
        report = assemble(conn, CATALOG, OCTOBER, now=NOW, gate=gate)
    paths = write_report(report, tmp_path / "reports")
    availability = fmt(report.current.get("", "availability"))
    served = Served(paths["html"].parent)
    yield served, availability, paths["html"]
    served.close()


def test_kpi_report_renders_in_chromium_and_loads_nothing_from_outside(
    chromium: str, report_site: tuple[Served, str, Path], tmp_path: Path
) -> None:
    site, availability, page = report_site
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "kpi-report.png"
    proc = subprocess.run(
        [chromium, *QUIET, f"--user-data-dir={tmp_path / 'profile'}",
         f"--log-net-log={tmp_path / 'net.json'}", "--dump-dom", f"--screenshot={shot}",
         "--window-size=1280,2400", f"{site.origin}/index.html"],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert "KPI report 2026-10 (monthly)" in dom
    for text in ("Availability", availability, "Support by priority", "Incidents by severity",
                 "Service api", "Service web", "DORA", "Data quality",
                 "expect_column_values_to_not_be_null", "form/S12"):  # fmt: skip
        assert text in dom, text
    assert re.search(r"[▲▼]", dom)  # trends against September
    assert dom.count("<svg") >= 10 and dom.count("<polyline") >= 10
    assert "<script" not in dom.lower()

    asked = page_requests(tmp_path / "net.json", site.origin)
    assert f"{site.origin}/index.html" in asked
    assert asked <= {f"{site.origin}/index.html", f"{site.origin}/favicon.ico"}, asked
    html = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(|@import""", html, re.I)
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 50_000


def test_the_report_files_say_no_data_rather_than_zero_for_an_empty_period(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    with store_transaction(url) as conn:
        report = assemble(conn, CATALOG, OCTOBER, now=datetime(2026, 11, 5, tzinfo=UTC))
    paths = write_report(report, tmp_path / "reports")
    md = paths["markdown"].read_text()
    assert "| Availability | no data |" in md and "nan" not in md.lower()
    html = paths["html"].read_text()
    assert "no data" in html
    for text in (md, html, paths["csv"].read_text()):
        assert not re.search(r"\b(nan|inf|-inf|infinity)\b", text, re.I)
