"""One Prefect test harness (a real temporary Prefect server) for every flow test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from postdeploy.settings import get_settings


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    # heartbeats cost ~1 s per flow run and detect nothing in a test
    with prefect_test_harness(server_startup_timeout=120):
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """POSTDEPLOY_* settings for one test: a SQLite store and a reports folder in tmp_path."""
    monkeypatch.setenv("POSTDEPLOY_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("POSTDEPLOY_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("POSTDEPLOY_STORE_RETRY_DELAY_S", "0")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
