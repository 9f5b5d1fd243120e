"""Alerts raised by rules, silences, and alert groups with the notifications they were sent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select, tuple_, update

from postdeploy.domain.alerting import Alert, CheckFacts, GroupState, Rule, RuleData, Silence
from postdeploy.domain.alerting.dispatch import GroupId, Notification
from postdeploy.domain.alerting.labels import parse_matchers
from postdeploy.domain.alerting.rules import BurnFact, RuleStep
from postdeploy.store.checks import load_states
from postdeploy.store.metrics import read_series
from postdeploy.store.schema import (
    alert,
    alert_group,
    alert_notification,
    alert_pending,
    check_result,
    service,
    silence,
)
from postdeploy.store.upsert import upsert

RULES = "rules"  # the alert table's source for alerts raised here


def rule_data(
    conn: Connection, *, rules: Sequence[Rule], now: float, burns: Sequence[BurnFact] = ()
) -> RuleData:
    """What the rules read: their series over their windows, check states and certificates."""
    windows: dict[tuple[str, str], float] = {}
    for rule in (r for r in rules if r.kind in ("threshold", "anomaly")):
        for svc in rule.services:
            key = (rule.series, svc)
            windows[key] = max(windows.get(key, 0.0), rule.window_s)
    series = {
        (name, svc): read_series(
            conn, name=name, labels={"service": svc}, since=now - window, until=now
        )
        for (name, svc), window in windows.items()
    }
    checks: dict[tuple[str, str], CheckFacts] = {}
    if any(r.kind in ("check_failing", "cert_expiring") for r in rules):
        certs = _latest_certs(conn)
        for key, (state, _) in load_states(conn).items():
            checks[key] = CheckFacts(state.failures, state.detail, certs.get(key))
    return RuleData(series, checks, tuple(burns))


def _latest_certs(conn: Connection) -> dict[tuple[str, str], float]:
    latest = (
        select(check_result.c.service_id, check_result.c.check_name, func.max(check_result.c.ts))
        .where(check_result.c.cert_expires_at.is_not(None))
        .group_by(check_result.c.service_id, check_result.c.check_name)
    )
    rows = conn.execute(
        select(service.c.name, check_result.c.check_name, check_result.c.cert_expires_at)
        .join(service, service.c.id == check_result.c.service_id)
        .where(tuple_(check_result.c.service_id, check_result.c.check_name, check_result.c.ts)
               .in_(latest))
    )  # fmt: skip
    return {(r.name, r.check_name): float(r.cert_expires_at) for r in rows}


def rule_state(conn: Connection) -> tuple[dict[str, float], set[str]]:
    """(pending fingerprint -> active since, fingerprints of firing rule alerts)."""
    pending = {r.fingerprint: r.since.timestamp() for r in conn.execute(select(alert_pending))}
    firing = conn.execute(
        select(alert.c.fingerprint).where(alert.c.source == RULES, alert.c.status == "firing")
    )
    return pending, set(firing.scalars())


def save_rule_step(
    conn: Connection,
    *,
    step: RuleStep,
    texts: Mapping[str, tuple[str, Mapping[str, str]]],
    now: datetime,
) -> None:
    """Pending alerts remembered, new ones fired, firing ones refreshed, cleared ones resolved."""
    conn.execute(delete(alert_pending))
    if step.pending:
        conn.execute(
            alert_pending.insert(),
            [
                {"fingerprint": fp, "name": s.rule.name, "labels": dict(s.labels),
                 "since": datetime.fromtimestamp(since, UTC)}
                for fp, (s, since) in step.pending.items()
            ],
        )  # fmt: skip
    fired = set(step.fired)
    for s in step.firing:
        fp = s.fingerprint
        summary, annotations = texts[fp]
        if fp in fired:
            labels = {k: v for k, v in s.labels.items() if k not in ("alertname", "severity")}
            row = {
                "fingerprint": fp, "starts_at": now, "status": "firing", "name": s.rule.name,
                "service": s.labels.get("service"), "severity": s.labels["severity"],
                "summary": summary, "labels": labels, "annotations": dict(annotations),
                "source": RULES, "updated_at": now,
            }  # fmt: skip
            upsert(conn, alert, [row], keys=["fingerprint", "starts_at"])
        else:
            conn.execute(
                update(alert)
                .where(alert.c.fingerprint == fp, alert.c.status == "firing")
                .values(summary=summary, annotations=dict(annotations), updated_at=now)
            )
    if step.resolved:
        conn.execute(
            update(alert)
            .where(alert.c.fingerprint.in_(step.resolved), alert.c.status == "firing")
            .where(alert.c.source == RULES)
            .values(status="resolved", ends_at=now, updated_at=now)
        )


def _alert(row: Any) -> Alert:
    labels = {**row.labels, "alertname": row.name, "severity": row.severity}
    if row.service:
        labels.setdefault("service", row.service)
    notes = {"summary": row.summary, **row.annotations} if row.summary else dict(row.annotations)
    return Alert(row.fingerprint, labels, row.starts_at, row.status, row.ends_at, notes)


def dispatch_alerts(conn: Connection, *, told: Iterable[str]) -> list[Alert]:
    """Firing alerts of every source, and the latest resolved occurrence of alerts a receiver
    was told were firing (so it can be told they resolved)."""
    firing = {r.fingerprint: _alert(r) for r in conn.execute(
        select(alert).where(alert.c.status == "firing").order_by(alert.c.starts_at)
    )}  # fmt: skip
    gone = sorted(set(told) - set(firing))
    resolved: dict[str, Alert] = {}
    for start in range(0, len(gone), 500):
        rows = conn.execute(
            select(alert)
            .where(alert.c.fingerprint.in_(gone[start : start + 500]))
            .where(alert.c.status == "resolved")
            .order_by(alert.c.starts_at)
        )
        resolved.update((r.fingerprint, _alert(r)) for r in rows)
    return list(firing.values()) + list(resolved.values())


def load_groups(conn: Connection) -> dict[GroupId, GroupState]:
    return {
        (r.group_key, r.receiver): GroupState(
            r.first_seen, r.last_flush_at, r.last_notified_at,
            frozenset(r.last_digest.get("firing", ())),
            frozenset(r.last_digest.get("resolved", ())),
        )
        for r in conn.execute(select(alert_group))
    }  # fmt: skip


def save_groups(
    conn: Connection,
    *,
    states: Iterable[tuple[GroupId, Mapping[str, str], GroupState]],
    forget: Iterable[GroupId] = (),
) -> None:
    rows = [
        {
            "group_key": key, "receiver": receiver, "labels": dict(labels),
            "first_seen": s.first_seen, "last_flush_at": s.last_flush_at,
            "last_notified_at": s.last_notified_at,
            "last_digest": {"firing": sorted(s.firing), "resolved": sorted(s.resolved)},
        }
        for (key, receiver), labels, s in states
    ]  # fmt: skip
    columns = ["labels", "first_seen", "last_flush_at", "last_notified_at", "last_digest"]
    upsert(conn, alert_group, rows, keys=["group_key", "receiver"], update=columns)
    for key, receiver in forget:
        conn.execute(
            delete(alert_group).where(
                and_(alert_group.c.group_key == key, alert_group.c.receiver == receiver)
            )
        )


def log_notification(conn: Connection, *, note: Notification, title: str, now: datetime) -> None:
    row = {
        "group_key": note.group_key, "receiver": note.receiver, "sent_at": now,
        "status": note.status, "firing": len(note.firing), "resolved": len(note.resolved),
        "title": title, "fingerprints": [a.fingerprint for a in note.firing + note.resolved],
    }  # fmt: skip
    upsert(conn, alert_notification, [row], keys=["group_key", "receiver", "sent_at"])


def add_silence(
    conn: Connection, *, matchers: Sequence[str], starts_at: datetime, ends_at: datetime,
    created_by: str = "", comment: str = "", now: datetime | None = None,
) -> int:  # fmt: skip
    """A silence muting alerts whose labels match every matcher from starts_at to ends_at."""
    parse_matchers(matchers)  # refuse a matcher that could never work
    if not matchers or ends_at <= starts_at:
        raise ValueError("a silence needs at least one matcher and must end after it starts")
    result = conn.execute(
        silence.insert().values(
            matchers=list(matchers), starts_at=starts_at, ends_at=ends_at,
            created_by=created_by, comment=comment, created_at=now or datetime.now(UTC),
        )
    )  # fmt: skip
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def list_silences(conn: Connection, *, now: datetime, expired: bool = False) -> list[Silence]:
    """Active and future silences, oldest first; with expired=True every silence."""
    query = select(silence).order_by(silence.c.starts_at, silence.c.id)
    if not expired:
        query = query.where(silence.c.ends_at > now)
    return [
        Silence(r.id, parse_matchers(r.matchers), r.starts_at, r.ends_at, r.created_by, r.comment)
        for r in conn.execute(query)
    ]


def expire_silence(conn: Connection, *, silence_id: int, now: datetime) -> bool:
    """End a silence now (a future one never starts); False when it is unknown or over."""
    row = conn.execute(select(silence).where(silence.c.id == silence_id)).first()
    if row is None or row.ends_at <= now:
        return False
    start = min(now, row.starts_at)  # a silence that has not started yet never will
    stmt = update(silence).where(silence.c.id == silence_id)
    conn.execute(stmt.values(starts_at=start, ends_at=now))
    return True
