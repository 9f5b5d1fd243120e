"""Notify routes of check state changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from postdeploy.adapters.notify import Target, deliver
from postdeploy.domain.checks import Transition


@task(name="notify-state-changes", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def notify_state_changes(
    transitions: Sequence[Transition],
    routes: Mapping[str, Sequence[str]],
    targets: Mapping[str, Target],
) -> int:
    """Deliver each transition to the routes of its service; returns messages sent."""
    sent = 0
    for t in transitions:
        event = {
            "event": "check.down" if t.current == "down" else "check.up",
            "service": t.service,
            "check": t.check,
            "status": t.current,
            "previous": t.previous,
            "detail": t.detail,
            "at": t.at,
            "fingerprint": t.fingerprint,
            "summary": t.summary,
        }
        for route in routes.get(t.service, ()):
            deliver(route, targets[route], event)
            sent += 1
    get_run_logger().info("sent %d notifications for %d state changes", sent, len(transitions))
    return sent
