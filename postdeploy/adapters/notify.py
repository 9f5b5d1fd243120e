"""Deliver notifications to webhooks, Slack, email or the log, with messages rendered from
sandboxed Jinja templates; a delivery failure names the route, never its URL or password."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import httpx
from jinja2 import ChainableUndefined
from jinja2.sandbox import SandboxedEnvironment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    kind: str  # webhook | slack | log | email
    # secrets stay out of repr: a Target is a task parameter, and reprs end up in logs
    url: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    smtp_host: str | None = None
    smtp_port: int | None = None  # default by security: 587, 465 or 25
    smtp_security: str = "starttls"  # starttls | ssl | none
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = field(default=None, repr=False)


class DeliveryError(RuntimeError):
    pass


def payload(kind: str, event: dict[str, Any]) -> dict[str, Any]:
    if kind == "slack":
        return {"text": event["summary"]}
    return event


def deliver(route: str, target: Target, event: dict[str, Any], *, timeout: float = 10.0) -> None:
    """Send `event`: its "summary" is the message; "title" and "text", when present, are the
    subject and body of an email."""
    if target.kind == "email":
        send_email(route, target, event, timeout=timeout)
        return
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


def send_email(route: str, target: Target, event: dict[str, Any], *, timeout: float) -> None:
    if not (target.smtp_host and target.sender and target.recipients):
        raise DeliveryError(f"route {route!r}: email needs an SMTP host, a sender and recipients")
    message = EmailMessage()
    message["Subject"] = event.get("title") or event["summary"].splitlines()[0][:200]
    message["From"] = target.sender
    message["To"] = ", ".join(target.recipients)
    message.set_content(event.get("text") or event["summary"])
    security = target.smtp_security
    port = target.smtp_port or {"starttls": 587, "ssl": 465}.get(security, 25)
    try:
        if security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                target.smtp_host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(target.smtp_host, port, timeout=timeout)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if target.username:
                smtp.login(target.username, target.password or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"route {route!r}: email failed: {type(exc).__name__}") from None


# Message templates see Alertmanager's template data (postdeploy.domain.alerting.dispatch.
# Notification.context): status, receiver, group_labels, common_labels, common_annotations,
# alerts, firing, resolved; each alert has status, labels, annotations, startsAt, endsAt.
DEFAULT_TITLE = (
    "[{{ status | upper }}{% if firing %}:{{ firing | length }}{% endif %}] "
    "{{ group_labels.values() | join(' ') }}"
)
DEFAULT_TEXT = (
    "{% for a in firing %}FIRING {{ a.labels.severity }} {{ a.labels.alertname }}"
    "{{ ' on ' ~ a.labels.service if a.labels.service }}"
    "{{ ': ' ~ a.annotations.summary if a.annotations.summary }}\n{% endfor %}"
    "{% for a in resolved %}RESOLVED {{ a.labels.alertname }}"
    "{{ ' on ' ~ a.labels.service if a.labels.service }}\n{% endfor %}"
)

_env = SandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)


def render(template: str, context: Mapping[str, Any]) -> str:
    """A sandboxed Jinja template rendered; a missing label or annotation renders empty."""
    return _env.from_string(template).render(**context).strip()


def render_safely(template: str | None, default: str, context: Mapping[str, Any]) -> str:
    """A broken template must not lose the message: it falls back to the default one."""
    if template:
        try:
            return render(template, context)
        except Exception as exc:  # an operator's template can raise anything: keep the alert
            log.warning("template failed (%s), using the default: %s", exc, template[:80])
    return render(default, context)


def alert_event(
    context: Mapping[str, Any], *, title: str | None, text: str | None
) -> dict[str, Any]:
    """An alert group notification: Alertmanager's webhook payload (version 4) plus the
    rendered title and text; "summary" is what Slack and the log show."""
    head = render_safely(title, DEFAULT_TITLE, context)
    body = render_safely(text, DEFAULT_TEXT, context)
    return {
        "version": "4",
        "groupKey": context["group_key"],
        "status": context["status"],
        "receiver": context["receiver"],
        "groupLabels": context["group_labels"],
        "commonLabels": context["common_labels"],
        "commonAnnotations": context["common_annotations"],
        "alerts": context["alerts"],
        "truncatedAlerts": 0,
        "event": f"alerts.{context['status']}",
        "title": head,
        "text": body,
        "summary": f"{head}\n{body}".strip(),
    }
