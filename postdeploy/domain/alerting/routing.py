"""The routing tree: which routes (and so receivers and timings) an alert's labels reach, and
the group an alert joins on each (Alertmanager semantics, `continue` included)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from postdeploy.domain.alerting.labels import Labels, Matcher, matches_all

INCIDENT = "@incident"  # the receiver of a route that opens or updates an incident


@dataclass(frozen=True)
class Timing:
    group_wait: timedelta = timedelta(seconds=30)  # before a new group's first notification
    group_interval: timedelta = timedelta(minutes=5)  # between notifications of changes
    repeat_interval: timedelta = timedelta(hours=4)  # before the same news is sent again


@dataclass(frozen=True)
class RouteNode:
    path: str = "root"
    matchers: tuple[Matcher, ...] = ()
    receivers: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ("alertname", "service")  # "..." groups by every label
    timing: Timing = field(default_factory=Timing)
    send_resolved: bool = True
    continue_: bool = False
    incident: bool = False
    incident_severity: str | None = None  # None: the highest severity among the alerts
    title: str | None = None  # Jinja templates; None: the default ones
    text: str | None = None
    routes: tuple[RouteNode, ...] = ()

    @property
    def all_receivers(self) -> tuple[str, ...]:
        return self.receivers + ((INCIDENT,) if self.incident else ())


def routes_for(node: RouteNode, labels: Labels) -> list[RouteNode]:
    """Depth first: the first matching child wins unless it says `continue`; a route none of
    whose children match handles the alert itself. The root matches everything."""
    if not matches_all(node.matchers, labels):
        return []
    found: list[RouteNode] = []
    for child in node.routes:
        hit = routes_for(child, labels)
        found += hit
        if hit and not child.continue_:
            break
    return found or [node]


def group_labels(node: RouteNode, labels: Labels) -> dict[str, str]:
    if "..." in node.group_by:
        return dict(sorted(labels.items()))
    return {k: labels[k] for k in node.group_by if k in labels}


def group_key(node: RouteNode, labels: Labels) -> str:
    pairs = ",".join(f'{k}="{v}"' for k, v in sorted(group_labels(node, labels).items()))
    key = f"{node.path}:{{{pairs}}}"
    if len(key) <= 200:
        return key
    return f"{node.path[:150]}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"
