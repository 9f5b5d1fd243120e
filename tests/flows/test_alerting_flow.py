"""The alerting flow on a real Prefect server: rules over stored metrics, real Slack and
webhook endpoints (the recorder), a real SMTP receiver, silences and incidents."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from flows.alerting import alerting
from postdeploy.settings import get_settings
from postdeploy.store.alerts import add_silence, expire_silence
from postdeploy.store.metrics import record_samples
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import alert, incident, incident_event
from postdeploy.store.session import store_transaction
from tests.conftest import Recorder

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class SmtpReceiver:
    """A tiny SMTP server (the part of RFC 5321 smtplib uses) recording every message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self.session, "127.0.0.1", 0)
            )
            self.port = int(self.server.sockets[0].getsockname()[1])
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        ready.wait(5)

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(line: str) -> None:
            writer.write(f"{line}\r\n".encode())
            await writer.drain()

        await reply("220 test ESMTP")
        while line := await reader.readline():
            verb = line[:4].decode().upper()
            if verb == "DATA":
                await reply("354 end data with <CR><LF>.<CR><LF>")
                body = []
                while (part := await reader.readline()) not in (b".\r\n", b""):
                    body.append(part[1:] if part.startswith(b"..") else part)
                parsed = email.message_from_bytes(b"".join(body), policy=email.policy.default)
                self.messages.append(parsed)  # type: ignore[arg-type]
                await reply("250 queued")
            elif verb == "QUIT":
                await reply("221 bye")
                break
            else:  # EHLO, MAIL, RCPT, RSET, NOOP
                await reply("250 ok")
        writer.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    yield receiver
    receiver.close()


def write_catalog(folder: Path, recorder: Recorder, smtp: SmtpReceiver, **routing: Any) -> str:
    catalog = {
        "services": [{"name": "api"}, {"name": "web"}],
        "routes": [
            {"name": "chat", "kind": "slack", "url": f"{recorder.url}/slack"},
            {"name": "hook", "kind": "webhook", "url": f"{recorder.url}/webhook"},
            {"name": "mail", "kind": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
             "smtp_security": "none", "email_from": "alerts@example.org",
             "email_to": ["oncall@example.org"]},
        ],
        "alert_rules": [
            {"name": "HighLatency", "kind": "threshold", "series": "latency_p95_ms", "op": ">",
             "value": 500, "for": "3m", "severity": "high", "services": ["api"],
             "summary": "{{ labels.service }} p95 is {{ value | int }} ms",
             "annotations": {"runbook": "https://runbooks/{{ labels.service }}/latency"}},
        ],
        "alert_routing": {
            "receivers": ["chat", "hook", "mail"], "group_wait": "30s",
            "group_interval": "5m", "repeat_interval": "4h", **routing,
        },
    }  # fmt: skip
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog))
    return str(path)


def latency(*points: tuple[int, float]) -> None:
    with store_transaction(get_settings().database_url) as conn:
        record_samples(
            conn,
            samples=[
                ("latency_p95_ms", {"service": "api"}, (T0 + timedelta(seconds=t)).timestamp(), v)
                for t, v in points
            ],
        )


def run(catalog: str, seconds: int) -> dict[str, Any]:
    return alerting(catalog_path=catalog, at=T0 + timedelta(seconds=seconds))  # type: ignore[no-any-return]


def by_path(recorder: Recorder, path: str) -> list[Any]:
    return [r["json"] for r in recorder.requests if r["path"] == path]


@pytest.fixture
def store(settings_env: Path) -> str:
    url = get_settings().database_url
    upgrade(url)
    return url


