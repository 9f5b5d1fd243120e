"""SLO counts aggregated in SQL on SQLite and PostgreSQL, checked against plain Python."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest
from sqlalchemy import insert

from postdeploy.catalog import Check, Service, Slo
from postdeploy.domain.slo import Counts
from postdeploy.store.schema import check_result
from postdeploy.store.services import sync_services
from postdeploy.store.session import store_transaction
from postdeploy.store.slo import service_slos, slo_counts

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
WINDOWS = [
    timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=6),
    timedelta(days=3), timedelta(days=30),
]  # fmt: skip
LATENCY = {"api": 200.0, "hot": 100.0}
SERVICES = [
    Service(name=name, url=f"http://{name}", checks=[Check(name="a", url="/a")], slo=slo)
    for name, slo in [
        ("api", Slo(availability=99.9, latency_ms=200, latency_percentile=90)),
        ("web", Slo(availability=99.5)),
        ("hot", Slo(availability=99.9, latency_ms=100)),
    ]
]


class Result(NamedTuple):
    service: str
    ts: float
    ok: bool
    latency_ms: float | None


def generate() -> list[Result]:
    """Random results over 40 days (and a few after now), denser lately; edge cases on the
    window bounds: exactly now - window is outside, exactly now is inside."""
    rng = random.Random(11)
    now = NOW.timestamp()
    ages = [rng.uniform(-600, 40 * 86400) for _ in range(3000)]
    ages += [rng.uniform(0, 7200) for _ in range(1500)]
    ages += [0.0, 300.0, 1800.0, 3600.0, 21600.0, 259200.0, 2592000.0]
    results = []
    for age in ages:
        name = rng.choice([s.name for s in SERVICES])
        ok = rng.random() >= (0.6 if name == "hot" and age < 3600 else 0.02)
        latency = rng.choice([None, rng.uniform(10, 400)]) if ok else None
        results.append(Result(name, now - age, ok, latency))
    return results


def store(url: str, results: list[Result]) -> None:
    with store_transaction(url) as conn:
        ids = sync_services(conn, services=SERVICES)
        rows = [
            {"service_id": ids[r.service], "check_name": f"c{n % 2}", "sweep_id": f"s{n}",
             "ts": r.ts, "ok": r.ok, "latency_ms": r.latency_ms, "detail": ""}
            for n, r in enumerate(results)
        ]  # fmt: skip
        conn.execute(insert(check_result), rows)


Key = tuple[str, str, timedelta]  # service, SLI, window


def expected(results: list[Result]) -> dict[Key, Counts]:
    now = NOW.timestamp()
    out: dict[Key, Counts] = {}
    for name in {r.service for r in results}:
        for window in WINDOWS:
            inside = [
                r for r in results
                if r.service == name and now - window.total_seconds() < r.ts <= now
            ]  # fmt: skip
            out[(name, "availability", window)] = Counts(sum(r.ok for r in inside), len(inside))
            if name in LATENCY:
                fast = sum(
                    1 for r in inside
                    if r.ok and r.latency_ms is not None and r.latency_ms <= LATENCY[name]
                )  # fmt: skip
                out[(name, "latency", window)] = Counts(fast, len(inside))
    return out


def test_counts_per_service_and_window_match_a_plain_python_count(store_url: str) -> None:
    with store_transaction(store_url) as conn:
        sync_services(conn, services=SERVICES)
        # nothing measured yet: no counts rather than zeros, no SLI and no budget
        assert slo_counts(conn, now=NOW, windows=WINDOWS) == {}
        assert slo_counts(conn, now=NOW, windows=[]) == {}
        empty = service_slos(conn, services=SERVICES, now=NOW)["api"]
        assert all(s.sli is None and s.budget is None and s.severity is None for s in empty)
    results = generate()
    store(store_url, results)
    with store_transaction(store_url) as conn:
        found = slo_counts(conn, now=NOW, windows=WINDOWS, latency_ms=LATENCY)
    got = {
        (name, sli, window): c
        for name, counts in found.items()
        for sli in ("availability", "latency")
        for window, c in counts.of(sli).items()
    }
    assert got == expected(results)
    assert found["web"].latency == {}  # no latency objective, no latency counts
    assert got[("api", "availability", timedelta(days=30))].total > 1000


def test_service_slos_page_on_a_fast_burn_and_report_the_budget_left(store_url: str) -> None:
    store(store_url, generate())
    with store_transaction(store_url) as conn:
        slos = service_slos(conn, services=SERVICES, now=NOW)
    assert [s.name for s in slos["api"]] == ["availability", "latency"]
    assert [s.name for s in slos["web"]] == ["availability"]
    hot = slos["hot"][0]
    assert hot.severity == "page" and hot.alerts[0].firing
    assert hot.budget is not None and hot.budget.remaining < 0
    web = slos["web"][0]
    assert web.objective.percent == 99.5 and web.budget is not None
    assert web.budget.total_minutes == pytest.approx(216.0)  # 0.5% of 30 days
