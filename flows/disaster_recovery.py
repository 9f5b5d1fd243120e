"""disaster-recovery (operator, quarterly drill): back up the store, verify the backup by a
restore into scratch, fail a service over to its standby; RTO and RPO against the catalog."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.client.schemas.objects import State

from flows.common import catalog as load
from flows.common import store_url, with_store_retries
from postdeploy.adapters.backup import BackupFile, Verification
from postdeploy.catalog import Catalog
from postdeploy.domain.dr import Failover, Objectives, drill_verdict, judge, rpo_age
from postdeploy.reporting.dr import BackupTaken, DrRun
from postdeploy.settings import get_settings
from tasks.checks import probe_all
from tasks.dr import (
    FailoverFailed,
    backup_store,
    dr_report,
    failover_specs,
    mark_backup,
    newest_good_backup,
    pick_backup,
    prune_backups,
    record_backup,
    switch_to_standby,
    verify_backup,
)

Action = Literal["backup", "verify", "failover", "drill"]


class DisasterRecoveryFailed(RuntimeError):
    """A step failed or an objective was missed; the report says which."""


def backup_folder(backup_block: str | None, cat: Catalog) -> Path:
    if backup_block:
        from blocks.backup import BackupLocation

        return BackupLocation.load(backup_block).path()  # type: ignore[union-attr,no-any-return]
    return cat.dr.backup_folder


def _error(state: State[Any]) -> str | None:
    if not state.is_failed():
        return None
    exc = state.result(raise_on_failure=False)
    return str(exc) if isinstance(exc, BaseException) else str(state.message)


def _backup(url: str, folder: Path, keep: int) -> tuple[BackupFile | None, str | None, list[str]]:
    state = with_store_retries(backup_store)(url, folder, return_state=True)
    error = _error(state)
    if error is not None:
        return None, error, []
    made: BackupFile = state.result()
    with_store_retries(record_backup)(url, made)
    return made, None, with_store_retries(prune_backups)(url, keep)


def _verify(url: str, wanted: str | None) -> tuple[str | None, Verification | None, str | None]:
    """The backup verified, its verification, the error; the backup is marked good or bad."""
    row = with_store_retries(pick_backup)(url, wanted)
    if row is None:
        return None, None, f"no backup to verify{f' at {wanted}' if wanted else ''}"
    location = str(row["location"])
    state = verify_backup(url, row, return_state=True)
    error = _error(state)
    with_store_retries(mark_backup)(url, location, error is None)
    return location, None if error else state.result(), error


def _failover(url: str, cat: Catalog, service: str) -> tuple[Failover | None, str | None]:
    settings = get_settings()
    try:
        standby, primary, standby_url = failover_specs(cat, service)
    except (KeyError, FailoverFailed) as exc:
        return None, f"{service}: {exc}"
    outcomes = probe_all(
        standby + primary,
        batch_size=settings.probe_batch_size,
        concurrency=settings.probe_concurrency,
    )
    state = with_store_retries(switch_to_standby)(
        url, cat, service, standby_url, outcomes[: len(standby)], outcomes[len(standby) :],
        return_state=True,
    )  # fmt: skip
    if not state.is_failed():
        return state.result(), None
    raised = state.result(raise_on_failure=False)
    done = raised.failover if isinstance(raised, FailoverFailed) else None
    return done, _error(state)


@flow(name="disaster-recovery", description="Backup, verified restore, failover; RTO and RPO.")
def disaster_recovery(
    action: Action = "drill",
    service: str | None = None,
    catalog_path: str | None = None,
    store_block: str | None = None,
    backup_block: str | None = None,
    location: str | None = None,
) -> dict[str, Any]:
    """Run one disaster-recovery action, or all of them as a drill; write reports/dr/<time>/.

    Args:
        action: backup; verify (a backup: `location`, default the newest); failover (of
            `service` to its catalog standby_url); drill (backup, verify it, then failover of
            `service` when one is named).
        service: the catalog service to fail over.
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG.
        store_block: a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
        backup_block: a BackupLocation block; default the catalog's dr.backup_folder.
        location: the backup to verify; default the newest (for a drill, the one just taken).
    """
    log = get_run_logger()
    if action == "failover" and not service:
        raise ValueError("failover needs a service")
    cat = load(catalog_path)
    url = store_url(store_block)
    started = datetime.now(UTC)
    made: BackupFile | None = None
    backup_error = verify_error = failover_error = verified_at = None
    verified: Verification | None = None
    pruned: list[str] = []

    if action in ("backup", "drill"):
        made, backup_error, pruned = _backup(url, backup_folder(backup_block, cat), cat.dr.keep)
    if action == "verify" or (action == "drill" and made is not None):
        verified_at, verified, verify_error = _verify(url, made.location if made else location)

    failover: Failover | None = None
    note = ""
    if action in ("failover", "drill") and service:
        failover, failover_error = _failover(url, cat, service)
    elif action == "drill":
        note = "Failover skipped: the drill names no service."

    newest = with_store_retries(newest_good_backup)(url)
    restore_s = verified.restore_seconds if verified else None
    measures = judge(
        restore_s,
        rpo_age(newest[1] if newest else None, time.time()),
        Objectives(cat.dr.rto.total_seconds(), cat.dr.rpo.total_seconds()),
    )
    if action != "drill":  # only a drill answers for the objectives; the others report them
        measures = [m for m in measures if m.measured_s is not None]
    verdict = drill_verdict(
        backup_error=backup_error,
        checks=verified.checks if verified else None,
        verify_error=verify_error,
        failover_error=failover_error,
        measures=measures if action == "drill" else [],
    )
    run = DrRun(
        action=action,
        started_at=started,
        verdict=verdict,
        measures=measures,
        backup=BackupTaken(made.location, made.kind, made.size_bytes, made.sha256)
        if made
        else None,
        backup_error=backup_error,
        verified=verified_at,
        checks=verified.checks if verified else [],
        verify_error=verify_error,
        restore_seconds=restore_s,
        failover=failover,
        failover_error=failover_error,
        failover_note=note,
        newest_good=newest[0] if newest else None,
        pruned=pruned,
    )
    report = dr_report(run, get_settings().reports_dir)
    if not verdict.passed:
        for reason in verdict.reasons:
            log.error("%s", reason)
        raise DisasterRecoveryFailed(f"{action} failed: " + "; ".join(verdict.reasons))
    return {
        "action": action,
        "backup": made.location if made else None,
        "verified": verified_at,
        "failover": failover.to_url if failover and failover.switched else None,
        "measures": [m.summary for m in measures],
        "newest_good": run.newest_good,
        "report": report,
    }


if __name__ == "__main__":  # `postdeploy dr <action> --local` runs it here, with JSON parameters
    print(json.dumps(disaster_recovery(**json.loads(sys.argv[1])), default=str))
