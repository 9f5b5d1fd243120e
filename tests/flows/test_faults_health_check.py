"""Fault injection through the health-check flow on the Prefect harness: endpoints that flap,
hang, reset and close mid-answer on a schedule, swept again and again. With failure_threshold
N, N-1 failures in a row raise nothing (no down state, alert, notification or outage on the
status page), the Nth does, and the first success recovers; flapping below N never alerts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from flows.health_check import health_check
from postdeploy.catalog import load_catalog
from postdeploy.reporting.status import write_status_page
from postdeploy.settings import get_settings
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import alert, check_result, check_state, incident, service
from postdeploy.store.session import store_transaction
from tests.conftest import Recorder
from tests.fault_servers import FaultServer, Mode

THRESHOLD = 3
TIMEOUT_S = 0.5
# each faulty service's failure mode; "F" in the schedule switches it on
FAULTY: dict[str, Mode] = {"flaky": "http503", "hung": "hang", "reset": "reset", "cut": "mid_body"}
SCHEDULE = ["ok", "F", "F", "ok", "F", "F", "F", "F", "ok"]  # N-1, recovery, N-1, N, N+1, up
EXPECTED = ["up", "up", "up", "up", "up", "up", "down", "down", "up"]
FLAPPER = ["ok", "F", "ok", "F", "F", "ok", "F", "ok", "F"]  # never N failures in a row


@pytest.fixture
def endpoints() -> Iterator[dict[str, FaultServer]]:
    servers = {name: FaultServer() for name in [*FAULTY, "flapper", "steady"]}
    yield servers
    for server in servers.values():
        server.close()


def write_catalog(folder: Path, servers: dict[str, FaultServer], hook: str) -> Path:
    check = {"name": "health", "url": "/healthz", "timeout": f"{TIMEOUT_S}s",
             "failure_threshold": THRESHOLD}  # fmt: skip
    catalog = {
        "services": [{"name": n, "url": s.url, "checks": [check]} for n, s in servers.items()],
        "routes": [{"name": "ops-hook", "kind": "webhook", "url": hook}],
        "notify_on_state_change": ["ops-hook"],
    }
    file = folder / "catalog.yaml"
    file.write_text(yaml.safe_dump(catalog))
    return file


def store_facts() -> dict[str, Any]:
    with store_transaction(get_settings().database_url) as conn:
        states = dict(
            conn.execute(
                select(service.c.name, check_state.c.status).join(
                    service, service.c.id == check_state.c.service_id
                )
            ).all()
        )
        alerts = conn.execute(select(alert.c.service, alert.c.status)).all()
        incidents = conn.execute(select(func.count()).select_from(incident)).scalar_one()
        last = conn.execute(
            select(service.c.name, check_result.c.latency_ms, check_result.c.detail)
            .join(service, service.c.id == check_result.c.service_id)
            .order_by(check_result.c.ts)
        ).all()
    return {
        "states": states,
        "firing": sorted(s for s, status in alerts if status == "firing"),
        "alerts": len(alerts),
        "incidents": incidents,
        "latest": {name: (latency, detail) for name, latency, detail in last},
    }


def page_states(catalog: Path, out: Path) -> dict[str, str]:
    """What the status page says now, freshly rendered from the store (as its periodic refresh
    would), and what the page the flow wrote says."""
    with store_transaction(get_settings().database_url) as conn:
        files = write_status_page(conn, load_catalog(catalog), out)
    return dict(files.components)


def test_outages_are_declared_at_the_nth_failure_in_a_row_and_never_before(
    settings_env: Path, endpoints: dict[str, FaultServer], recorder: Recorder
) -> None:
    upgrade(get_settings().database_url)
    catalog = write_catalog(settings_env, endpoints, recorder.url)
    written_page = settings_env / "reports" / "status" / "status.json"
    faulty = sorted(FAULTY)

    for n, (step, expected, flap) in enumerate(zip(SCHEDULE, EXPECTED, FLAPPER, strict=True)):
        for name, mode in FAULTY.items():
            endpoints[name].mode = mode if step == "F" else "ok"
        endpoints["flapper"].mode = "http503" if flap == "F" else "ok"
        started = time.monotonic()
        result = health_check(catalog_path=str(catalog))
        elapsed = time.monotonic() - started
        facts = store_facts()
        page = page_states(catalog, settings_env / f"page-{n}")
        written = {
            c["name"]: c["state"] for c in json.loads(written_page.read_text())["components"]
        }
        sweep = f"sweep {n + 1} ({step}, expecting {expected})"

        assert {facts["states"][s] for s in faulty} == {expected}, sweep
        assert facts["states"]["flapper"] == "up" and facts["states"]["steady"] == "up", sweep
        outage = "major_outage" if expected == "down" else None
        for name in faulty:
            assert (page[name] == "major_outage") == (outage is not None), (sweep, page)
            assert (written[name] == "major_outage") == (outage is not None), (sweep, written)
        assert page["flapper"] in ("operational", "degraded"), sweep  # flapping: never an outage
        assert written["flapper"] in ("operational", "degraded"), sweep
        assert facts["incidents"] == 0, sweep

        if n == SCHEDULE.index("F") and step == "F":  # each fault, as the store records it
            latency, detail = facts["latest"]["hung"]
            assert detail == f"timeout after {TIMEOUT_S:g}s"
            assert TIMEOUT_S * 1000 <= latency < TIMEOUT_S * 1000 + 1000
            assert facts["latest"]["reset"][1].startswith("connection dropped")
            assert (
                facts["latest"]["cut"][1] == "connection dropped: closed after 11 of 110 body bytes"
            )
            assert facts["latest"]["flaky"][1] == "HTTP 503, expected 200"
            assert facts["latest"]["steady"][0] < 500  # not held up by the hung endpoint
        assert elapsed < 30, sweep  # a hung endpoint costs the sweep its timeout, not more

        down_now = n == EXPECTED.index("down")
        up_again = n == len(EXPECTED) - 1
        summaries = sorted(result["state_changes"])
        if down_now:
            assert [s.split(" ", 1)[0] for s in summaries] == [f"{s}/health" for s in faulty]
            assert all(" is DOWN: " in s for s in summaries), summaries
        elif up_again:
            assert summaries == [f"{s}/health recovered: HTTP 200" for s in faulty]
        else:
            assert summaries == [], sweep
        assert facts["firing"] == (faulty if expected == "down" else []), sweep
        assert facts["alerts"] == (0 if n < EXPECTED.index("down") else len(faulty)), sweep

    events = [(r["json"]["service"], r["json"]["event"]) for r in recorder.requests]  # type: ignore[index]
    assert sorted(events) == sorted(
        [(s, "check.down") for s in faulty] + [(s, "check.up") for s in faulty]
    )
    # flapping showed, honestly, as degraded on the page; it never alerted nor went down
    assert page["flapper"] == "degraded"
