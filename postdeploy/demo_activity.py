"""The demo's support activity over its 30 days, for the KPI, survey and capacity reports:
incidents (acknowledged, resolved), open tickets (the backlog), survey answers with comments
in several languages, and the disk series. Deterministic; every row is labelled demo."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from postdeploy.domain.surveys import Response
from postdeploy.domain.tickets import Ticket
from postdeploy.store.metrics import Sample
from postdeploy.store.schema import incident
from postdeploy.store.upsert import upsert

SEVERITIES = ("critical", "high", "high", "medium", "medium", "low")
COMMENTS = {  # by how the answer went: (detractor, passive, promoter)
    "bad": [
        "Checkout was slow again this week, orders took ages to confirm.",
        "Die Bestellung hing minutenlang, der Support hat erst nach zwei Tagen geantwortet.",
        "注文の確認がとても遅いです。サポートの返信も遅い。",
        "Slow checkout and the export to CSV failed twice.\nPlease fix the export.",
        "La commande a échoué deux fois, support lent.",
    ],
    "ok": [
        "Works, but the orders page is slow in the morning.",
        "Ganz okay, die Suche könnte schneller sein.",
        "Fine overall; export to CSV would be nice 📄",
    ],
    "good": [
        "Fast support, the team fixed our order issue the same day!",
        "Sehr schneller Support, danke!",
        "サポートが早くて助かりました 👍",
        'Great service, "just works" — the new export is handy.',
        "Rápido y fácil de usar.",
    ],
}


def demo_incidents(now: datetime, *, count: int = 9) -> list[dict[str, Any]]:
    rng = random.Random(5)
    rows = []
    for i in range(count):
        opened = now - timedelta(days=rng.uniform(1, 29), hours=rng.uniform(0, 23))
        ack = opened + timedelta(minutes=rng.uniform(2, 45))
        resolved = ack + timedelta(hours=rng.uniform(0.3, 6)) if i < count - 1 else None
        rows.append(
            {"key": f"demo-{i + 1:03d}", "service": "sample", "severity": rng.choice(SEVERITIES),
             "level": "L3", "status": "resolved" if resolved else "acknowledged",
             "title": rng.choice(["Orders API errors", "Checkout latency", "Search timeouts"]),
             "commander": "demo", "opened_at": opened, "acknowledged_at": ack,
             "mitigated_at": resolved, "resolved_at": resolved}
        )  # fmt: skip
    return rows


def store_incidents(conn: Connection, rows: list[dict[str, Any]]) -> None:
    columns = [c for c in rows[0] if c != "key"]
    upsert(conn, incident, rows, keys=["key"], update=columns)


def demo_open_tickets(now: datetime, *, count: int = 12) -> list[Ticket]:
    """Tickets still open: the backlog the KPI report ages."""
    rng = random.Random(9)
    out = []
    for i in range(count):
        created = now - timedelta(days=rng.uniform(0.2, 12))
        first = created + timedelta(minutes=rng.randint(10, 600)) if rng.random() < 0.8 else None
        out.append(
            Ticket("demo", f"OPEN{i + 1:03d}", rng.choice(("critical", "high", "medium", "low")),
                   rng.choice(("open", "in_progress", "waiting")), created,
                   "Orders export missing rows", "sample", "orders", first_response_at=first,
                   updated_at=first or created)
        )  # fmt: skip
    return out


def demo_surveys(now: datetime, *, count: int = 160) -> list[Response]:
    """Answers over the last 30 days: NPS, CSAT and CES, a comment on half of them."""
    rng = random.Random(17)
    out = []
    for i in range(count):
        at = now - timedelta(days=rng.uniform(0, 30))
        mood = rng.choices(("bad", "ok", "good"), (0.25, 0.3, 0.45))[0]
        nps = {"bad": rng.randint(0, 6), "ok": rng.randint(7, 8), "good": rng.randint(9, 10)}[mood]
        csat = {"bad": rng.randint(1, 3), "ok": rng.randint(3, 4), "good": rng.randint(4, 5)}[mood]
        ces = {"bad": rng.randint(1, 4), "ok": rng.randint(4, 6), "good": rng.randint(5, 7)}[mood]
        comment = rng.choice(COMMENTS[mood]) if rng.random() < 0.5 else None
        out.append(
            Response("demo-survey", f"R{i + 1:04d}", at, nps, csat, ces if rng.random() < 0.7
                     else None, "sample", rng.choice(("enterprise", "self-serve")), comment)
        )  # fmt: skip
    return out


def demo_disk(services: list[str], *, days: int, now: float, step: int) -> list[Sample]:
    """disk_used_ratio growing about a point a day from 55%: a capacity crossing to show."""
    rng = random.Random(23)
    start = int((now - days * 86400) // step * step)
    return [
        ("disk_used_ratio", {"service": name}, float(ts),
         min(1.0, 0.55 + 0.01 * (ts - start) / 86400 + rng.gauss(0, 0.002)))
        for name in services
        for ts in range(start, int(now) - step, step)
    ]  # fmt: skip
