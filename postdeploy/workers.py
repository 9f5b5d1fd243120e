"""Runs on workers: the `postdeploy` process work pool, prefect.yaml's deployments in it, and
`postdeploy worker` (what `make worker` starts on each host). Prefect runs as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from postdeploy.settings import Settings

POOL = "postdeploy"  # prefect.yaml names it for every deployment
PROJECT_DIR_VAR = "POSTDEPLOY_PROJECT_DIR"


class WorkerSetupError(RuntimeError):
    pass


def project_dir(settings: Settings) -> Path:
    """The checkout holding prefect.yaml and flows/: POSTDEPLOY_PROJECT_DIR, else the one this
    package was installed from (`pip install -e .`)."""
    folder = (settings.project_dir or Path(__file__).resolve().parents[1]).resolve()
    if not (folder / "prefect.yaml").is_file() or not (folder / "flows").is_dir():
        raise WorkerSetupError(
            f"{folder} is not a postdeploy checkout (no prefect.yaml and flows/); "
            f"set {PROJECT_DIR_VAR} to the checkout"
        )
    return folder


def prefect(args: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise WorkerSetupError(f"`prefect {' '.join(args)}` failed ({done.returncode}):\n{tail}")
    return done.stdout


def pool_exists(api_url: str, pool: str = POOL) -> bool:
    found = httpx.get(f"{api_url}/work_pools/{pool}", timeout=10)
    if found.status_code not in (200, 404):
        raise WorkerSetupError(f"{api_url}: HTTP {found.status_code} reading work pool {pool}")
    return found.status_code == 200


def ensure_pool(api_url: str, env: dict[str, str], pool: str = POOL) -> bool:
    """Create the process work pool unless it exists (an existing one keeps its settings,
    e.g. a concurrency limit set in the UI). True when it was created."""
    if pool_exists(api_url, pool):
        return False
    prefect(["work-pool", "create", pool, "--type", "process"], env)
    return True


def deploy(env: dict[str, str], project: Path, names: list[str] | None = None) -> None:
    """`prefect deploy` prefect.yaml's deployments (all, or these names) into the pool.

    POSTDEPLOY_PROJECT_DIR is removed from the environment on purpose: Prefect substitutes
    `{{ $VAR }}` when it deploys if VAR is set, and keeps the placeholder otherwise, so each
    worker resolves the pull step's directory to its own checkout at run time."""
    clean = {k: v for k, v in env.items() if k != PROJECT_DIR_VAR}
    which = ["--all"] if names is None else [a for n in names for a in ("--name", n)]
    prefect(["--no-prompt", "deploy", *which], clean, cwd=project)


def limit_services(api_url: str, services: list[str]) -> list[str]:
    """Give each deployed flow's `service` parameter the catalog's services as its choices,
    as the served deployments have them (flows/deployments.py): the UI offers a list and the
    server refuses a run for an unknown service before it starts. prefect.yaml cannot hold
    them (the catalog is the user's), so they are set on the server after `prefect deploy`.
    Returns the names of the deployments changed."""
    changed = []
    with httpx.Client(base_url=api_url, timeout=10) as client:
        found = client.post(
            "/deployments/filter", json={"deployments": {"tags": {"all_": ["postdeploy"]}}}
        )
        found.raise_for_status()
        for deployment in found.json():
            schema = deployment.get("parameter_openapi_schema") or {}
            service = schema.get("properties", {}).get("service")
            if service is None or service.get("enum") == sorted(services):
                continue
            service["enum"] = sorted(services)
            client.patch(
                f"/deployments/{deployment['id']}", json={"parameter_openapi_schema": schema}
            ).raise_for_status()
            changed.append(str(deployment["name"]))
    return sorted(changed)


def worker_env(settings: Settings, api_url: str, project: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        POSTDEPLOY_PROJECT_DIR=str(project),
        # flow runs inherit the worker's environment: they must use the same store
        POSTDEPLOY_DATABASE_URL=settings.database_url,
    )
    # a deploy hook's run should start within seconds, not Prefect's default 15 s poll
    env.setdefault("PREFECT_WORKER_QUERY_SECONDS", "5")
    return env


def worker_argv(pool: str = POOL, name: str | None = None, limit: int | None = None) -> list[str]:
    argv = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process"]
    argv += ["--name", name] if name else []
    argv += ["--limit", str(limit)] if limit else []
    return argv


def preflight(settings: Settings, api_url: str, pool: str = POOL) -> None:
    """Fail before starting a worker that could only fail its runs: name what is missing.
    Then give the deployments' `service` parameters this catalog's services as choices, so
    deployments made by hand (`prefect deploy --all`) get them too."""
    from postdeploy.catalog import CatalogError, load_catalog
    from postdeploy.store.engine import StoreUnavailable, mask_url
    from postdeploy.store.migrate import current_revision, head_revision

    try:
        services = [s.name for s in load_catalog(settings.catalog).services]
    except CatalogError as exc:
        raise WorkerSetupError(str(exc)) from None
    try:
        healthy = httpx.get(f"{api_url}/health", timeout=10).status_code == 200
    except httpx.HTTPError as exc:
        raise WorkerSetupError(f"Prefect API {api_url} unreachable: {type(exc).__name__}") from None
    if not healthy:
        raise WorkerSetupError(f"Prefect API {api_url} is not healthy")
    if not pool_exists(api_url, pool):
        raise WorkerSetupError(
            f"work pool {pool} does not exist at {api_url}: run `postdeploy up --workers` "
            "(or `prefect work-pool create postdeploy --type process && prefect deploy --all`)"
        )
    try:
        current, head = current_revision(settings.database_url), head_revision()
    except StoreUnavailable as exc:
        raise WorkerSetupError(str(exc)) from None
    except Exception as exc:  # a bad driver or URL: name the store, not a traceback
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WorkerSetupError(f"store {mask_url(settings.database_url)}: {first}") from None
    if current != head:
        raise WorkerSetupError(
            f"store {mask_url(settings.database_url)} is at revision {current}, not {head}: "
            "run `postdeploy db upgrade` (`postdeploy up` does it)"
        )
    try:
        limit_services(api_url, services)
    except httpx.HTTPError as exc:
        raise WorkerSetupError(f"{api_url}: setting the service choices failed: {exc}") from None


def run_worker(
    settings: Settings, api_url: str, name: str | None = None, limit: int | None = None
) -> int:
    """Check what a worker needs, then become `prefect worker start` (exec: signals and the
    exit code are the worker's own). Relative paths (a SQLite store, the catalog) are taken
    from the checkout, as the flow runs see them after the pull step."""
    try:
        project = project_dir(settings)
        os.chdir(project)
        preflight(settings, api_url)
    except WorkerSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from postdeploy.store.engine import mask_url

    print(f"worker     pool {POOL} at {api_url}; code {project}")
    print(f"store      {mask_url(settings.database_url)}", flush=True)
    argv = worker_argv(name=name, limit=limit)
    os.execve(argv[0], argv, worker_env(settings, api_url, project))
