"""The check_daily rollup: kept by record_sweep, equal to aggregating check_result directly,
never double counted by a re-recorded sweep, backfilled by its migration; the uptime report
read from it matches the results it summarises. A history loaded in bulk (record_sweeps)
leaves the store as recording it sweep by sweep does."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from postdeploy.catalog import Catalog, Check, Service
from postdeploy.domain.checks import CheckOutcome
from postdeploy.domain.uptime import DAY, LATENCY_STEP, percentile
from postdeploy.store.checks import record_sweep, record_sweeps
from postdeploy.store.migrate import upgrade
from postdeploy.store.rollup import aggregate_results, rebuild_daily
from postdeploy.store.schema import (
    LATENCY_COLUMNS,
    alert,
    check_daily,
    check_result,
    check_state,
    service,
)
from postdeploy.store.services import sync_services
from postdeploy.store.session import store_transaction
from postdeploy.store.uptime import has_demo_data, uptime_rows
from tests.conftest import create_pg_database, drop_pg_database

CATALOG = Catalog(
    services=[
        Service(name=name, url=f"http://{name}", checks=[Check(name="health", url="/h"),
                                                          Check(name="deep", url="/d")])
        for name in ("api", "web", "billing")
    ]
)  # fmt: skip
START = 20_000 * DAY  # a UTC midnight in 2024


def bucket(latency: float) -> int:
    """Independent of the code under test: bucket k holds (2^((k-1)/4), 2^(k/4)] ms."""
    return 0 if latency <= 1 else min(61, math.ceil(4 * math.log2(latency)))


def generated(rng: random.Random, sweeps: int) -> list[tuple[str, list[CheckOutcome]]]:
    """Sweeps every 47 minutes over several UTC days: failures, timeouts without a latency,
    sub-millisecond and over-32-second answers, and a few demo sweeps."""
    out = []
    for n in range(sweeps):
        ts = START + n * 47 * 60 + rng.random()
        outcomes = []
        for svc in CATALOG.services:
            for check in svc.checks:
                ok = rng.random() > 0.1
                latency = rng.choice(
                    [rng.lognormvariate(5, 1.2), rng.uniform(0.05, 0.99), rng.uniform(33e3, 6e4)]
                    if n % 13 == 0
                    else [rng.lognormvariate(4, 0.8)]
                )
                outcomes.append(CheckOutcome(
                    svc.name, check.name, ok, ts, None if rng.random() < 0.03 else latency,
                    200 if ok else 503, "HTTP 200" if ok else "HTTP 503, expected 200",
                ))  # fmt: skip
        out.append((f"demo-{n}" if n % 11 == 5 else f"sweep-{n}", outcomes))
    return out


def record(url: str, sweep_id: str, outcomes: list[CheckOutcome]) -> None:
    with store_transaction(url) as conn:
        ids = sync_services(conn, services=CATALOG.services)
        record_sweep(
            conn, sweep_id=sweep_id, outcomes=outcomes, ids=ids, thresholds=CATALOG.thresholds()
        )


def direct(url: str) -> dict[tuple[int, str, int], dict[str, Any]]:
    """check_daily's rows aggregated in Python from every stored check_result."""
    found: dict[tuple[int, str, int], dict[str, Any]] = {}
    with store_transaction(url) as conn:
        rows = conn.execute(select(check_result)).all()
    for r in rows:
        key = (r.service_id, r.check_name, math.floor(r.ts / DAY))
        row = found.setdefault(key, {
            "ok": 0, "total": 0, "demo": 0, "latency_n": 0, "latency_sum": 0.0,
            "latency_min": None, "latency_max": None, **dict.fromkeys(LATENCY_COLUMNS, 0),
        })  # fmt: skip
        row["total"] += 1
        row["demo"] += r.sweep_id.startswith("demo-")
        row["ok"] += r.ok
        if r.ok and r.latency_ms is not None:
            row["latency_n"] += 1
            row["latency_sum"] += r.latency_ms
            row[LATENCY_COLUMNS[bucket(r.latency_ms)]] += 1
            row["latency_min"] = min(r.latency_ms, row["latency_min"] or math.inf)
            row["latency_max"] = max(r.latency_ms, row["latency_max"] or -math.inf)
    return found


