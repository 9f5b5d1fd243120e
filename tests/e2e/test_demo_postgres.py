"""The demo on PostgreSQL (issue 7, part 2): `postdeploy demo` with POSTDEPLOY_DATABASE_URL
on a fresh PostgreSQL database passes and writes the same reports as on SQLite. A file of its
own so that the test runner can run it beside the SQLite demo."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import create_pg_database, drop_pg_database
from tests.e2e.test_up_and_demo import CLI, ROOT, clean_env, expected_reports, report_files


def test_the_demo_on_postgresql_passes_and_writes_the_same_reports(
    tmp_path: Path, pg_admin_url: str
) -> None:
    store = create_pg_database(pg_admin_url)
    try:
        env = clean_env(tmp_path, POSTDEPLOY_CATALOG=str(ROOT / "data" / "postdeploy.yaml"))
        env["POSTDEPLOY_DATABASE_URL"] = store
        done = subprocess.run(
            [CLI, "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
        )
        from sqlalchemy import create_engine, text

        engine = create_engine(store)
        with engine.connect() as conn:
            kpis = conn.execute(text("SELECT count(*) FROM kpi_snapshot")).scalar_one()
            results = conn.execute(text("SELECT count(*) FROM check_result")).scalar_one()
        engine.dispose()
    finally:
        drop_pg_database(pg_admin_url, store)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert re.search(r"^monthly-maintenance\s+Completed", done.stdout, re.M), done.stdout
    missing = expected_reports() - report_files(tmp_path / "reports")
    assert not missing, missing
    assert kpis > 0 and results > 8000  # the store that was used is the PostgreSQL one
    assert not (tmp_path / "var" / "demo" / "demo.db").exists()
