"""The store on SQLite and PostgreSQL: migrations, idempotent writes, alerts, uptime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from postdeploy.catalog import Catalog, Check, Service
from postdeploy.domain.checks import CheckOutcome
from postdeploy.store.checks import firing_alerts, load_states, record_sweep
from postdeploy.store.engine import StoreUnavailable, make_engine
from postdeploy.store.migrate import current_revision, downgrade, head_revision, upgrade
from postdeploy.store.schema import alert, check_result, metadata, service
from postdeploy.store.services import sync_services
from postdeploy.store.session import store_transaction
from postdeploy.store.uptime import uptime_rows

ENTITIES = {
    "service", "check_result", "metric_sample", "alert", "incident", "incident_event", "ticket",
    "ticket_event", "survey_response", "deployment", "backup", "kpi_snapshot",
}  # fmt: skip

CATALOG = Catalog(
    services=[
        Service(
            name="api",
            url="http://api",
            checks=[
                Check(name="health", url="/h"),
                Check(name="deep", url="/d", failure_threshold=2),
            ],
        )
    ]
)


def outcome(check: str, ok: bool, ts: float, latency: float = 20.0) -> CheckOutcome:
    detail = "HTTP 200" if ok else "HTTP 500, expected 200"
    return CheckOutcome("api", check, ok, ts, latency, 200 if ok else 500, detail)


def sweep(url: str, sweep_id: str, outcomes: list[CheckOutcome]) -> list[str]:
    with store_transaction(url) as conn:
        ids = sync_services(conn, services=CATALOG.services)
        found = record_sweep(
            conn, sweep_id=sweep_id, outcomes=outcomes, ids=ids, thresholds=CATALOG.thresholds()
        )
    return [t.summary for t in found]


def count(url: str, table: object) -> int:
    with store_transaction(url) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_migrations_create_every_entity_and_go_down_cleanly(empty_store_url: str) -> None:
    upgrade(empty_store_url)
    assert current_revision(empty_store_url) == head_revision()
    engine = make_engine(empty_store_url)
    assert ENTITIES <= set(inspect(engine).get_table_names())
    downgrade(empty_store_url, "base")
    assert current_revision(empty_store_url) is None
    assert not ENTITIES & set(inspect(engine).get_table_names())
    upgrade(empty_store_url)  # and up again, from nothing
    assert ENTITIES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_migrations_match_the_schema_in_code(store_url: str) -> None:
    engine = make_engine(store_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == []


def test_recording_the_same_sweep_twice_stores_it_once(store_url: str) -> None:
    outcomes = [outcome("health", True, 1000.0), outcome("deep", True, 1000.0)]
    sweep(store_url, "s1", outcomes)
    sweep(store_url, "s1", outcomes)
    assert count(store_url, check_result) == 2
    assert count(store_url, service) == 1


def test_a_check_going_down_fires_one_alert_and_recovery_resolves_it(store_url: str) -> None:
    assert sweep(store_url, "s1", [outcome("health", True, 1000.0)]) == []
    assert sweep(store_url, "s2", [outcome("health", False, 1060.0)]) == [
        "api/health is DOWN: HTTP 500, expected 200"
    ]
    assert sweep(store_url, "s2", [outcome("health", False, 1060.0)]) == []  # retried: no new alert
    assert sweep(store_url, "s3", [outcome("health", False, 1120.0)]) == []  # still down
    with store_transaction(store_url) as conn:
        firing = firing_alerts(conn)
    assert [(a["fingerprint"], a["severity"]) for a in firing] == [
        ("check-down:api:health", "critical")
    ]
    assert firing[0]["starts_at"] == datetime.fromtimestamp(1060.0, UTC)
    assert sweep(store_url, "s4", [outcome("health", True, 1180.0)]) == [
        "api/health recovered: HTTP 200"
    ]
    with store_transaction(store_url) as conn:
        assert firing_alerts(conn) == []
        row = conn.execute(select(alert.c.status, alert.c.ends_at)).one()
    assert row.status == "resolved" and row.ends_at == datetime.fromtimestamp(1180.0, UTC)


def test_the_catalog_failure_threshold_delays_the_outage(store_url: str) -> None:
    assert sweep(store_url, "s1", [outcome("deep", False, 1.0)]) == []
    assert sweep(store_url, "s2", [outcome("deep", False, 2.0)]) == [
        "api/deep is DOWN: HTTP 500, expected 200"
    ]
    with store_transaction(store_url) as conn:
        state, _ = load_states(conn)[("api", "deep")]
    assert state.status == "down" and state.failures == 2


def test_uptime_matches_an_independent_count(store_url: str) -> None:
    day = 86400.0
    pattern = [(0.5 * day + i * 60, i % 10 != 0) for i in range(100)]  # 90 of 100 ok
    pattern += [(1.5 * day + i * 60, True) for i in range(50)]
    for n, (ts, ok) in enumerate(pattern):
        sweep(store_url, f"s{n}", [outcome("health", ok, ts, latency=float(n % 7 + 1))])
    with store_transaction(store_url) as conn:
        (row,) = uptime_rows(conn, since=0, until=2 * day)
    assert (row.total, row.ok) == (150, 140)
    assert row.uptime == pytest.approx(100 * 140 / 150)
    assert row.days == ((0, 90, 100), (1, 50, 50))
    ok_latencies = sorted(float(n % 7 + 1) for n, (_, ok) in enumerate(pattern) if ok)
    assert row.p95_latency_ms == ok_latencies[int(0.95 * len(ok_latencies)) - 1]
    assert row.last_ok is True


def test_times_come_back_in_utc_whatever_zone_went_in(store_url: str) -> None:
    cet = timezone(timedelta(hours=1))
    with store_transaction(store_url) as conn:
        conn.execute(
            alert.insert().values(
                fingerprint="f", starts_at=datetime(2026, 1, 1, 13, 0, tzinfo=cet), status="firing",
                name="n", updated_at=datetime.now(UTC),
            )
        )  # fmt: skip
        starts = conn.execute(select(alert.c.starts_at)).scalar_one()
    assert starts == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused(store_url: str) -> None:
    with pytest.raises(Exception, match="naive datetime"), store_transaction(store_url) as conn:
        conn.execute(
            alert.insert().values(
                fingerprint="f", starts_at=datetime(2026, 1, 1), status="firing", name="n",
                updated_at=datetime.now(UTC),
            )
        )  # fmt: skip


def test_an_unmigrated_store_says_to_run_db_upgrade(empty_store_url: str) -> None:
    with pytest.raises(StoreUnavailable, match="postdeploy db upgrade"):
        sweep(empty_store_url, "s1", [outcome("health", True, 1.0)])


def test_an_unreachable_store_names_the_url_with_the_password_masked() -> None:
    url = "postgresql://ops:hunter2@127.0.0.1:1/nowhere"
    with pytest.raises(StoreUnavailable) as err:
        sweep(url, "s1", [outcome("health", True, 1.0)])
    assert "ops:***@127.0.0.1:1/nowhere" in str(err.value)
    assert "hunter2" not in str(err.value)


def test_metric_samples_are_replaced_not_duplicated_and_read_back_in_order(store_url: str) -> None:
    from postdeploy.store.metrics import read_series, record_samples

    labels = {"service": "api"}
    with store_transaction(store_url) as conn:
        record_samples(
            conn, samples=[("cpu_cores", labels, 120.0, 0.5), ("cpu_cores", labels, 60.0, 0.2)]
        )
        record_samples(conn, samples=[("cpu_cores", labels, 120.4, 0.7)])  # same second: replaced
        record_samples(conn, samples=[("cpu_cores", {"service": "web"}, 60.0, 9.0)])
        points = read_series(conn, name="cpu_cores", labels=labels, since=0, until=1000)
    assert points == [(60, 0.2), (120, 0.7)]