def stored(url: str) -> dict[tuple[int, str, int], dict[str, Any]]:
    with store_transaction(url) as conn:
        rows = conn.execute(select(check_daily)).all()
    return {
        (r.service_id, r.check_name, r.day): {
            k: v for k, v in r._mapping.items() if k not in ("service_id", "check_name", "day")
        }
        for r in rows
    }


def assert_same(found: dict[Any, dict[str, Any]], expected: dict[Any, dict[str, Any]]) -> None:
    assert found.keys() == expected.keys()
    for key, want in expected.items():
        got = dict(found[key])
        assert got.pop("latency_sum") == pytest.approx(want["latency_sum"]), key
        assert got == {k: v for k, v in want.items() if k != "latency_sum"}, key


def test_the_rollup_equals_aggregating_every_result(store_url: str) -> None:
    for sweep_id, outcomes in generated(random.Random(7), 200):  # 6.5 UTC days
        record(store_url, sweep_id, outcomes)
    expected = direct(store_url)
    assert len({day for _, _, day in expected}) == 7 and len(expected) == 7 * 6
    assert sum(r["lat_00"] for r in expected.values()) > 0  # under 1 ms
    assert sum(r["lat_61"] for r in expected.values()) > 0  # over 32,768 ms
    assert sum(r["demo"] for r in expected.values()) > 0
    assert_same(stored(store_url), expected)
    with store_transaction(store_url) as conn:  # and the SQL aggregation (migration, bulk)
        sql = {(r.service_id, r.check_name, r.day): r for r in conn.execute(aggregate_results())}
    assert_same(
        {k: {c: v for c, v in r._mapping.items() if c not in ("service_id", "check_name", "day")}
         for k, r in sql.items()},
        expected,
    )  # fmt: skip


def test_re_recording_a_sweep_does_not_count_it_twice(store_url: str) -> None:
    sweeps = generated(random.Random(3), 30)
    for sweep_id, outcomes in sweeps:
        record(store_url, sweep_id, outcomes)
    before = stored(store_url)
    for sweep_id, outcomes in sweeps[::3]:  # retried tasks and flow runs
        record(store_url, sweep_id, outcomes)
    assert stored(store_url) == before
    # a retry that stored only part of a sweep the first time adds just the missing part
    sweep_id, outcomes = generated(random.Random(4), 31)[30]
    record(store_url, sweep_id, outcomes[:2])
    record(store_url, sweep_id, outcomes)
    assert_same(stored(store_url), direct(store_url))
    with store_transaction(store_url) as conn:
        total = sum(r.total for r in conn.execute(select(check_daily.c.total)))
    assert total == 31 * 6


def test_the_migration_backfills_the_rollup_from_stored_results(empty_store_url: str) -> None:
    url = empty_store_url
    upgrade(url, "0008")
    rng = random.Random(11)
    rows = []
    for sweep_id, outcomes in generated(rng, 100):
        for o in outcomes:
            sid = 1 + [s.name for s in CATALOG.services].index(o.service)
            rows.append({
                "service_id": sid, "check_name": o.check, "sweep_id": sweep_id, "ts": o.ts,
                "ok": o.ok, "status": o.status, "latency_ms": o.latency_ms, "detail": o.detail,
            })  # fmt: skip
    with store_transaction(url) as conn:
        now = datetime.now(UTC)
        conn.execute(insert(service), [
            {"id": i + 1, "name": s.name, "updated_at": now} for i, s in enumerate(CATALOG.services)
        ])  # fmt: skip
        conn.execute(insert(check_result), rows)
    upgrade(url)
    expected = direct(url)
    assert len(expected) == 4 * 6
    assert_same(stored(url), expected)
    with store_transaction(url) as conn:  # rebuilding in bulk gives the same rows
        assert rebuild_daily(conn) == len(expected)
    assert_same(stored(url), expected)


