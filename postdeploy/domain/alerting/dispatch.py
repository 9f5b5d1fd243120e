"""Alert groups and when to notify them: group_wait after a group appears, group_interval
between flushes, repeat_interval for unchanged news (Alertmanager's dispatcher and dedup)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from postdeploy.domain.alerting.routing import RouteNode, group_key, group_labels, routes_for

GroupId = tuple[str, str]  # (group key, receiver)


@dataclass(frozen=True)
class Alert:
    fingerprint: str
    labels: Mapping[str, str]
    starts_at: datetime
    status: Literal["firing", "resolved"] = "firing"
    ends_at: datetime | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def firing(self) -> bool:
        return self.status == "firing"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": self.starts_at.isoformat(),
            "endsAt": self.ends_at.isoformat() if self.ends_at else None,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class GroupState:
    first_seen: datetime
    last_flush_at: datetime | None = None
    last_notified_at: datetime | None = None
    firing: frozenset[str] = frozenset()  # what the receiver was last told
    resolved: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Notification:
    group_key: str
    receiver: str
    route: RouteNode
    group_labels: Mapping[str, str]
    firing: tuple[Alert, ...]
    resolved: tuple[Alert, ...]

    @property
    def status(self) -> str:
        return "firing" if self.firing else "resolved"

    def context(self) -> dict[str, Any]:
        """What message templates see (Alertmanager's template data, snake_case)."""
        alerts = [a.as_dict() for a in self.firing + self.resolved]

        def common(key: str) -> dict[str, str]:
            items = [set(a[key].items()) for a in alerts]
            return dict(sorted(set.intersection(*items))) if items else {}

        return {
            "status": self.status,
            "receiver": self.receiver,
            "group_key": self.group_key,
            "group_labels": dict(self.group_labels),
            "common_labels": common("labels"),
            "common_annotations": common("annotations"),
            "alerts": alerts,
            "firing": alerts[: len(self.firing)],
            "resolved": alerts[len(self.firing) :],
        }


@dataclass(frozen=True)
class Decision:
    group: GroupId
    labels: Mapping[str, str]
    state: GroupState  # to keep once the notification (if any) is delivered
    previous: GroupState  # to keep instead when delivering fails
    notification: Notification | None = None


def needs_update(
    state: GroupState, firing: Set[str], resolved: Set[str], *, send_resolved: bool,
    repeat_due: bool,
) -> bool:  # fmt: skip
    """Alertmanager's DedupStage.needsUpdate."""
    if state.last_notified_at is None:
        return bool(firing)
    if not firing <= state.firing:
        return True
    if not firing:
        return bool(state.firing)  # everything resolved: say so once
    if send_resolved and not resolved <= state.resolved:
        return True
    return repeat_due


def _decide(
    node: RouteNode, group: GroupId, labels: Mapping[str, str], members: Sequence[Alert],
    previous: GroupState | None, muted: Set[str], now: datetime,
) -> Decision | None:  # fmt: skip
    told = previous.firing if previous else frozenset()
    firing = [a for a in members if a.firing]
    resolved = [a for a in members if not a.firing and a.fingerprint in told]
    if not firing and not resolved:
        return None  # an empty group is forgotten; it waits group_wait when it comes back
    state = previous or GroupState(first_seen=now)
    timing = node.timing
    if state.last_flush_at is None:
        appeared = min([state.first_seen] + [a.starts_at for a in firing])
        due = now >= appeared + timing.group_wait
    else:
        due = now >= state.last_flush_at + timing.group_interval
    if not due:
        return Decision(group, labels, state, state)
    flushed = replace(state, last_flush_at=now)
    shown_firing = tuple(a for a in firing if a.fingerprint not in muted)
    shown_resolved = tuple(a for a in resolved if a.fingerprint not in muted)
    now_firing = frozenset(a.fingerprint for a in shown_firing)
    now_resolved = frozenset(a.fingerprint for a in shown_resolved)
    repeat_due = state.last_notified_at is not None and (
        now >= state.last_notified_at + timing.repeat_interval
    )
    if not (shown_firing or shown_resolved) or not needs_update(
        state, now_firing, now_resolved, send_resolved=node.send_resolved, repeat_due=repeat_due
    ):
        return Decision(group, labels, flushed, state)
    told_now = replace(flushed, last_notified_at=now, firing=now_firing, resolved=now_resolved)
    sent_resolved = shown_resolved if node.send_resolved else ()
    if not (shown_firing or sent_resolved):
        return Decision(group, labels, told_now, state)  # all resolved, not announced: noted
    note = Notification(group[0], group[1], node, labels, shown_firing, sent_resolved)
    return Decision(group, labels, told_now, state, note)


@dataclass(frozen=True)
class Plan:
    decisions: tuple[Decision, ...]
    forget: tuple[GroupId, ...]  # groups with nothing left in them
    unrouted: tuple[str, ...]  # fingerprints of firing alerts no receiver takes


def plan(
    alerts: Sequence[Alert],
    tree: RouteNode,
    *,
    states: Mapping[GroupId, GroupState],
    muted: Set[str],
    now: datetime,
) -> Plan:
    """Route every alert, group it per route and receiver, and decide each group's flush."""
    groups: dict[GroupId, tuple[RouteNode, dict[str, str], list[Alert]]] = {}
    unrouted = []
    for alert in sorted(alerts, key=lambda a: (a.starts_at, a.fingerprint)):
        nodes = routes_for(tree, alert.labels)
        if alert.firing and not any(n.all_receivers for n in nodes):
            unrouted.append(alert.fingerprint)
        for node in nodes:
            key = group_key(node, alert.labels)
            for receiver in node.all_receivers:
                entry = groups.setdefault(
                    (key, receiver), (node, group_labels(node, alert.labels), [])
                )
                entry[2].append(alert)
    decisions = [
        d
        for gid, (node, labels, members) in sorted(groups.items())
        if (d := _decide(node, gid, labels, members, states.get(gid), muted, now)) is not None
    ]
    kept = {d.group for d in decisions}
    return Plan(tuple(decisions), tuple(g for g in states if g not in kept), tuple(unrouted))
