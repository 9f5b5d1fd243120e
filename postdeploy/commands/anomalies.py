"""`postdeploy anomalies`: score a stored metric series (CSV) with the causal detector."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import typer

from postdeploy.reporting.files import write_atomic

COLUMNS = ("timestamp", "value")


class BadInput(Exception):
    pass


def anomalies(
    input: Path = typer.Argument(..., help="CSV with columns timestamp,value, oldest row first."),
    output: Path = typer.Option(..., "--output", help="CSV to write: timestamp,value,score,alert."),
) -> None:
    """Score every row of INPUT for anomaly (0 to 1) and flag alerts (0 or 1).

    The decision for a row uses only that row and the rows above it. An empty, `nan` or `inf`
    value is a missing measurement: it scores 0, never alerts and does not move the detector.
    """
    try:
        rows = read_series(input)
    except BadInput as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    from postdeploy.domain.anomalies import detect  # numpy: only when this command runs

    results = detect([value for _, _, value in rows])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS, "score", "alert"])
    for (timestamp, text, _), (score, alert) in zip(rows, results, strict=True):
        writer.writerow([timestamp, text, f"{score:.6f}", alert])
    write_atomic(output, out.getvalue())
    alerts = sum(alert for _, alert in results)
    typer.echo(f"{len(rows)} rows scored, {alerts} alerts -> {output}")


def read_series(path: Path) -> list[tuple[str, str, float]]:
    """(timestamp, value as written, value) per data row; BadInput names what is wrong."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read: {exc}") from None
    reader = csv.reader(io.StringIO(text))
    header = [name.strip() for name in next(reader, [])]
    missing = [name for name in COLUMNS if name not in header]
    if not header:
        raise BadInput(f"{path}: empty file, expected a header with columns timestamp,value")
    if missing:
        raise BadInput(f"{path}: missing column(s) {', '.join(missing)} in header {header}")
    at = {name: header.index(name) for name in COLUMNS}
    rows = []
    for line, record in enumerate(reader, start=2):
        if not record:
            continue
        if len(record) < len(header):
            raise BadInput(f"{path}: row {line}: {len(record)} fields, header has {len(header)}")
        timestamp, text = record[at["timestamp"]].strip(), record[at["value"]].strip()
        rows.append((timestamp, text, parse_value(text, path, line)))
    if not rows:
        raise BadInput(f"{path}: no data rows after the header")
    return rows


def parse_value(text: str, path: Path, line: int) -> float:
    if text == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise BadInput(f"{path}: row {line}: column value: {text!r} is not a number") from None
    return value
