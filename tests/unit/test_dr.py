"""Disaster-recovery rules: restored tables, RTO and RPO, the drill's verdict, pruning."""

from __future__ import annotations

from postdeploy.domain.checks import ProbeSpec
from postdeploy.domain.dr import (
    BackupEntry,
    Failover,
    Objectives,
    Probe,
    TableDigest,
    compare_tables,
    drill_verdict,
    duration,
    judge,
    rebase,
    rpo_age,
    to_prune,
)

HOUR = 3600.0
OBJ = Objectives(rto_s=HOUR, rpo_s=24 * HOUR)


def test_a_restore_with_equal_counts_and_checksums_passes_every_table() -> None:
    snap = {"service": TableDigest(3, "ab"), "ticket": TableDigest(0, "00")}
    checks = compare_tables(snap, dict(snap))
    assert [c.ok for c in checks] == [True, True]


def test_a_restore_names_the_table_whose_rows_or_content_differ() -> None:
    snap = {
        "service": TableDigest(3, "ab"),
        "ticket": TableDigest(2, "cd"),
        "alert": TableDigest(1, "x"),
    }
    restored = {"service": TableDigest(2, "ab"), "ticket": TableDigest(2, "ce")}
    problems = {c.table: c.problem for c in compare_tables(snap, restored) if not c.ok}
    assert problems == {
        "alert": "missing from the restore",
        "service": "2 rows restored, 3 expected",
        "ticket": "content checksum differs",
    }


def test_a_table_only_in_the_restore_fails_the_check() -> None:
    (check,) = compare_tables({}, {"extra": TableDigest(0, "0")})
    assert not check.ok and check.problem == "not in the snapshot"


def test_rpo_is_the_age_of_the_newest_good_backup_and_unknown_without_one() -> None:
    assert rpo_age(1000.0, 4600.0) == 3600.0
    assert rpo_age(None, 4600.0) is None


def test_a_restore_within_the_rto_and_a_fresh_backup_meet_both_objectives() -> None:
    rto, rpo = judge(120.0, 2 * HOUR, OBJ)
    assert rto.met and rpo.met
    assert rto.summary == "RTO 2m 00s against 1h 00m: met"


def test_a_slow_restore_misses_the_rto_and_no_good_backup_misses_the_rpo() -> None:
    rto, rpo = judge(2 * HOUR, None, OBJ)
    assert not rto.met and not rpo.met
    assert rpo.summary == "RPO not measured against 1d 0h: MISSED"


def test_a_drill_passes_only_when_every_step_ran_clean_and_objectives_are_met() -> None:
    ok = compare_tables({"t": TableDigest(1, "a")}, {"t": TableDigest(1, "a")})
    measures = judge(1.0, 1.0, OBJ)
    passed = drill_verdict(
        backup_error=None, checks=ok, verify_error=None, failover_error=None, measures=measures
    )
    assert passed.passed and passed.reasons == []


def test_a_corrupt_backup_and_a_dead_standby_fail_the_drill_with_every_reason() -> None:
    verdict = drill_verdict(
        backup_error=None,
        checks=None,
        verify_error="sha256 differs",
        failover_error="standby unhealthy",
        measures=judge(None, 30 * HOUR, OBJ),
    )
    assert not verdict.passed
    assert verdict.reasons == [
        "verify failed: sha256 differs",
        "failover failed: standby unhealthy",
        "RTO not measured against 1h 00m: MISSED",
        "RPO 1d 6h against 1d 0h: MISSED",
    ]


def test_pruning_keeps_the_newest_n_and_always_the_newest_good_backup() -> None:
    backups = [
        BackupEntry("b1", 1, "bad"),
        BackupEntry("g2", 2, "good"),
        BackupEntry("b3", 3, "bad"),
        BackupEntry("u4", 4, "unverified"),
        BackupEntry("p0", 0, "pruned"),
    ]
    assert to_prune(backups, keep=2) == ["b1"]
    assert to_prune(backups, keep=1) == ["b1", "b3"]
    assert to_prune(backups, keep=10) == []


def test_a_failover_is_refused_when_a_standby_check_fails_or_there_are_none() -> None:
    healthy = Failover("shop", "http://a", "http://b", True, (Probe("health", True, "HTTP 200"),))
    sick = Failover("shop", "http://a", "http://b", False, (Probe("health", False, "HTTP 503"),))
    blind = Failover("shop", "http://a", "http://b", False, ())
    assert healthy.error is None
    assert sick.error == "standby http://b unhealthy (health: HTTP 503)"
    assert blind.error == "standby http://b has no checks to prove it healthy"


def test_durations_read_like_a_runbook() -> None:
    got = [duration(s) for s in (0.0123, 3.25, 245, 7800, 97200)]
    assert got == ["12ms", "3.2s", "4m 05s", "2h 10m", "1d 3h"]


def test_a_standby_is_probed_on_the_same_paths_as_its_primary() -> None:
    def moved(url: str) -> str:
        spec = ProbeSpec("shop", "health", url)
        return rebase(spec, "http://shop:80", "http://standby:9000/").url

    assert moved("http://shop:80/healthz?deep=1") == "http://standby:9000/healthz?deep=1"
    assert moved("http://shop:80") == "http://standby:9000/"
    assert moved("/ready") == "http://standby:9000/ready"
    assert moved("http://shop:8080/healthz") == "http://shop:8080/healthz"
    assert moved("https://status.example.com/ok") == "https://status.example.com/ok"
