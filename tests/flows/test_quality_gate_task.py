"""The data-quality-gate task on a real Prefect server: the report comes back and is published
as a markdown artifact whose key is stable for the period."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.client.orchestration import get_client
from sqlalchemy import insert

from postdeploy.domain.periods import parse_period
from postdeploy.domain.quality import GateReport
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import survey_response
from postdeploy.store.session import store_transaction
from tasks.quality import data_quality_gate


def test_the_gate_task_returns_the_report_and_publishes_it_under_the_periods_key(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    week = parse_period("2026-W41", UTC)
    with store_transaction(url) as conn:
        conn.execute(insert(survey_response), [
            {"source": "desk", "external_id": "S1", "submitted_at": week.start + timedelta(days=1),
             "nps": 11, "csat": 4, "ces": None},
        ])  # fmt: skip

    @flow(name="quality-gate-test")
    def gate() -> GateReport:
        return data_quality_gate(url, week)

    report = gate()
    assert set(report.blocked) == {"csat", "nps", "ces"}

    async def latest() -> Any:
        async with get_client() as client:
            return await client.read_latest_artifacts()

    artifacts = {a.key: a for a in asyncio.run(latest()) if a.key}
    published = artifacts["data-quality-2026-w41"].data
    assert published.startswith("# Data-quality gate 2026-W41")
    assert "external_id=S1: nps=11" in published
