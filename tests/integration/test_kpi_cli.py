"""`postdeploy kpi` as a user runs it (a real subprocess) on a store with generated data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from postdeploy.store.kpis import compute_kpis
from postdeploy.store.migrate import upgrade
from postdeploy.store.session import store_transaction
from tests.integration.test_kpi_store import CATALOG, NOW, OCTOBER, generate, load


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("kpicli")
    url = f"sqlite:///{folder / 'store.db'}"
    upgrade(url)
    load(url, generate())
    catalog = folder / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(CATALOG.model_dump(mode="json", exclude_defaults=True)))
    return url, catalog


def kpi(store: tuple[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    url, catalog = store
    env = os.environ | {"POSTDEPLOY_REPORTS_DIR": str(catalog.parent / "reports")}
    return subprocess.run(
        [sys.executable, "-m", "postdeploy.cli", "kpi", "--url", url, "--catalog", str(catalog),
         *args],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip


def test_json_for_one_service_matches_the_store(store: tuple[str, Path]) -> None:
    done = kpi(store, "--period", "2026-10", "--service", "api", "--json", "--no-gate")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["period"] == "2026-10" and out["timezone"] == "Europe/Berlin"
    assert {k["scope"] for k in out["kpis"]} == {"api"}
    with store_transaction(store[0]) as conn:
        expected = compute_kpis(conn, CATALOG, OCTOBER, now=NOW)
    got = {k["metric"]: k for k in out["kpis"]}
    for k in expected.kpis:
        if k.scope == "api":
            assert got[k.metric]["value"] == pytest.approx(k.value.value), k.metric
            assert got[k.metric]["n"] == k.value.n
    assert got["change_fail_rate"]["tier"] in {"elite", "high", "medium", "low"}
    assert got["availability"]["previous"] is not None  # September, for the trend


def test_human_output_and_report_files(store: tuple[str, Path]) -> None:
    done = kpi(store, "--period", "2026-10", "--no-gate", "--report")
    assert done.returncode == 0, done.stderr
    assert "KPI report 2026-10 (monthly)" in done.stdout
    assert "[overall]" in done.stdout and "[web]" in done.stdout
    folder = store[1].parent / "reports" / "monthly" / "2026-10"
    assert (folder / "index.html").exists() and (folder / "kpis.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "October"], "is not a period"),
        (["--period", "2026-13"], "is not a period"),
        (["--period", "2026-10", "--service", "nope"], "unknown service 'nope'"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(
    store: tuple[str, Path], args: list[str], message: str
) -> None:
    done = kpi(store, *args, "--no-gate")
    assert done.returncode == 2
    assert message in done.stderr


def test_an_unreachable_store_exits_2_without_a_traceback(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(CATALOG.model_dump(mode="json", exclude_defaults=True)))
    url = "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"
    done = kpi((url, catalog), "--period", "2026-10", "--no-gate")
    assert done.returncode == 2
    assert "store unreachable" in done.stderr and "secret" not in done.stderr
    assert "Traceback" not in done.stderr
