"""The maintenance calendar: each part is a subflow; one failing part does not stop the rest."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import text

from flows.maintenance import daily_maintenance, weekly_maintenance
from postdeploy.settings import get_settings
from postdeploy.store.migrate import upgrade
from postdeploy.store.session import store_transaction


def test_daily_maintenance_runs_the_health_check_and_the_log_review_as_subflows(
    settings_env: Path, sample_service: str
) -> None:
    upgrade(get_settings().database_url)
    log = settings_env / "app.log"
    log.write_text("2026-11-27T10:00:00Z ERROR order 1 failed\n2026-11-27T10:00:01Z INFO ok\n")
    catalog = settings_env / "catalog.yaml"
    catalog.write_text(
        yaml.safe_dump(
            {
                "services": [
                    {
                        "name": "web",
                        "url": sample_service,
                        "checks": [{"name": "health", "url": "/healthz"}],
                        "logs": [{"path": str(log), "format": "<Time> <Level> <Content>"}],
                    }
                ]
            }
        )
    )
    state = daily_maintenance(catalog_path=str(catalog), return_state=True)
    assert state.is_completed(), state.message
    parts = state.result()
    assert parts["health-check"]["result"]["checks"] == 1
    assert parts["log-review"]["result"]["services"]["web"]["lines"] == 2
    assert (settings_env / "reports" / "uptime" / "index.html").exists()


def test_a_failing_part_fails_the_calendar_run_after_the_others_ran(settings_env: Path) -> None:
    # the metrics table is gone: the performance review fails; the security scan still runs
    upgrade(get_settings().database_url)
    with store_transaction(get_settings().database_url) as conn:
        conn.execute(text("DROP TABLE metric_sample"))
    catalog = settings_env / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"services": [{"name": "web"}]}))
    state = weekly_maintenance(catalog_path=str(catalog), return_state=True)
    assert state.is_failed()
    assert "performance-review" in state.message
    parts = state.result(raise_on_failure=False)
    assert parts["performance-review"]["state"] == "Failed"
    assert parts["security-scan"]["state"] == "completed"


def test_monthly_maintenance_processes_surveys_and_writes_the_kpi_report(
    settings_env: Path,
) -> None:
    from datetime import UTC, datetime

    from flows.kpi_report import last_complete
    from flows.maintenance import monthly_maintenance
    from tests.integration.test_kpi_store import CATALOG, generate, load

    url = get_settings().database_url
    upgrade(url)
    load(url, generate())
    catalog = settings_env / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(CATALOG.model_dump(mode="json", exclude_defaults=True)))
    state = monthly_maintenance(catalog_path=str(catalog), return_state=True)
    assert state.is_completed(), state.message
    parts = state.result()
    assert set(parts) == {"capacity-planning", "survey-processing", "kpi-report"}
    month = last_complete("monthly", datetime.now(UTC), CATALOG.zone()).label
    assert parts["kpi-report"]["result"]["period"] == month
    assert (settings_env / "reports" / "monthly" / month / "index.html").exists()
    assert (settings_env / "reports" / "surveys" / month / "index.html").exists()
