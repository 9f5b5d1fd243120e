"""The scale-out path as real processes: `postdeploy up --workers` with the Prefect server on
PostgreSQL, prefect.yaml deployed to the `postdeploy` process pool, and `postdeploy worker`
running a health-check run whose results land in the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from postdeploy.store.schema import check_result
from postdeploy.store.session import store_transaction
from tests.conftest import create_pg_database, drop_pg_database, free_port

ROOT = Path(__file__).parents[2]
CLI = str(Path(sys.executable).parent / "postdeploy")


@pytest.fixture
def prefect_pg(pg_admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for the Prefect server; its asyncpg URL."""
    url = create_pg_database(pg_admin_url)
    try:
        yield make_url(url).set(drivername="postgresql+asyncpg").render_as_string(False)
    finally:
        drop_pg_database(pg_admin_url, url)


def base_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "POSTDEPLOY_"))}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", **extra)
    return env


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> str:
    """Stop a process and everything it started (its own session); return what it printed."""
    try:
        os.killpg(proc.pid, sig)
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    except ProcessLookupError:
        out, _ = proc.communicate()
    return out or ""


def read_until_ready(proc: subprocess.Popen[str], lines: list[str], timeout: float) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    start = time.monotonic()
    for line in proc.stdout:
        lines.append(f"{time.monotonic() - start:6.1f}s {line}")
        if line.startswith(("ready", "error")) or time.monotonic() > deadline:
            break
    assert lines and lines[-1][8:].startswith("ready"), "".join(lines)


def wait_for_run(api: str, run_id: str, deadline: float) -> dict[str, object]:
    run: dict[str, object] = {}
    while time.monotonic() < deadline:
        run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
        if run.get("state_type") in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return run
        time.sleep(0.5)
    return run


