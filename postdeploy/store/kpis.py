"""Every KPI of a period, per service and overall, aggregated in the database: counts, sums and
the percentiles of durations leave it as one row per group, never row by row. The definitions
are the pure functions of postdeploy.domain.kpi; this module only gathers their inputs."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, select

from postdeploy.catalog import Catalog
from postdeploy.domain import kpi
from postdeploy.domain.kpi import Aggregate, KpiValue, Spread, no_data
from postdeploy.domain.periods import Period
from postdeploy.domain.slo import Counts
from postdeploy.domain.tickets import PRIORITIES, STATUS_PHASES
from postdeploy.domain.windows import Interval, merged, occurrences
from postdeploy.store.kpi_sla import sla_met
from postdeploy.store.kpi_sql import ALL, aggregate, counted, rolled_up, seconds_between
from postdeploy.store.schema import (
    check_result,
    deployment,
    incident,
    service,
    survey_response,
    ticket,
)
from postdeploy.store.slo import objectives, slo_counts

DONE = tuple(s for s, p in STATUS_PHASES.items() if p == "done")
EVERY = [{"service"}, set()]  # per service, and overall
BY_PRIORITY = [{"service", "priority"}, {"service"}, {"priority"}, set()]


@dataclass(frozen=True)
class Kpi:
    scope: str  # a service's name; "" = overall
    metric: str  # "availability", "mttr.median", "resolution_time.critical.p90", ...
    value: KpiValue

    @property
    def name(self) -> str:
        """The KPI the metric belongs to (the key of kpi.BETTER)."""
        return self.metric.split(".", 1)[0]


@dataclass
class KpiSet:
    period: Period
    as_of: datetime  # the end of the period, or now for a period not over yet
    kpis: list[Kpi] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # KPI group -> why it has no values

    def add(self, scope: str, metric: str, value: KpiValue) -> None:
        self.kpis.append(Kpi(scope, metric, value))

    def add_spread(self, scope: str, metric: str, spread: Spread) -> None:
        for stat, value in zip(("mean", "median", "p90"), spread, strict=True):
            self.add(scope, f"{metric}.{stat}", value)

    def get(self, scope: str, metric: str) -> KpiValue | None:
        return next((k.value for k in self.kpis if (k.scope, k.metric) == (scope, metric)), None)

    @contextmanager
    def group(self, names: tuple[str, ...], blocked: dict[str, str]) -> Iterator[bool]:
        """Run one KPI group; False when the data-quality gate blocked it. A failing group is
        recorded (the reason goes in the report) and the other groups still come out."""
        reason = next((blocked[n] for n in names if n in blocked), None)
        if reason is not None:
            for name in names:
                self.failed[name] = f"blocked by the data-quality gate: {reason}"
            yield False
            return
        try:
            yield True
        except Exception as exc:  # noqa: BLE001 - one KPI group's failure must not stop the rest
            for name in names:
                self.failed[name] = f"{type(exc).__name__}: {exc}"


def compute_kpis(
    conn: Connection,
    catalog: Catalog,
    period: Period,
    *,
    now: datetime | None = None,
    blocked: dict[str, str] | None = None,
) -> KpiSet:
    """The KPIs of `period` for every service and overall. `blocked` maps KPI names to the
    reason a blocking data-quality suite failed; those KPIs are left out with that reason."""
    now = now or datetime.now(UTC)
    result = KpiSet(period, min(period.end.astimezone(UTC), now.astimezone(UTC)))
    blocked = blocked or {}
    steps: list[tuple[tuple[str, ...], Callable[[Connection, Catalog, KpiSet], None]]] = [
        (("availability",), _availability),
        (("mtta", "mttr", "incidents"), _incidents),
        (("first_response_time", "resolution_time", "issues_resolved"), _tickets),
        (("sla_compliance",), _sla),
        (("backlog_size", "backlog_age"), _backlog),
        (("csat", "nps", "ces"), _surveys),
        (("deployment_frequency", "lead_time", "change_fail_rate"), _deploys),
        (("failed_deployment_recovery_time",), _recovery),
        (("error_budget_remaining",), _error_budget),
    ]
    for names, step in steps:
        with result.group(names, blocked) as allowed:
            if allowed:
                with conn.begin_nested():  # a failed statement must not poison the rest
                    step(conn, catalog, result)
    return result


def _between(column: Any, kpis: KpiSet) -> Any:
    return and_(column >= kpis.period.start, column < kpis.period.end)


def _services(catalog: Catalog, found: set[str]) -> list[str]:
    """Catalog services first (in catalog order), then any other service the data names."""
    names = [s.name for s in catalog.services]
    return names + sorted(found - set(names) - {ALL})


# Availability ---------------------------------------------------------------------------------


def maintenance(catalog: Catalog, period: Period) -> dict[str, list[Interval]]:
    """Each service's maintenance windows within the period, merged, in UTC."""
    tz = catalog.zone()
    windows: dict[str, list[Interval]] = defaultdict(list)
    for w in catalog.maintenance_windows:
        spans = occurrences(w.start, w.end, period.start, period.end, tz)
        for name in w.services or [s.name for s in catalog.services]:
            windows[name] += [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in spans]
    return {name: merged(spans) for name, spans in windows.items()}


