"""A burst of Alertmanager notifications with 30% duplicates through the real receiver, then
the alerting flow: every unique alert stored once, one incident per group, one
incident-response run per critical group. (Timings: benchmarks/alert_burst.py.)"""

from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL
from pydantic import SecretStr
from sqlalchemy import func, select

from flows.alerting import alerting
from postdeploy.settings import Settings, get_settings
from postdeploy.store.schema import alert, incident
from postdeploy.store.session import store_transaction
from tests.conftest import serving

TOKEN = "burst-token"
UNIQUE, GROUPS, CRITICAL = 2000, 20, (3, 11)  # 100 alerts a group; groups 3 and 11 critical


@flow(name="incident-response")
def incident_stand_in(service: str, severity: str, summary: str) -> None:
    """Stands in for the runbook: the test counts the runs the receiver starts."""


def notifications(seed: int = 3) -> list[dict[str, Any]]:
    """As Alertmanager sends them: one notification per group with all its alerts, 30% of them
    sent again by the HA peer, in shuffled order."""
    out = []
    for g in range(GROUPS):
        name, service = f"Rule{g % 5}", f"svc{g // 5}"
        severity = "critical" if g in CRITICAL else ("warning", "high")[g % 2]
        labels = {"alertname": name, "service": service, "severity": severity}
        members = [
            {"status": "firing", "labels": {**labels, "instance": f"host{i}"},
             "annotations": {"summary": f"{name} on {service}"},
             "startsAt": f"2026-11-27T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
             "endsAt": "0001-01-01T00:00:00Z", "fingerprint": f"{g:04x}{i:012x}"}
            for i in range(g, UNIQUE, GROUPS)
        ]  # fmt: skip
        out.append(
            {"version": "4", "groupKey": f'{{}}:{{alertname="{name}", service="{service}"}}',
             "status": "firing", "groupLabels": {"alertname": name, "service": service},
             "commonLabels": labels, "alerts": members}
        )  # fmt: skip
    rng = random.Random(seed)
    burst = out + rng.sample(out, round(GROUPS * 0.3)) + [out[g] for g in CRITICAL]
    rng.shuffle(burst)
    return burst


async def runs_of(deployment_id: str) -> list[Any]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    async with get_client() as client:
        return list(
            await client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            )
        )


def test_a_burst_with_duplicates_stores_each_alert_once_and_opens_one_incident_per_group(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment_id = str(incident_stand_in.to_deployment(name="burst-incidents").apply())
    monkeypatch.setenv("POSTDEPLOY_DATABASE_URL", store_url)
    monkeypatch.setenv("POSTDEPLOY_REPORTS_DIR", str(tmp_path / "reports"))
    get_settings.cache_clear()
    burst = notifications()
    sent = sum(len(n["alerts"]) for n in burst)
    settings = Settings(
        database_url=store_url,
        hooks_token=SecretStr(TOKEN),
        prefect_api_url=PREFECT_API_URL.value(),
        incident_deployment="incident-response/burst-incidents",
    )
    with serving(settings) as api:

        def post(body: dict[str, Any]) -> httpx.Response:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            return api.post(
                "/hooks/alertmanager", json=body, headers=auth, timeout=120
            )  # correctness, not latency: the machine may be busy

        with ThreadPoolExecutor(8) as pool:  # at once, as a burst arrives
            answers = list(pool.map(post, burst))
    assert [a.status_code for a in answers] == [200] * len(burst), answers[0].text
    assert sent >= UNIQUE * 1.3  # the duplicates really were sent
    assert sum(a.json()["stored"] for a in answers) == UNIQUE
    assert sum(a.json()["duplicates"] for a in answers) == sent - UNIQUE
    with store_transaction(store_url) as conn:
        assert conn.execute(select(func.count()).select_from(alert)).scalar_one() == UNIQUE

    # one incident-response run per critical group, however often the group arrived
    runs = asyncio.run(runs_of(deployment_id))
    assert sorted(r.parameters["service"] for r in runs) == sorted(f"svc{g // 5}" for g in CRITICAL)

    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        yaml.safe_dump(
            {"version": 1, "services": [{"name": "svc0"}],
             "routes": [{"name": "log", "kind": "log"}],
             "alert_routing": {"receivers": ["log"], "group_wait": "0s", "incident": {}}}
        )
    )  # fmt: skip
    first = alerting(catalog_path=str(catalog))
    again = alerting(catalog_path=str(catalog))
    get_settings.cache_clear()
    opened = [i for i in first["incidents"] if i["opened"]]
    assert len(opened) == GROUPS
    assert sorted(i["severity"] for i in opened).count("critical") == len(CRITICAL)
    assert not [i for i in again["incidents"] if i["opened"]]
    with store_transaction(store_url) as conn:
        rows = conn.execute(select(incident.c.key, incident.c.status)).all()
    assert len(rows) == len({key for key, _ in rows}) == GROUPS
    assert {status for _, status in rows} == {"open"}
