"""Every KPI the store aggregates in SQL (SQLite and PostgreSQL) equals an independent Python
computation over the same generated rows: plain filters in Python feeding the list-based
definitions of postdeploy.domain.kpi, and the SLA replayed on every ticket's history."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from postdeploy.catalog import Catalog, Check, MaintenanceWindow, Service, Slo
from postdeploy.domain import kpi
from postdeploy.domain.kpi import KpiValue
from postdeploy.domain.kpi.value import UNIT_SECONDS
from postdeploy.domain.periods import parse_period
from postdeploy.domain.sla import evaluate
from postdeploy.domain.tickets import PRIORITIES, StatusChange, Ticket
from postdeploy.domain.windows import window_active
from postdeploy.store.kpis import KpiSet, compute_kpis
from postdeploy.store.schema import check_result, deployment, incident, survey_response
from postdeploy.store.services import sync_services
from postdeploy.store.session import store_transaction
from postdeploy.store.tickets import upsert_tickets
from tests.conftest import create_pg_database, drop_pg_database

CATALOG = Catalog(
    timezone="Europe/Berlin",
    services=[
        Service(name=n, url=f"http://{n}", checks=[Check(name="h", url="/h")], slo=Slo())
        for n in ("api", "web")
    ],
    maintenance_windows=[
        MaintenanceWindow(name="nightly", services=["api"], start="02:00", end="03:00"),
        MaintenanceWindow(name="sunday", start="sun 23:30", end="mon 00:30"),
    ],
)
TZ = CATALOG.zone()
OCTOBER = parse_period("2026-10", TZ)  # holds the end of summer time (25-hour day)
SPAN = (datetime(2026, 9, 20, tzinfo=UTC), datetime(2026, 11, 10, tzinfo=UTC))
NOW = datetime(2026, 11, 20, tzinfo=UTC)
SERVICES = ("api", "web")


def _t(rng: random.Random) -> datetime:
    a, b = SPAN
    return a + timedelta(seconds=rng.uniform(0, (b - a).total_seconds()))


def _hours(rng: random.Random, top: float) -> timedelta:
    return timedelta(hours=rng.expovariate(1 / top))


def generate(seed: int = 5) -> dict[str, list[Any]]:
    rng = random.Random(seed)
    checks = []
    for _ in range(6000):
        name = rng.choice(SERVICES)
        checks.append((name, _t(rng).timestamp(), rng.random() > 0.03))
    # results exactly on the period's bounds: the start is in, the end is out
    checks += [("api", OCTOBER.start.timestamp(), False), ("api", OCTOBER.end.timestamp(), False)]
    incidents = []
    for i in range(120):
        opened = _t(rng)
        ack = opened + _hours(rng, 0.3) if rng.random() < 0.9 else None
        resolved = opened + _hours(rng, 5) if rng.random() < 0.8 else None
        sev = rng.choice(["critical", "high", "medium", "low"])
        incidents.append((f"inc-{i}", rng.choice(SERVICES), sev, opened, ack, resolved))
    tickets = []
    for i in range(1500):
        created = _t(rng)
        priority = rng.choice(PRIORITIES)
        first = created + _hours(rng, 6) if rng.random() < 0.9 else None
        resolved = created + _hours(rng, 60) if rng.random() < 0.75 else None
        changes: tuple[StatusChange, ...] = ()
        if resolved and rng.random() < 0.3:  # waited on the customer for a while
            wait_from = created + (resolved - created) * 0.2
            wait_to = created + (resolved - created) * rng.uniform(0.3, 0.95)
            changes = (
                StatusChange(wait_from, "waiting", "open"),
                StatusChange(wait_to, "open", "waiting"),
                StatusChange(resolved, "resolved", "open"),
            )
        status = "resolved" if resolved else rng.choice(["open", "new", "waiting"])
        svc = rng.choice([*SERVICES, None])
        tickets.append(
            Ticket("desk", f"T{i}", priority, status, created, service=svc,
                   first_response_at=first, resolved_at=resolved, updated_at=resolved,
                   changes=changes)
        )  # fmt: skip
    surveys = []
    for i in range(400):
        surveys.append(
            (f"S{i}", rng.choice([*SERVICES, None]), _t(rng),
             rng.choice([None, *range(11)]), rng.choice([None, *range(1, 6)]),
             rng.choice([None, None, *range(1, 8)]))
        )  # fmt: skip
    deploys = []
    for i in range(90):
        at = _t(rng)
        committed = at - _hours(rng, 30) if rng.random() < 0.8 else None
        failed = rng.choice([None, False, False, False, True])
        recovered = at + _hours(rng, 2) if failed and rng.random() < 0.8 else None
        env = "production" if rng.random() < 0.9 else "staging"
        deploys.append((rng.choice(SERVICES), f"1.{i}", env, committed, at, failed, recovered))
    return {"checks": checks, "incidents": incidents, "tickets": tickets,
            "surveys": surveys, "deploys": deploys}  # fmt: skip


def load(url: str, data: dict[str, list[Any]]) -> None:
    with store_transaction(url) as conn:
        ids = sync_services(conn, services=CATALOG.services)
        conn.execute(
            insert(check_result),
            [
                {"service_id": ids[s], "check_name": "h", "sweep_id": f"s{i}", "ts": ts, "ok": ok}
                for i, (s, ts, ok) in enumerate(data["checks"])
            ],
        )
        conn.execute(
            insert(incident),
            [
                {"key": k, "service": s, "severity": sev, "level": "L2", "status": "open",
                 "title": k, "opened_at": o, "acknowledged_at": a, "resolved_at": r}
                for k, s, sev, o, a, r in data["incidents"]
            ],
        )  # fmt: skip
        upsert_tickets(conn, data["tickets"])
        conn.execute(
            insert(survey_response),
            [
                {"source": "form", "external_id": x, "service": s, "submitted_at": t,
                 "nps": n, "csat": c, "ces": e}
                for x, s, t, n, c, e in data["surveys"]
            ],
        )  # fmt: skip
        conn.execute(
            insert(deployment),
            [
                {"service": s, "version": v, "environment": env, "commit": None,
                 "committed_at": c, "deployed_at": at, "failed": f, "recovered_at": r,
                 "verdict": None if f is None else ("fail" if f else "pass")}
                for s, v, env, c, at, f, r in data["deploys"]
            ],
        )  # fmt: skip


@pytest.fixture(scope="module")
def data() -> dict[str, list[Any]]:
    return generate()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def computed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    data: dict[str, list[Any]],
) -> Iterator[KpiSet]:
    """The generated data loaded once per backend, its October KPIs computed once."""
    from postdeploy.store.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('kpi') / 'store.db'}"
    else:
        admin = request.getfixturevalue("pg_admin_url")
        url = create_pg_database(admin)
        request.addfinalizer(lambda: drop_pg_database(admin, url))
    upgrade(url)
    load(url, data)
    with store_transaction(url) as conn:
        yield compute_kpis(conn, CATALOG, OCTOBER, now=NOW)


def scopes(svc: str | None) -> list[str]:
    return ["", svc] if svc else [""]


def same(got: KpiValue | None, want: KpiValue) -> None:
    assert got is not None
    assert got.n == want.n and got.unit == want.unit and got.tier == want.tier
    if want.value is None:
        assert got.value is None
    else:
        # SQLite's julianday() keeps milliseconds: durations agree to a few ms
        tolerance = 0.003 / UNIT_SECONDS.get(want.unit, 1e9)
        assert got.value == pytest.approx(want.value, rel=1e-9, abs=max(tolerance, 1e-9))


def since(moment: datetime | None, t: Ticket) -> timedelta:
    assert moment is not None
    return moment - t.created_at


def in_oct(t: datetime | None) -> bool:
    return t is not None and t in OCTOBER


def test_nothing_failed(computed: KpiSet) -> None:
    assert computed.failed == {}
    assert computed.as_of == OCTOBER.end


def test_availability_excludes_maintenance_and_counts_gaps_as_no_data(
    computed: KpiSet, data: dict[str, list[Any]]
) -> None:
    windows = CATALOG.maintenance_windows
    for scope in ["", *SERVICES]:
        ok = total = ok_in = total_in = 0
        for s, ts, good in data["checks"]:
            at = datetime.fromtimestamp(ts, UTC)
            if scope not in ("", s) or at not in OCTOBER:
                continue
            inside = any(
                (not w.services or s in w.services) and window_active(w.start, w.end, at, TZ)
                for w in windows
            )
            ok, total = ok + good, total + 1
            if inside:
                ok_in, total_in = ok_in + good, total_in + 1
        assert total_in > 0
        same(computed.get(scope, "availability"),
             kpi.availability(ok, total, maintenance_excluded=(ok_in, total_in)))  # fmt: skip


def test_incident_kpis(computed: KpiSet, data: dict[str, list[Any]]) -> None:
    for scope in ["", *SERVICES]:
        mine = [i for i in data["incidents"] if scope in ("", i[1])]
        ack = [a - o for _, _, _, o, a, _ in mine if a and in_oct(o)]
        res = [r - o for _, _, _, o, _, r in mine if in_oct(r)]
        for stat, want in zip(("mean", "median", "p90"), kpi.mtta(ack), strict=True):
            same(computed.get(scope, f"mtta.{stat}"), want)
        for stat, want in zip(("mean", "median", "p90"), kpi.mttr(res), strict=True):
            same(computed.get(scope, f"mttr.{stat}"), want)
        by = kpi.incidents_by_severity(sev for _, _, sev, o, _, _ in mine if in_oct(o))
        for severity, want in by.items():
            same(computed.get(scope, f"incidents.{severity}"), want)


def test_ticket_times_per_priority_and_issues_resolved(
    computed: KpiSet, data: dict[str, list[Any]]
) -> None:
    tickets: list[Ticket] = data["tickets"]
    for scope in ["", *SERVICES]:
        for priority in ("", *PRIORITIES):
            mine = [
                t for t in tickets
                if scope in ("", t.service) and priority in ("", t.priority)
            ]  # fmt: skip
            first = [since(t.first_response_at, t) for t in mine if in_oct(t.first_response_at)]
            done = [since(t.resolved_at, t) for t in mine if in_oct(t.resolved_at)]
            suffix = f".{priority}" if priority else ""
            for stat, a, b in zip(
                ("mean", "median", "p90"), kpi.first_response_time(first),
                kpi.resolution_time(done), strict=True,
            ):  # fmt: skip
                same(computed.get(scope, f"first_response_time{suffix}.{stat}"), a)
                same(computed.get(scope, f"resolution_time{suffix}.{stat}"), b)
            if not priority:
                same(computed.get(scope, "issues_resolved"), kpi.issues_resolved(len(done)))


def test_sla_compliance_replays_every_ticket_clock(
    computed: KpiSet, data: dict[str, list[Any]]
) -> None:
    met: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    paused_and_met = 0
    for t in data["tickets"]:
        if not in_oct(t.resolved_at):
            continue
        responded = min(t.first_response_at or t.resolved_at, t.resolved_at)
        sla = evaluate(created_at=t.created_at, status=t.status, target=CATALOG.sla[t.priority],
                       now=t.resolved_at, changes=t.changes, updated_at=t.resolved_at,
                       first_response_at=responded)  # fmt: skip
        good = "breached" not in (sla.response.state(), sla.resolution.state())
        wall = t.resolved_at - t.created_at <= CATALOG.sla[t.priority].resolution
        paused_and_met += good and not wall
        for key in {(s, p) for s in scopes(t.service) for p in ("", t.priority)}:
            total[key] += 1
            met[key] += good
    assert paused_and_met > 0  # the generated data exercises the replay
    for scope in ["", *SERVICES]:
        for priority in ("", *PRIORITIES):
            suffix = f".{priority}" if priority else ""
            want = kpi.sla_compliance(met[(scope, priority)], total[(scope, priority)])
            same(computed.get(scope, f"sla_compliance{suffix}"), want)


def test_backlog_at_the_end_of_the_period(computed: KpiSet, data: dict[str, list[Any]]) -> None:
    end = OCTOBER.end
    for scope in ["", *SERVICES]:
        ages = [
            end - t.created_at
            for t in data["tickets"]
            if scope in ("", t.service)
            and t.created_at < end
            and (t.resolved_at is None or t.resolved_at >= end)
        ]
        want = kpi.backlog(ages)
        same(computed.get(scope, "backlog_size"), want.size)
        same(computed.get(scope, "backlog_age.median"), want.median_age)
        same(computed.get(scope, "backlog_age.p90"), want.p90_age)
        same(computed.get(scope, "backlog_age.max"), want.oldest)


def test_satisfaction(computed: KpiSet, data: dict[str, list[Any]]) -> None:
    for scope in ["", *SERVICES]:
        mine = [x for x in data["surveys"] if scope in ("", x[1]) and in_oct(x[2])]
        same(computed.get(scope, "nps"), kpi.nps([x[3] for x in mine if x[3] is not None]))
        same(computed.get(scope, "csat"), kpi.csat([x[4] for x in mine if x[4] is not None]))
        same(computed.get(scope, "ces"), kpi.ces([x[5] for x in mine if x[5] is not None]))


def test_dora(computed: KpiSet, data: dict[str, list[Any]]) -> None:
    for scope in ["", *SERVICES]:
        mine = [d for d in data["deploys"] if scope in ("", d[0]) and d[2] == "production"]
        times = [d[4] for d in mine]
        same(computed.get(scope, "deployment_frequency"),
             kpi.deployment_frequency(times, OCTOBER))  # fmt: skip
        inside = [d for d in mine if in_oct(d[4])]
        same(computed.get(scope, "lead_time"),
             kpi.lead_time([d[4] - d[3] for d in inside if d[3]]))  # fmt: skip
        judged = [d for d in inside if d[5] is not None]
        same(computed.get(scope, "change_fail_rate"),
             kpi.change_fail_rate(sum(bool(d[5]) for d in judged), len(judged)))  # fmt: skip
        recoveries = [d[6] - d[4] for d in inside if d[5] and d[6]]
        same(computed.get(scope, "failed_deployment_recovery_time"),
             kpi.failed_deployment_recovery_time(recoveries))  # fmt: skip


def test_error_budget_over_the_slo_window_ending_with_the_period(
    computed: KpiSet, data: dict[str, list[Any]]
) -> None:
    from postdeploy.domain.slo import Counts, Objective

    for name in SERVICES:
        slo = CATALOG.service(name).slo
        since = OCTOBER.end.timestamp() - slo.window.total_seconds()  # real time, not wall
        mine = [
            ok
            for s, ts, ok in data["checks"]
            if s == name and since < ts <= OCTOBER.end.timestamp()
        ]
        want = kpi.error_budget_remaining(
            Objective(slo.availability, slo.window), Counts(sum(mine), len(mine))
        )
        same(computed.get(name, "error_budget_remaining"), want)


def test_an_empty_period_is_no_data_not_zero(store_url: str) -> None:
    with store_transaction(store_url) as conn:
        sync_services(conn, services=CATALOG.services)
        result = compute_kpis(conn, CATALOG, OCTOBER, now=NOW)
    assert result.failed == {}
    values = {(k.scope, k.metric): k.value for k in result.kpis}
    for metric in ("availability", "mtta.median", "mttr.p90", "csat", "nps", "lead_time",
                   "sla_compliance", "resolution_time.high.median", "change_fail_rate",
                   "error_budget_remaining"):  # fmt: skip
        for scope in ("", "api"):
            if (scope, metric) in values:
                assert values[(scope, metric)].value is None, (scope, metric)
    assert values[("", "issues_resolved")].value == 0
    assert values[("", "backlog_size")].value == 0
    assert values[("", "incidents.critical")].value == 0
    assert values[("", "deployment_frequency")].tier == "low"


def test_a_blocked_kpi_is_left_out_with_the_reason_and_the_rest_come_out(store_url: str) -> None:
    with store_transaction(store_url) as conn:
        sync_services(conn, services=CATALOG.services)
        result = compute_kpis(
            conn, CATALOG, OCTOBER, now=NOW, blocked={"csat": "surveys: csat between 1 and 5"}
        )
    assert "surveys: csat between 1 and 5" in result.failed["nps"]
    assert not any(k.name in {"csat", "nps", "ces"} for k in result.kpis)
    assert result.get("", "availability") is not None