def test_a_process_worker_runs_health_checks_from_a_prefect_server_on_postgresql(
    tmp_path: Path, prefect_pg: str, pg_database: str, sample_service: str
) -> None:
    store_url = pg_database  # `up` migrates it
    catalog = yaml.safe_load((ROOT / "data" / "postdeploy.yaml").read_text())
    catalog["services"] = [{**catalog["services"][0], "url": sample_service}]
    service = catalog["services"][0]["name"]
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    shared = {
        "POSTDEPLOY_DATABASE_URL": store_url,
        "POSTDEPLOY_CATALOG": str(tmp_path / "catalog.yaml"),
        "POSTDEPLOY_REPORTS_DIR": str(tmp_path / "reports"),
    }
    up_env = base_env(
        tmp_path,
        **shared,
        PREFECT_API_DATABASE_CONNECTION_URL=prefect_pg,
        POSTDEPLOY_VAR_DIR=str(tmp_path / "var"),
        POSTDEPLOY_PREFECT_PORT=str(port),
        POSTDEPLOY_API_PORT=str(free_port()),
        # the test needs only the runs it starts, not a run of every deployment every minute
        PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
    )
    worker_env = base_env(
        tmp_path,
        **shared,
        PREFECT_API_URL=api,
        PREFECT_HOME=str(tmp_path / "worker-home"),
        PREFECT_WORKER_QUERY_SECONDS="1",
    )
    started = time.monotonic()
    up = subprocess.Popen(
        [CLI, "up", "--workers", "--no-sample"], cwd=tmp_path, env=up_env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    worker: subprocess.Popen[str] | None = None
    lines: list[str] = []
    try:
        read_until_ready(up, lines, timeout=300)
        # the catalog's services are the choices of a `service` parameter, as when served
        incident = httpx.get(f"{api}/deployments/name/incident-response/incident-response")
        schema = incident.json()["parameter_openapi_schema"]
        assert schema["properties"]["service"].get("enum") == [service], schema
        # as a deployment made by hand has it; the worker starting below sets the choices again
        del schema["properties"]["service"]["enum"]
        cleared = httpx.patch(
            f"{api}/deployments/{incident.json()['id']}",
            json={"parameter_openapi_schema": schema}, timeout=10,
        )  # fmt: skip
        assert cleared.status_code == 204, cleared.text
        worker = subprocess.Popen(
            [CLI, "worker", "--name", "test-worker"], cwd=tmp_path, env=worker_env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            again = httpx.get(f"{api}/deployments/name/incident-response/incident-response")
            if again.json()["parameter_openapi_schema"]["properties"]["service"].get("enum"):
                break
            time.sleep(0.5)
        choices = again.json()["parameter_openapi_schema"]["properties"]["service"]
        assert choices.get("enum") == [service], choices
        refused = httpx.post(
            f"{api}/deployments/{incident.json()['id']}/create_flow_run",
            json={"parameters": {"service": "nope", "severity": "low", "summary": "x"}},
            timeout=10,
        )
        assert refused.status_code in (409, 422) and "nope" in refused.text, refused.text
        deployment = httpx.get(f"{api}/deployments/name/health-check/health-check").json()
        created = httpx.post(
            f"{api}/deployments/{deployment['id']}/create_flow_run",
            json={"parameters": {"services": [service]}},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        run = wait_for_run(api, run_id, time.monotonic() + 180)
    finally:
        worker_out = stop(worker) if worker else ""
        up_out = "".join(lines) + stop(up, signal.SIGINT)
    took = time.monotonic() - started

    assert run.get("state_type") == "COMPLETED", f"{run.get('state_name')}\n{worker_out[-3000:]}"
    assert run["work_pool_name"] == "postdeploy"
    assert "Worker 'test-worker' submitting flow run" in worker_out
    assert "database postgresql+asyncpg://" in up_out and "deployed" in up_out
    assert up.returncode == 0 and "Traceback" not in up_out, up_out

    # the results are in the store, under the run's id
    with store_transaction(store_url) as conn:
        rows = list(conn.execute(select(check_result).where(check_result.c.sweep_id == run_id)))
    assert rows and all(r.ok for r in rows), rows

    # the Prefect server kept its state in PostgreSQL: every prefect.yaml deployment is in
    # the pool, with the pull step's directory left for each worker to resolve
    engine = create_engine(make_url(prefect_pg).set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        in_pool = {
            row[0]: row[1]
            for row in conn.execute(
                text(
                    "select d.name, d.pull_steps::text from deployment d"
                    " join work_queue q on q.id = d.work_queue_id"
                    " join work_pool p on p.id = q.work_pool_id where p.name = 'postdeploy'"
                )
            )
        }
        stored_run = conn.execute(
            text("select state_type::text from flow_run where id = :id"), {"id": run_id}
        ).scalar_one()
    engine.dispose()
    expected = {
        d["name"] for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
    }
    assert set(in_pool) == expected
    assert "{{ $POSTDEPLOY_PROJECT_DIR }}" in in_pool["health-check"]
    assert stored_run == "COMPLETED"
    print(f"workers path: {took:.1f} s\n{''.join(lines)}")


def test_a_worker_without_a_reachable_prefect_api_refuses_to_start_and_says_why(
    tmp_path: Path,
) -> None:
    api = f"http://127.0.0.1:{free_port()}/api"
    env = base_env(tmp_path, PREFECT_API_URL=api)
    done = subprocess.run([CLI, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"Prefect API {api} unreachable" in done.stderr


def test_a_worker_with_a_bad_catalog_refuses_to_start_and_names_it(tmp_path: Path) -> None:
    catalog = tmp_path / "ops-catalog.yaml"
    catalog.write_text("services: [\n", encoding="utf-8")
    env = base_env(tmp_path, POSTDEPLOY_CATALOG=str(catalog))
    done = subprocess.run([CLI, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "ops-catalog.yaml" in done.stderr and "not valid YAML" in done.stderr


def test_a_worker_outside_a_checkout_names_the_setting_to_fix(tmp_path: Path) -> None:
    env = base_env(tmp_path, POSTDEPLOY_PROJECT_DIR=str(tmp_path))
    done = subprocess.run([CLI, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "not a postdeploy checkout" in done.stderr and "POSTDEPLOY_PROJECT_DIR" in done.stderr
