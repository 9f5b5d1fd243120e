"""`postdeploy hook deployed`: tell postdeploy a deploy happened, from a CI/CD pipeline."""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Annotated

import typer

hook_app = typer.Typer(no_args_is_help=True, help="Tell postdeploy about events (CI/CD).")

FINAL_FAILURES = {"FAILED", "CRASHED", "CANCELLED"}


def _token(explicit: str | None) -> str:
    from postdeploy.settings import get_settings

    if explicit:
        return explicit
    settings = get_settings()
    if settings.hooks_token is not None:
        return settings.hooks_token.get_secret_value()
    path = settings.var_dir / "hooks-token"
    if path.exists():
        return path.read_text().strip()
    typer.echo("error: no token: set POSTDEPLOY_HOOKS_TOKEN or pass --token", err=True)
    raise typer.Exit(2)


@hook_app.command("deployed")
def deployed(
    service: Annotated[str, typer.Option(help="The catalog service that was deployed.")],
    version: Annotated[str, typer.Option(help="The version now deployed.")],
    commit: Annotated[str | None, typer.Option(help="The commit deployed.")] = None,
    committed_at: Annotated[
        datetime | None, typer.Option(help="Commit time (ISO 8601), for lead time.")
    ] = None,
    environment: Annotated[str, typer.Option()] = "production",
    canary_window: Annotated[
        float | None, typer.Option(help="Seconds to watch errors and latency (default 120).")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait for the verdict: exit 0 pass, 1 fail.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the verdict.")] = 900,
    api: Annotated[str | None, typer.Option(help="Hooks API base URL.")] = None,
    token: Annotated[str | None, typer.Option(envvar="POSTDEPLOY_HOOKS_TOKEN")] = None,
) -> None:
    """Record a deploy and start its post-deploy checks."""
    import httpx  # here, not at import: every other command starts faster without it

    from postdeploy.settings import get_settings

    settings = get_settings()
    base = (
        api
        or os.environ.get("POSTDEPLOY_API_URL")
        or (f"http://{settings.api_host}:{settings.api_port}")
    )
    headers = {"Authorization": f"Bearer {_token(token)}"}
    body: dict[str, object] = {
        "service": service,
        "version": version,
        "environment": environment,
        "commit": commit,
    }
    if committed_at is not None:
        body["committed_at"] = committed_at.isoformat()
    if canary_window is not None:
        body["canary_window_s"] = canary_window
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            response = client.post("/hooks/deploy", json=body)
            if response.status_code != 202:
                detail = response.json().get("detail", response.text) if response.content else ""
                typer.echo(f"error: HTTP {response.status_code}: {detail}", err=True)
                raise typer.Exit(2)
            accepted = response.json()
            typer.echo(
                f"deployment {accepted['deployment_id']} recorded; post-deploy check run "
                f"{accepted['flow_run_id']}"
            )
            if not wait:
                return
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                status = client.get(
                    f"/hooks/deploy/{accepted['deployment_id']}",
                    params={"flow_run": accepted["flow_run_id"]},
                ).json()
                if status["verdict"]:
                    typer.echo(f"verdict: {status['verdict']}")
                    raise typer.Exit(0 if status["verdict"] == "pass" else 1)
                if status["flow_run_state"] in FINAL_FAILURES:
                    typer.echo(f"verdict: none, the check run is {status['flow_run_state']}")
                    raise typer.Exit(1)
                time.sleep(1)
    except httpx.HTTPError as exc:
        typer.echo(f"error: hooks API at {base} unreachable: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"verdict: none within {timeout:.0f} s", err=True)
    raise typer.Exit(1)
