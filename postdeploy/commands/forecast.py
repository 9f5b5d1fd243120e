"""`postdeploy forecast` (a CSV of timestamp,value) and `postdeploy capacity` (the store's
history): Holt-Winters forecasts, days until a threshold, backtest error (docs/capacity.md)."""

from __future__ import annotations

import json
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from postdeploy.commands.anomalies import BadInput, read_series
from postdeploy.domain.capacity import (
    DAY,
    RESOURCES,
    Assessment,
    format_days,
    format_value,
    parse_quantity,
    span_text,
)

HorizonOpt = Annotated[
    str, typer.Option("--horizon", help="How far ahead: 30d, 12w, 48h.", show_default=True)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object (docs/capacity.md).")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _seconds(option: str, text: str) -> float:
    from postdeploy.catalog import parse_duration

    try:
        seconds = parse_duration(text).total_seconds()
    except ValueError as exc:
        raise _fail(f"{option}: {exc}") from None
    if seconds <= 0:
        raise _fail(f"{option}: {text!r} must be longer than zero")
    return seconds


def parse_timestamp(text: str, path: Path, line: int) -> float:
    """Epoch seconds, or ISO 8601 (a time without a zone is UTC)."""
    try:
        value = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadInput(
                f"{path}: row {line}: column timestamp: {text!r} is neither epoch seconds"
                " nor an ISO 8601 time such as 2026-07-01T12:00:00Z"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    if not math.isfinite(value):
        raise BadInput(f"{path}: row {line}: column timestamp: {text!r} is not a time")
    return value


def read_points(path: Path) -> list[tuple[float, float]]:
    """(epoch, value) per row; an empty or `nan` value is a missing measurement (a gap)."""
    points = []
    for line, (stamp, text, value) in enumerate(read_series(path), start=2):
        if math.isinf(value):
            raise BadInput(f"{path}: row {line}: column value: {text!r} is not a finite number")
        ts = parse_timestamp(stamp, path, line)
        if not math.isnan(value):
            points.append((ts, value))
    return points


def forecast(
    input: Annotated[Path, typer.Argument(help="CSV with columns timestamp,value.")],
    horizon: HorizonOpt = "30d",
    threshold: Annotated[
        str | None, typer.Option("--threshold", help="The limit: 1.5, 2GiB, 500MB or 85%.")
    ] = None,
    resource: Annotated[
        str | None,
        typer.Option(help=f"What the values are, for units: {', '.join(RESOURCES)}."),
    ] = None,
    level: Annotated[float, typer.Option(min=0.5, max=0.999, help="Interval level.")] = 0.95,
    as_json: JsonOpt = False,
) -> None:
    """Forecast a metric history (CSV of timestamp,value) HORIZON ahead: the path, its
    prediction interval, the days until THRESHOLD is reached and the backtest error (MAPE).
    Exit 2 on bad input (naming the row), 1 when no model could be fitted."""
    horizon_s = _seconds("--horizon", horizon)
    limit = None
    if threshold is not None:
        try:
            limit = parse_quantity(threshold)
        except ValueError as exc:
            raise _fail(f"--threshold: {exc}") from None
    try:
        points = read_points(input)
    except BadInput as exc:
        raise _fail(str(exc)) from None
    from postdeploy.adapters.forecasting import ForecastError
    from postdeploy.adapters.forecasting import forecast as fit
    from postdeploy.domain.capacity import HistoryError, assess
    from postdeploy.reporting.capacity import to_json

    try:
        result = fit(points, horizon_s=horizon_s, level=level)
    except HistoryError as exc:
        raise _fail(f"{input}: {exc}") from None
    except ForecastError as exc:
        raise _fail(f"{input}: {exc}", 1) from None
    a = assess("", resource or "", result, limit)
    if as_json:
        _print_json({"input": str(input), **to_json(a, points=True)})
    else:
        _print_forecast(str(input), a)


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, allow_nan=False) + "\n")  # never NaN: it is not JSON
    sys.stdout.flush()


