"""The health-check flow on a real Prefect server, against real HTTP services."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path
from typing import Any

import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from sqlalchemy import func, select

from flows.health_check import health_check
from postdeploy.settings import get_settings
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import alert, check_result
from postdeploy.store.session import store_transaction
from tests.conftest import Recorder


def write_catalog(path: Path, healthy: str, broken: str, hook: str) -> Path:
    catalog = {
        "services": [
            {"name": "web", "url": healthy, "checks": [
                {"name": "health", "url": "/healthz", "expect_keyword": "ok"},
                {"name": "version", "url": "/version", "expect_keyword": "1.2.3"},
            ]},
            {"name": "billing", "url": broken, "checks": [{"name": "health", "url": "/healthz"}]},
        ],
        "routes": [{"name": "ops-hook", "kind": "webhook", "url": hook}],
        "notify_on_state_change": ["ops-hook"],
    }  # fmt: skip
    file = path / "catalog.yaml"
    file.write_text(yaml.safe_dump(catalog))
    return file


def rows(table: Any) -> int:
    with store_transaction(get_settings().database_url) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_sweep_stores_results_alerts_and_notifies_once_per_state_change(
    settings_env: Path, sample_service: str, broken_sample_service: str, recorder: Recorder
) -> None:
    upgrade(get_settings().database_url)
    catalog = write_catalog(settings_env, sample_service, broken_sample_service, recorder.url)

    first = health_check(catalog_path=str(catalog))
    assert first["checks"] == 3 and first["failed"] == 1
    assert first["state_changes"] == ["billing/health is DOWN: HTTP 503, expected 200"]
    assert [r["json"]["event"] for r in recorder.requests] == ["check.down"]  # type: ignore[index]
    event = recorder.requests[0]["json"]
    assert event["service"] == "billing" and event["detail"] == "HTTP 503, expected 200"  # type: ignore[index]

    second = health_check(catalog_path=str(catalog))
    assert second["state_changes"] == [] and len(recorder.requests) == 1  # still down: no repeat
    assert rows(check_result) == 6
    assert rows(alert) == 1

    report = Path(first["report"]).read_text()
    assert "billing" in report and "HTTP 503, expected 200" in report
    assert "DEMO DATA" not in report

    # the status page follows the change of state, and is not rewritten without one
    assert first["status_page"].startswith("major_outage")  # the worst component
    status = json.loads((settings_env / "reports" / "status" / "status.json").read_text())
    states = {c["name"]: c["state"] for c in status["components"]}
    assert states == {"web": "operational", "billing": "major_outage"}
    assert second["status_page"] is None


def test_the_uptime_report_is_published_as_an_artifact_with_a_stable_key(
    settings_env: Path, sample_service: str, broken_sample_service: str, recorder: Recorder
) -> None:
    upgrade(get_settings().database_url)
    catalog = write_catalog(settings_env, sample_service, broken_sample_service, recorder.url)
    health_check(catalog_path=str(catalog))

    async def latest() -> Any:
        async with get_client() as client:
            return await client.read_latest_artifacts()

    artifacts = {a.key: a for a in asyncio.run(latest()) if a.key}
    assert "| billing | health | down |" in artifacts["uptime-report"].data
    assert "uptime-table" in artifacts


def test_an_unreachable_store_is_retried_then_fails_naming_the_masked_url(
    settings_env: Path, sample_service: str, broken_sample_service: str, recorder: Recorder,
    monkeypatch: Any,
) -> None:  # fmt: skip
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    monkeypatch.setenv("POSTDEPLOY_DATABASE_URL", f"postgresql://ops:s3cret@127.0.0.1:{port}/x")
    monkeypatch.setenv("POSTDEPLOY_STORE_RETRIES", "2")
    get_settings.cache_clear()
    catalog = write_catalog(settings_env, sample_service, broken_sample_service, recorder.url)

    state = health_check(catalog_path=str(catalog), return_state=True)

    assert state.is_failed()
    assert f"store unreachable at postgresql://ops:***@127.0.0.1:{port}/x" in state.message
    assert "s3cret" not in state.message

    async def attempts() -> list[int]:
        async with get_client() as client:
            runs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(
                    id=FlowRunFilterId(any_=[state.state_details.flow_run_id])
                )
            )
            return [r.run_count for r in runs if r.name.startswith("record-sweep")]

    # the server records task states from events, a moment after the run ends: wait for it
    deadline, counts = time.monotonic() + 30, asyncio.run(attempts())
    while counts != [3] and time.monotonic() < deadline:
        time.sleep(0.5)
        counts = asyncio.run(attempts())
    assert counts == [3]  # the first try and two retries
