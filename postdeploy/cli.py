"""The `postdeploy` command. Heavy imports (Prefect) happen inside the commands that need them."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Annotated

import typer

from postdeploy.catalog import Catalog, CatalogError, load_catalog
from postdeploy.commands import incidents, silences
from postdeploy.commands.anomalies import anomalies
from postdeploy.commands.forecast import capacity, forecast
from postdeploy.commands.hooks import hook_app
from postdeploy.commands.imports import import_app
from postdeploy.commands.kpi import kpi
from postdeploy.commands.logs import app as logs_app
from postdeploy.commands.quality import quality
from postdeploy.commands.surveys import surveys_report
from postdeploy.domain.checks import CheckOutcome
from postdeploy.store.engine import StoreUnavailable, mask_url

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Post-deployment support.")
db_app = typer.Typer(no_args_is_help=True, help="The store: migrations.")
catalog_app = typer.Typer(no_args_is_help=True, help="The catalog (postdeploy.yaml).")
report_app = typer.Typer(no_args_is_help=True, help="Write reports from the store.")
blocks_app = typer.Typer(no_args_is_help=True, help="Prefect blocks of postdeploy.")
app.add_typer(db_app, name="db")
app.add_typer(catalog_app, name="catalog")
app.add_typer(report_app, name="report")
report_app.command("surveys")(surveys_report)
app.add_typer(blocks_app, name="blocks")
app.add_typer(hook_app, name="hook")
app.command("anomalies")(anomalies)
app.command("forecast")(forecast)
app.command("capacity")(capacity)
app.command("kpi")(kpi)
app.command("quality")(quality)
app.add_typer(logs_app, name="logs")
app.add_typer(silences.app, name="silence")
app.add_typer(import_app, name="import")
app.add_typer(incidents.app, name="incident")

CatalogOpt = Annotated[
    Path | None,
    typer.Option("--catalog", "-c", help="Catalog file [default: POSTDEPLOY_CATALOG]."),
]
UrlOpt = Annotated[
    str | None, typer.Option("--url", help="Store URL [default: POSTDEPLOY_DATABASE_URL].")
]


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _catalog(path: Path | None) -> Catalog:
    from postdeploy.settings import get_settings

    try:
        return load_catalog(path or get_settings().catalog)
    except CatalogError as exc:
        lines = "\n".join(f"  - {p}" for p in exc.problems)
        raise fail(f"invalid catalog {exc.path}:\n{lines}") from None


def _url(url: str | None) -> str:
    from postdeploy.settings import get_settings

    return url or get_settings().database_url


@app.command()
def check(
    catalog: CatalogOpt = None,
    service: Annotated[list[str] | None, typer.Option("--service", "-s")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per check.")] = False,
    record: Annotated[bool, typer.Option(help="Also store the results in the store.")] = False,
    concurrency: Annotated[int, typer.Option(min=1)] = 1000,
    url: UrlOpt = None,
) -> None:
    """Run one sweep of the catalog's checks now. Exit 0 when all pass, 1 when any fails."""
    from postdeploy.adapters.probes import probe_many

    cat = _catalog(catalog)
    unknown = sorted(set(service or ()) - {s.name for s in cat.services})
    if unknown:
        raise fail(f"unknown service(s) {', '.join(unknown)}: not in the catalog")
    specs = cat.probe_specs(service)
    outcomes = asyncio.run(probe_many(specs, concurrency=concurrency))
    _print_outcomes(outcomes, as_json)
    if record:
        from postdeploy.store.checks import record_sweep
        from postdeploy.store.services import sync_services
        from postdeploy.store.session import store_transaction

        try:
            with store_transaction(_url(url)) as conn:
                ids = sync_services(conn, services=cat.services)
                record_sweep(
                    conn,
                    sweep_id=f"cli-{uuid.uuid4()}",
                    outcomes=outcomes,
                    ids=ids,
                    thresholds=cat.thresholds(),
                )
        except StoreUnavailable as exc:
            raise fail(f"results not recorded: {exc}") from None
    raise typer.Exit(0 if all(o.ok for o in outcomes) else 1)


def _print_outcomes(outcomes: list[CheckOutcome], as_json: bool) -> None:
    if as_json:
        for outcome in outcomes:
            sys.stdout.write(json.dumps(outcome.as_json()) + "\n")
        sys.stdout.flush()
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("service", "check", "ok", "status", "latency ms", "detail")
    for o in outcomes:
        latency = "–" if o.latency_ms is None else f"{o.latency_ms:.0f}"
        mark = "[green]ok[/]" if o.ok else "[red]FAIL[/]"
        table.add_row(o.service, o.check, mark, str(o.status or "–"), latency, o.detail)
    Console().print(table)


@catalog_app.command("validate")
def catalog_validate(path: Annotated[Path | None, typer.Argument()] = None) -> None:
    """Validate a catalog; exit 2 with every problem named when it is invalid."""
    cat = _catalog(path)
    checks = sum(len(s.checks) for s in cat.services)
    typer.echo(f"ok: {len(cat.services)} services, {checks} checks, {len(cat.routes)} routes")


