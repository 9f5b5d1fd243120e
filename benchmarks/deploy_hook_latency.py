"""From the deploy hook call to the post-deploy-check flow running, under `postdeploy up`.

Starts `postdeploy up` in a temporary folder on free ports, then for each run posts
/hooks/deploy and polls the Prefect API until the flow run has a start time. Baseline in the
same run: a flow run of the same deployment created directly through the Prefect API (no
hook), which is what the hook adds to.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def started_after(api: str, run_id: str, t0: float, timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=5).json()
        if run.get("start_time"):
            return datetime.fromisoformat(run["start_time"]).timestamp() - t0
        time.sleep(0.05)
    raise SystemExit(f"flow run {run_id} did not start within {timeout} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ports = {k: free_port() for k in ("prefect", "api", "sample")}
    with tempfile.TemporaryDirectory() as tmp:
        catalog = yaml.safe_load((ROOT / "data" / "postdeploy.yaml").read_text())
        catalog["services"][0]["url"] = f"http://127.0.0.1:{ports['sample']}"
        (Path(tmp) / "catalog.yaml").write_text(yaml.safe_dump(catalog))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "POSTDEPLOY_"))}
        env |= {
            "POSTDEPLOY_CATALOG": f"{tmp}/catalog.yaml",
            "POSTDEPLOY_VAR_DIR": f"{tmp}/var",
            "POSTDEPLOY_DATABASE_URL": f"sqlite:///{tmp}/var/store.db",
            "POSTDEPLOY_PREFECT_PORT": str(ports["prefect"]),
            "POSTDEPLOY_API_PORT": str(ports["api"]),
            "POSTDEPLOY_SAMPLE_PORT": str(ports["sample"]),
            "POSTDEPLOY_HOOKS_TOKEN": "bench",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        }
        cli = str(Path(sys.executable).parent / "postdeploy")
        up = subprocess.Popen([cli, "up"], cwd=tmp, env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert up.stdout is not None
            for line in up.stdout:
                if line.startswith(("ready", "error")):
                    break
            time.sleep(20)  # let the startup runs (every scheduled flow once) finish
            api = f"http://127.0.0.1:{ports['prefect']}/api"
            hooks = f"http://127.0.0.1:{ports['api']}"
            auth = {"Authorization": "Bearer bench"}
            deployment = httpx.get(f"{api}/deployments/name/post-deploy-check/post-deploy-check")
            deployment_id = deployment.json()["id"]
            hook, direct = [], []
            for n in range(args.runs):
                t0 = time.time()
                body = {"service": "sample", "version": "1.0.0", "commit": f"bench{n}"}
                accepted = httpx.post(f"{hooks}/hooks/deploy", json=body, headers=auth, timeout=10)
                accepted.raise_for_status()
                hook.append(started_after(api, accepted.json()["flow_run_id"], t0))
                t0 = time.time()
                params = {"service": "sample", "version": "1.0.0", "canary_window_s": 1}
                for _ in range(10):  # Prefect on SQLite answers 503 while its database is busy
                    run = httpx.post(
                        f"{api}/deployments/{deployment_id}/create_flow_run",
                        json={"parameters": params},
                        timeout=10,
                    )
                    if run.status_code != 503:
                        break
                    time.sleep(0.2)
                if run.status_code >= 300:
                    raise SystemExit(f"create_flow_run: HTTP {run.status_code}: {run.text[:300]}")
                direct.append(started_after(api, run.json()["id"], t0))
                time.sleep(1)
        finally:
            up.send_signal(signal.SIGINT)
            up.wait(60)
    print("| path | runs | median s | max s |\n|---|---:|---:|---:|")
    for name, times in (
        ("POST /hooks/deploy -> flow running", hook),
        ("Prefect create_flow_run -> running (baseline)", direct),
    ):
        print(f"| {name} | {len(times)} | {statistics.median(times):.2f} | {max(times):.2f} |")
    ok = max(hook) < 5
    print(f"goal (< 5 s from hook to running): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
