"""The store password reaches no output. Flows run on PostgreSQL with a password in
POSTDEPLOY_DATABASE_URL (the test server's trust auth ignores it): a health check, a drill
(pg_dump, then pg_restore into a scratch database) and a run with the store unreachable; then
every report, backup, flow result, log, artifact and run record is searched for it."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import get_client
from sqlalchemy.engine import make_url

from flows.disaster_recovery import disaster_recovery
from flows.health_check import health_check
from postdeploy.catalog import load_catalog
from postdeploy.settings import get_settings
from postdeploy.store.migrate import upgrade
from postdeploy.store.services import sync_services
from postdeploy.store.session import in_store
from tests.conftest import free_port

PASSWORD = "pw-SECRET-store-3e81"


def with_password(url: str, port: int | None = None) -> str:
    parsed = make_url(url)
    parsed = parsed.set(username=parsed.username or getpass.getuser(), password=PASSWORD)
    if port is not None:
        parsed = parsed.set(port=port)
    return parsed.render_as_string(hide_password=False)


async def everything_on_the_server() -> list[str]:
    """Every flow run, task run, log and artifact on the Prefect server, as JSON."""
    async with get_client() as client:
        out: list[str] = []
        for read in (
            client.read_flow_runs,
            client.read_task_runs,
            client.read_logs,
            client.read_artifacts,
        ):
            offset = 0
            while page := await read(limit=200, offset=offset):
                out += [item.model_dump_json() for item in page]
                offset += len(page)
        return out


def test_the_store_password_is_in_no_report_backup_result_log_or_artifact(
    settings_env: Path,
    pg_database: str,
    sample_service: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    url = with_password(pg_database)
    monkeypatch.setenv("POSTDEPLOY_DATABASE_URL", url)
    get_settings.cache_clear()
    upgrade(url)
    catalog = settings_env / "catalog.yaml"
    catalog.write_text(
        yaml.safe_dump(
            {"services": [{"name": "shop", "url": sample_service, "standby_url": sample_service,
                           "checks": [{"name": "health", "url": "/healthz"}]}],
             "dr": {"backup_folder": str(settings_env / "backups")}}
        )
    )  # fmt: skip
    services = load_catalog(catalog).services
    in_store(url, lambda c: sync_services(c, services=services))

    checked = health_check(catalog_path=str(catalog))
    drill = disaster_recovery(action="drill", catalog_path=str(catalog))
    # the same password, the store unreachable: the failure names the store, masked
    monkeypatch.setenv("POSTDEPLOY_DATABASE_URL", with_password(pg_database, free_port()))
    monkeypatch.setenv("POSTDEPLOY_STORE_RETRIES", "0")
    get_settings.cache_clear()
    unreachable = health_check(catalog_path=str(catalog), return_state=True)
    get_settings.cache_clear()

    assert checked["checks"] == 1 and drill["verified"]  # the flows really used the store
    assert unreachable.is_failed()
    message = str(unreachable.message) + str(unreachable.result(raise_on_failure=False))
    assert "***" in message  # the masked URL is named

    outputs: dict[str, str] = {
        "health-check result": str(checked),
        "drill result": str(drill),
        "failed run": message,
    }
    for path in sorted(p for p in settings_env.rglob("*") if p.is_file()):
        outputs[str(path)] = path.read_bytes().decode("utf-8", "replace")
    assert any("backups" in name for name in outputs)  # the pg_dump file is searched too
    outputs["Prefect server"] = "\n".join(asyncio.run(everything_on_the_server()))
    captured = capfd.readouterr()
    outputs["stdout"], outputs["stderr"] = captured.out, captured.err
    assert [name for name, text in outputs.items() if PASSWORD in text] == []
