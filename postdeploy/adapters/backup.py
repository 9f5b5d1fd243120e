"""Backups of the store and their verified restore into a scratch database.

SQLite: the online backup API copies a consistent snapshot of the live file. PostgreSQL:
`pg_dump --format=custom --snapshot` inside a REPEATABLE READ transaction that exported the
snapshot, so the row counts and checksums taken in that transaction describe exactly what the
dump holds. Either way a manifest (`<backup>.manifest.json`) keeps those per-table digests
beside the file; a verify restores into a scratch database (a temporary SQLite file, or a fresh
PostgreSQL database dropped after) and compares the restore's digests with the manifest's.

A table's digest is its row count and the sum, modulo 2**256, of the SHA-256 of each row's
canonical text: independent of row order and collation, and computed the same way on both
sides of a comparison (SQLite rows by `repr`, PostgreSQL rows by `row::text`)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL

from postdeploy.domain.dr import TableCheck, TableDigest, compare_tables
from postdeploy.store.engine import make_engine, mask_url, normalize_url

MANIFEST = ".manifest.json"
SQLITE, PG_DUMP = "sqlite", "pg_dump"


class BackupFailed(RuntimeError):
    """Taking a backup failed; nothing was recorded and no partial file is left."""


class BackupInvalid(RuntimeError):
    """A backup failed its verify: it must not be used for a restore."""


@dataclass(frozen=True)
class BackupFile:
    location: str
    kind: str
    created_at: datetime
    size_bytes: int
    sha256: str
    tables: dict[str, TableDigest]


@dataclass(frozen=True)
class Restored:
    tables: dict[str, TableDigest]
    seconds: float


class _Digest:
    def __init__(self) -> None:
        self.rows = 0
        self.total = 0

    def add(self, canonical: str) -> None:
        self.rows += 1
        self.total += int.from_bytes(hashlib.sha256(canonical.encode()).digest(), "big")

    def result(self) -> TableDigest:
        return TableDigest(self.rows, f"{self.total % (1 << 256):064x}")


def _digest(rows: Iterable[str]) -> TableDigest:
    acc = _Digest()
    for row in rows:
        acc.add(row)
    return acc.result()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _manifest_path(location: Path) -> Path:
    return location.with_name(location.name + MANIFEST)


def _write_manifest(b: BackupFile) -> None:
    body = {
        "kind": b.kind,
        "created_at": b.created_at.isoformat(),
        "size_bytes": b.size_bytes,
        "sha256": b.sha256,
        "tables": {k: [v.rows, v.checksum] for k, v in sorted(b.tables.items())},
    }
    _manifest_path(Path(b.location)).write_text(json.dumps(body, indent=1), encoding="utf-8")


def read_manifest(location: Path) -> dict[str, TableDigest]:
    try:
        raw = json.loads(_manifest_path(location).read_text(encoding="utf-8"))
        return {k: TableDigest(int(v[0]), str(v[1])) for k, v in raw["tables"].items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise BackupInvalid(f"{location}: manifest unreadable: {exc}") from None


def remove_backup(location: Path) -> None:
    location.unlink(missing_ok=True)
    _manifest_path(location).unlink(missing_ok=True)


# SQLite ---------------------------------------------------------------------------------------


def sqlite_digests(path: Path) -> dict[str, TableDigest]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        names = [
            n
            for (n,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        quoted = {n: '"' + n.replace('"', '""') + '"' for n in names}
        return {
            n: _digest(repr(r) for r in conn.execute(f"SELECT * FROM {quoted[n]}")) for n in names
        }
    except sqlite3.DatabaseError as exc:
        raise BackupInvalid(f"{path}: not a readable SQLite database: {exc}") from None
    finally:
        conn.close()


def _sqlite_copy(source: str, target: Path) -> None:
    src = sqlite3.connect(source, uri=source.startswith("file:"))
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        # the live store runs in WAL mode; the copy must be one self-contained file
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _sqlite_file(url: str | URL) -> Path:
    database = normalize_url(url).database
    if not database or database == ":memory:":
        raise BackupFailed(f"{mask_url(url)} is not a SQLite file")
    path = Path(database)
    if not path.exists():
        raise BackupFailed(f"no SQLite store at {path}")
    return path


def backup_sqlite(url: str, folder: Path, *, now: datetime | None = None) -> BackupFile:
    now = now or datetime.now(UTC)
    source = _sqlite_file(url)
    folder.mkdir(parents=True, exist_ok=True)
    final = (folder / f"store-{_stamp(now)}.sqlite3").resolve()
    partial = final.with_name(f".{final.name}.partial")
    try:
        _sqlite_copy(str(source), partial)
        tables = sqlite_digests(partial)
        os.replace(partial, final)
    except (sqlite3.Error, OSError) as exc:
        raise BackupFailed(f"SQLite backup of {source} failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    made = BackupFile(str(final), SQLITE, now, final.stat().st_size, file_sha256(final), tables)
    _write_manifest(made)
    return made


def restore_sqlite_scratch(location: Path) -> Restored:
    with TemporaryDirectory(prefix="postdeploy-dr-") as tmp:
        scratch = Path(tmp) / "scratch.sqlite3"
        start = time.perf_counter()
        try:
            _sqlite_copy(f"{location.resolve().as_uri()}?mode=ro", scratch)
            check = sqlite3.connect(scratch)
            try:
                problems = [r for (r,) in check.execute("PRAGMA integrity_check") if r != "ok"]
            finally:
                check.close()
        except sqlite3.DatabaseError as exc:
            raise BackupInvalid(f"{location}: restore failed: {exc}") from None
        seconds = time.perf_counter() - start
        if problems:
            raise BackupInvalid(f"{location}: integrity check: {'; '.join(problems[:5])}")
        return Restored(sqlite_digests(scratch), seconds)


# PostgreSQL -----------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(f"`{name}` not found: install the PostgreSQL client (postgresql-client)")
    return found


def _libpq(url: str | URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and the environment passing it (not on argv)."""
    parsed = normalize_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None)
    return uri.render_as_string(hide_password=False), env