def _ok_total(conn: Connection, since: float, until: float) -> dict[str, tuple[int, int]]:
    """(ok, total) per service name of the results in [since, until). Grouped by service id
    without a join, and by `service_id + 0` so that SQLite ranges over the covering ts index
    rather than skip-scanning the (service_id, check_name, ts) one."""
    names = dict(conn.execute(select(service.c.id, service.c.name)).all())
    sid = (check_result.c.service_id + 0).label("sid")
    rows = conn.execute(
        select(sid, func.sum(case((check_result.c.ok, 1), else_=0)), func.count())
        .where(check_result.c.ts >= since, check_result.c.ts < until)
        .group_by(sid)
    )
    return {names[i]: (int(ok or 0), int(total)) for i, ok, total in rows if i in names}


def _availability(conn: Connection, catalog: Catalog, kpis: KpiSet) -> None:
    start, end = kpis.period.start.timestamp(), kpis.period.end.timestamp()
    counts = _ok_total(conn, start, end)
    excluded: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    spans_by_service = maintenance(catalog, kpis.period)
    distinct = {span for spans in spans_by_service.values() for span in spans}
    for a, b in sorted(distinct):
        inside = _ok_total(conn, a.timestamp(), b.timestamp())
        for name, (ok, total) in inside.items():
            if (a, b) in spans_by_service.get(name, []):
                excluded[name][0] += ok
                excluded[name][1] += total
    all_ok = sum(ok for ok, _ in counts.values())
    all_total = sum(total for _, total in counts.values())
    all_in = (sum(v[0] for v in excluded.values()), sum(v[1] for v in excluded.values()))
    kpis.add(ALL, "availability", kpi.availability(all_ok, all_total, maintenance_excluded=all_in))
    for name in _services(catalog, set(counts)):
        ok, total = counts.get(name, (0, 0))
        ok_in, total_in = excluded.get(name, [0, 0])
        value = kpi.availability(ok, total, maintenance_excluded=(ok_in, total_in))
        kpis.add(name, "availability", value)


# Incidents ------------------------------------------------------------------------------------


def _incidents(conn: Connection, catalog: Catalog, kpis: KpiSet) -> None:
    d = conn.dialect.name
    svc = [("service", incident.c.service)]
    ack = rolled_up(
        select(incident).where(
            _between(incident.c.opened_at, kpis), incident.c.acknowledged_at.is_not(None)
        ),
        svc,
        seconds_between(d, incident.c.acknowledged_at, incident.c.opened_at),
        EVERY,
    )
    res = rolled_up(
        select(incident).where(_between(incident.c.resolved_at, kpis)),
        svc,
        seconds_between(d, incident.c.resolved_at, incident.c.opened_at),
        EVERY,
    )
    mtta, mttr = aggregate(conn, ack, 1), aggregate(conn, res, 1)
    opened = counted(
        conn,
        rolled_up(
            select(incident).where(_between(incident.c.opened_at, kpis)),
            [*svc, ("severity", incident.c.severity)],
            literal(1),
            [{"service", "severity"}, {"severity"}],
        ),
        2,
    )
    found = {k[0] for k in (*mtta, *mttr, *opened)}
    for scope in [ALL, *_services(catalog, found)]:
        kpis.add_spread(scope, "mtta", kpi.spread_of(mtta.get((scope,), Aggregate(0)), "min"))
        kpis.add_spread(scope, "mttr", kpi.spread_of(mttr.get((scope,), Aggregate(0)), "h"))
        severities = Counter({sev: n for (s, sev), n in opened.items() if s == scope})
        for severity, value in kpi.incidents_by_severity(severities.elements()).items():
            kpis.add(scope, f"incidents.{severity}", value)


