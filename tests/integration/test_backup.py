"""Store backups on SQLite and PostgreSQL: taken, verified by a scratch restore, and a corrupt
one fails loudly while the previous good backup stays the one marked good."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from postdeploy.adapters.backup import BackupFile, BackupInvalid, take_backup, verify
from postdeploy.catalog import Service
from postdeploy.store import backups
from postdeploy.store.engine import make_engine
from postdeploy.store.migrate import upgrade
from postdeploy.store.services import sync_services
from postdeploy.store.session import in_store
from tests.conftest import need


@pytest.fixture
def url(store_url: str) -> str:
    if store_url.startswith("postgresql"):
        for tool in ("pg_dump", "pg_restore"):
            if shutil.which(tool) is None:
                need(tool, "apt-get install postgresql-client")
    services = [Service(name=f"svc-{i}", url=f"http://127.0.0.1:{9000 + i}") for i in range(5)]
    in_store(store_url, lambda conn: sync_services(conn, services=services))
    return store_url


def _record(url: str, made: BackupFile) -> None:
    in_store(
        url,
        lambda conn: backups.record_backup(
            conn, location=made.location, created_at=made.created_at,
            size_bytes=made.size_bytes, sha256=made.sha256, kind=made.kind,
        ),
    )  # fmt: skip


def _verify(url: str, made: BackupFile) -> list[str]:
    result = verify(
        made.location, kind=made.kind, sha256=made.sha256, size_bytes=made.size_bytes, url=url
    )
    return [c.table for c in result.checks if c.ok]


def _mark(url: str, location: str, status: backups.Status) -> None:
    now = datetime.now(UTC)
    in_store(url, lambda conn: backups.mark(conn, location=location, status=status, at=now))


def _newest_good(url: str) -> str | None:
    row = in_store(url, lambda conn: backups.newest(conn, status="good"))
    return None if row is None else str(row["location"])


def test_a_backup_restores_with_equal_row_counts_and_checksums(url: str, tmp_path: Path) -> None:
    made = take_backup(url, tmp_path / "backups")

    assert Path(made.location).is_file() and made.size_bytes == Path(made.location).stat().st_size
    assert len(made.sha256) == 64
    assert made.tables["service"].rows == 5
    assert set(_verify(url, made)) == set(made.tables) >= {"service", "backup", "alembic_version"}


def test_a_corrupt_backup_fails_verify_and_the_previous_good_one_stays_good(
    url: str, tmp_path: Path
) -> None:
    good = take_backup(url, tmp_path / "backups")
    _record(url, good)
    _verify(url, good)
    _mark(url, good.location, "good")
    later = datetime.now(UTC) + timedelta(seconds=1)
    corrupt = take_backup(url, tmp_path / "backups", now=later)
    _record(url, corrupt)
    data = bytearray(Path(corrupt.location).read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 16):
        data[i] ^= 0xFF
    Path(corrupt.location).write_bytes(bytes(data))

    with pytest.raises(BackupInvalid, match="sha256"):
        _verify(url, corrupt)
    _mark(url, corrupt.location, "bad")

    assert _newest_good(url) == good.location
    newest = in_store(url, lambda conn: backups.newest(conn))
    assert newest is not None and newest["location"] == corrupt.location
    assert newest["status"] == "bad"


def test_a_restore_that_differs_from_the_snapshot_names_the_table(url: str, tmp_path: Path) -> None:
    made = take_backup(url, tmp_path / "backups")
    manifest = Path(made.location + ".manifest.json")
    body = json.loads(manifest.read_text())
    body["tables"]["service"][0] = 6
    manifest.write_text(json.dumps(body))

    with pytest.raises(BackupInvalid, match="service: 5 rows restored, 6 expected"):
        _verify(url, made)


def test_rows_written_after_the_backup_do_not_change_what_it_verifies_against(
    url: str, tmp_path: Path
) -> None:
    made = take_backup(url, tmp_path / "backups")
    in_store(url, lambda conn: sync_services(conn, services=[Service(name="late")]))

    assert "service" in _verify(url, made)


def test_a_postgres_verify_drops_its_scratch_database(pg_database: str, tmp_path: Path) -> None:
    if shutil.which("pg_restore") is None:
        need("pg_restore", "apt-get install postgresql-client")
    upgrade(pg_database)
    url = pg_database
    engine = make_engine(url)
    query = text("SELECT count(*) FROM pg_database WHERE datname LIKE 'postdeploy_dr_verify_%'")
    with engine.connect() as conn:
        before = conn.execute(query).scalar_one()
    _verify(url, take_backup(url, tmp_path / "backups"))
    with engine.connect() as conn:
        assert conn.execute(query).scalar_one() == before
    engine.dispose()


def test_pruning_deletes_old_backup_files_but_keeps_the_newest_good_one(
    url: str, tmp_path: Path
) -> None:
    from tasks.dr import prune_backups

    start = datetime.now(UTC)
    made = [take_backup(url, tmp_path / "b", now=start + timedelta(seconds=i)) for i in range(4)]
    for b in made:
        _record(url, b)
    _mark(url, made[0].location, "good")

    gone = prune_backups.fn(url, 2)

    assert gone == [made[1].location]
    assert not Path(made[1].location).exists()
    assert not Path(made[1].location + ".manifest.json").exists()
    assert all(Path(b.location).exists() for b in (made[0], made[2], made[3]))
    assert _newest_good(url) == made[0].location
    status = in_store(url, lambda conn: backups.get_backup(conn, location=made[1].location))
    assert status is not None and status["status"] == "pruned"
