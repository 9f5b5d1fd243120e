"""`postdeploy report surveys`: a period's survey scores with 95% intervals, and the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from postdeploy.store.engine import StoreUnavailable


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def surveys_report(
    period: Annotated[
        str | None,
        typer.Option(help="2026-10, 2026-Q4, 2026-W44 or a day [default: the previous month]."),
    ] = None,
    catalog: Annotated[
        Path | None, typer.Option("--catalog", "-c", help="Catalog (its time zone).")
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Store URL [default: POSTDEPLOY_DATABASE_URL].")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Reports folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Write reports/surveys/<period>/ (index.html, summary.md, scores.csv) and print NPS,
    CSAT and CES with their 95% intervals and answer counts. Periods are read in the
    catalog's time zone."""
    from postdeploy.catalog import CatalogError, load_catalog
    from postdeploy.domain.periods import parse_period, period_of, previous
    from postdeploy.reporting.surveys import (
        LABELS,
        interval,
        load_summary,
        summary_dict,
        value,
        write_survey_report,
    )
    from postdeploy.settings import get_settings
    from postdeploy.store.session import store_transaction

    settings = get_settings()
    try:
        tz = load_catalog(catalog or settings.catalog).zone()
    except CatalogError as exc:
        raise _fail(f"invalid catalog {exc.path}: {'; '.join(exc.problems)}") from None
    try:
        chosen = (
            parse_period(period, tz)
            if period
            else previous(period_of("month", datetime.now(UTC), tz))
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    try:
        with store_transaction(url or settings.database_url) as conn:
            summary = load_summary(conn, chosen)
    except StoreUnavailable as exc:
        raise _fail(str(exc)) from None
    files = write_survey_report(summary, out_dir=out or settings.reports_dir)
    if as_json:
        typer.echo(json.dumps(summary_dict(summary) | {"report": str(files.html)}))
        return
    typer.echo(f"surveys {chosen.label}: {summary.overall.responses} responses")
    for metric, e in summary.overall.items():
        shown = value(metric, e.kpi.value)
        detail = "" if e.kpi.value is None else f" (95% CI {interval(metric, e)}, n={e.kpi.n})"
        typer.echo(f"  {LABELS[metric]:<5} {shown}{detail}")
    typer.echo(f"wrote {files.html}, {files.markdown.name} and {files.csv.name}")
