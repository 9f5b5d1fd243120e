"""Disaster-recovery tasks: back up the store, verify a backup by a scratch restore, keep the
newest backups, switch a service to its standby, write the report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from sqlalchemy import Connection, select, update

from postdeploy.adapters import backup as files
from postdeploy.catalog import Catalog
from postdeploy.domain.checks import CheckOutcome, ProbeSpec
from postdeploy.domain.dr import BackupEntry, Failover, Probe, rebase, to_prune
from postdeploy.reporting.dr import DrRun, write_dr_report
from postdeploy.store import backups
from postdeploy.store.engine import StoreUnavailable
from postdeploy.store.schema import service as service_table
from postdeploy.store.services import sync_services
from postdeploy.store.session import in_store


class FailoverFailed(RuntimeError):
    """The standby did not prove healthy: the active endpoint was left as it was."""

    def __init__(self, message: str, failover: Failover | None = None) -> None:
        super().__init__(message, failover)  # both in args: the exception survives pickling
        self.failover = failover

    def __str__(self) -> str:
        return str(self.args[0])


@task(name="backup-store", cache_policy=NO_CACHE)
def backup_store(url: str, folder: Path) -> files.BackupFile:
    made = files.take_backup(url, Path(folder))
    get_run_logger().info(
        "backup %s: %d bytes, sha256 %s", made.location, made.size_bytes, made.sha256
    )
    return made


@task(name="record-backup", cache_policy=NO_CACHE)
def record_backup(url: str, made: files.BackupFile) -> int:
    return in_store(
        url,
        lambda conn: backups.record_backup(
            conn, location=made.location, created_at=made.created_at,
            size_bytes=made.size_bytes, sha256=made.sha256, kind=made.kind,
        ),
    )  # fmt: skip


@task(name="prune-backups", cache_policy=NO_CACHE)
def prune_backups(url: str, keep: int) -> list[str]:
    """Delete the files of backups beyond the newest `keep`; never the newest good one."""

    def work(conn: Connection) -> list[str]:
        rows = backups.list_backups(conn)
        entries = [
            BackupEntry(r["location"], r["created_at"].timestamp(), r["status"]) for r in rows
        ]
        gone = to_prune(entries, keep)
        backups.mark_pruned(conn, locations=gone)
        return gone

    gone = in_store(url, work)
    for location in gone:  # after the commit: no row left usable points at a deleted file
        files.remove_backup(Path(location))
    return gone


@task(name="pick-backup", cache_policy=NO_CACHE)
def pick_backup(url: str, location: str | None) -> dict[str, Any] | None:
    """The named backup, or the newest one taken; None if there is none to verify."""

    def work(conn: Connection) -> dict[str, Any] | None:
        if location:
            return backups.get_backup(conn, location=location)
        return backups.newest(conn)

    row = in_store(url, work)
    return None if row is None or row["status"] == "pruned" else row


@task(name="verify-backup", cache_policy=NO_CACHE)
def verify_backup(url: str, row: dict[str, Any]) -> files.Verification:
    """Restore into scratch and compare every table; raises BackupInvalid, loudly."""
    result = files.verify(
        row["location"], kind=row["kind"], sha256=row["sha256"],
        size_bytes=row["size_bytes"], url=url,
    )  # fmt: skip
    get_run_logger().info(
        "verified %s: %d tables equal, restored in %.2fs",
        row["location"], len(result.checks), result.restore_seconds,
    )  # fmt: skip
    return result


@task(name="mark-backup", cache_policy=NO_CACHE)
def mark_backup(url: str, location: str, good: bool) -> str | None:
    """Mark one backup good or bad; returns the newest good backup afterwards."""

    def work(conn: Connection) -> str | None:
        status: backups.Status = "good" if good else "bad"
        backups.mark(conn, location=location, status=status, at=datetime.now(UTC))
        newest = backups.newest(conn, status="good")
        return None if newest is None else str(newest["location"])

    return in_store(url, work)


@task(name="newest-good-backup", cache_policy=NO_CACHE)
def newest_good_backup(url: str) -> tuple[str, float] | None:
    row = in_store(url, lambda conn: backups.newest(conn, status="good"))
    return None if row is None else (str(row["location"]), row["created_at"].timestamp())


def failover_specs(cat: Catalog, name: str) -> tuple[list[ProbeSpec], list[ProbeSpec], str]:
    """The service's checks against its standby and against its primary, and the standby URL."""
    svc = cat.service(name)
    if not svc.standby_url:
        raise FailoverFailed(f"service {name!r} has no standby_url in the catalog")
    primary = cat.probe_specs([name])
    return [rebase(s, svc.url, svc.standby_url) for s in primary], primary, svc.standby_url


def _probes(outcomes: Sequence[CheckOutcome]) -> tuple[Probe, ...]:
    return tuple(Probe(o.check, o.ok, o.detail) for o in outcomes)


def _store_down(_task: Any, _run: Any, state: Any) -> bool:
    """Retry only an unreachable store: probing again is the operator's call, not a retry's."""
    return isinstance(state.result(raise_on_failure=False), StoreUnavailable)


@task(name="switch-to-standby", cache_policy=NO_CACHE, retry_condition_fn=_store_down)
def switch_to_standby(
    url: str,
    cat: Catalog,
    name: str,
    standby_url: str,
    standby: Sequence[CheckOutcome],
    primary: Sequence[CheckOutcome],
) -> Failover:
    """Point the service's active URL at its standby if every standby check passed; record
    the attempt as a Prefect event either way. Raises FailoverFailed, keeping the old URL."""

    def work(conn: Connection) -> Failover:
        sync_services(conn, services=cat.services)
        where = service_table.c.name == name
        current = conn.execute(select(service_table.c.active_url).where(where)).scalar_one()
        result = Failover(name, current, standby_url, False, _probes(standby), _probes(primary))
        if result.error is None:
            values = {"active_url": standby_url, "updated_at": datetime.now(UTC)}
            conn.execute(update(service_table).where(where).values(**values))
            result = replace(result, switched=True)
        return result

    result = in_store(url, work)
    emit_event(
        event="postdeploy.failover.switched" if result.switched else "postdeploy.failover.refused",
        resource={"prefect.resource.id": f"postdeploy.service.{name}"},
        payload={"from": result.from_url, "to": standby_url, "error": result.error},
    )
    if result.error:
        raise FailoverFailed(f"{name}: {result.error}; active URL stays {result.from_url}", result)
    get_run_logger().warning("%s failed over: %s -> %s", name, result.from_url, standby_url)
    return result


@task(name="dr-report", cache_policy=NO_CACHE)
def dr_report(run: DrRun, reports_dir: Path) -> str:
    path, md = write_dr_report(run, out_dir=Path(reports_dir))
    create_markdown_artifact(
        key="disaster-recovery",
        markdown=md + f"\nHTML report: `{path.resolve()}`\n",
        description="Disaster recovery: backup, verified restore, failover, RTO and RPO",
    )
    return str(path)