def _print_forecast(name: str, a: Assessment) -> None:
    f = a.forecast
    assert f is not None

    def show(v: float) -> str:
        return format_value(a.resource, v)

    peak = max(range(len(f.mean)), key=f.mean.__getitem__)
    when = datetime.fromtimestamp(f.times[peak], UTC).strftime("%Y-%m-%d %H:%M UTC")
    error = "no data (every held-out value is 0)" if f.mape is None else f"{f.mape:.1f}%"
    lines = [
        f"forecast of {name}: {len(f.history.values)} points of {span_text(f.history.step)},"
        f" last {show(f.last_value)}",
        f"model:       {f.method}",
        f"seasonality: {f.seasonality.note}",
        f"backtest:    MAPE {error} over the last {f.holdout} points",
        f"in {span_text(f.horizon_s)}:     {show(f.mean[-1])} ({f.level:.0%} interval"
        f" {show(f.lower[-1])} to {show(f.upper[-1])}); peak {show(f.mean[peak])} at {when}",
    ]
    if a.threshold is not None:
        head = f"threshold {show(a.threshold)}:"
        if a.days == 0:
            lines.append(f"{head} already reached")
        elif a.days is not None and a.crosses_at is not None:
            at = datetime.fromtimestamp(a.crosses_at, UTC).strftime("%Y-%m-%d")
            lines.append(
                f"{head} reached in {format_days(a.days)} (around {at}); upper bound of the"
                f" interval: in {format_days(a.days_earliest)}"
            )
        else:
            upper = a.days_earliest
            lines.append(
                f"{head} not within horizon"
                + (f" (the upper bound reaches it in {format_days(upper)})" if upper else "")
            )
        lines.append(a.recommendation)
    typer.echo("\n".join(lines))


def capacity(
    service: Annotated[list[str] | None, typer.Option("--service", "-s")] = None,
    horizon: HorizonOpt = "30d",
    history: Annotated[str, typer.Option(help="History read from the store.")] = "30d",
    as_json: JsonOpt = False,
    catalog: Annotated[
        Path | None, typer.Option("--catalog", "-c", help="[default: POSTDEPLOY_CATALOG]")
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Store URL [default: POSTDEPLOY_DATABASE_URL].")
    ] = None,
) -> None:
    """Forecast every service's CPU, memory, disk and request rate from the store's history
    against the catalog's `capacity:` thresholds; most urgent first."""
    from postdeploy.catalog import CatalogError, load_catalog
    from postdeploy.settings import get_settings
    from postdeploy.store.engine import StoreUnavailable

    horizon_s, history_s = _seconds("--horizon", horizon), _seconds("--history", history)
    settings = get_settings()
    try:
        cat = load_catalog(catalog or settings.catalog)
    except CatalogError as exc:
        raise _fail(str(exc)) from None
    unknown = sorted(set(service or ()) - {s.name for s in cat.services})
    if unknown:
        raise _fail(f"unknown service(s) {', '.join(unknown)}: not in the catalog")
    from postdeploy.adapters.forecasting import plan
    from postdeploy.store.capacity import resource_history
    from postdeploy.store.session import in_store

    names = service or [s.name for s in cat.services]
    now = time.time()
    try:
        found = in_store(
            url or settings.database_url,
            lambda conn: resource_history(
                conn, services=names, resources=RESOURCES, since=now - history_s, until=now
            ),
        )
    except StoreUnavailable as exc:
        raise _fail(str(exc)) from None
    items = plan(found, cat.capacity_thresholds(names), horizon_s=horizon_s)
    if as_json:
        from postdeploy.reporting.capacity import iso, to_json

        _print_json(
            {
                "generated_at": iso(now),
                "horizon_days": round(horizon_s / DAY, 3),
                "history_days": round(history_s / DAY, 3),
                "forecasts": [to_json(a) for a in items],
            }
        )
        return
    if not items:
        typer.echo("no resource history in the store and no capacity thresholds in the catalog")
        return
    for i, a in enumerate(items, 1):
        typer.echo(f"{i}. [{a.urgency}] {a.recommendation}")
