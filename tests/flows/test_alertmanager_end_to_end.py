"""Real Prometheus fires a real rule, real Alertmanager delivers it to the hooks API, which
stores it and starts the incident-response deployment on the real Prefect server, once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL
from pydantic import SecretStr
from sqlalchemy import select

from postdeploy.settings import Settings
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import alert
from postdeploy.store.session import store_transaction
from tests.conftest import free_port, run_daemon, serving, start_prometheus

TOKEN = "am-e2e-token"


@flow(name="incident-response")
def incident_stand_in(service: str, severity: str, summary: str) -> None:
    """Stands in for the incident-response runbook: the test checks that a run is created."""


@pytest.fixture
def incident_deployment() -> str:
    deployment_id = incident_stand_in.to_deployment(name="incident-response").apply()
    return str(deployment_id)


async def runs_of(deployment_id: str) -> list[Any]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    async with get_client() as client:
        return list(
            await client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            )
        )


def test_a_real_critical_alert_is_stored_and_starts_one_incident_run(
    tmp_path: Path, busy_sample: str, incident_deployment: str
) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(store)
    # other tests on this Prefect server may use a deployment of the same name: count ours only
    before = {r.id for r in asyncio.run(runs_of(incident_deployment))}
    settings = Settings(
        database_url=store, hooks_token=SecretStr(TOKEN), prefect_api_url=PREFECT_API_URL.value()
    )
    with serving(settings) as api:
        am_port, prom_port = free_port(), free_port()
        (tmp_path / "alertmanager.yml").write_text(
            f"""
route:
  receiver: postdeploy
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: postdeploy
    webhook_configs:
      - url: {str(api.base_url).rstrip("/")}/hooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: {TOKEN}
"""
        )
        (tmp_path / "rules.yml").write_text(
            """
groups:
  - name: sample
    interval: 1s
    rules:
      - alert: SampleOrdersFailing
        expr: sum(rate(sample_requests_total{job="sample",code=~"5.."}[5s])) > 0
        labels: {severity: critical, service: sample}
        annotations: {summary: "sample is failing orders"}
"""
        )
        target = busy_sample.removeprefix("http://")
        prometheus_config = f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{tmp_path / "rules.yml"}]
alerting:
  alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]}}]
scrape_configs:
  - job_name: sample
    static_configs: [{{targets: ['{target}']}}]
"""
        am_argv = [
            "prometheus-alertmanager",
            f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",
        ]
        am_ready = f"http://127.0.0.1:{am_port}/-/ready"
        with run_daemon("Alertmanager", am_argv, am_ready, tmp_path / "am.log"):
            with start_prometheus(tmp_path, prometheus_config, prom_port):
                deadline = time.monotonic() + 60
                rows: list[Any] = []
                while time.monotonic() < deadline and not rows:
                    with store_transaction(store) as conn:
                        rows = list(conn.execute(select(alert)))
                    time.sleep(0.5)
                time.sleep(3)  # let Alertmanager send the group again (group_interval 2 s)

    assert rows, "no alert arrived from Alertmanager within 60 s"
    (row,) = rows
    assert row.name == "SampleOrdersFailing" and row.severity == "critical"
    assert row.service == "sample" and row.source == "alertmanager" and row.status == "firing"
    runs = [r for r in asyncio.run(runs_of(incident_deployment)) if r.id not in before]
    assert len(runs) == 1
    assert runs[0].parameters == {
        "service": "sample",
        "severity": "critical",
        "summary": "sample is failing orders",
    }
