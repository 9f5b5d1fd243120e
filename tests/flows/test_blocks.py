"""postdeploy's blocks meet Prefect's block standards and keep their secrets on a real server."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from prefect.blocks.core import Block
from prefect.testing.standard_test_suites import BlockStandardTestSuite

from blocks import BackupLocation, Notifier, PrometheusConnection, StoreConnection
from flows.health_check import health_check
from postdeploy.settings import get_settings
from postdeploy.store.migrate import upgrade
from tests.conftest import Recorder


class StandardTests(BlockStandardTestSuite):
    def test_has_a_valid_image(self, block: type[Block]) -> None:
        # Prefect's version downloads the logo; there is no internet here. Ours ship no
        # remote logo, so nothing is ever fetched when the UI lists them.
        assert block._logo_url is None


class TestStoreConnection(StandardTests):
    @pytest.fixture
    def block(self) -> type[Block]:
        return StoreConnection


class TestNotifier(StandardTests):
    @pytest.fixture
    def block(self) -> type[Block]:
        return Notifier


class TestPrometheusConnection(StandardTests):
    @pytest.fixture
    def block(self) -> type[Block]:
        return PrometheusConnection


class TestBackupLocation(StandardTests):
    @pytest.fixture
    def block(self) -> type[Block]:
        return BackupLocation


def test_a_saved_store_block_loads_with_its_secret_and_never_shows_it() -> None:
    StoreConnection(url="postgresql://ops:s3cret@db:5432/pd").save("test-store", overwrite=True)
    loaded = StoreConnection.load("test-store")
    assert loaded.url.get_secret_value() == "postgresql://ops:s3cret@db:5432/pd"
    assert "s3cret" not in repr(loaded) and "s3cret" not in str(loaded.model_dump())
    assert loaded.masked() == "postgresql://ops:***@db:5432/pd"


def test_a_route_naming_a_notifier_block_delivers_with_its_token(
    settings_env: Path, broken_sample_service: str, recorder: Recorder
) -> None:
    Notifier(kind="webhook", url=recorder.url, token="tok-123").save("ops-hook", overwrite=True)
    catalog = settings_env / "catalog.yaml"
    catalog.write_text(
        yaml.safe_dump(
            {
                "services": [
                    {
                        "name": "billing",
                        "url": broken_sample_service,
                        "routes": ["ops"],
                        "checks": [{"name": "health", "url": "/healthz"}],
                    }
                ],
                "routes": [{"name": "ops", "kind": "webhook", "block": "ops-hook"}],
            }
        )
    )
    upgrade(get_settings().database_url)

    health_check(catalog_path=str(catalog), write_report=False)

    (request,) = recorder.requests
    assert request["headers"]["Authorization"] == "Bearer tok-123"  # type: ignore[index]
    assert request["json"]["summary"] == "billing/health is DOWN: HTTP 503, expected 200"  # type: ignore[index]


def test_a_slack_notifier_posts_slack_text(
    settings_env: Path, broken_sample_service: str, recorder: Recorder
) -> None:
    Notifier(kind="slack", url=recorder.url).save("ops-slack", overwrite=True)
    catalog = settings_env / "catalog.yaml"
    catalog.write_text(
        yaml.safe_dump(
            {
                "services": [
                    {"name": "billing", "url": broken_sample_service,
                     "checks": [{"name": "health", "url": "/healthz"}]}
                ],
                "routes": [{"name": "chat", "kind": "slack", "block": "ops-slack"}],
                "notify_on_state_change": ["chat"],
            }
        )
    )  # fmt: skip
    upgrade(get_settings().database_url)
    health_check(catalog_path=str(catalog), write_report=False)
    assert recorder.requests[0]["json"] == {
        "text": "billing/health is DOWN: HTTP 503, expected 200"
    }
