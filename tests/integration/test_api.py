"""The hooks API served by a real uvicorn on a free port, asked over real HTTP."""

from __future__ import annotations

from postdeploy import __version__
from postdeploy.settings import Settings
from postdeploy.store.engine import mask_url
from tests.conftest import free_port, serving


def test_healthz_is_ok_when_the_store_answers(store_url: str) -> None:
    with serving(Settings(database_url=store_url)) as api:
        response = api.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["checks"]["store"] == {"ok": True, "url": mask_url(store_url)}


def test_healthz_is_degraded_with_503_when_the_store_is_unreachable() -> None:
    password = "pw-never-shown"
    port = free_port()  # nothing listens there
    url = f"postgresql://ops:{password}@127.0.0.1:{port}/x"
    with serving(Settings(database_url=url)) as api:
        response = api.get("/healthz")
        again = api.get("/healthz")  # the API stays up and keeps answering
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    store = body["checks"]["store"]
    assert store["ok"] is False
    assert store["url"] == f"postgresql://ops:***@127.0.0.1:{port}/x"
    assert "refused" in store["error"].lower()
    assert password not in response.text
    assert again.status_code == 503 and password not in again.text


def test_the_openapi_schema_lists_healthz() -> None:
    with serving(Settings(database_url="sqlite://")) as api:
        response = api.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "postdeploy hooks API"
    assert schema["info"]["version"] == __version__
    assert "get" in schema["paths"]["/healthz"]
