"""Fault injection: `postdeploy import tickets` SIGKILLed while it writes a large export, then
run again. The import is one transaction, so a killed run leaves the store exactly as it was,
and the rerun ends with the store identical, table by table, to one uninterrupted import.

Compared: every row of every table, with surrogate ids replaced by the natural key of the row
they point to and the id column itself left out. Ids may legitimately differ: PostgreSQL
sequences are not transactional, so the ids a killed import drew are never handed out again.
Nothing else is left out: imported times come from the export, not the clock."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, text
from typer.testing import CliRunner

from postdeploy.commands.imports import import_app
from postdeploy.store.engine import make_engine
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import metadata

ROWS = 20_000  # a fraction of a second per import when idle; the kill waits for writes
# the ServiceNow mapping users start from (data/mappings), on a CSV export of it
MAPPING = Path(__file__).resolve().parents[2] / "data" / "mappings" / "servicenow.yaml"
HEADER = ["number", "short_description", "cmdb_ci", "category", "assigned_to", "priority",
          "state", "opened_at", "resolved_at", "sys_updated_on", "close_notes"]  # fmt: skip
PRIORITIES = ["1 - Critical", "2 - High", "3 - Moderate", "4 - Low"]
STATES = ["New", "In Progress", "Resolved", "Closed"]
FMT = "%Y-%m-%d %H:%M:%S"


def total(version: int) -> int:
    return ROWS + (ROWS // 10 if version == 2 else 0)


def unreadable(version: int) -> int:
    return len(range(5, total(version), 10_007))


def write_export(path: Path, version: int) -> Path:
    """Version 2 moves every third ticket on (a later state and update time) and adds a tenth
    more; every 10,007th row is unreadable, for the quarantine file."""
    start = datetime(2026, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(HEADER)
        for i in range(total(version)):
            opened = start + timedelta(seconds=i * 7)
            step = i % 4 + (1 if version == 2 and i % 3 == 0 else 0)
            state = STATES[min(step, 3)]
            resolved = (opened + timedelta(hours=3)).strftime(FMT) if step >= 2 else ""
            updated = opened + timedelta(hours=1 + step)
            out.writerow([
                f"INC{i:08d}", f"ticket {i} of version {version}", f"svc-{i % 7}",
                f"category {i % 5}", f"agent{i % 13}", PRIORITIES[i % 4], state,
                opened.strftime(FMT), resolved,
                "not a time" if i % 10_007 == 5 else updated.strftime(FMT),
                "restarted the worker" if resolved else "",
            ])  # fmt: skip
    return path


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in a stable order; ids left out, foreign keys as the referenced row.
    Read as the driver returns them (raw), which is fast and compares exactly."""
    natural: dict[str, dict[Any, tuple[Any, ...]]] = {}
    out: dict[str, list[tuple[Any, ...]]] = {}
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            for table in [*metadata.sorted_tables, None]:  # parents before children
                name = "alembic_version" if table is None else table.name
                names = ["version_num"] if table is None else [c.name for c in table.columns]
                refs = {
                    c.name: next(iter(c.foreign_keys)).column.table.name
                    for c in (table.columns if table is not None else ())
                    if c.foreign_keys
                }
                keep = [c for c in names if c != "id"]
                order = [c for c in keep if table is None or not isinstance(table.c[c].type, JSON)]
                q = conn.dialect.identifier_preparer.quote
                query = f"select {', '.join(map(q, names))} from {q(name)}"
                rows = conn.exec_driver_sql(f"{query} order by {', '.join(map(q, order))}").all()
                values = [
                    tuple(
                        natural[refs[c]].get(r[names.index(c)]) if c in refs else r[names.index(c)]
                        for c in keep
                    )
                    for r in rows
                ]
                if "id" in names:
                    at = names.index("id")
                    natural[name] = {r[at]: v for r, v in zip(rows, values, strict=True)}
                out[name] = sorted(values, key=repr) if refs else values
    finally:
        engine.dispose()
    return out


