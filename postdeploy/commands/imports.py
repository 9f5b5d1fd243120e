"""`postdeploy import`: help-desk and survey exports into the store, through a mapping file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from postdeploy.store.engine import StoreUnavailable

import_app = typer.Typer(
    no_args_is_help=True, help="Import help-desk and survey exports into the store."
)

UrlOpt = Annotated[
    str | None, typer.Option("--url", help="Store URL (default: POSTDEPLOY_DATABASE_URL).")
]


@import_app.callback()
def imports() -> None:
    """Import help-desk and survey exports into the store."""


MappingOpt = Annotated[Path, typer.Option("--mapping", "-m", help="Mapping file (YAML).")]
SourceOpt = Annotated[
    str | None, typer.Option(help="Source name, part of the natural key (default: the mapping's).")
]
QuarantineOpt = Annotated[
    Path | None,
    typer.Option(help="File for rejected rows (default: FILE.rejected.csv beside FILE)."),
]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@import_app.command("tickets")
def tickets(
    file: Annotated[Path, typer.Argument(help="CSV, JSON or JSON-lines export.")],
    mapping: MappingOpt,
    source: SourceOpt = None,
    quarantine: QuarantineOpt = None,
    url: UrlOpt = None,
) -> None:
    """Import tickets: new ones are inserted, known ones (same source and external id) updated;
    importing the same export again changes nothing. Rows that cannot be read go to the
    quarantine file with the reason. Exit 2, importing nothing, on a bad mapping or columns."""
    from postdeploy.adapters.importers.exports import MissingColumns
    from postdeploy.adapters.importers.mapping import MappingError, load_mapping
    from postdeploy.adapters.importers.tickets import open_export
    from postdeploy.settings import get_settings
    from postdeploy.store.session import store_transaction
    from postdeploy.store.tickets import upsert_tickets

    try:
        spec = load_mapping(mapping)
    except MappingError as exc:
        lines = "\n".join(f"  - {p}" for p in exc.problems)
        raise _fail(f"invalid mapping {exc.path}:\n{lines}") from None
    if source is not None and not 0 < len(source.strip()) <= 50:
        raise _fail("--source must be 1 to 50 characters")
    try:
        with (
            store_transaction(url or get_settings().database_url) as conn,
            open_export(file, spec, source=source, quarantine=quarantine) as reader,
        ):
            counts = upsert_tickets(conn, reader)
    except MissingColumns as exc:
        raise _fail(f"{exc}; nothing imported") from None
    except (OSError, UnicodeDecodeError, ValueError, StoreUnavailable) as exc:
        raise _fail(f"{file}: {exc}; nothing imported") from None
    typer.echo(
        f"read {reader.read}, inserted {counts.inserted}, updated {counts.updated}, "
        f"unchanged {counts.unchanged}, rejected {reader.rejected}"
        + (f", status changes {counts.events}" if counts.events else "")
    )
    if reader.rejected:
        typer.echo(f"rejected rows with the reason: {reader.quarantine.path}", err=True)


@import_app.command("surveys")
def surveys(
    file: Annotated[Path, typer.Argument(help="CSV, JSON or JSON-lines survey export.")],
    mapping: MappingOpt,
    source: SourceOpt = None,
    quarantine: QuarantineOpt = None,
    url: UrlOpt = None,
) -> None:
    """Import survey answers (NPS 0-10, CSAT 1-5, CES 1-7, comment): new responses are
    inserted, changed ones (same source and external id, not older) updated; importing the same
    export again changes nothing. Rows that cannot be read, and duplicates of an id, go to the
    quarantine file with the reason. Exit 2, importing nothing, on a bad mapping or columns."""
    from postdeploy.adapters.importers.exports import MissingColumns
    from postdeploy.adapters.importers.mapping import MappingError
    from postdeploy.adapters.importers.surveys import import_survey_file
    from postdeploy.settings import get_settings

    if source is not None and not 0 < len(source.strip()) <= 50:
        raise _fail("--source must be 1 to 50 characters")
    try:
        done = import_survey_file(
            url or get_settings().database_url, file, mapping, source=source, quarantine=quarantine
        )
    except MappingError as exc:
        lines = "\n".join(f"  - {p}" for p in exc.problems)
        raise _fail(f"invalid mapping {exc.path}:\n{lines}") from None
    except MissingColumns as exc:
        raise _fail(f"{exc}; nothing imported") from None
    except (OSError, UnicodeDecodeError, ValueError, StoreUnavailable) as exc:
        raise _fail(f"{file}: {exc}; nothing imported") from None
    typer.echo(done.line())
    if done.quarantine:
        typer.echo(f"rejected rows with the reason: {done.quarantine}", err=True)
