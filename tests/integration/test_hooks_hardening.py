"""The hooks API's defences on a real uvicorn: auth on every route that changes anything, the
body limit on every route (declared or chunked, refused before it is read), the rate limit per
token and per address, and a regression test for each server error schemathesis or review
found."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from postdeploy.api.app import create_app
from postdeploy.api.auth import TokenAuth
from postdeploy.settings import Settings
from postdeploy.store.received_alerts import count_alerts
from postdeploy.store.session import store_transaction
from tests.conftest import serving

ROOT = Path(__file__).parents[2]
TOKEN = "hardening-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC = {"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def settings(url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "catalog": ROOT / "data" / "postdeploy.yaml",
        "hooks_token": SecretStr(TOKEN),
        "hooks_max_body_bytes": 4096,
        **extra,
    }
    return Settings(**values)


def am_payload(**alert: Any) -> dict[str, Any]:
    one = {
        "status": "firing",
        "labels": {"alertname": "HighLatency", "service": "api", "severity": "warning"},
        "annotations": {"summary": "slow"},
        "startsAt": "2026-11-27T10:00:00Z",
        "fingerprint": "f1",
        **alert,
    }
    return {"version": "4", "groupKey": "g", "status": "firing", "alerts": [one]}


def stored(url: str) -> int:
    with store_transaction(url) as conn:
        return count_alerts(conn, source="alertmanager")


def every_route(app: Any) -> list[Any]:
    """Every route the app answers, routers included (FastAPI 0.150 includes them lazily)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def guarded(route: Any) -> bool:
    def calls(dependant: Any) -> Iterator[Any]:
        for sub in dependant.dependencies:
            yield sub.call
            yield from calls(sub)

    dependant = getattr(route, "dependant", None)
    return dependant is not None and any(isinstance(c, TokenAuth) for c in calls(dependant))


