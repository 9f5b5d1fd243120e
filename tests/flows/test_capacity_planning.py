"""capacity-planning on a real Prefect server over resource history in the store."""

from __future__ import annotations

import asyncio
import csv
import math
import re
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from prefect import get_client

from flows.capacity_planning import capacity_planning
from postdeploy.settings import get_settings
from postdeploy.store.metrics import record_samples
from postdeploy.store.migrate import upgrade
from postdeploy.store.session import store_transaction

DAY, HOUR = 86400, 3600
SVG = "{http://www.w3.org/2000/svg}"


def seed(url: str, now: float) -> None:
    start = now - 21 * DAY
    samples = []
    for h in range(21 * 24):
        cycle = math.sin(2 * math.pi * h / 24)
        samples += [
            # 180 MB growing 4 MB a day, crossing 300 MB ~ 9 days from now
            ("memory_bytes", {"service": "api"}, start + h * HOUR, 180e6 + 4e6 * h / 24),
            ("cpu_cores", {"service": "api"}, start + h * HOUR, 0.3 + 0.1 * cycle),
            ("throughput_rps", {"service": "web"}, start + h * HOUR, 20 + 5 * cycle),
        ]
    with store_transaction(url) as conn:
        record_samples(conn, samples=samples)


def write_catalog(folder: Path) -> str:
    services = [
        {"name": "api", "capacity": {"memory_bytes": "300MB", "cpu_cores": 2}},
        {"name": "web", "capacity": {"throughput_rps": 500}},
        {"name": "batch", "capacity": {"disk_used_ratio": "85%"}},
    ]
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump({"services": services}))
    return str(path)


def artifacts() -> dict[str, Any]:
    async def latest() -> Any:
        async with get_client() as client:
            return await client.read_latest_artifacts()

    return {a.key: a for a in asyncio.run(latest()) if a.key}


def test_the_report_ranks_forecasts_by_urgency_with_a_chart_each(settings_env: Path) -> None:
    url = get_settings().database_url
    upgrade(url)
    now = time.time() // HOUR * HOUR
    seed(url, now)
    catalog = write_catalog(settings_env)

    result = capacity_planning(catalog_path=catalog)

    order = [(f["service"], f["resource"], f["urgency"]) for f in result["forecasts"]]
    assert order == [
        ("api", "memory_bytes", "soon"),
        ("api", "cpu_cores", "ok"),
        ("web", "throughput_rps", "ok"),
        ("batch", "disk_used_ratio", "no forecast"),
    ]
    memory = result["forecasts"][0]
    assert abs(memory["days_to_threshold"] - 9.05) < 0.5  # (300 - 263.8) MB at 4 MB a day
    assert result["recommendations"][0].startswith("api memory: forecast reaches 286.10 MiB")

    month = datetime.now(UTC).strftime("%Y-%m")
    folder = settings_env / "reports" / "capacity" / month
    assert sorted(p.name for p in folder.iterdir()) == ["forecasts.csv", "index.html", "summary.md"]
    html = (folder / "index.html").read_text()
    charts = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(charts) == 3  # one per forecast; batch has no history
    memory_chart = ET.fromstring(charts[0])
    assert memory_chart.find(f"{SVG}polygon[@class='band']") is not None
    assert {p.get("class") for p in memory_chart.iter(f"{SVG}polyline")} == {"history", "forecast"}
    assert memory_chart.find(f"{SVG}line[@class='threshold']") is not None
    assert memory_chart.find(f"{SVG}circle[@class='crossing']") is not None
    assert "no history in the store" in html and "<script" not in html
    rows = list(csv.DictReader((folder / "forecasts.csv").open()))
    assert [r["resource"] for r in rows] == ["memory_bytes", "cpu_cores", "throughput_rps",
                                             "disk_used_ratio"]  # fmt: skip
    assert not any("nan" in v.lower() for r in rows for v in r.values() if v != r["recommendation"])
    assert rows[0]["seasonality"] == "none" and rows[1]["seasonality"] == "daily"
    summary = (folder / "summary.md").read_text()
    assert summary.index("api memory") < summary.index("api CPU")

    found = artifacts()
    assert "api memory: forecast reaches" in found["capacity-planning"].data
    assert "capacity-forecasts" in found
    link = (folder / "index.html").resolve().as_uri()
    assert found["capacity-report"].data == f"[Capacity planning {month}]({link})"

    again = capacity_planning(catalog_path=catalog)  # a rerun replaces, never adds
    assert [f["urgency"] for f in again["forecasts"]] == [u for _, _, u in order]
    assert sorted(p.name for p in folder.iterdir()) == ["forecasts.csv", "index.html", "summary.md"]


def test_an_unknown_service_is_refused_before_any_work(settings_env: Path) -> None:
    upgrade(get_settings().database_url)
    state = capacity_planning(
        catalog_path=write_catalog(settings_env), services=["nope"], return_state=True
    )
    assert state.is_failed() and "unknown services ['nope']" in str(state.message)
