"""performance-review on a real Prefect server over metrics and deploys in the store."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

from flows.performance_review import performance_review
from postdeploy.settings import get_settings
from postdeploy.store.deployments import record_deployment
from postdeploy.store.metrics import record_samples
from postdeploy.store.migrate import upgrade
from postdeploy.store.session import store_transaction

DAY = 86400


def test_a_regression_after_a_deploy_is_reported_with_that_deploy(settings_env: Path) -> None:
    url = get_settings().database_url
    upgrade(url)
    now = time.time()
    deployed = now - 3 * DAY
    with store_transaction(url) as conn:
        record_samples(
            conn,
            samples=[
                ("latency_p95_ms", {"service": "api"}, float(t), 80.0 if t < deployed else 130.0)
                for t in range(int(now - 14 * DAY), int(now), 1800)
            ],
        )
        record_deployment(
            conn, service="api", version="2.3.0", environment="production", commit=None,
            committed_at=None, deployed_at=datetime.fromtimestamp(deployed - 300, UTC),
        )  # fmt: skip
    catalog = settings_env / "catalog.yaml"
    catalog.write_text(
        yaml.safe_dump(
            {
                "services": [
                    {"name": "api", "url": "http://127.0.0.1:1", "metrics": {"scrape": "/m"}},
                    {"name": "batch"},
                ]
            }
        )
    )

    result = performance_review(catalog_path=str(catalog))

    assert result["regressions"] == {"api": ["latency_p95_ms +62% after deploy 2.3.0"]}
    (folder,) = (settings_env / "reports" / "performance").iterdir()
    html = (folder / "index.html").read_text()
    assert "regressed since" in html and "deploy 2.3.0" in html
    assert "batch" in html and "metrics unavailable" in html