# Tickets --------------------------------------------------------------------------------------


def _priority_scopes(
    catalog: Catalog, *found: dict[tuple[str, ...], Any]
) -> Iterator[tuple[str, str, str]]:
    """(scope, priority or ALL, metric suffix) for every scope with data and every priority."""
    services = {k[0] for f in found for k in f}
    for scope in [ALL, *_services(catalog, services)]:
        for priority in (ALL, *PRIORITIES):
            yield scope, priority, f".{priority}" if priority else ""


def _tickets(conn: Connection, catalog: Catalog, kpis: KpiSet) -> None:
    d = conn.dialect.name
    groups = [("service", ticket.c.service), ("priority", ticket.c.priority)]
    responded = aggregate(
        conn,
        rolled_up(
            select(ticket).where(_between(ticket.c.first_response_at, kpis)),
            groups,
            seconds_between(d, ticket.c.first_response_at, ticket.c.created_at),
            BY_PRIORITY,
        ),
        2,
    )
    resolved = aggregate(
        conn,
        rolled_up(
            select(ticket).where(_between(ticket.c.resolved_at, kpis)),
            groups,
            seconds_between(d, ticket.c.resolved_at, ticket.c.created_at),
            BY_PRIORITY,
        ),
        2,
    )
    for scope, priority, suffix in _priority_scopes(catalog, responded, resolved):
        first = responded.get((scope, priority), Aggregate(0))
        done = resolved.get((scope, priority), Aggregate(0))
        kpis.add_spread(scope, f"first_response_time{suffix}", kpi.spread_of(first, "h"))
        kpis.add_spread(scope, f"resolution_time{suffix}", kpi.spread_of(done, "h"))
        if not priority:
            kpis.add(scope, "issues_resolved", kpi.issues_resolved(done.n))


def _sla(conn: Connection, catalog: Catalog, kpis: KpiSet) -> None:
    met = sla_met(conn, kpis.period, catalog.sla)
    for scope, priority, suffix in _priority_scopes(catalog, met):
        good, total = met.get((scope, priority), (0, 0))
        kpis.add(scope, f"sla_compliance{suffix}", kpi.sla_compliance(good, total))


def _backlog(conn: Connection, catalog: Catalog, kpis: KpiSet) -> None:
    as_of = kpis.as_of
    closed = func.coalesce(
        ticket.c.resolved_at,
        case((ticket.c.status.in_(DONE), func.coalesce(ticket.c.updated_at, ticket.c.created_at))),
    )
    open_then = select(ticket).where(
        ticket.c.created_at < as_of, (closed.is_(None)) | (closed >= as_of)
    )
    # the age at as_of, in seconds: as_of is a bound value, so the same expression serves both
    age = seconds_between(
        conn.dialect.name, literal(as_of, ticket.c.created_at.type), ticket.c.created_at
    )
    ages = aggregate(conn, rolled_up(open_then, [("service", ticket.c.service)], age, EVERY), 1)
    for scope in [ALL, *_services(catalog, {k[0] for k in ages})]:
        backlog = kpi.backlog_of(ages.get((scope,), Aggregate(0)))
        kpis.add(scope, "backlog_size", backlog.size)
        kpis.add(scope, "backlog_age.median", backlog.median_age)
        kpis.add(scope, "backlog_age.p90", backlog.p90_age)
        kpis.add(scope, "backlog_age.max", backlog.oldest)


# Surveys --------------------------------------------------------------------------------------