def test_a_threshold_rule_fires_after_its_for_and_each_receiver_hears_it_fire_and_resolve(
    store: str, settings_env: Path, recorder: Recorder, smtp: SmtpReceiver
) -> None:
    catalog = write_catalog(settings_env, recorder, smtp)
    latency(*[(t, 900.0) for t in range(0, 181, 60)])

    assert run(catalog, 120)["rules"]["pending"] == 1  # slow for 2 of 3 minutes
    fired = run(catalog, 180)
    assert fired["rules"]["fired"] == ["api p95 is 900 ms"]
    assert fired["notifications"] == [] and recorder.requests == []  # group_wait
    notified = run(catalog, 240)
    assert [n["receiver"] for n in notified["notifications"]] == ["chat", "hook", "mail"]
    assert run(catalog, 300)["notifications"] == []  # nothing new

    (slack,) = by_path(recorder, "/hook/slack")
    assert slack == {"text": "[FIRING:1] HighLatency api\nFIRING high HighLatency on api: "
                             "api p95 is 900 ms"}  # fmt: skip
    (hook,) = by_path(recorder, "/hook/webhook")
    assert (hook["version"], hook["status"], hook["groupLabels"]) == (
        "4", "firing", {"alertname": "HighLatency", "service": "api"}
    )  # fmt: skip
    assert hook["alerts"][0]["annotations"]["runbook"] == "https://runbooks/api/latency"
    (mail,) = smtp.messages
    assert mail["Subject"] == "[FIRING:1] HighLatency api"
    assert mail["To"] == "oncall@example.org"
    assert "api p95 is 900 ms" in mail.get_content()

    latency((360, 120.0))
    assert run(catalog, 360)["rules"]["resolved"]  # cleared: resolved in the store at once
    assert run(catalog, 480)["notifications"] == []  # told at the next group_interval flush
    resolved = run(catalog, 540)
    assert [n["status"] for n in resolved["notifications"]] == ["resolved"] * 3
    assert by_path(recorder, "/hook/slack")[-1] == {
        "text": "[RESOLVED] HighLatency api\nRESOLVED HighLatency on api"
    }
    assert smtp.messages[-1]["Subject"] == "[RESOLVED] HighLatency api"
    assert run(catalog, 900)["notifications"] == [] and len(recorder.requests) == 4
    with store_transaction(store) as conn:
        row = conn.execute(select(alert.c.status, alert.c.source)).one()
    assert tuple(row) == ("resolved", "rules")


def test_a_silence_mutes_an_alert_until_it_is_expired(
    store: str, settings_env: Path, recorder: Recorder, smtp: SmtpReceiver
) -> None:
    catalog = write_catalog(settings_env, recorder, smtp, receivers=["hook"], group_wait="0s")
    with store_transaction(store) as conn:
        sid = add_silence(conn, matchers=["service=api", 'alertname=~"High.*"'], starts_at=T0,
                          ends_at=T0 + timedelta(hours=2), comment="migrating the db")  # fmt: skip
    latency(*[(t, 900.0) for t in range(0, 241, 60)])
    run(catalog, 180)
    muted = run(catalog, 240)
    assert list(muted["muted"].values()) == [f"silenced by {sid}"]
    assert recorder.requests == []
    with store_transaction(store) as conn:
        expire_silence(conn, silence_id=sid, now=T0 + timedelta(seconds=250))
    latency((540, 900.0))
    assert run(catalog, 540)["notifications"][0]["receiver"] == "hook"
    assert [r["json"]["status"] for r in recorder.requests] == ["firing"]  # type: ignore[index]


def test_an_incident_route_opens_one_incident_and_updates_it_on_repeat(
    store: str, settings_env: Path, recorder: Recorder, smtp: SmtpReceiver
) -> None:
    routes = [{"name": "page", "matchers": ["severity=~high|critical"], "receivers": ["hook"],
               "incident": {"severity": "critical"}, "group_wait": "0s",
               "repeat_interval": "1h"}]  # fmt: skip
    catalog = write_catalog(settings_env, recorder, smtp, receivers=[], routes=routes)
    latency(*[(t, 900.0) for t in range(0, 3901, 60)])

    opened = run(catalog, 180)["incidents"]  # fires; group_wait 0s
    assert [(i["opened"], i["severity"], i["level"]) for i in opened] == [(True, "critical", "L4")]
    assert run(catalog, 600)["incidents"] == []  # not due: nothing new, no repeat yet
    repeated = run(catalog, 180 + 3600)["incidents"]  # repeat_interval, at a flush
    assert [(i["opened"], i["id"]) for i in repeated] == [(False, opened[0]["id"])]
    with store_transaction(store) as conn:
        (row,) = conn.execute(select(incident)).all()
        kinds = conn.execute(select(incident_event.c.kind).order_by(incident_event.c.ts))
        assert list(kinds.scalars()) == ["opened", "alerts"]
    assert (row.service, row.status, row.title) == ("api", "open", "[FIRING:1] HighLatency api")
    assert len(by_path(recorder, "/hook/webhook")) == 2  # the receiver beside it: sent and repeated


def test_a_failed_delivery_fails_the_run_and_the_next_run_delivers_it_once(
    store: str, settings_env: Path, recorder: Recorder, smtp: SmtpReceiver
) -> None:
    catalog = write_catalog(settings_env, recorder, smtp, receivers=["hook"], group_wait="0s")
    latency(*[(t, 900.0) for t in range(0, 301, 60)])
    recorder.status = 503
    state = alerting(catalog_path=catalog, at=T0 + timedelta(seconds=180), return_state=True)
    assert state.is_failed() and "route 'hook': delivery failed" in str(state.message)
    recorder.status = 200
    assert [n["receiver"] for n in run(catalog, 240)["notifications"]] == ["hook"]
    assert run(catalog, 300)["notifications"] == []
    assert [r["json"]["status"] for r in recorder.requests] == ["firing", "firing"]  # type: ignore[index]
