"""`postdeploy up`: start and supervise the Prefect server, served deployments (or, with
--workers, prefect.yaml deployed to a work pool), hooks API and sample service as child
processes; Ctrl-C (or SIGTERM) stops them all cleanly."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from postdeploy.catalog import CatalogError, load_catalog
from postdeploy.settings import Settings, get_settings
from postdeploy.store.engine import StoreUnavailable, mask_url


class StartupError(RuntimeError):
    pass


@dataclass
class Child:
    name: str
    argv: list[str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def start(self, base_env: dict[str, str]) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("ab")
        # A new session: the terminal's Ctrl-C reaches only the supervisor, which then stops
        # children in order, so no child prints a KeyboardInterrupt traceback.
        self.proc = subprocess.Popen(
            self.argv,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**base_env, **self.env},
            start_new_session=True,
        )
        handle.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass


def prefect_env(settings: Settings, api_url: str) -> dict[str, str]:
    home = os.environ.get("PREFECT_HOME") or str((settings.var_dir / "prefect").resolve())
    return {
        **os.environ,
        "PREFECT_HOME": home,
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(settings.prefect_port),
        "PREFECT_UI_API_URL": api_url,
        # the deploy hook's run should start within seconds, not the default 10 s poll
        "PREFECT_RUNNER_POLL_FREQUENCY": os.environ.get("PREFECT_RUNNER_POLL_FREQUENCY", "1"),
    }


def wait_http(url: str, deadline: float, child: Child | None = None) -> None:
    while time.monotonic() < deadline:
        if child is not None and not child.alive():
            raise StartupError(f"{child.name} exited during startup; see {child.log}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise StartupError(f"{url} did not answer in time")


def trigger_first_run(api_url: str, deployment: str, deadline: float) -> str:
    """Run the health check once right away, so the UI shows a run within a minute. A server
    still busy starting (its SQLite locked by the scheduler) answers 503: try again."""
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{api_url}/deployments/name/{deployment}", timeout=10)
            if r.status_code == 200:
                run = httpx.post(
                    f"{api_url}/deployments/{r.json()['id']}/create_flow_run",
                    # the key makes a retried request create one run, not two
                    json={"name": "startup-check", "tags": ["startup"],
                          "idempotency_key": f"startup-{r.json()['id']}-{int(deadline)}"},
                    timeout=10,
                )  # fmt: skip
                if run.status_code < 300:
                    return str(run.json()["id"])
                last = f"HTTP {run.status_code} creating the run"
            else:
                last = f"HTTP {r.status_code} reading the deployment"
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(1)
    raise StartupError(f"could not start a first run of {deployment} in time: {last}")


def hooks_token_env(settings: Settings) -> dict[str, str]:
    """Hooks need a token; without one configured, make one (kept in var/, mode 0600)."""
    if settings.hooks_token is not None or settings.hooks_token_block:
        return {}
    path = settings.var_dir / "hooks-token"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return {"POSTDEPLOY_HOOKS_TOKEN": path.read_text().strip()}


def prefect_database(external_api: bool) -> str:
    """Which database the Prefect server keeps its state in, for the start-up lines."""
    if external_api:
        return "that server's own"
    url = os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL")
    return mask_url(url) if url else "SQLite in PREFECT_HOME (default)"


def run_up(
    with_sample: bool = True, settings: Settings | None = None, workers: bool = False
) -> int:
    from postdeploy import workers as pool
    from postdeploy.store.migrate import upgrade

    settings = settings or get_settings()
    workers = workers or settings.execution == "workers"
    logs = settings.var_dir / "log"
    external_api = os.environ.get("PREFECT_API_URL")
    api_url = external_api or f"http://127.0.0.1:{settings.prefect_port}/api"
    env = prefect_env(settings, api_url)
    py = sys.executable
    say = print

    try:
        upgrade(settings.database_url)
    except StoreUnavailable as exc:
        say(f"error: {exc}")
        return 1
    say(f"store      {mask_url(settings.database_url)} (migrated)")
    try:
        project = pool.project_dir(settings) if workers else None
        services = [s.name for s in load_catalog(settings.catalog).services]
    except (pool.WorkerSetupError, CatalogError) as exc:
        say(f"error: {exc}")
        return 1

    children: list[Child] = []
    if with_sample:
        children.append(
            Child(
                "sample service",
                [
                    py,
                    "-m",
                    "postdeploy.sample_service",
                    "--port",
                    str(settings.sample_port),
                    "--log-file",
                    str(settings.var_dir / "sample" / "app.log"),
                    "--traffic",
                    "2",
                ],
                logs / "sample.log",
            )
        )
    if not external_api:
        children.append(
            Child(
                "prefect server",
                [
                    py,
                    "-m",
                    "prefect",
                    "server",
                    "start",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(settings.prefect_port),
                ],
                logs / "prefect-server.log",
            )
        )
    serve = Child(
        "deployments",
        [py, "-m", "flows.serve", "--limit", str(settings.serve_limit)],
        logs / "serve.log",
    )
    hooks = Child(
        "hooks api",
        [
            py,
            "-m",
            "uvicorn",
            "--factory",
            "postdeploy.api.app:create_app",
            "--host",
            settings.api_host,
            "--port",
            str(settings.api_port),
        ],
        logs / "api.log",
        env={"POSTDEPLOY_PREFECT_API_URL": api_url, **hooks_token_env(settings)},
    )

    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    started: list[Child] = []
    code = 0
    try:
        for child in children:
            child.start(env)
            started.append(child)
        deadline = time.monotonic() + 120
        wait_http(f"{api_url}/health", deadline, children[-1] if not external_api else None)
        say(f"prefect    UI http://127.0.0.1:{settings.prefect_port}  API {api_url}")
        say(f"           database {prefect_database(bool(external_api))}")
        subprocess.run(
            [py, "-m", "prefect", "block", "register", "-m", "blocks"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        if project is not None:
            # runs go to workers: one `prefect deploy --all` of prefect.yaml, nothing served here
            created = pool.ensure_pool(api_url, env)
            say(f"work pool  {pool.POOL} ({'created' if created else 'exists'}); deploying")
            pool.deploy(env, project)
            pool.limit_services(api_url, services)
            say(f"deployed   prefect.yaml into {pool.POOL}; start workers with `make worker`")
            deadline = time.monotonic() + 120  # deploying took its own time; start the rest
        for child in (hooks,) if project is not None else (serve, hooks):
            child.start(env)
            started.append(child)
        wait_http(f"http://{settings.api_host}:{settings.api_port}/healthz", deadline, hooks)
        say(f"hooks api  http://{settings.api_host}:{settings.api_port}/healthz")
        if settings.hooks_token is None and not settings.hooks_token_block:
            say(f"           bearer token in {settings.var_dir / 'hooks-token'}")
        if with_sample:
            say(f"sample     http://127.0.0.1:{settings.sample_port}/healthz")
        trigger_first_run(api_url, "health-check/health-check", deadline)
        if project is None:
            say(f"serving    deployments (limit {settings.serve_limit}); logs in {logs}/")
        else:
            say(f"workers    runs wait for a worker on pool {pool.POOL}; logs in {logs}/")
        say("ready      press Ctrl-C to stop")
        while not stopping:
            dead = [c for c in started if not c.alive()]
            if dead:
                say(f"error: {dead[0].name} exited unexpectedly; see {dead[0].log}")
                code = 1
                break
            time.sleep(0.5)
    except (
        StartupError,
        pool.WorkerSetupError,
        subprocess.CalledProcessError,
        httpx.HTTPError,
    ) as exc:
        say(f"error: {exc}")
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        say("stopping   " + ", ".join(c.name for c in reversed(started)))
        for child in reversed(started):
            child.stop()
        say("stopped")
    return code