def _surveys(conn: Connection, catalog: Catalog, kpis: KpiSet) -> None:
    found: dict[str, dict[str, Counter[int]]] = defaultdict(lambda: defaultdict(Counter))
    in_period = _between(survey_response.c.submitted_at, kpis)
    for name in ("nps", "csat", "ces"):
        column = survey_response.c[name]
        rows = conn.execute(
            select(survey_response.c.service, column, func.count())
            .where(in_period, column.is_not(None))
            .group_by(survey_response.c.service, column)
        )
        for svc, score, n in rows:
            found[ALL][name][int(score)] += int(n)
            if svc is not None:
                found[svc][name][int(score)] += int(n)
    functions = {"nps": kpi.nps, "csat": kpi.csat, "ces": kpi.ces}
    for scope in [ALL, *_services(catalog, set(found))]:
        for name, function in functions.items():
            kpis.add(scope, name, function(list(found[scope][name].elements())))


# DORA -----------------------------------------------------------------------------------------


def _deploys(conn: Connection, catalog: Catalog, kpis: KpiSet) -> None:
    d = conn.dialect.name
    prod = select(deployment).where(
        _between(deployment.c.deployed_at, kpis), deployment.c.environment == "production"
    )
    svc = [("service", deployment.c.service)]
    count = counted(conn, rolled_up(prod, svc, literal(1), EVERY), 1)
    judged = counted(
        conn, rolled_up(prod.where(deployment.c.failed.is_not(None)), svc, literal(1), EVERY), 1
    )
    failed = counted(
        conn, rolled_up(prod.where(deployment.c.failed.is_(True)), svc, literal(1), EVERY), 1
    )
    lead = aggregate(
        conn,
        rolled_up(
            prod.where(deployment.c.committed_at.is_not(None)),
            svc,
            seconds_between(d, deployment.c.deployed_at, deployment.c.committed_at),
            EVERY,
        ),
        1,
    )
    for scope in [ALL, *_services(catalog, {k[0] for k in count})]:
        key = (scope,)
        kpis.add(
            scope,
            "deployment_frequency",
            kpi.deployment_frequency_of(count.get(key, 0), kpis.period),
        )
        median = lead[key].median if key in lead else None
        kpis.add(
            scope,
            "lead_time",
            kpi.lead_time_of(
                None if median is None else timedelta(seconds=median), lead.get(key, Aggregate(0)).n
            ),
        )
        kpis.add(
            scope, "change_fail_rate", kpi.change_fail_rate(failed.get(key, 0), judged.get(key, 0))
        )


def _recovery(conn: Connection, catalog: Catalog, kpis: KpiSet) -> None:
    recovered = aggregate(
        conn,
        rolled_up(
            select(deployment).where(
                _between(deployment.c.deployed_at, kpis),
                deployment.c.environment == "production",
                deployment.c.failed.is_(True),
                deployment.c.recovered_at.is_not(None),
            ),
            [("service", deployment.c.service)],
            seconds_between(conn.dialect.name, deployment.c.recovered_at, deployment.c.deployed_at),
            EVERY,
        ),
        1,
    )
    for scope in [ALL, *_services(catalog, {k[0] for k in recovered})]:
        agg = recovered.get((scope,))
        median = timedelta(seconds=agg.median) if agg else None
        value = kpi.recovery_time_of(median, agg.n if agg else 0)
        kpis.add(scope, "failed_deployment_recovery_time", value)


# SLO ------------------------------------------------------------------------------------------


def _error_budget(conn: Connection, catalog: Catalog, kpis: KpiSet) -> None:
    """Each service's budget left over its SLO window ending at the period's end (or now)."""
    windows = {s.slo.window for s in catalog.services}
    latency = {s.name: s.slo.latency_ms for s in catalog.services if s.slo.latency_ms is not None}
    counts = slo_counts(conn, now=kpis.as_of, windows=windows, latency_ms=latency)
    for svc in catalog.services:
        have = counts.get(svc.name)
        for sli, objective in objectives(svc).items():
            got = have.of(sli).get(svc.slo.window, Counts(0, 0)) if have else Counts(0, 0)
            value = kpi.error_budget_remaining(objective, got)
            metric = "error_budget_remaining" + ("" if sli == "availability" else f".{sli}")
            kpis.add(svc.name, metric, value if got.total else no_data(value.unit))
