"""The status page's facts from the store on SQLite and PostgreSQL: states, bars, incidents."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, insert

from postdeploy.catalog import Catalog, Check, MaintenanceWindow, Service, Slo
from postdeploy.domain.checks import CheckOutcome
from postdeploy.domain.uptime import DAY
from postdeploy.reporting.status import maintenance_windows
from postdeploy.store.checks import record_sweep
from postdeploy.store.migrate import upgrade
from postdeploy.store.rollup import rebuild_daily
from postdeploy.store.schema import check_result, incident, incident_event
from postdeploy.store.services import sync_services
from postdeploy.store.session import store_transaction
from postdeploy.store.status import check_states, daily_uptime, incident_notices, load_status
from tests.conftest import create_pg_database, drop_pg_database

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
TODAY = int(NOW.timestamp() // DAY)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


CATALOG = Catalog(
    services=[
        Service(
            name="api",
            description="Public REST API",
            url="http://api.internal",
            slo=Slo(availability=99.9, latency_ms=300),
            checks=[Check(name="health", url="/healthz"), Check(name="orders", url="/orders")],
        ),
        Service(
            name="web",
            description="Website and customer dashboard",
            url="http://web.internal",
            checks=[Check(name="home", url="/"), Check(name="login", url="/login")],
        ),
        Service(
            name="billing",
            description="Invoices and payments",
            url="http://billing.internal",
            checks=[Check(name="health", url="/healthz")],
        ),
        Service(
            name="search",
            description="Product search",
            url="http://search.internal",
            checks=[Check(name="query", url="/q?term=x", failure_threshold=3)],
        ),
    ],
    maintenance_windows=[
        MaintenanceWindow(
            name="Billing database upgrade",
            services=["billing"],
            start=_iso(NOW - timedelta(hours=1)),
            end=_iso(NOW + timedelta(hours=2)),
        ),
        MaintenanceWindow(
            name="API gateway certificate rotation",
            services=["api"],
            start=(NOW + timedelta(days=3)).replace(tzinfo=None).isoformat(),
            end=(NOW + timedelta(days=3, minutes=30)).replace(tzinfo=None).isoformat(),
        ),
        MaintenanceWindow(
            name="Nightly index rebuild", services=["search"], start="03:00", end="03:30"
        ),  # fmt: skip
        MaintenanceWindow(
            name="Finished last week",
            start=_iso(NOW - timedelta(days=7)),
            end=_iso(NOW - timedelta(days=7) + timedelta(hours=1)),
        ),
    ],
)
BAD_HOURS = {  # (service, check) -> hours before NOW with a failed result, older than 1 h
    ("api", "orders"): set(range(23 * 24 - 9, 23 * 24 - 2)),  # a bad day 23 days ago
    ("api", "health"): {61 * 24},
    ("web", "login"): {5 * 24, 5 * 24 + 1, 5 * 24 + 2},
}
FIRST_HOUR = {("search", "query"): 30 * 24}  # a newer service: no data before 30 days ago
LAST_HOUR_FAILS = {  # minutes before NOW with a failed result
    ("web", "login"): set(range(0, 40)),  # down for the last 40 minutes
    ("billing", "health"): set(range(0, 50)),  # down during its maintenance
    ("search", "query"): {45, 25},  # two blips that recovered: flapping, never down
}


def _history(ids: dict[str, int]) -> list[dict[str, object]]:
    rng = random.Random(7)
    rows: list[dict[str, object]] = []
    for svc in CATALOG.services:
        for check in svc.checks:
            key = (svc.name, check.name)
            for hour in range(2, FIRST_HOUR.get(key, 90 * 24)):
                ok = hour not in BAD_HOURS.get(key, set())
                rows.append(
                    {
                        "service_id": ids[svc.name],
                        "check_name": check.name,
                        "sweep_id": f"hist-{hour}",
                        "ts": NOW.timestamp() - hour * 3600,
                        "ok": ok,
                        "status": 200 if ok else 503,
                        "latency_ms": rng.uniform(30, 140),
                        "detail": "HTTP 200" if ok else "HTTP 503, expected 200",
                    }
                )
    return rows


def _incidents(conn: Connection) -> None:
    def add(key: str, service: str, title: str, opened: datetime, resolved: datetime | None,
            status: str, events: list[tuple[datetime, str, str]]) -> None:  # fmt: skip
        [incident_id] = conn.execute(
            insert(incident).returning(incident.c.id),
            {"key": key, "service": service, "severity": "high", "level": "L3",
             "status": status, "title": title, "opened_at": opened, "resolved_at": resolved},
        ).scalars()  # fmt: skip
        if events:
            conn.execute(
                insert(incident_event),
                [{"incident_id": incident_id, "ts": ts, "kind": kind, "message": message,
                  "data": {}} for ts, kind, message in events],
            )  # fmt: skip

    add("INC-42", "web", "Login failures on the website", NOW - timedelta(minutes=35), None,
        "identified", [
            (NOW - timedelta(minutes=33), "investigating",
             "We are investigating reports of failed logins on the website."),
            (NOW - timedelta(minutes=30), "escalated", ""),  # internal, no message: not shown
            (NOW - timedelta(minutes=10), "identified",
             "The identity provider rejects tokens after a key rotation; a fix is rolling out."),
        ])  # fmt: skip
    add("INC-41", "api", "Elevated API error rates", NOW - timedelta(days=2),
        NOW - timedelta(days=2) + timedelta(hours=1), "resolved",
        [(NOW - timedelta(days=2) + timedelta(hours=1), "resolved",
          "Error rates are back to normal after a rollback.")])  # fmt: skip
    add("INC-30", "web", "Slow dashboard", NOW - timedelta(days=20),
        NOW - timedelta(days=19), "resolved", [])  # fmt: skip


def seed(url: str) -> None:
    """Four services: api fine, web half down with an open incident, billing down inside its
    maintenance window, search flapping; 90 days of hourly history, the last hour per minute."""
    with store_transaction(url) as conn:
        ids = sync_services(conn, services=CATALOG.services)
        conn.execute(insert(check_result), _history(ids))
        rebuild_daily(conn)  # bulk-loaded history bypasses record_sweep and its rollup
        for minute in range(59, -1, -1):
            at = NOW.timestamp() - minute * 60
            outcomes = [
                CheckOutcome(s.name, c.name, ok, at, 80.0, 200 if ok else 503, "HTTP 200" if ok
                             else "HTTP 503, expected 200")
                for s in CATALOG.services
                for c in s.checks
                for ok in [minute not in LAST_HOUR_FAILS.get((s.name, c.name), set())]
            ]  # fmt: skip
            record_sweep(
                conn, sweep_id=f"live-{minute}", outcomes=outcomes, ids=ids,
                thresholds=CATALOG.thresholds(),
            )  # fmt: skip
        _incidents(conn)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The scenario stored once per backend for the module; the tests only read it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('status') / 'store.db'}"
        admin = None
    else:
        admin = str(request.getfixturevalue("pg_admin_url"))
        url = create_pg_database(admin)
    try:
        upgrade(url)
        seed(url)
        yield url
    finally:
        if admin:
            drop_pg_database(admin, url)


def test_component_states_follow_checks_maintenance_flapping_and_incidents(seeded: str) -> None:
    with store_transaction(seeded) as conn:
        page = load_status(
            conn, services=CATALOG.services, maintenance=maintenance_windows(CATALOG, NOW), now=NOW
        )
    states = {c.name: c.verdict.state for c in page.components}
    assert states == {
        "api": "operational",
        "web": "partial_outage",
        "billing": "maintenance",
        "search": "degraded",
    }
    assert page.state == "partial_outage"
    search = next(c for c in page.components if c.name == "search")
    assert "query flapping" in search.verdict.reasons
    assert [m.name for m in page.maintenance] == [
        "Billing database upgrade",
        "Nightly index rebuild",  # tomorrow 03:00
        "API gateway certificate rotation",
    ]
    assert (page.first_day, page.last_day) == (TODAY - 89, TODAY)


def test_checks_report_their_state_and_how_often_they_flipped(seeded: str) -> None:
    with store_transaction(seeded) as conn:
        states = check_states(conn, now=NOW)
    by_check = {(s, c.check): c for s, checks in states.items() for c in checks}
    assert by_check[("web", "login")].status == "down"
    assert by_check[("web", "login")].since == NOW.timestamp() - 39 * 60
    assert by_check[("search", "query")].status == "up"
    assert by_check[("search", "query")].flips == 4
    assert by_check[("web", "login")].flips == 1
    assert by_check[("api", "health")].flips == 0


def test_daily_buckets_count_every_check_of_a_service_per_utc_day(seeded: str) -> None:
    with store_transaction(seeded) as conn:
        days = daily_uptime(conn, first_day=TODAY - 89, now=NOW)
    names = {i: s.name for i, s in enumerate(CATALOG.services)}
    expected: dict[tuple[str, int], tuple[int, int]] = {}
    for row in _history({name: i for i, name in names.items()}):
        key = (names[row["service_id"]], int(float(row["ts"]) // DAY))  # type: ignore[arg-type,index]
        ok, total = expected.get(key, (0, 0))
        expected[key] = (ok + bool(row["ok"]), total + 1)
    found = {(name, d): (ok, total) for name, rows in days.items() for d, ok, total in rows}
    assert {k: v for k, v in found.items() if k[1] < TODAY} == {
        k: v for k, v in expected.items() if TODAY - 89 <= k[1] < TODAY
    }
    assert found[("api", TODAY - 23)][0] < found[("api", TODAY - 23)][1]
    assert min(d for name, d in found if name == "search") >= TODAY - 30
    assert found[("web", TODAY)][1] > 60  # today: hourly history and the live minutes


def test_open_incidents_come_first_with_their_public_updates_newest_first(seeded: str) -> None:
    with store_transaction(seeded) as conn:
        notices = incident_notices(conn, now=NOW)
    assert [(i.key, i.open) for i in notices] == [("INC-42", True), ("INC-41", False)]
    assert [u.kind for u in notices[0].updates] == ["identified", "investigating"]
    assert notices[0].updates[0].ts == NOW - timedelta(minutes=10)
