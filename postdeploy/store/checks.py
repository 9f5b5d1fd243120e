"""Check results, check states and the alerts their transitions raise."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from postdeploy.domain.checks import CheckOutcome, CheckState, Transition, advance
from postdeploy.store.rollup import add_daily, daily_rows
from postdeploy.store.schema import alert, check_result, check_state, service
from postdeploy.store.upsert import upsert


def record_results(
    conn: Connection, *, sweep_id: str, outcomes: Sequence[CheckOutcome], ids: dict[str, int]
) -> None:
    """Store a sweep's outcomes and add them to the check_daily rollup; storing the same
    sweep again changes neither."""
    _insert_results(conn, [(sweep_id, o) for o in outcomes], ids)


def _insert_results(
    conn: Connection, results: Sequence[tuple[str, CheckOutcome]], ids: dict[str, int]
) -> None:
    rows = [
        {
            "service_id": ids[o.service],
            "check_name": o.check,
            "sweep_id": sweep_id,
            "ts": o.ts,
            "ok": o.ok,
            "status": o.status,
            "latency_ms": o.latency_ms,
            "detail": o.detail,
            "cert_expires_at": o.cert_expires_at,
        }
        for sweep_id, o in results
    ]
    if not rows:
        return
    stmt: Any = (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(
        check_result
    )
    inserted = conn.execute(
        stmt.on_conflict_do_nothing(
            index_elements=["sweep_id", "service_id", "check_name"]
        ).returning(
            check_result.c.service_id,
            check_result.c.check_name,
            check_result.c.sweep_id,
            check_result.c.ts,
            check_result.c.ok,
            check_result.c.latency_ms,
        ),
        rows,
    )
    # only the rows this call inserted reach the rollup: a re-recorded sweep adds nothing
    add_daily(conn, daily_rows(dict(r._mapping) for r in inserted))


def load_states(conn: Connection) -> dict[tuple[str, str], tuple[CheckState, str | None]]:
    """Current state of every check, with the sweep that last changed it."""
    rows = conn.execute(
        select(
            service.c.name,
            check_state.c.check_name,
            check_state.c.status,
            check_state.c.failures,
            check_state.c.since,
            check_state.c.detail,
            check_state.c.last_sweep_id,
        ).join(service, service.c.id == check_state.c.service_id)
    )
    return {
        (r.name, r.check_name): (
            CheckState(r.name, r.check_name, r.status, r.failures, r.since, r.detail),
            r.last_sweep_id,
        )
        for r in rows
    }


def save_states(
    conn: Connection, *, states: Iterable[CheckState], sweep_id: str, ids: dict[str, int]
) -> None:
    rows = [
        {
            "service_id": ids[s.service],
            "check_name": s.check,
            "status": s.status,
            "failures": s.failures,
            "since": s.since,
            "detail": s.detail,
            "last_sweep_id": sweep_id,
        }
        for s in states
    ]
    upsert(
        conn,
        check_state,
        rows,
        keys=["service_id", "check_name"],
        update=["status", "failures", "since", "detail", "last_sweep_id"],
    )


def record_transitions(conn: Connection, *, transitions: Sequence[Transition]) -> None:
    """A down transition fires an alert; an up transition resolves the firing one."""
    now = datetime.now(UTC)
    for t in transitions:
        at = datetime.fromtimestamp(t.at, UTC)
        if t.current == "down":
            upsert(
                conn,
                alert,
                [
                    {
                        "fingerprint": t.fingerprint,
                        "starts_at": at,
                        "status": "firing",
                        "name": "CheckDown",
                        "service": t.service,
                        "severity": "critical",
                        "summary": t.summary,
                        "labels": {"service": t.service, "check": t.check},
                        "annotations": {"detail": t.detail},
                        "source": "health-check",
                        "updated_at": now,
                    }
                ],
                keys=["fingerprint", "starts_at"],
            )
        else:
            conn.execute(
                update(alert)
                .where(and_(alert.c.fingerprint == t.fingerprint, alert.c.status == "firing"))
                .values(status="resolved", ends_at=at, updated_at=now)
            )


def firing_alerts(conn: Connection) -> list[dict[str, object]]:
    rows = conn.execute(select(alert).where(alert.c.status == "firing").order_by(alert.c.starts_at))
    return [dict(r._mapping) for r in rows]


def record_sweep(
    conn: Connection,
    *,
    sweep_id: str,
    outcomes: Sequence[CheckOutcome],
    ids: dict[str, int],
    thresholds: dict[tuple[str, str], int],
) -> list[Transition]:
    """Store a sweep, fold it into check states and record alerts; idempotent per sweep_id."""
    return record_sweeps(conn, sweeps=[(sweep_id, outcomes)], ids=ids, thresholds=thresholds)


def record_sweeps(
    conn: Connection,
    *,
    sweeps: Iterable[tuple[str, Sequence[CheckOutcome]]],
    ids: dict[str, int],
    thresholds: dict[tuple[str, str], int],
    batch: int = 20_000,
) -> list[Transition]:
    """Sweeps in time order (a history to load, as the demo's) stored as record_sweep would
    store them one by one: the same results, rollup, states and alerts, in a few batched
    statements. States are folded in memory and saved once; a check skips a sweep its state
    has already seen (a retried run)."""
    states = load_states(conn)
    current = {key: state for key, (state, _) in states.items()}
    last = {key: sweep for key, (_, sweep) in states.items()}
    pending: list[tuple[str, CheckOutcome]] = []
    transitions: list[Transition] = []
    for sweep_id, outcomes in sweeps:
        pending += [(sweep_id, o) for o in outcomes]
        for outcome in sorted(outcomes, key=lambda o: o.ts):
            key = (outcome.service, outcome.check)
            if last.get(key) == sweep_id:
                continue  # this sweep was already folded in (a retried task or flow run)
            state, transition = advance(current.get(key), outcome, thresholds.get(key, 1))
            current[key], last[key] = state, sweep_id
            if transition is not None:
                transitions.append(transition)
        if len(pending) >= batch:
            _insert_results(conn, pending, ids)
            pending = []
    _insert_results(conn, pending, ids)
    by_sweep: dict[str, list[CheckState]] = {}
    for key, seen in last.items():
        if seen is not None and states.get(key, (None, None))[1] != seen:
            by_sweep.setdefault(seen, []).append(current[key])
    for seen, changed in by_sweep.items():
        save_states(conn, states=changed, sweep_id=seen, ids=ids)
    record_transitions(conn, transitions=transitions)
    return transitions
