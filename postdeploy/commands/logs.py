"""`postdeploy logs`: log review from the command line (template mining)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from postdeploy.adapters.logs import (
    LineParser,
    LogInputError,
    expand,
    parser_for,
    read_records,
)
from postdeploy.domain.logtemplates import UNPARSED_ID, TemplateMiner
from postdeploy.reporting.files import write_atomic

app = typer.Typer(no_args_is_help=True, add_completion=False)

COLUMNS = ("line_no", "template_id", "template", "file")


@app.callback()
def logs() -> None:
    """Log review: mine templates (error signatures) from log files."""


def _parser(
    pattern: str | None, layout: str | None, json_lines: bool, json_fields: str | None
) -> LineParser:
    if sum(x is not None for x in (pattern, layout)) + (json_lines or json_fields is not None) > 1:
        raise LogInputError("choose one of --pattern, --format and --json/--json-fields")
    return parser_for(pattern, layout, json_fields, json_lines or json_fields is not None)


@app.command()
def templates(
    files: Annotated[
        list[str], typer.Argument(metavar="FILE...", help="Log files or quoted globs ('*.log').")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV file to write.")],
    pattern: Annotated[
        str | None,
        typer.Option(help="Python regex with a named group `message` (and `timestamp`, `level`)."),
    ] = None,
    layout: Annotated[
        str | None,
        typer.Option("--format", help="Layout in logparser notation: '<Date> <Level>: <Content>'."),
    ] = None,
    json_lines: Annotated[bool, typer.Option("--json", help="Lines are JSON objects.")] = False,
    json_fields: Annotated[
        str | None,
        typer.Option(help="JSON keys, e.g. message=msg,level=lvl,timestamp=ts (implies --json)."),
    ] = None,
) -> None:
    """Mine log templates: one CSV row per input line (line_no, template_id, template, file).

    A line the pattern does not match is kept in the group `unparsed` and counted."""
    try:
        parse = _parser(pattern, layout, json_lines, json_fields)
        paths = expand(files)
    except LogInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    lines: list[tuple[int, bool]] = []  # (line number, parsed) in reading order
    per_file: list[int] = []

    def messages() -> Iterator[str]:
        for path in paths:
            for record in read_records([path], parse):
                lines.append((record.line_no, record.parsed))
                if record.parsed:
                    yield record.message
            per_file.append(len(lines))

    miner = TemplateMiner()
    try:
        mined = iter(miner.mine(messages()))
    except (OSError, EOFError) as exc:  # unreadable file, corrupt or truncated .gz
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    unparsed, file_no = 0, 0
    for n, (line_no, parsed) in enumerate(lines):
        while n >= per_file[file_no]:
            file_no += 1
        if parsed:
            tid, template = next(mined)
        else:
            tid, template = UNPARSED_ID, UNPARSED_ID
            unparsed += 1
        writer.writerow((line_no, tid, template, paths[file_no]))
    write_atomic(output, buffer.getvalue())
    typer.echo(
        f"lines {len(lines)}, parsed {len(lines) - unparsed}, unparsed {unparsed}, "
        f"templates {len(miner.templates())} -> {output}",
        err=True,
    )
