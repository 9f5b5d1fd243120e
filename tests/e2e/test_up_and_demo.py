"""What a new user runs: `postdeploy up` (the main job) and `postdeploy demo`, as real processes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from tests.conftest import free_port

ROOT = Path(__file__).parents[2]
CLI = str(Path(sys.executable).parent / "postdeploy")


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "POSTDEPLOY_"))}
    env.update(
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        POSTDEPLOY_VAR_DIR=str(tmp / "var"),
        POSTDEPLOY_DATABASE_URL=f"sqlite:///{tmp / 'var' / 'store.db'}",
        **extra,
    )
    return env


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_up_serves_scheduled_health_checks_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    ports = {"prefect": free_port(), "api": free_port(), "sample": free_port()}
    catalog = yaml.safe_load((ROOT / "data" / "postdeploy.yaml").read_text())
    catalog["services"][0]["url"] = f"http://127.0.0.1:{ports['sample']}"
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    env = clean_env(
        tmp_path,
        POSTDEPLOY_CATALOG=str(tmp_path / "catalog.yaml"),
        POSTDEPLOY_PREFECT_PORT=str(ports["prefect"]),
        POSTDEPLOY_API_PORT=str(ports["api"]),
        POSTDEPLOY_SAMPLE_PORT=str(ports["sample"]),
    )
    started = time.monotonic()
    proc = subprocess.Popen(
        [CLI, "up"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    output: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if line.startswith(("ready", "error")):
                break
        assert output and output[-1].startswith("ready"), "".join(output)

        api = f"http://127.0.0.1:{ports['prefect']}/api"
        runs: list[dict[str, object]] = []
        while time.monotonic() - started < 90:
            runs = httpx.post(f"{api}/flow_runs/filter", json={}, timeout=5).json()
            if any(r["state_type"] == "COMPLETED" for r in runs):
                break
            time.sleep(1)
        completed = [r for r in runs if r["state_type"] == "COMPLETED"]
        assert completed, f"no completed health-check run: {[r['state_name'] for r in runs]}"
        assert time.monotonic() - started < 90

        for slug in (
            "postdeploy-store",
            "postdeploy-notifier",
        ):  # `prefect block register -m blocks`
            assert httpx.get(f"{api}/block_types/slug/{slug}").status_code == 200
        deployment = httpx.get(f"{api}/deployments/name/health-check/health-check").json()
        assert deployment["schedules"][0]["schedule"]["interval"] == 60.0
        health = httpx.get(f"http://127.0.0.1:{ports['api']}/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["checks"]["store"]["ok"]
        assert (tmp_path / "reports" / "uptime" / "index.html").exists()

        # a CI/CD pipeline: the deploy hook with --wait gives the verdict as its exit code
        deploy = subprocess.run(
            [CLI, "hook", "deployed", "--service", "sample", "--version", "1.0.0",
             "--commit", "e2e", "--canary-window", "2", "--wait", "--timeout", "120"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        assert "verdict: pass" in deploy.stdout
        assert (
            "## sample 1.0.0 (production): PASS"
            in (tmp_path / "reports" / "releases.md").read_text()
        )
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
        output.append(rest)
    text = "".join(output)
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "stopped" in text
    assert not any(listening(p) for p in ports.values()), "a child process outlived `up`"


def test_demo_seeds_history_runs_every_flow_and_writes_a_self_contained_report(
    tmp_path: Path,
) -> None:
    env = clean_env(tmp_path, POSTDEPLOY_CATALOG=str(ROOT / "data" / "postdeploy.yaml"))
    env.pop("POSTDEPLOY_DATABASE_URL")  # the demo uses a store of its own by default
    started = time.monotonic()
    done = subprocess.run(
        [CLI, "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert time.monotonic() - started < 180
    assert re.search(r"^health-check\s+Completed", done.stdout, re.M), done.stdout
    assert "Traceback" not in done.stdout + done.stderr

    html = (tmp_path / "reports" / "uptime" / "index.html").read_text()
    assert "DEMO DATA" in html and "legacy-billing" in html and "HTTP 503" in html
    # opens with no network: nothing is loaded from anywhere
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert (tmp_path / "reports" / "uptime" / "uptime.md").read_text().startswith("# Uptime")