def test_the_uptime_report_from_the_rollup_matches_the_results(store_url: str) -> None:
    for sweep_id, outcomes in generated(random.Random(5), 200):
        record(store_url, sweep_id, outcomes)
    with store_transaction(store_url) as conn:
        results = conn.execute(
            select(service.c.name, check_result).join(service).order_by(check_result.c.ts)
        ).all()
        rows = {
            (r.service, r.check): r for r in uptime_rows(conn, since=START, until=START + 7 * DAY)
        }
        assert has_demo_data(conn, since=START, until=START + 7 * DAY)
        assert not has_demo_data(conn, since=START + 8 * DAY, until=START + 9 * DAY)
    per: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in results:
        per[(r.name, r.check_name)].append(r)
    assert rows.keys() == per.keys()
    for key, mine in per.items():
        row = rows[key]
        days: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for r in mine:
            days[math.floor(r.ts / DAY)][0] += r.ok
            days[math.floor(r.ts / DAY)][1] += 1
        assert row.days == tuple((d, ok, total) for d, (ok, total) in sorted(days.items()))
        assert (row.ok, row.total) == (sum(r.ok for r in mine), len(mine))
        latencies = [r.latency_ms for r in mine if r.ok and r.latency_ms is not None]
        assert row.avg_latency_ms == pytest.approx(sum(latencies) / len(latencies))
        exact = percentile(latencies, 95)
        assert exact is not None and row.p95_latency_ms is not None
        # the documented bound: never below the exact p95, at most one bucket (19%) above
        assert exact <= row.p95_latency_ms <= exact * LATENCY_STEP
        assert (row.last_ok, row.last_detail) == (mine[-1].ok, mine[-1].detail)


@pytest.fixture
def twin_url(store_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A second migrated store on the same backend as store_url."""
    if store_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'twin.db'}"
        upgrade(url)
        yield url
        return
    admin = request.getfixturevalue("pg_admin_url")
    url = create_pg_database(admin)
    try:
        upgrade(url)
        yield url
    finally:
        drop_pg_database(admin, url)


def whole_store(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the sweeps leave, without surrogate ids and write times."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store_transaction(url) as conn:
        for table, skip in (
            (check_result, {"id"}),
            (check_daily, set()),
            (check_state, set()),
            (alert, {"id", "updated_at", "created_at"}),
        ):
            cols = [c for c in table.c if c.name not in skip]
            rows = conn.execute(select(*cols)).all()
            # sums of latencies may differ in the last bits with the order they were added
            out[table.name] = sorted(
                tuple(f"{v:.12g}" if isinstance(v, float) else repr(v) for v in r) for r in rows
            )
    return out


def test_a_history_loaded_in_bulk_leaves_the_store_as_sweep_by_sweep_does(
    store_url: str, twin_url: str
) -> None:
    sweeps = generated(random.Random(5), 400)
    one_by_one = []
    with store_transaction(store_url) as conn:
        ids = sync_services(conn, services=CATALOG.services)
        for sweep_id, outcomes in sweeps:
            one_by_one += record_sweep(
                conn, sweep_id=sweep_id, outcomes=outcomes, ids=ids,
                thresholds=CATALOG.thresholds(),
            )  # fmt: skip
    with store_transaction(twin_url) as conn:
        ids = sync_services(conn, services=CATALOG.services)
        # a small batch, so the results go in over several statements
        bulk = record_sweeps(conn, sweeps=sweeps, ids=ids, thresholds=CATALOG.thresholds(),
                             batch=500)  # fmt: skip

    assert bulk == one_by_one
    assert {t.current for t in bulk} == {"down", "up"}  # outages opened and closed
    expected = whole_store(store_url)
    assert all(expected.values()) and expected == whole_store(twin_url)

    with store_transaction(twin_url) as conn:  # the last sweep again, as a retried run
        again = record_sweeps(conn, sweeps=sweeps[-1:], ids=ids, thresholds=CATALOG.thresholds())
    assert again == [] and whole_store(twin_url) == expected
