"""Schemathesis against the hooks API's own OpenAPI schema, over real HTTP to a real uvicorn,
with a real Prefect server holding the deployments the hooks start, on SQLite and PostgreSQL:
no request, valid or not, with or without the token, gets a server error, and every answer
(status, headers, body) is one the schema documents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from prefect.settings import PREFECT_API_URL
from pydantic import SecretStr

from flows.incident_response import incident_response
from flows.post_deploy import post_deploy_check
from postdeploy.api.app import create_app
from postdeploy.settings import Settings
from postdeploy.store.migrate import upgrade
from tests.conftest import create_pg_database, drop_pg_database, serving

ROOT = Path(__file__).parents[2]
TOKEN = "fuzz-token"

# the schema as the app publishes it at /openapi.json; building the app opens nothing
schema = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi())

# bounded and repeatable: the same examples every run (derandomized, no example database)
REPEATABLE: dict[str, Any] = {
    "derandomize": True,
    "deadline": None,
    "database": None,
    "suppress_health_check": list(HealthCheck),
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hooks_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The hooks API on a migrated store, with the deployments its hooks start."""
    post_deploy_check.to_deployment(name="post-deploy-check").apply()
    incident_response.to_deployment(name="incident-response").apply()
    if request.param == "sqlite":
        store, admin = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'store.db'}", None
    else:
        admin = request.getfixturevalue("pg_admin_url")
        store = create_pg_database(admin)
    upgrade(store)
    configured = Settings(
        database_url=store,
        catalog=ROOT / "data" / "postdeploy.yaml",
        hooks_token=SecretStr(TOKEN),
        prefect_api_url=PREFECT_API_URL.value(),
        # the limits have tests of their own; here they would only turn answers into 429s
        hooks_rate_per_minute=0,
        hooks_anonymous_rate_per_minute=0,
    )
    try:
        with serving(configured) as api:
            yield str(api.base_url).rstrip("/")
    finally:
        if admin:
            drop_pg_database(admin, store)


@schema.parametrize()
@settings(max_examples=15, **REPEATABLE)
def test_no_request_with_the_token_gets_a_server_error_or_an_undocumented_answer(
    case: Any, hooks_api: str
) -> None:
    case.call_and_validate(base_url=hooks_api, headers={"Authorization": f"Bearer {TOKEN}"})


# refused before any store is touched: one backend is enough
@pytest.mark.parametrize("hooks_api", ["sqlite"], indirect=True)
@schema.parametrize()
@settings(max_examples=5, **REPEATABLE)
def test_no_request_without_the_token_gets_a_server_error_or_an_undocumented_answer(
    case: Any, hooks_api: str
) -> None:
    case.call_and_validate(base_url=hooks_api)