def cli_import(url: str, export: Path, mapping: Path) -> str:
    result = CliRunner().invoke(
        import_app, ["tickets", str(export), "--mapping", str(mapping), "--url", url]
    )
    assert result.exit_code == 0, result.output
    return result.output


def kill_mid_write(argv: list[str], cwd: Path, writing: Callable[[], bool]) -> float:
    """Start the import, SIGKILL it as soon as `writing()` says it has written to the store;
    returns the seconds it ran."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        while not writing():
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"the import ended before it could be killed mid-write: {out}")
            assert time.monotonic() - started < 120, "the import never started writing"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    return time.monotonic() - started


def sqlite_writing(url: str) -> Callable[[], bool]:
    """An import writing to SQLite spills uncommitted pages into the WAL file: 512 KB more of
    it means rows are being written, well before the commit."""
    wal = Path(url.removeprefix("sqlite:///") + "-wal")
    before = wal.stat().st_size if wal.exists() else 0
    return lambda: wal.exists() and wal.stat().st_size > before + (512 << 10)


def postgres_writing(url: str) -> Callable[[], bool]:
    """Another session has a transaction id (it wrote) and the ticket table grew 512 KB."""
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        before = conn.execute(text("select pg_total_relation_size('ticket')")).scalar_one()

    def writing() -> bool:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "select pg_total_relation_size('ticket') > :grown and exists ("
                        "  select 1 from pg_stat_activity where backend_xid is not null"
                        "  and datname = current_database() and pid <> pg_backend_pid())"
                    ),
                    {"grown": before + (512 << 10)},
                ).scalar_one()
            )

    return writing


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """The mapping and two versions of a large export, written once for both backends."""
    folder = tmp_path_factory.mktemp("exports")
    return MAPPING, [write_export(folder / f"export-v{v}.csv", v) for v in (1, 2)]


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str, str]:
    """(backend, store to kill imports into, reference store), both migrated and empty."""
    if request.param == "sqlite":
        urls = [f"sqlite:///{tmp_path / name}.db" for name in ("killed", "reference")]
    else:
        from tests.conftest import create_pg_database, drop_pg_database

        admin = request.getfixturevalue("pg_admin_url")
        urls = [create_pg_database(admin), create_pg_database(admin)]
        for url in urls:
            request.addfinalizer(lambda url=url: drop_pg_database(admin, url))
    for url in urls:
        upgrade(url)
    return request.param, urls[0], urls[1]


def test_a_sigkilled_ticket_import_changes_nothing_and_the_rerun_matches_an_uninterrupted_one(
    two_stores: tuple[str, str, str], exports: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    backend, url, reference = two_stores
    mapping, files = exports
    writing = sqlite_writing if backend == "sqlite" else postgres_writing
    cli = str(Path(sys.executable).parent / "postdeploy")

    def argv(export: Path) -> list[str]:
        return [cli, "import", "tickets", str(export), "--mapping", str(mapping), "--url", url,
                "--quarantine", str(tmp_path / "rejected.csv")]  # fmt: skip

    # the reference: an empty store, then each export imported without interruption
    expected = [snapshot(reference)]
    for export in files:
        cli_import(reference, export, mapping)
        expected.append(snapshot(reference))
    assert len(expected[1]["ticket"]) == total(1) - unreadable(1)
    assert expected[2] != expected[1]

    # SQLite: kill the first import and the update; PostgreSQL (slower): the update only
    if backend == "postgresql":
        cli_import(url, files[0], mapping)
        assert snapshot(url) == expected[1]
    for version, export in enumerate(files, start=1):
        if backend == "postgresql" and version == 1:
            continue
        ran = kill_mid_write(argv(export), tmp_path, writing(url))
        assert snapshot(url) == expected[version - 1], (
            f"v{version}, killed at {ran:.1f}s, left a trace"
        )

        done = subprocess.run(argv(export), cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert f"rejected {unreadable(version)}" in done.stdout, done.stdout
        assert snapshot(url) == expected[version], f"the rerun of v{version} differs"
        rejected = list(csv.reader((tmp_path / "rejected.csv").open()))
        assert len(rejected) == 1 + unreadable(version)  # rewritten whole, not appended to