@db_app.command("upgrade")
def db_upgrade(url: UrlOpt = None, revision: str = "head") -> None:
    """Migrate the store to the newest schema (creates a SQLite file if needed)."""
    from postdeploy.store.migrate import current_revision, upgrade

    target = _url(url)
    try:
        upgrade(target, revision)
        typer.echo(f"store {mask_url(target)} at revision {current_revision(target)}")
    except (StoreUnavailable, ValueError) as exc:
        raise fail(str(exc)) from None


@db_app.command("downgrade")
def db_downgrade(revision: str, url: UrlOpt = None) -> None:
    """Migrate the store down to REVISION ('base' drops everything)."""
    from postdeploy.store.migrate import downgrade

    try:
        downgrade(_url(url), revision)
    except StoreUnavailable as exc:
        raise fail(str(exc)) from None
    typer.echo(f"store {mask_url(_url(url))} downgraded to {revision}")


@db_app.command("current")
def db_current(url: UrlOpt = None) -> None:
    """Print the store's schema revision."""
    from postdeploy.store.migrate import current_revision, head_revision

    try:
        typer.echo(f"{current_revision(_url(url))} (head: {head_revision()})")
    except StoreUnavailable as exc:
        raise fail(str(exc)) from None


@report_app.command("uptime")
def report_uptime(
    url: UrlOpt = None,
    days: Annotated[int, typer.Option(min=1, max=366)] = 30,
    out: Annotated[Path | None, typer.Option(help="Reports folder.")] = None,
) -> None:
    """Write reports/uptime/index.html and uptime.md from the store."""
    from postdeploy.domain.uptime import DAY
    from postdeploy.reporting.uptime import write_uptime_report
    from postdeploy.settings import get_settings
    from postdeploy.store.session import store_transaction
    from postdeploy.store.uptime import has_demo_data, uptime_rows

    until = time.time()
    since = (until // DAY - (days - 1)) * DAY
    try:
        with store_transaction(_url(url)) as conn:
            rows = uptime_rows(conn, since=since, until=until)
            demo = has_demo_data(conn, since=since, until=until)
    except StoreUnavailable as exc:
        raise fail(str(exc)) from None
    out_dir = (out or get_settings().reports_dir) / "uptime"
    report = write_uptime_report(rows, out_dir=out_dir, since=since, until=until, demo=demo)
    typer.echo(f"wrote {report.html} and {report.markdown}")


@blocks_app.command("register")
def blocks_register() -> None:
    """Register postdeploy's block types with the Prefect API (PREFECT_API_URL)."""
    from blocks import BackupLocation, Notifier, PrometheusConnection, StoreConnection

    for block in (StoreConnection, Notifier, PrometheusConnection, BackupLocation):
        block.register_type_and_schema()
        typer.echo(f"registered block type {block.get_block_type_slug()}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def sample_service(ctx: typer.Context) -> None:
    """Run the bundled sample service (see --help of `python -m postdeploy.sample_service`)."""
    from postdeploy import sample_service as svc

    svc.main(list(ctx.args))


@app.command()
def api(host: str | None = None, port: int | None = None) -> None:
    """Run the hooks API (FastAPI) in the foreground."""
    import uvicorn

    from postdeploy.api.app import create_app
    from postdeploy.settings import get_settings

    settings = get_settings()
    uvicorn.run(
        create_app(settings), host=host or settings.api_host, port=port or settings.api_port
    )


@app.command()
def up(
    sample: Annotated[bool, typer.Option(help="Start the bundled sample service.")] = True,
    workers: Annotated[
        bool,
        typer.Option(
            "--workers",
            help="Serve nothing here: deploy prefect.yaml to the `postdeploy` work pool and "
            "leave the runs to workers (`make worker`). Also POSTDEPLOY_EXECUTION=workers.",
        ),
    ] = False,
) -> None:
    """Start everything: store, Prefect server and UI, served deployments, hooks API."""
    from postdeploy.supervisor import run_up

    raise typer.Exit(run_up(with_sample=sample, workers=workers))


@app.command()
def worker(
    name: Annotated[str | None, typer.Option(help="Worker name shown in the UI.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Flow runs at once.")] = None,
) -> None:
    """Run a process worker on the `postdeploy` work pool (what `make worker` starts)."""
    from postdeploy.settings import get_settings
    from postdeploy.workers import run_worker

    settings = get_settings()
    api = os.environ.get("PREFECT_API_URL") or f"http://127.0.0.1:{settings.prefect_port}/api"
    raise typer.Exit(run_worker(settings, api, name=name, limit=limit))


@app.command()
def demo() -> None:
    """Seed demo history, run every flow once on a temporary Prefect server, write reports/."""
    from postdeploy.demo import run_demo

    raise typer.Exit(run_demo())


def main() -> None:
    # There is no internet here and operators may have none either: never phone home.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    app()


if __name__ == "__main__":
    main()
