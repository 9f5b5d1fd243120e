"""`postdeploy silence`: mute the alerts whose labels match, for a while (add, list, expire)."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from postdeploy.store.engine import StoreUnavailable

app = typer.Typer(no_args_is_help=True, help="Silences: mute matching alerts for a while.")

UrlOpt = Annotated[
    str | None, typer.Option("--url", help="Store URL [default: POSTDEPLOY_DATABASE_URL].")
]


def _url(url: str | None) -> str:
    from postdeploy.settings import get_settings

    return url or get_settings().database_url


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@app.command("add")
def add(
    match: Annotated[
        list[str],
        typer.Option(
            "--match",
            "-m",
            help='Label matcher: service=api, alertname=~"High.*". '
            "Repeat it: an alert must match them all.",
        ),
    ],  # fmt: skip
    comment: Annotated[str, typer.Option("--comment", help="Why, for whoever sees it later.")],
    duration: Annotated[str, typer.Option("--for", help="How long: 30m, 2h, 1d.")] = "1h",
    start: Annotated[
        datetime | None, typer.Option("--start", help="When it starts [default: now].")
    ] = None,
    created_by: Annotated[str | None, typer.Option("--by", help="Who [default: $USER].")] = None,
    url: UrlOpt = None,
) -> None:
    """Mute alerts matching every --match from --start for --for."""
    from postdeploy.catalog import parse_duration
    from postdeploy.store.alerts import add_silence
    from postdeploy.store.session import store_transaction

    now = datetime.now(UTC)
    begin = (start.replace(tzinfo=start.tzinfo or UTC) if start else now).astimezone(UTC)
    try:
        end = begin + parse_duration(duration)
        with store_transaction(_url(url)) as conn:
            sid = add_silence(
                conn, matchers=match, starts_at=begin, ends_at=end, comment=comment,
                created_by=created_by or getpass.getuser(), now=now,
            )  # fmt: skip
    except (ValueError, StoreUnavailable) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"silence {sid}: {', '.join(match)} from {_iso(begin)} until {_iso(end)}")


@app.command("list")
def list_(
    expired: Annotated[bool, typer.Option("--expired", help="Include ended silences.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    url: UrlOpt = None,
) -> None:
    """Active and upcoming silences (with --expired, all of them)."""
    from postdeploy.store.alerts import list_silences
    from postdeploy.store.session import store_transaction

    now = datetime.now(UTC)
    try:
        with store_transaction(_url(url)) as conn:
            found = list_silences(conn, now=now, expired=expired)
    except StoreUnavailable as exc:
        raise _fail(str(exc)) from None
    rows: list[dict[str, Any]] = [
        {
            "id": s.id, "matchers": [str(m) for m in s.matchers],
            "state": "active" if s.active(now) else ("pending" if s.starts_at > now else "expired"),
            "starts_at": _iso(s.starts_at), "ends_at": _iso(s.ends_at),
            "created_by": s.created_by, "comment": s.comment,
        }
        for s in found
    ]  # fmt: skip
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    if not rows:
        typer.echo("no silences")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "matchers", "state", "starts", "ends", "by", "comment")
    for r in rows:
        cells = [str(r["id"]), ", ".join(r["matchers"]), r["state"], r["starts_at"], r["ends_at"]]
        table.add_row(*cells, r["created_by"], r["comment"])
    Console().print(table)


@app.command("expire")
def expire(
    silence_id: Annotated[int, typer.Argument(help="The silence's id.")], url: UrlOpt = None
) -> None:
    """End a silence now."""
    from postdeploy.store.alerts import expire_silence
    from postdeploy.store.session import store_transaction

    try:
        with store_transaction(_url(url)) as conn:
            done = expire_silence(conn, silence_id=silence_id, now=datetime.now(UTC))
    except StoreUnavailable as exc:
        raise _fail(str(exc)) from None
    if not done:
        raise _fail(f"silence {silence_id} is unknown or already over")
    typer.echo(f"silence {silence_id} expired")
