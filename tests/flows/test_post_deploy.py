"""Post-deploy checks on a real Prefect server against real sample services."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL
from pydantic import SecretStr
from sqlalchemy import select

from flows.post_deploy import post_deploy_check
from postdeploy.settings import Settings, get_settings
from postdeploy.store.deployments import get_deployment
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import incident
from postdeploy.store.session import store_transaction
from tests.conftest import serving


def write_catalog(path: Path, **services: str) -> Path:
    doc = {
        "services": [
            {"name": name, "url": url, "version_url": "/version", "checks": [
                {"name": "health", "url": "/healthz", "smoke": True},
                {"name": "orders", "url": "/api/orders"},  # not a smoke check
            ]}
            for name, url in services.items()
        ]
    }  # fmt: skip
    file = path / "catalog.yaml"
    file.write_text(yaml.safe_dump(doc))
    return file


def test_a_good_deploy_passes_and_is_written_to_the_release_notes(
    settings_env: Path, sample_service: str
) -> None:
    upgrade(get_settings().database_url)
    catalog = write_catalog(settings_env, web=sample_service)
    result = post_deploy_check(
        service="web", version="1.2.3", commit="abc123", catalog_path=str(catalog),
        canary_window_s=1, version_timeout_s=2,
    )  # fmt: skip
    assert result["verdict"] == "pass" and result["reasons"] == []
    assert "version endpoint reports 1.2.3" in result["checks"]
    assert "smoke health: HTTP 200" in result["checks"]
    assert not any("orders" in c for c in result["checks"])
    with store_transaction(get_settings().database_url) as conn:
        row = get_deployment(conn, deployment_id=result["deployment_id"])
    assert row is not None and row["verdict"] == "pass" and row["failed"] is False
    notes = (settings_env / "reports" / "releases.md").read_text()
    assert "## web 1.2.3 (production): PASS" in notes and "commit `abc123`" in notes


def test_a_broken_deploy_fails_with_each_reason(
    settings_env: Path, broken_sample_service: str
) -> None:
    upgrade(get_settings().database_url)
    catalog = write_catalog(settings_env, billing=broken_sample_service)
    result = post_deploy_check(
        service="billing", version="2.0.0", catalog_path=str(catalog),
        canary_window_s=1, version_timeout_s=1,
    )  # fmt: skip
    assert result["verdict"] == "fail"
    assert any("never reported '2.0.0'" in r and "'0.0.1-bad'" in r for r in result["reasons"])
    assert "smoke health: HTTP 503, expected 200" in result["reasons"]
    notes = (settings_env / "reports" / "releases.md").read_text()
    assert "## billing 2.0.0 (production): FAIL" in notes

    # a failed deploy opens one incident, whatever the number of checks of that deploy
    again = post_deploy_check(
        service="billing", version="2.0.0", deployment_id=result["deployment_id"],
        catalog_path=str(catalog), canary_window_s=1, version_timeout_s=1,
    )  # fmt: skip
    assert again["incident"] == result["incident"] is not None
    with store_transaction(get_settings().database_url) as conn:
        rows = list(conn.execute(select(incident.c.title, incident.c.severity, incident.c.status)))
    assert rows == [("Deploy 2.0.0 of billing failed its post-deploy check", "high", "open")]


@pytest.fixture
def post_deploy_deployment() -> str:
    return str(post_deploy_check.to_deployment(name="post-deploy-check").apply())


def test_the_deploy_hook_records_once_and_starts_one_run_per_deploy(
    settings_env: Path, sample_service: str, post_deploy_deployment: str
) -> None:
    store = get_settings().database_url
    upgrade(store)
    catalog = write_catalog(settings_env, web=sample_service)
    settings = Settings(
        database_url=store, catalog=catalog, hooks_token=SecretStr("t"),
        prefect_api_url=PREFECT_API_URL.value(),
    )  # fmt: skip
    auth = {"Authorization": "Bearer t"}
    event = {"service": "web", "version": "1.2.3", "commit": "abc"}
    with serving(settings) as api:
        first = api.post("/hooks/deploy", json=event, headers=auth)
        again = api.post("/hooks/deploy", json=event, headers=auth)
        unknown = api.post("/hooks/deploy", json={**event, "service": "nope"}, headers=auth)
        anonymous = api.post("/hooks/deploy", json=event)
        status = api.get(f"/hooks/deploy/{first.json()['deployment_id']}", headers=auth)
    assert first.status_code == 202 and first.json()["new"] is True
    assert again.json()["deployment_id"] == first.json()["deployment_id"]
    assert again.json()["flow_run_id"] == first.json()["flow_run_id"]
    assert unknown.status_code == 404 and "unknown service 'nope'" in unknown.json()["detail"]
    assert anonymous.status_code == 401
    assert status.json()["verdict"] is None and status.json()["service"] == "web"

    async def run() -> Any:
        async with get_client() as client:
            return await client.read_flow_run(first.json()["flow_run_id"])

    flow_run = asyncio.run(run())
    assert str(flow_run.deployment_id) == post_deploy_deployment
    assert flow_run.parameters["deployment_id"] == first.json()["deployment_id"]
    assert flow_run.parameters["version"] == "1.2.3"
