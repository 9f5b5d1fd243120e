"""knowledge-base on a real Prefect server: resolved tickets in the store to a FAQ page."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from prefect.client.orchestration import get_client

from flows.knowledge_base import knowledge_base
from postdeploy.domain.tickets import Ticket
from postdeploy.settings import get_settings
from postdeploy.store.migrate import upgrade
from postdeploy.store.session import store_transaction
from postdeploy.store.tickets import upsert_tickets


def seed(url: str, now: datetime) -> None:
    def done(key: str, title: str, category: str, note: str | None, days_ago: int) -> Ticket:
        created = now - timedelta(days=days_ago, hours=3)
        return Ticket("desk", key, "high", "resolved", created, title, "shop", category,
                      resolved_at=created + timedelta(hours=2), resolution=note)  # fmt: skip

    tickets = [done(f"C{n}", f"Checkout fails for order {n}", "Payments",
                    f"Retried the payment for order {n}", n) for n in range(1, 5)]  # fmt: skip
    tickets += [done(f"L{n}", "Login <b>loop</b>", "Auth", "Cleared cookies", n) for n in (1, 2)]
    tickets += [done("ONE", "Disk full", "Storage", "Grew the volume", 1)]
    tickets += [done("OLD", "Disk full", "Storage", "Grew the volume", 200)]  # outside the window
    tickets += [Ticket("desk", "OPEN", "low", "open", now, "Disk full", "shop", "Storage")]
    with store_transaction(url) as conn:
        upsert_tickets(conn, tickets)


def test_the_faq_lists_recurring_issues_with_their_resolutions_and_anchors(
    settings_env: Path,
) -> None:
    url = get_settings().database_url
    upgrade(url)
    seed(url, datetime.now(UTC))
    catalog = settings_env / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"services": [{"name": "shop"}]}))

    result = knowledge_base(catalog_path=str(catalog), days=90)

    assert result["tickets"] == 7
    entries = result["entries"]
    assert [(e["category"], e["signature"], e["count"]) for e in entries] == [
        ("Payments", "Checkout fails for order <*>", 4),
        ("Auth", "Login <b>loop</b>", 2),
    ]
    assert entries[0]["resolutions"] == [["Retried the payment for order <*>", 4]]
    assert entries[0]["median_to_resolve"] == "2.0 h"
    folder = settings_env / "reports" / "kb"
    html = (folder / "index.html").read_text()
    for e in entries:
        assert f'id="{e["anchor"]}"' in html and f'href="#{e["anchor"]}"' in html
    assert "Login &lt;b&gt;loop&lt;/b&gt;" in html and "<b>loop" not in html  # escaped
    assert "<script" not in html and "http" not in html.split("</style>")[-1]  # self-contained
    faq = (folder / "faq.md").read_text()
    assert f'<a id="{entries[0]["anchor"]}"></a>' in faq and "Retried the payment" in faq


def test_an_empty_window_still_writes_the_page_and_publishes_the_artifact(
    settings_env: Path,
) -> None:
    upgrade(get_settings().database_url)
    catalog = settings_env / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"services": [{"name": "shop"}]}))
    result = knowledge_base(catalog_path=str(catalog))
    assert result["entries"] == [] and result["tickets"] == 0
    assert "No recurring issue" in (settings_env / "reports" / "kb" / "index.html").read_text()

    async def latest() -> Any:
        async with get_client() as client:
            return await client.read_latest_artifacts()

    artifacts = {a.key: a for a in asyncio.run(latest()) if a.key}
    assert "No recurring issue" in artifacts["knowledge-base"].data
