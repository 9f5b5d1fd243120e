"""POST /hooks/alertmanager on a real uvicorn: auth, bad bodies, dedup, nothing half-stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import SecretStr

from postdeploy.settings import Settings
from postdeploy.store.received_alerts import count_alerts
from postdeploy.store.session import store_transaction
from tests.conftest import free_port, serving

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def am_alert(
    fp: str, status: str = "firing", severity: str = "warning", **labels: str
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "HighLatency", "severity": severity, "service": "api", **labels},
        "annotations": {"summary": f"alert {fp}"},
        "startsAt": "2026-11-27T10:00:00.000Z",
        "endsAt": "2026-11-27T10:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": fp,
    }


def payload(*alerts: dict[str, Any], group: str = '{}:{alertname="HighLatency"}') -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": group,
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "postdeploy",
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def settings(url: str, **extra: Any) -> Settings:
    return Settings(
        database_url=url, hooks_token=SecretStr(TOKEN), hooks_max_body_bytes=4096, **extra
    )


def stored(url: str) -> int:
    with store_transaction(url) as conn:
        return count_alerts(conn, source="alertmanager")


def test_alerts_are_stored_once_however_often_alertmanager_sends_them(store_url: str) -> None:
    body = payload(am_alert("a1"), am_alert("a2"), am_alert("a1"))  # HA duplicate inside
    with serving(settings(store_url)) as api:
        first = api.post("/hooks/alertmanager", json=body, headers=AUTH)
        again = api.post("/hooks/alertmanager", json=body, headers=AUTH)
        resolved = api.post(
            "/hooks/alertmanager", json=payload(am_alert("a1", "resolved")), headers=AUTH
        )
    assert first.status_code == 200 and first.json()["stored"] == 2
    assert again.json() == {"stored": 0, "duplicates": 2, "incident_run": None}
    assert resolved.json()["duplicates"] == 1
    assert stored(store_url) == 2
    with store_transaction(store_url) as conn:
        from sqlalchemy import select

        from postdeploy.store.schema import alert

        rows = {r.fingerprint: r for r in conn.execute(select(alert))}
    assert rows["a1"].status == "resolved" and rows["a1"].ends_at is not None
    assert rows["a2"].status == "firing" and rows["a2"].ends_at is None
    assert rows["a2"].service == "api" and rows["a2"].summary == "alert a2"


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": TOKEN}, 401)],
)
def test_a_missing_or_bad_token_is_refused_and_stores_nothing(
    store_url: str, headers: dict[str, str], status: int
) -> None:
    with serving(settings(store_url)) as api:
        response = api.post("/hooks/alertmanager", json=payload(am_alert("x")), headers=headers)
    assert response.status_code == status
    assert stored(store_url) == 0


def test_without_a_configured_token_the_receiver_refuses_everything(store_url: str) -> None:
    with serving(Settings(database_url=store_url)) as api:
        response = api.post("/hooks/alertmanager", json=payload(am_alert("x")), headers=AUTH)
    assert response.status_code == 503 and "POSTDEPLOY_HOOKS_TOKEN" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (json.dumps({**payload(am_alert("x")), "version": "3"}).encode(), "version"),
        (json.dumps(payload(am_alert("x"), {"status": "firing"})).encode(), "alerts.1.labels"),
        (json.dumps({"version": "4"}).encode(), "groupKey"),
    ],
)
def test_a_malformed_body_is_a_400_with_the_reason_and_nothing_is_half_stored(
    store_url: str, body: bytes, reason: str
) -> None:
    with serving(settings(store_url)) as api:
        response = api.post(
            "/hooks/alertmanager",
            content=body,
            headers={**AUTH, "Content-Type": "application/json"},
        )
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert stored(store_url) == 0


def test_an_oversize_body_is_a_413(store_url: str) -> None:
    big = payload(*(am_alert(f"fp{i}") for i in range(40)))  # > 4 KiB limit in these settings
    with serving(settings(store_url)) as api:
        declared = api.post("/hooks/alertmanager", json=big, headers=AUTH)

        def chunks() -> Any:
            data = json.dumps(big).encode()
            for i in range(0, len(data), 1000):
                yield data[i : i + 1000]

        streamed = api.post("/hooks/alertmanager", content=chunks(), headers=AUTH)
    assert declared.status_code == 413 and streamed.status_code == 413
    assert stored(store_url) == 0


def test_a_critical_group_is_stored_even_when_prefect_cannot_be_reached(store_url: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api"
    body = payload(am_alert("c1", severity="critical"))
    with serving(settings(store_url, prefect_api_url=dead)) as api:
        response = api.post("/hooks/alertmanager", json=body, headers=AUTH)
    assert response.status_code == 503  # Alertmanager retries; dedup keeps it to one row
    assert "Prefect API" in response.json()["error"]
    assert stored(store_url) == 1