def test_every_route_but_the_public_ones_depends_on_the_token_check() -> None:
    app = create_app(settings("sqlite://"))
    routes = every_route(app)
    documented = {
        (method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops
    }
    found = {(m, r.path) for r in routes for m in r.methods or ()}
    assert documented <= found, "the enumeration misses routes"
    unguarded = [r for r in routes if not guarded(r)]
    # a new route must take Depends(auth): only read-only public routes may lack it
    assert not [(r.methods, r.path) for r in unguarded if (r.methods or set()) & MUTATING]
    assert {r.path for r in unguarded} <= PUBLIC
    assert {"/hooks/alertmanager", "/hooks/deploy"} <= {
        r.path for r in routes if (r.methods or set()) & MUTATING
    }


def test_every_mutating_route_refuses_a_missing_or_wrong_token_and_stores_nothing(
    store_url: str,
) -> None:
    mutating = [
        (method, r.path) for r in every_route(create_app(settings(store_url)))
        for method in sorted((r.methods or set()) & MUTATING)
    ]  # fmt: skip
    assert len(mutating) >= 2
    body = am_payload()
    with serving(settings(store_url)) as api:
        for method, path in mutating:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                answer = api.request(method, path, json=body, headers=headers)
                assert answer.status_code == 401, (method, path, headers, answer.text)
                assert answer.headers["www-authenticate"] == "Bearer"
    assert stored(store_url) == 0


# --- body limit -------------------------------------------------------------------------


def raw_request(
    port: int, head: str, chunks: tuple[bytes, ...] = ()
) -> tuple[int, dict[str, str], str]:
    """Send a request by hand (the body may never end); read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode())
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except OSError:  # the server answered and closed: the rest was never read
                break
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        top, _, rest = data.partition(b"\r\n\r\n")
        lines = top.decode().split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:])
        while len(rest) < int(headers.get("content-length", 0)):
            rest += sock.recv(65536)
    return int(lines[0].split()[1]), headers, rest.decode()


@pytest.mark.parametrize("path", ["/hooks/alertmanager", "/hooks/deploy", "/healthz"])
def test_a_declared_oversize_body_is_refused_with_413_before_any_of_it_is_sent(
    path: str,
) -> None:
    with serving(settings("sqlite://")) as api:
        port = api.base_url.port
        assert port is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
        )
        status, _, body = raw_request(port, head)  # not one byte of the body sent
    assert status == 413
    assert json.loads(body)["detail"] == "body of 1000000000 bytes is over the 4096 byte limit"


@pytest.mark.parametrize("path", ["/hooks/alertmanager", "/hooks/deploy", "/healthz"])
def test_an_endless_chunked_body_is_cut_off_at_the_limit(path: str) -> None:
    with serving(settings("sqlite://")) as api:
        port = api.base_url.port
        assert port is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"400\r\n" + b" " * 1024 + b"\r\n"
        # 64 KiB offered and no final chunk: only a server that stops reading can answer
        status, _, body = raw_request(port, head, (chunk,) * 64)
    assert status == 413
    assert json.loads(body)["detail"] == "body is over the 4096 byte limit"


def test_a_body_at_the_limit_is_accepted(store_url: str) -> None:
    body = json.dumps(am_payload()).encode()
    padded = body[:-1] + b" " * (4096 - len(body)) + b"}"
    assert len(padded) == 4096
    with serving(settings(store_url)) as api:
        answer = api.post("/hooks/alertmanager", content=padded, headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert stored(store_url) == 1


# --- rate limit -------------------------------------------------------------------------


def limited(url: str) -> Settings:
    return settings(
        url,
        hooks_rate_per_minute=60,
        hooks_rate_burst=3,
        hooks_anonymous_rate_per_minute=60,
        hooks_anonymous_rate_burst=2,
    )


def test_a_token_over_its_rate_gets_429_with_retry_after_then_gets_through_again() -> None:
    with serving(limited("sqlite://")) as api:
        burst = [api.get("/healthz", headers=AUTH).status_code for _ in range(3)]
        over = api.get("/healthz", headers=AUTH)
        time.sleep(float(over.headers.get("retry-after", "1")))
        after = api.get("/healthz", headers=AUTH)
    assert burst == [200, 200, 200]
    assert over.status_code == 429
    assert over.headers["retry-after"] == "1"
    assert over.json()["detail"] == (
        "rate limit: 60 requests per minute (burst 3) per token; retry in 1 s"
    )
    assert after.status_code == 200


def test_a_flood_of_bad_tokens_is_limited_per_address_and_never_starves_the_good_token(
    store_url: str,
) -> None:
    bad = {"Authorization": "Bearer guessed"}
    with serving(limited(store_url)) as api:
        flood = [
            api.post("/hooks/alertmanager", json=am_payload(), headers=bad).status_code
            for _ in range(20)
        ]
        anonymous = api.get("/healthz")  # same address, no token: that budget is spent
        good = api.post("/hooks/alertmanager", json=am_payload(), headers=AUTH)
    assert flood[:2] == [401, 401] and set(flood[2:]) == {429}
    assert anonymous.status_code == 429 and "per address" in anonymous.json()["detail"]
    assert good.status_code == 200 and good.json()["stored"] == 1
    assert stored(store_url) == 1


def test_a_refused_request_stores_nothing(store_url: str) -> None:
    with serving(limited(store_url)) as api:
        answers = [
            api.post(
                "/hooks/alertmanager", json=am_payload(fingerprint=f"f{i}"), headers=AUTH
            ).status_code
            for i in range(5)
        ]
    assert answers == [200, 200, 200, 429, 429]
    assert stored(store_url) == 3


def test_a_rate_of_zero_turns_the_limit_off() -> None:
    with serving(settings("sqlite://", hooks_rate_per_minute=0, hooks_rate_burst=1)) as api:
        answers = {api.get("/healthz", headers=AUTH).status_code for _ in range(30)}
    assert answers == {200}


# --- server errors found, one regression test each ---------------------------------------


@pytest.mark.parametrize(
    ("alert", "where"),
    [
        # OverflowError converting to UTC (year 10000) was a 500
        ({"startsAt": "9999-12-31T23:59:59-01:00"}, "alerts.0.startsAt: Value error, out of"),
        # Alertmanager's zero time as startsAt became NULL in a NOT NULL column: a 500
        ({"startsAt": "0001-01-01T00:00:00Z"}, "alerts.0.startsAt: Value error, not set"),
        # PostgreSQL refuses NUL in text: a 500 on PostgreSQL
        ({"labels": {"alertname": "a\x00b"}}, "alerts.0.labels.alertname: Value error, contains"),
        ({"fingerprint": "f\x00"}, "alerts.0.fingerprint: Value error, contains a NUL"),
        # a number for a time was taken as a Unix time: the schema says a date-time string
        ({"endsAt": 0}, "alerts.0.endsAt: Input should be a valid datetime"),
    ],
)
def test_an_alert_the_store_cannot_keep_is_a_400_naming_the_field(
    store_url: str, alert: dict[str, Any], where: str
) -> None:
    with serving(settings(store_url)) as api:
        answer = api.post("/hooks/alertmanager", json=am_payload(**alert), headers=AUTH)
    assert answer.status_code == 400, answer.text
    assert answer.json()["detail"].startswith(f"not an Alertmanager v4 payload: {where}")
    assert stored(store_url) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,  # json.loads: RecursionError, a 500
        b"\xff\xfe\xfd",  # json.loads: UnicodeDecodeError, a 500
    ],
)
def test_a_body_json_cannot_read_is_a_400(body: bytes) -> None:
    with serving(settings("sqlite://", hooks_max_body_bytes=200_000)) as api:
        answer = api.post("/hooks/alertmanager", content=body, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("not JSON: Invalid JSON")


def test_labels_longer_than_the_store_columns_are_kept_in_full(store_url: str) -> None:
    # name String(200), service String(100), severity String(20): a 500 on PostgreSQL
    labels = {"alertname": "A" * 300, "service": "s" * 150, "severity": "x" * 40}
    with serving(settings(store_url)) as api:
        answer = api.post("/hooks/alertmanager", json=am_payload(labels=labels), headers=AUTH)
    assert answer.status_code == 200, answer.text
    with store_transaction(store_url) as conn:
        from sqlalchemy import select

        from postdeploy.store.schema import alert

        row = conn.execute(select(alert)).one()
    assert row.name == "A" * 200 and row.service == "s" * 100 and row.severity == "x" * 20
    assert row.labels == labels


def test_a_deployment_id_beyond_the_store_integer_is_a_422_not_a_500(store_url: str) -> None:
    # found by schemathesis: 9223372036854775806 overflowed PostgreSQL's INTEGER id
    with serving(settings(store_url)) as api:
        huge = api.get("/hooks/deploy/9223372036854775806", headers=AUTH)
        biggest = api.get(f"/hooks/deploy/{2**31 - 1}", headers=AUTH)
    assert huge.status_code == 422
    assert biggest.status_code == 404 and biggest.json()["detail"] == f"no deployment {2**31 - 1}"


def test_a_flow_run_that_is_not_a_uuid_is_refused_before_it_reaches_the_prefect_api(
    store_url: str,
) -> None:
    # it was pasted into the Prefect API path: ../ walked to other Prefect endpoints
    with serving(settings(store_url)) as api:
        answer = api.get("/hooks/deploy/1", params={"flow_run": "../deployments"}, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "flow_run"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("committed_at", "9999-12-31T23:00:00-05:00"),  # OverflowError storing it: a 500
        ("committed_at", 1700000000),  # a number taken as a Unix time
        ("canary_window_s", False),  # a boolean taken as 0 s
        ("version", "1.0\x00"),  # NUL: a 500 on PostgreSQL
    ],
)
def test_a_deploy_event_the_schema_does_not_allow_is_a_422_and_records_nothing(
    store_url: str, field: str, value: Any
) -> None:
    event = {"service": "sample", "version": "1.0", field: value}
    with serving(settings(store_url)) as api:
        answer = api.post("/hooks/deploy", json=event, headers=AUTH)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", field]
    with store_transaction(store_url) as conn:
        from sqlalchemy import func, select

        from postdeploy.store.schema import deployment

        assert conn.execute(select(func.count()).select_from(deployment)).scalar_one() == 0
