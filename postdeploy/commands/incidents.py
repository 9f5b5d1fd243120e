"""`postdeploy incident`: open one (the incident-response runbook), acknowledge, update,
change severity, resolve and list; every change is an event on the incident's timeline."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from postdeploy.store.engine import StoreUnavailable

app = typer.Typer(no_args_is_help=True, help="Incidents: open, acknowledge, update, resolve.")

Severity = Literal["critical", "high", "medium", "low"]
State = Literal["investigating", "identified", "monitoring", "resolved"]
UrlOpt = Annotated[
    str | None, typer.Option("--url", help="Store URL [default: POSTDEPLOY_DATABASE_URL].")
]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who [default: $USER].")]
IdArg = Annotated[int, typer.Argument(help="The incident's id (see `postdeploy incident list`).")]


def _url(url: str | None) -> str:
    from postdeploy.settings import get_settings

    return url or get_settings().database_url


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _iso(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _change(url: str | None, work: Any, *, refresh: bool = True) -> Any:
    from postdeploy.store.incidents import IncidentNotFound
    from postdeploy.store.session import store_transaction

    try:
        with store_transaction(_url(url)) as conn:
            result = work(conn)
            if refresh:
                _refresh_status_page(conn)
            return result
    except (IncidentNotFound, ValueError, StoreUnavailable) as exc:
        raise _fail(str(exc)) from None


def _refresh_status_page(conn: Any) -> None:
    """Incident updates show on the public status page at once, not at the next sweep."""
    from postdeploy.catalog import CatalogError, load_catalog
    from postdeploy.reporting.status import write_status_page
    from postdeploy.settings import get_settings

    settings = get_settings()
    try:
        catalog = load_catalog(settings.catalog)
    except CatalogError as exc:
        typer.echo(f"warning: status page not refreshed: {exc}", err=True)
        return
    write_status_page(conn, catalog, settings.reports_dir / "status")


@app.command("open")
def open_(
    service: Annotated[str, typer.Option(help="The catalog service affected.")],
    severity: Annotated[Severity, typer.Option(help="critical, high, medium or low.")],
    summary: Annotated[str, typer.Option(help="One line on what is wrong.")],
    commander: Annotated[str | None, typer.Option(help="Who leads the response.")] = None,
    local: Annotated[
        bool, typer.Option("--local", help="Run the flow here instead of on the Prefect server.")
    ] = False,
    auto_approve: Annotated[
        bool, typer.Option(help="Drills only: run the emergency fix without approval.")
    ] = False,
    healthy_minutes: Annotated[
        float, typer.Option(help="Checks must stay up this long before it resolves.")
    ] = 15.0,
    monitor_timeout: Annotated[
        float, typer.Option(help="Minutes to wait for that; then the incident stays open.")
    ] = 60.0,
) -> None:
    """Start the incident-response runbook (a deployment run, or with --local, here)."""
    from postdeploy.settings import get_settings

    settings = get_settings()
    parameters: dict[str, Any] = {
        "service": service, "severity": severity, "summary": summary, "commander": commander,
        "auto_approve": auto_approve, "healthy_minutes": healthy_minutes,
        "monitor_timeout_minutes": monitor_timeout,
    }  # fmt: skip
    if local:
        # the flow runs in its own process: the library never imports Prefect or flows
        root = Path(__file__).resolve().parents[2]
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "flows.incident_response", json.dumps(parameters)],
            cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, check=False,
        )  # fmt: skip
        raise typer.Exit(done.returncode)
    from postdeploy.api.prefect_runs import PrefectRuns, RunStartError

    runs = PrefectRuns(settings.prefect_api_url or os.environ.get("PREFECT_API_URL"))
    try:
        run_id = asyncio.run(
            runs.start(
                settings.incident_deployment, parameters=parameters,
                idempotency_key=f"cli-{uuid.uuid4()}", tags=["cli", "incident"],
            )
        )  # fmt: skip
    except RunStartError as exc:
        raise _fail(f"{exc} (or run it here with --local)") from None
    typer.echo(f"incident-response run {run_id} started for {service} ({severity})")


@app.command("ack")
def ack(incident_id: IdArg, by: ByOpt = None, url: UrlOpt = None) -> None:
    """Acknowledge: someone is on it."""
    from postdeploy.store.incidents import set_state

    who = by or getpass.getuser()
    _change(url, lambda conn: set_state(
        conn, incident_id=incident_id, state="acknowledged", now=datetime.now(UTC), actor=who,
        message=f"acknowledged by {who}", kind="acknowledged",
    ))  # fmt: skip
    typer.echo(f"incident {incident_id} acknowledged by {who}")


@app.command("update")
def update(
    incident_id: IdArg,
    message: Annotated[str, typer.Option(help="What users and responders should know.")],
    state: Annotated[State | None, typer.Option(help="Move the incident to this state.")] = None,
    by: ByOpt = None,
    url: UrlOpt = None,
) -> None:
    """Post an update, optionally with a new state (shown on the status page)."""
    from postdeploy.store.incidents import add_event, set_state

    who, now = by or getpass.getuser(), datetime.now(UTC)

    def work(conn: Any) -> None:
        if state:
            set_state(conn, incident_id=incident_id, state=state, now=now, actor=who,
                      message=message, kind="communication")  # fmt: skip
        else:
            from postdeploy.store.incidents import get_incident

            get_incident(conn, incident_id=incident_id)
            add_event(conn, incident_id=incident_id, now=now, kind="update", message=message,
                      actor=who)  # fmt: skip

    _change(url, work)
    typer.echo(f"incident {incident_id} updated" + (f": {state}" if state else ""))


@app.command("severity")
def severity(
    incident_id: IdArg,
    to: Annotated[Severity, typer.Option("--to", help="The new severity.")],
    by: ByOpt = None,
    url: UrlOpt = None,
) -> None:
    """Change the severity and with it the escalation level (catalog severity_levels)."""
    from postdeploy.catalog import load_catalog
    from postdeploy.settings import get_settings
    from postdeploy.store.incidents import set_severity

    try:
        levels: dict[str, str] = dict(
            load_catalog(get_settings().catalog).escalation.severity_levels
        )
    except Exception:  # no catalog here: the default mapping critical=L4 .. low=L1
        levels = {}
    who = by or getpass.getuser()
    old, new = _change(url, lambda conn: set_severity(
        conn, incident_id=incident_id, severity=to, now=datetime.now(UTC), actor=who,
        levels=levels or None,
    ))  # fmt: skip
    typer.echo(f"incident {incident_id}: severity {to}, level {old} -> {new}")


@app.command("resolve")
def resolve(
    incident_id: IdArg,
    message: Annotated[str, typer.Option(help="What fixed it.")] = "resolved",
    by: ByOpt = None,
    url: UrlOpt = None,
) -> None:
    """Resolve the incident."""
    from postdeploy.store.incidents import set_state

    who = by or getpass.getuser()
    _change(url, lambda conn: set_state(
        conn, incident_id=incident_id, state="resolved", now=datetime.now(UTC), actor=who,
        message=message, kind="communication",
    ))  # fmt: skip
    typer.echo(f"incident {incident_id} resolved")


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include resolved incidents.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    url: UrlOpt = None,
) -> None:
    """Open incidents, newest first (with --all, every incident)."""
    from postdeploy.store.incidents import list_incidents

    found = _change(url, lambda conn: list_incidents(conn, open_only=not all_), refresh=False)
    rows = [
        {"id": i["id"], "service": i["service"], "severity": i["severity"], "level": i["level"],
         "status": i["status"], "opened_at": _iso(i["opened_at"]),
         "resolved_at": _iso(i["resolved_at"]), "commander": i["commander"] or "",
         "title": i["title"]}
        for i in found
    ]  # fmt: skip
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    if not rows:
        typer.echo("no incidents")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "service", "severity", "level", "status", "opened", "commander", "title")
    for r in rows:
        table.add_row(str(r["id"]), r["service"], r["severity"], r["level"], r["status"],
                      r["opened_at"], r["commander"], r["title"])  # fmt: skip
    Console().print(table)
