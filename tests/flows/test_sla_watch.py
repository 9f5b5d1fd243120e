"""The sla-watch flow on a real Prefect server: imported tickets, frozen time, real webhook
endpoints (the recorder) per escalation level."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from flows.sla_watch import sla_watch
from postdeploy.domain.tickets import Ticket
from postdeploy.settings import get_settings
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import ticket
from postdeploy.store.session import store_transaction
from postdeploy.store.tickets import upsert_tickets
from tests.conftest import Recorder

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def write_catalog(folder: Path, recorder: Recorder) -> str:
    catalog = {
        "services": [{"name": "api"}],
        "routes": [{"name": n, "kind": "webhook", "url": f"{recorder.url}/{n}"}
                   for n in ("l2", "l3", "l4")],
        "escalation": {"levels": [
            {"level": "L1", "name": "User support"},
            {"level": "L2", "name": "Technical support", "routes": ["l2"]},
            {"level": "L3", "name": "Development team", "routes": ["l3"]},
            {"level": "L4", "name": "Emergency response", "routes": ["l4"]},
        ]},
        "sla": {"critical": {"response": "1h", "resolution": "4h"},
                "low": {"response": "3d", "resolution": "1w"}},
    }  # fmt: skip
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog))
    return str(path)


@pytest.fixture
def store(settings_env: Path) -> str:
    url = get_settings().database_url
    upgrade(url)
    with store_transaction(url) as conn:
        upsert_tickets(
            conn,
            [
                Ticket("desk", "CRIT-1", "critical", "new", T0, "checkout broken", "api"),
                Ticket("desk", "LOW-1", "low", "new", T0, "typo on the about page", "api"),
            ],
        )
    return url


def levels(url: str) -> dict[str, str]:
    with store_transaction(url) as conn:
        return dict(conn.execute(select(ticket.c.external_id, ticket.c.level)).all())


def told(recorder: Recorder) -> list[tuple[str, Any]]:
    return [(str(r["path"]), r["json"]) for r in recorder.requests]


def test_an_imported_critical_ticket_escalates_a_level_per_threshold_and_tells_that_level(
    store: str, settings_env: Path, recorder: Recorder
) -> None:
    catalog = write_catalog(settings_env, recorder)

    assert sla_watch(catalog_path=catalog, at=T0 + 30 * MIN)["escalated"] == 0
    near = sla_watch(catalog_path=catalog, at=T0 + 50 * MIN)  # 75 % of the 1 h response
    assert (near["escalated"], near["notifications"], near["near_breach"]) == (1, 1, 1)
    assert levels(store) == {"CRIT-1": "L2", "LOW-1": "L1"}
    ((path, body),) = told(recorder)
    assert path == "/hook/l2"
    assert (body["ticket"], body["from_level"], body["to_level"]) == ("CRIT-1", "L1", "L2")
    assert body["crossed"] == ["response near-breach"]

    breached = sla_watch(catalog_path=catalog, at=T0 + 61 * MIN)
    assert (breached["escalated"], breached["breached"]) == (1, 1)
    assert levels(store)["CRIT-1"] == "L3"
    assert [p for p, _ in told(recorder)] == ["/hook/l2", "/hook/l3"]


def test_running_again_at_the_same_time_escalates_and_notifies_nothing(
    store: str, settings_env: Path, recorder: Recorder
) -> None:
    catalog = write_catalog(settings_env, recorder)
    first = sla_watch(catalog_path=catalog, at=T0 + 5 * 60 * MIN)  # past both critical targets
    again = sla_watch(catalog_path=catalog, at=T0 + 5 * 60 * MIN)
    assert first["escalated"] == 1  # a late sweep moves one level, not three
    assert (again["escalated"], again["notifications"]) == (0, 0)
    assert again["breached"] == 1 and levels(store)["CRIT-1"] == "L2"
    assert len(told(recorder)) == 1


def test_an_unacknowledged_incident_escalates_once_per_threshold_and_its_level_is_told(
    store: str, settings_env: Path, recorder: Recorder
) -> None:
    from postdeploy.store.incidents import open_or_update_incident
    from postdeploy.store.schema import incident

    catalog = write_catalog(settings_env, recorder)
    levels = {"critical": "L4", "high": "L3", "medium": "L2", "low": "L1"}
    with store_transaction(store) as conn:
        opened = open_or_update_incident(
            conn, service="api", severity="low", title="slow search", key="inc-1", now=T0,
            levels=levels,
        )  # fmt: skip

    # low: respond within 3 days; 75% of that is 54 hours
    quiet = sla_watch(catalog_path=catalog, at=T0 + timedelta(hours=53))
    assert quiet["incident_escalations"] == []
    first = sla_watch(catalog_path=catalog, at=T0 + timedelta(hours=55))
    assert [(e["from_level"], e["to_level"]) for e in first["incident_escalations"]] == [
        ("L1", "L2")
    ]
    again = sla_watch(catalog_path=catalog, at=T0 + timedelta(hours=55))
    assert again["incident_escalations"] == []
    incident_messages = [r for r in recorder.requests if r["json"]["event"] == "incident.escalated"]  # type: ignore[index]
    assert len(incident_messages) == 1 and incident_messages[0]["path"] == "/hook/l2"
    with store_transaction(store) as conn:
        level = conn.execute(select(incident.c.level).where(incident.c.id == opened.id)).scalar()
    assert level == "L2"
