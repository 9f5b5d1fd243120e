"""`postdeploy kpi`: the KPIs of a period, per service and overall, with their trends."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from postdeploy.catalog import CatalogError, load_catalog
from postdeploy.store.engine import StoreUnavailable


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def kpi(
    period: Annotated[
        str, typer.Option("--period", "-p", help="2026-10, 2026-Q4, 2026-W48 or 2026-11-27.")
    ],
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Only this service's KPIs.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    gate: Annotated[
        bool,
        typer.Option(help="Validate the inputs with the data-quality gate first (about 10 s)."),
    ] = True,
    report: Annotated[
        bool, typer.Option("--report", help="Also write reports/<kind>/<period>/.")
    ] = False,
    catalog: Annotated[Path | None, typer.Option("--catalog", "-c")] = None,
    url: Annotated[str | None, typer.Option("--url", help="Store URL.")] = None,
) -> None:
    """Compute the KPIs of a period (kept in kpi_snapshot for trends) and print them with the
    change against the previous period. Exit 1 when a KPI could not be computed (a blocking
    data-quality suite failed, or its query did), 2 on bad input."""
    from postdeploy.domain.periods import parse_period
    from postdeploy.reporting.kpi_build import assemble
    from postdeploy.reporting.kpis import write_report
    from postdeploy.settings import get_settings
    from postdeploy.store.session import store_transaction

    settings = get_settings()
    try:
        cat = load_catalog(catalog or settings.catalog)
    except CatalogError as exc:
        raise _fail(f"invalid catalog {exc.path}: " + "; ".join(exc.problems)) from None
    try:
        span = parse_period(period, cat.zone())
    except ValueError as exc:
        raise _fail(str(exc)) from None
    names = [s.name for s in cat.services]
    if service is not None and service not in names:
        raise _fail(f"unknown service {service!r}; the catalog has {', '.join(names)}")
    store = url or settings.database_url
    quality = None
    try:
        if gate:
            from postdeploy.adapters.quality import run_gate

            quality = run_gate(store, span.start, span.end, label=span.label)
        with store_transaction(store) as conn:
            built = assemble(conn, cat, span, now=datetime.now(UTC), gate=quality)
    except StoreUnavailable as exc:
        raise _fail(str(exc)) from None
    paths = write_report(built, settings.reports_dir) if report else {}
    scope = service or ""
    rows = [r for r in built.rows() if service is None or r.scope == scope]
    if as_json:
        out: dict[str, Any] = {
            "period": span.label,
            "kind": span.kind,
            "start": span.start.isoformat(),
            "end": span.end.isoformat(),
            "timezone": cat.timezone,
            "as_of": built.current.as_of.isoformat(),
            "service": service,
            "kpis": [r.as_json() for r in rows],
            "not_computed": built.current.failed,
            "quality": quality.as_json() if quality else None,
            "files": {k: str(v) for k, v in paths.items()},
        }
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        _print(built.title(), rows, built.current.failed)
        for kind, path in paths.items():
            typer.echo(f"{kind}: {path}")
    if built.current.failed:
        raise typer.Exit(1)


def _print(title: str, rows: list[Any], failed: dict[str, str]) -> None:
    from postdeploy.reporting.kpis import fmt, fmt_change

    typer.echo(title)
    scope = None
    for r in rows:
        if r.scope != scope:
            scope = r.scope
            typer.echo(f"\n[{scope or 'overall'}]")
        change = fmt_change(r.trend, r.value.unit)
        extra = f"  (was {fmt(r.previous)}, {change})" if r.previous is not None and change else ""
        tier = f"  DORA {r.value.tier}" if r.value.tier else ""
        typer.echo(f"  {r.metric:<40} {fmt(r.value):>18}{extra}{tier}")
    for name, why in failed.items():
        typer.echo(f"not computed: {name}: {why}", err=True)
