"""Fault injection: the store's PostgreSQL server restarted in the middle of a health-check run
(a private cluster, never the shared one). The run retries, completes, and the store holds the
sweep once: no lost and no duplicated results, alerts or notifications."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from sqlalchemy import Engine, event, func, select

from flows.health_check import health_check
from postdeploy.settings import get_settings
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import alert, check_result, check_state, service
from postdeploy.store.session import store_transaction
from tests.conftest import PrivatePostgres, Recorder


def write_catalog(folder: Path, healthy: str, broken: str, hook: str) -> Path:
    catalog = {
        "services": [
            {"name": "web", "url": healthy, "checks": [
                {"name": "health", "url": "/healthz", "expect_keyword": "ok"},
                {"name": "version", "url": "/version"},
            ]},
            {"name": "billing", "url": broken, "checks": [{"name": "health", "url": "/healthz"}]},
        ],
        "routes": [{"name": "ops-hook", "kind": "webhook", "url": hook}],
        "notify_on_state_change": ["ops-hook"],
    }  # fmt: skip
    file = folder / "catalog.yaml"
    file.write_text(yaml.safe_dump(catalog))
    return file


@contextmanager
def on_statement(port: int, faults: list[tuple[str, Callable[[], None]]]) -> Iterator[list[str]]:
    """Run each fault once, in order, just before the first statement to the server on `port`
    containing its text (after the fault before it has run): a restart lands mid-transaction.
    Yields the statements that triggered a fault."""
    fired: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if len(fired) < len(faults) and conn.engine.url.port == port:
            text, fault = faults[len(fired)]
            if text in statement:
                fired.append(statement.split("\n", 1)[0][:80])
                fault()

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(Engine, "before_cursor_execute", before)


def task_attempts(flow_run_id: Any) -> dict[str, int]:
    async def read() -> dict[str, int]:
        async with get_client() as client:
            runs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
        return {r.name.rsplit("-", 1)[0]: r.run_count for r in runs}  # record-sweep-1a2: 2

    return asyncio.run(read())


def counts(url: str) -> dict[str, Any]:
    with store_transaction(url) as conn:

        def n(table: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

        return {
            "services": n(service),
            "results": n(check_result),
            "states": n(check_state),
            "alerts": conn.execute(select(alert.c.fingerprint, alert.c.status)).all(),
        }


def test_a_postgres_restart_mid_flow_is_retried_and_the_sweep_is_stored_once(
    settings_env: Path,
    private_postgres: PrivatePostgres,
    sample_service: str,
    broken_sample_service: str,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = private_postgres.url
    monkeypatch.setenv("POSTDEPLOY_DATABASE_URL", url)
    monkeypatch.setenv("POSTDEPLOY_STORE_RETRIES", "5")
    monkeypatch.setenv("POSTDEPLOY_STORE_RETRY_DELAY_S", "0.5")  # backoff 0.5, 1, 2, 4, 8 s
    get_settings.cache_clear()
    upgrade(url)
    catalog = write_catalog(settings_env, sample_service, broken_sample_service, recorder.url)
    timers: list[threading.Timer] = []

    def crash_and_recover() -> None:  # like a crash: no checkpoint, WAL recovery on start
        private_postgres.restart("immediate")

    def down_for_a_while() -> None:  # a restart that takes 1.5 s: connections are refused
        private_postgres.stop("fast")
        timers.append(threading.Timer(1.5, private_postgres.start))
        timers[-1].start()

    faults = [
        ("INSERT INTO check_result", crash_and_recover),  # record-sweep, after its services write
        ("FROM check_result", down_for_a_while),  # the uptime report's read
    ]
    with on_statement(private_postgres.port, faults) as fired:
        state = health_check(catalog_path=str(catalog), return_state=True)
    for timer in timers:
        timer.join()

    assert len(fired) == 2, fired  # both faults really hit the run
    assert state.is_completed(), state.message
    result = state.result()
    assert result["checks"] == 3 and result["failed"] == 1
    assert result["state_changes"] == ["billing/health is DOWN: HTTP 503, expected 200"]
    assert Path(result["report"]).read_text().rstrip().endswith("</html>")
    attempts = task_attempts(state.state_details.flow_run_id)
    assert attempts["record-sweep"] == 2  # failed at the restart, then stored
    assert attempts["uptime-report"] >= 2  # failed while the server was down, then written

    stored = counts(url)
    assert stored["services"] == 2
    assert stored["results"] == 3 and stored["states"] == 3  # the sweep once, none lost
    assert stored["alerts"] == [("check-down:billing:health", "firing")]
    events = [r["json"]["event"] for r in recorder.requests]  # type: ignore[index]
    assert events == ["check.down"]  # notified once, after the retried write

    # the next sweep runs normally on the restarted server and changes nothing it should not
    again = health_check(catalog_path=str(catalog))
    assert again["state_changes"] == []
    assert counts(url)["results"] == 6 and len(recorder.requests) == 1
