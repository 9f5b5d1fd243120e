"""The kpi-report flow on the Prefect harness, with the real data-quality gate: report files,
artifacts under stable keys, snapshots for trends, reruns that change nothing, and a blocking
data failure that stops only the KPIs it feeds."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, insert, select

from flows.kpi_report import kpi_report, last_complete
from postdeploy.store.kpis import compute_kpis
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import kpi_snapshot, ticket
from postdeploy.store.session import store_transaction
from tests.integration.test_kpi_store import CATALOG, NOW, OCTOBER, generate, load


@pytest.fixture
def seeded(settings_env: Path) -> tuple[str, str]:
    url = f"sqlite:///{settings_env / 'store.db'}"
    upgrade(url)
    load(url, generate())
    path = settings_env / "catalog.yaml"
    path.write_text(yaml.safe_dump(CATALOG.model_dump(mode="json", exclude_defaults=True)))
    return url, str(path)


def artifacts() -> dict[str, Any]:
    from prefect.client.orchestration import get_client

    async def latest() -> list[Any]:
        async with get_client() as client:
            return await client.read_latest_artifacts()

    return {a.key: a for a in asyncio.run(latest()) if a.key}


def test_monthly_report_files_artifacts_and_snapshots(
    seeded: tuple[str, str], settings_env: Path
) -> None:
    url, catalog = seeded
    result = kpi_report(kind="monthly", period="2026-10", catalog_path=catalog)
    folder = settings_env / "reports" / "monthly" / "2026-10"
    assert result["not_computed"] == {}
    assert {p.name for p in folder.iterdir()} == {
        "index.html", "summary.md", "kpis.csv", "data-quality.csv"
    }  # fmt: skip

    with store_transaction(url) as conn:
        expected = compute_kpis(conn, CATALOG, OCTOBER, now=NOW)
        snapshots = conn.execute(select(func.count()).select_from(kpi_snapshot)).scalar_one()
        periods = {p for (p,) in conn.execute(select(kpi_snapshot.c.period).distinct())}
    rows = {(r["scope"], r["metric"]): r for r in csv.DictReader((folder / "kpis.csv").open())}
    assert len(rows) == len(expected.kpis)
    availability = expected.get("", "availability")
    assert availability is not None and availability.value is not None
    assert float(rows[("", "availability")]["value"]) == pytest.approx(availability.value)
    assert rows[("api", "lead_time")]["tier"] in {"elite", "high", "medium", "low"}
    # the trend: September was computed (never reported before) and compared with
    sept = rows[("", "issues_resolved")]
    assert sept["previous"] != "" and sept["direction"] in {"up", "down", "flat"}
    assert {"2026-10", "2026-09", "2026-05"} <= periods

    html = (folder / "index.html").read_text()
    assert "KPI report 2026-10 (monthly)" in html and "Every blocking suite passed" in html
    assert html.count("<svg") >= 10  # sparklines of the headline and each service

    found = artifacts()
    assert "KPI report 2026-10" in found["kpi-monthly"].data
    assert "kpi-monthly-table" in found and "kpi-monthly-link" in found
    assert "data-quality-2026-10" in found

    again = kpi_report(kind="monthly", period="2026-10", catalog_path=catalog)
    assert again["headline"] == result["headline"]
    with store_transaction(url) as conn:
        assert (
            conn.execute(select(func.count()).select_from(kpi_snapshot)).scalar_one() == snapshots
        )


def test_a_blocking_failure_stops_only_the_kpis_it_feeds(
    seeded: tuple[str, str], settings_env: Path
) -> None:
    from datetime import UTC, datetime

    url, catalog = seeded
    with store_transaction(url) as conn:
        conn.execute(
            insert(ticket),
            [{"source": "desk", "external_id": "BAD-1", "priority": "high", "status": "resolved",
              "level": "L1", "title": "resolved before it was opened",
              "created_at": datetime(2026, 10, 10, 12, tzinfo=UTC),
              "resolved_at": datetime(2026, 10, 9, 12, tzinfo=UTC)}],
        )  # fmt: skip
    result = kpi_report(kind="monthly", period="2026-10", catalog_path=catalog)
    assert "resolution_time" in result["not_computed"]
    assert "tickets" in result["not_computed"]["resolution_time"]
    assert "availability" not in result["not_computed"]
    folder = settings_env / "reports" / "monthly" / "2026-10"
    html = (folder / "index.html").read_text()
    assert "KPIs not computed" in html and "BAD-1" in html
    rows = list(csv.DictReader((folder / "kpis.csv").open()))
    assert not any(r["metric"].startswith("resolution_time") for r in rows)
    assert any(r["metric"] == "availability" and r["value"] for r in rows)


def test_the_default_period_is_the_last_complete_one() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 27, 9, tzinfo=UTC)
    tz = CATALOG.zone()
    assert last_complete("weekly", now, tz).label == "2026-W47"
    assert last_complete("monthly", now, tz).label == "2026-10"
    assert last_complete("quarterly", now, tz).label == "2026-Q3"
