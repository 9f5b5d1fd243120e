"""Deliver notifications to webhooks and Slack; a delivery failure names the route."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    kind: str  # webhook | slack | log
    url: str | None = None
    token: str | None = None


class DeliveryError(RuntimeError):
    pass


def payload(kind: str, event: dict[str, Any]) -> dict[str, Any]:
    if kind == "slack":
        return {"text": event["summary"]}
    return event


def deliver(route: str, target: Target, event: dict[str, Any], *, timeout: float = 10.0) -> None:
    if target.kind == "log" or not target.url:
        log.warning("[%s] %s", route, event["summary"])
        return
    headers = {"Authorization": f"Bearer {target.token}"} if target.token else {}
    try:
        response = httpx.post(
            target.url, json=payload(target.kind, event), headers=headers, timeout=timeout
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        # the URL may carry a secret: name the route, not the URL
        raise DeliveryError(f"route {route!r}: delivery failed: {type(exc).__name__}") from None
