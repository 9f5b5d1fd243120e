"""`postdeploy quality`: run the data-quality gate over a report period's rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def quality(
    period: Annotated[
        str, typer.Option("--period", "-p", help="2026-11-27, 2026-W48, 2026-11 or 2026-Q4.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="The report as one JSON object.")] = False,
    suites: Annotated[
        Path | None,
        typer.Option(help="Folder of gate.yaml and the suites (default: data/expectations)."),
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog", "-c", help="Catalog, for its time zone (default: POSTDEPLOY_CATALOG)."
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Store URL (default: POSTDEPLOY_DATABASE_URL).")
    ] = None,
) -> None:
    """Validate the period's check results, tickets, surveys, incidents, deployments and metrics
    against their expectation suites. Exit 0 when no blocking suite failed (warnings allowed),
    1 when one did (the KPIs it feeds are named), 2 on a bad period, catalog or gate file."""
    from postdeploy.adapters.quality import run_gate
    from postdeploy.catalog import CatalogError, load_catalog
    from postdeploy.domain.periods import parse_period
    from postdeploy.domain.quality import GateConfigError
    from postdeploy.settings import get_settings

    settings = get_settings()
    try:
        zone = load_catalog(catalog or settings.catalog).zone()
        span = parse_period(period, zone)
        report = run_gate(
            url or settings.database_url, span.start, span.end, suites_dir=suites, label=span.label
        )
    except CatalogError as exc:
        lines = "\n".join(f"  - {p}" for p in exc.problems)
        raise _fail(f"invalid catalog {exc.path}:\n{lines}") from None
    except (GateConfigError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        typer.echo(report.to_markdown(), nl=False)
    raise typer.Exit(0 if report.passed else 1)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)
