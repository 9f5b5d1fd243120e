"""The incident-response runbook on a real Prefect server: a real sample service, real
notification and fix endpoints (the recorder), and an operator approving through the API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.exceptions import ParameterTypeError
from prefect.flow_runs import resume_flow_run
from sqlalchemy import select

from flows.incident_response import incident_response
from postdeploy.domain.checks import CheckOutcome
from postdeploy.settings import get_settings
from postdeploy.store.checks import record_sweep
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import incident, incident_event
from postdeploy.store.services import sync_services
from postdeploy.store.session import store_transaction
from tests.conftest import Recorder

FAST: dict[str, Any] = {"poll_s": 1, "healthy_minutes": 1.0, "monitor_timeout_minutes": 0.05}


def write_catalog(folder: Path, recorder: Recorder, **action: Any) -> str:
    service: dict[str, Any] = {"name": "api", "url": "http://127.0.0.1:9", "depends_on": ["db"],
                               "checks": [{"name": "health", "url": "/healthz"}]}  # fmt: skip
    if action:
        service["actions"] = [{"name": "restart", "kind": "http", "url": f"{recorder.url}/fix",
                               "retry_delay": 0, **action}]  # fmt: skip
    catalog = {
        "services": [service, {"name": "db"}],
        "routes": [
            {"name": "pager", "kind": "webhook", "url": f"{recorder.url}/pager"},
            {"name": "desk", "kind": "webhook", "url": f"{recorder.url}/desk"},
        ],
        "escalation": {"levels": [
            {"level": "L1", "name": "User support", "routes": ["desk"]},
            {"level": "L2", "name": "Technical support"},
            {"level": "L3", "name": "Development team"},
            {"level": "L4", "name": "Emergency response", "routes": ["pager"]},
        ]},
    }  # fmt: skip
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog))
    return str(path)


@pytest.fixture
def store(settings_env: Path) -> str:
    url = get_settings().database_url
    upgrade(url)
    return url


def health(url: str, ok: bool, ago_s: float = 3600) -> None:
    """The api's health check state, as the health-check flow would have stored it."""
    from postdeploy.catalog import Service

    with store_transaction(url) as conn:
        ids = sync_services(conn, services=[Service(name="api"), Service(name="db")])
        outcome = CheckOutcome("api", "health", ok, time.time() - ago_s, 5.0, 200, "HTTP 200")
        record_sweep(conn, sweep_id=f"s{time.time()}", outcomes=[outcome], ids=ids,
                     thresholds={("api", "health"): 1})  # fmt: skip


def timeline(url: str, incident_id: int) -> list[tuple[str, str, str]]:
    with store_transaction(url) as conn:
        rows = conn.execute(
            select(incident_event.c.kind, incident_event.c.actor, incident_event.c.message)
            .where(incident_event.c.incident_id == incident_id)
            .order_by(incident_event.c.ts, incident_event.c.id)
        )
        return [tuple(r) for r in rows]


def paths(recorder: Recorder, path: str) -> list[Any]:
    return [r["json"] for r in recorder.requests if r["path"] == path]


