"""disaster-recovery on a real Prefect server: a drill backs up the store, verifies the backup,
fails a dead service over to its healthy standby and reports RTO and RPO."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from blocks.backup import BackupLocation
from flows.disaster_recovery import DisasterRecoveryFailed, disaster_recovery
from postdeploy.catalog import load_catalog
from postdeploy.settings import get_settings
from postdeploy.store import backups
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import service
from postdeploy.store.services import sync_services
from postdeploy.store.session import in_store
from tests.conftest import free_port


def write_catalog(folder: Path, primary: str, standby: str) -> Path:
    doc = {
        "services": [
            {
                "name": "shop",
                "url": primary,
                "standby_url": standby,
                "checks": [{"name": "health", "url": "/healthz", "timeout": "2s"}],
            }
        ],
        "dr": {"rto": "10m", "rpo": "1h", "backup_folder": str(folder / "backups"), "keep": 3},
    }
    file = folder / "catalog.yaml"
    file.write_text(yaml.safe_dump(doc))
    return file


def active_url(name: str) -> str:
    query = select(service.c.active_url).where(service.c.name == name)
    return str(in_store(get_settings().database_url, lambda c: c.execute(query).scalar_one()))


def test_a_drill_backs_up_verifies_and_fails_a_dead_service_over_to_its_standby(
    settings_env: Path, sample_service: str
) -> None:
    upgrade(get_settings().database_url)
    dead = f"http://127.0.0.1:{free_port()}"
    catalog = write_catalog(settings_env, dead, sample_service)
    services = load_catalog(catalog).services
    in_store(get_settings().database_url, lambda c: sync_services(c, services=services))
    BackupLocation(folder=str(settings_env / "offsite")).save("dr-test", overwrite=True)

    result = disaster_recovery(
        action="drill", service="shop", catalog_path=str(catalog), backup_block="dr-test"
    )

    assert result["backup"].startswith(str(settings_env / "offsite"))
    assert result["verified"] == result["backup"] == result["newest_good"]
    assert result["failover"] == sample_service
    assert active_url("shop") == sample_service
    assert [m.split(" ")[0] for m in result["measures"]] == ["RTO", "RPO"]
    assert all(m.endswith(": met") for m in result["measures"])
    (folder,) = (settings_env / "reports" / "dr").iterdir()
    md = (folder / "report.md").read_text()
    assert "**PASSED**" in md and "| RTO |" in md and "| RPO |" in md
    assert "| service | 1 | 1 |" in md
    assert f"shop: `{dead}` → `{sample_service}`: switched" in md
    assert "primary health: down (connection refused" in md
    assert "Failover" in (folder / "index.html").read_text()


def test_a_failover_to_an_unhealthy_standby_fails_loudly_and_keeps_the_active_url(
    settings_env: Path, sample_service: str, broken_sample_service: str
) -> None:
    upgrade(get_settings().database_url)
    catalog = write_catalog(settings_env, sample_service, broken_sample_service)

    with pytest.raises(DisasterRecoveryFailed, match="standby .* unhealthy .*HTTP 503"):
        disaster_recovery(action="failover", service="shop", catalog_path=str(catalog))

    assert active_url("shop") == sample_service
    (folder,) = (settings_env / "reports" / "dr").iterdir()
    assert "NOT switched" in (folder / "report.md").read_text()


def test_a_corrupt_backup_fails_verify_and_the_drilled_one_stays_the_good_one(
    settings_env: Path, sample_service: str
) -> None:
    upgrade(get_settings().database_url)
    catalog = str(write_catalog(settings_env, sample_service, sample_service))
    good = disaster_recovery(action="drill", catalog_path=catalog)["backup"]
    corrupt = disaster_recovery(action="backup", catalog_path=catalog)["backup"]
    data = bytearray(Path(corrupt).read_bytes())
    data[len(data) // 2] ^= 0xFF
    Path(corrupt).write_bytes(bytes(data))

    with pytest.raises(DisasterRecoveryFailed, match="verify failed: .*sha256"):
        disaster_recovery(action="verify", catalog_path=catalog)

    url = get_settings().database_url
    assert in_store(url, lambda c: backups.get_backup(c, location=corrupt))["status"] == "bad"  # type: ignore[index]
    newest_good = in_store(url, lambda c: backups.newest(c, status="good"))
    assert newest_good is not None and newest_good["location"] == good