def _run(argv: list[str], env: dict[str, str], timeout_s: float) -> None:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BackupFailed(f"{Path(argv[0]).name} did not finish in {timeout_s:g}s") from None
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-3:])
        raise BackupFailed(f"{Path(argv[0]).name} exited {done.returncode}: {tail}")


def pg_digests(conn: Connection) -> dict[str, TableDigest]:
    names = conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
    ).scalars()
    out = {}
    for name in list(names):
        quoted = '"' + name.replace('"', '""') + '"'
        rows = conn.execute(text(f"SELECT t::text FROM {quoted} AS t")).scalars()
        out[name] = _digest(rows)
    return out


def backup_postgres(
    url: str, folder: Path, *, now: datetime | None = None, timeout_s: float = 3600
) -> BackupFile:
    now = now or datetime.now(UTC)
    pg_dump = _pg_tool("pg_dump")
    folder.mkdir(parents=True, exist_ok=True)
    final = (folder / f"store-{_stamp(now)}.pgdump").resolve()
    partial = final.with_name(f".{final.name}.partial")
    uri, env = _libpq(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                tables = pg_digests(conn)  # same snapshot as the dump below
                argv = [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-password"]
                _run([*argv, f"--file={partial}", f"--dbname={uri}"], env, timeout_s)
        os.replace(partial, final)
    except BackupFailed:
        raise
    except Exception as exc:  # the store unreachable, the snapshot refused: no backup
        raise BackupFailed(f"pg_dump of {mask_url(url)} failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
        engine.dispose()
    made = BackupFile(str(final), PG_DUMP, now, final.stat().st_size, file_sha256(final), tables)
    _write_manifest(made)
    return made


def restore_postgres_scratch(location: Path, url: str, *, timeout_s: float = 3600) -> Restored:
    """Restore into a new database on the store's server, digest it, always drop it."""
    pg_restore = _pg_tool("pg_restore")
    scratch = f"postdeploy_dr_verify_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    scratch_url = normalize_url(url).set(database=scratch)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        uri, env = _libpq(scratch_url)
        start = time.perf_counter()
        argv = [pg_restore, "--no-owner", "--no-acl", "--exit-on-error", "--no-password"]
        try:
            _run([*argv, f"--dbname={uri}", str(location)], env, timeout_s)
        except BackupFailed as exc:
            raise BackupInvalid(f"{location}: restore failed: {exc}") from None
        seconds = time.perf_counter() - start
        engine = make_engine(scratch_url)
        try:
            with engine.connect() as conn:
                tables = pg_digests(conn)
        finally:
            engine.dispose()
        return Restored(tables, seconds)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


# Both -----------------------------------------------------------------------------------------


def take_backup(url: str, folder: Path, *, now: datetime | None = None) -> BackupFile:
    if normalize_url(url).get_backend_name() == "sqlite":
        return backup_sqlite(url, folder, now=now)
    return backup_postgres(url, folder, now=now)


def restore_into_scratch(location: Path, kind: str, url: str) -> Restored:
    if kind == SQLITE:
        return restore_sqlite_scratch(location)
    if kind == PG_DUMP:
        return restore_postgres_scratch(location, url)
    raise BackupInvalid(f"{location}: unknown backup kind {kind!r}")


@dataclass(frozen=True)
class Verification:
    checks: list[TableCheck]
    restore_seconds: float


def verify(location: str, *, kind: str, sha256: str, size_bytes: int, url: str) -> Verification:
    """Restore into scratch and compare with the manifest; BackupInvalid names what differs.

    The manifest holds the digests taken when the backup was made: for SQLite, of the backup
    file's own tables; for PostgreSQL, of the source in the dump's snapshot."""
    path = Path(location)
    if not path.is_file():
        raise BackupInvalid(f"{location}: file missing")
    if path.stat().st_size != size_bytes:
        raise BackupInvalid(f"{location}: {path.stat().st_size} bytes, {size_bytes} recorded")
    actual_sha = file_sha256(path)
    if actual_sha != sha256:
        raise BackupInvalid(f"{location}: sha256 {actual_sha[:12]}…, {sha256[:12]}… recorded")
    expected = read_manifest(path)
    restored = restore_into_scratch(path, kind, url)
    checks = compare_tables(expected, restored.tables)
    bad = [c for c in checks if not c.ok]
    if bad:
        listed = "; ".join(f"{c.table}: {c.problem}" for c in bad)
        raise BackupInvalid(f"{location}: restore differs from the snapshot: {listed}")
    return Verification(checks, restored.seconds)