def in_thread(run: Callable[[], dict[str, Any]]) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["result"] = run()
        except BaseException as exc:  # reported by the test, not lost in the thread
            out["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, out


def paused_run(timeout: float = 60) -> UUID:
    """The incident-response run waiting for its operator."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["incident-response"])),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                ),
            )
            if runs:
                return runs[0].id
            time.sleep(0.2)
    raise AssertionError("no incident-response run paused for approval")


def resume_with(answer: dict[str, Any]) -> dict[str, Any]:
    """Resume the paused run with the operator's input, as the UI's form does."""
    run_id = paused_run()
    deadline = time.monotonic() + 30
    while True:  # the form's schema is saved just after the pause; resuming needs it
        try:
            resume_flow_run(run_id, run_input=answer)
            return answer
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_critical_incident_pages_l4_runs_the_approved_fix_and_resolves_with_a_review(
    store: str, settings_env: Path, recorder: Recorder
) -> None:
    catalog = write_catalog(settings_env, recorder, retries=1)
    health(store, ok=True)
    thread, out = in_thread(
        lambda: incident_response(
            service="api", severity="critical", summary="orders fail", commander="ana",
            catalog_path=catalog, **FAST,
        )
    )  # fmt: skip
    resume_with({"approve": True, "reason": "restart is safe", "operator": "bo"})
    thread.join(120)
    assert "error" not in out, out.get("error")
    result = out["result"]
    assert (result["level"], result["fix"], result["status"]) == ("L4", "fixed", "resolved")
    (page,) = paths(recorder, "/hook/pager")
    assert page["level"] == "L4" and "orders fail" in page["summary"]
    assert paths(recorder, "/hook/desk") == []
    assert len(paths(recorder, "/hook/fix")) == 1

    events = timeline(store, result["incident"])
    kinds = [k for k, _, _ in events]
    assert kinds[:3] == ["opened", "assessment", "commander"]
    assert ("fix_approved", "bo", "bo approved the emergency fix: restart is safe") in events
    states = [m.split(" ")[0:3] for k, _, m in events if k == "communication"]
    assert [s[0] for s in states] == ["We", "We", "We", "The"]  # investigating..resolved
    with store_transaction(store) as conn:
        row = conn.execute(select(incident).where(incident.c.id == result["incident"])).one()
    assert row.status == "resolved" and row.commander == "ana"
    assert row.acknowledged_at <= row.mitigated_at <= row.resolved_at
    review = Path(result["review"])
    assert review == settings_env / "reports" / "incidents" / str(row.id) / "index.html"
    assert "bo approved" in review.read_text()
    assert "SLA overall: **met**" in (review.parent / "review.md").read_text()
    status = (settings_env / "reports" / "status" / "status.json").read_text()
    assert "is resolved" in status


def test_a_rejected_fix_is_skipped_and_the_rejection_is_on_the_timeline(
    store: str, settings_env: Path, recorder: Recorder
) -> None:
    catalog = write_catalog(settings_env, recorder, retries=0)
    health(store, ok=True)
    thread, out = in_thread(
        lambda: incident_response(
            service="api", severity="low", summary="slow pages", catalog_path=catalog, **FAST
        )  # fmt: skip
    )
    resume_with({"approve": False, "reason": "too risky at peak", "operator": "cy"})
    thread.join(120)
    result = out["result"]
    assert (result["level"], result["fix"], result["status"]) == ("L1", "skipped", "resolved")
    assert paths(recorder, "/hook/fix") == [] and len(paths(recorder, "/hook/desk")) == 1
    events = timeline(store, result["incident"])
    assert ("fix_rejected", "cy", "cy rejected the emergency fix: too risky at peak") in events


def test_a_failing_fix_is_retried_by_its_policy_then_the_incident_stays_open(
    store: str, settings_env: Path, recorder: Recorder
) -> None:
    catalog = write_catalog(settings_env, recorder, retries=2)
    recorder.status = 500
    health(store, ok=False)
    result = incident_response(
        service="api", severity="high", summary="checkout down", catalog_path=catalog,
        auto_approve=True, **FAST,
    )  # fmt: skip
    assert (result["fix"], result["status"], result["review"]) == ("failed", "open", None)
    assert len(paths(recorder, "/hook/fix")) == 3  # one attempt and two retries
    (failed,) = [m for k, _, m in timeline(store, result["incident"]) if k == "fix_failed"]
    assert failed.startswith("restart failed after 3 attempts")
    with store_transaction(store) as conn:
        row = conn.execute(select(incident).where(incident.c.id == result["incident"])).one()
    assert row.resolved_at is None and row.level == "L3"


def test_an_unhealthy_service_leaves_the_incident_open_after_the_monitoring_timeout(
    store: str, settings_env: Path, recorder: Recorder
) -> None:
    catalog = write_catalog(settings_env, recorder)  # no fix configured: nothing to approve
    health(store, ok=False)
    result = incident_response(
        service="api", severity="medium", summary="errors", catalog_path=catalog, **FAST
    )
    assert (result["fix"], result["status"]) == ("none configured", "open")
    events = timeline(store, result["incident"])
    assert any(k == "monitor_timeout" and "health" in m for k, _, m in events)
    assessment = next(m for k, _, m in events if k == "assessment")
    assert "not up: api/health" in assessment


def test_the_same_incident_key_again_opens_no_second_incident(
    store: str, settings_env: Path, recorder: Recorder
) -> None:
    catalog = write_catalog(settings_env, recorder)
    health(store, ok=True)
    runs = [
        incident_response(
            service="api",
            severity="medium",
            summary="errors",
            incident_key="k1",
            catalog_path=catalog,
            **FAST,
        )  # fmt: skip
        for _ in range(2)
    ]
    assert [r["opened"] for r in runs] == [True, False]
    assert runs[0]["incident"] == runs[1]["incident"]
    assert [k for k, _, _ in timeline(store, runs[0]["incident"])].count("opened") == 1
    assert len(paths(recorder, "/hook/desk")) == 0  # L2 has no routes; told once at most


def test_severity_is_a_form_choice_and_an_unknown_one_is_rejected_before_the_run(
    store: str, settings_env: Path, recorder: Recorder
) -> None:
    schema = incident_response.parameters.model_dump()
    assert schema["properties"]["severity"]["enum"] == ["critical", "high", "medium", "low"]
    assert set(schema["required"]) == {"service", "severity", "summary"}
    catalog = write_catalog(settings_env, recorder)
    with pytest.raises(ParameterTypeError, match="severity: Input should be 'critical'"):
        incident_response(service="api", severity="urgent", summary="x", catalog_path=catalog)  # type: ignore[call-overload]
    with store_transaction(store) as conn:
        assert conn.execute(select(incident)).all() == []


def test_an_unknown_service_fails_naming_the_catalog_services(
    store: str, settings_env: Path, recorder: Recorder
) -> None:
    catalog = write_catalog(settings_env, recorder)
    with pytest.raises(ValueError, match="unknown service 'nope'; the catalog has: api, db"):
        incident_response(service="nope", severity="low", summary="x", catalog_path=catalog)


def test_the_deployment_refuses_an_unknown_severity_before_any_run_exists() -> None:
    from prefect.exceptions import PrefectHTTPStatusError

    # enforce_parameter_schema is to_deployment's default, as it is `prefect deploy`'s
    runner: Any = incident_response.to_deployment(name="schema-check")
    deployment_id: UUID = runner.apply()
    with get_client(sync_client=True) as client:
        with pytest.raises(PrefectHTTPStatusError, match="409|422"):
            client.create_flow_run_from_deployment(
                deployment_id, parameters={"service": "api", "severity": "urgent", "summary": "x"}
            )
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id])
            )
        )
    assert runs == []


def test_the_served_deployment_refuses_a_service_not_in_the_catalog() -> None:
    from prefect.exceptions import PrefectHTTPStatusError

    from flows.deployments import build_deployments

    (runner,) = [d for d in build_deployments(["api", "db"]) if d.name == "incident-response"]
    deployment_id: UUID = runner.apply()
    with get_client(sync_client=True) as client:
        with pytest.raises(PrefectHTTPStatusError, match="409|422"):
            client.create_flow_run_from_deployment(
                deployment_id, parameters={"service": "nope", "severity": "low", "summary": "x"}
            )
        ok = client.create_flow_run_from_deployment(
            deployment_id, parameters={"service": "api", "severity": "low", "summary": "x"}
        )
    assert ok.parameters["service"] == "api"
