"""`postdeploy incident ...` as an operator runs it: every change is an event, and the public
status page follows at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import select

from postdeploy.store.incidents import open_or_update_incident
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import incident_event
from postdeploy.store.session import store_transaction

CLI = str(Path(sys.executable).parent / "postdeploy")


def run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDEPLOY_")}
    env |= {
        "POSTDEPLOY_DATABASE_URL": f"sqlite:///{tmp / 'store.db'}",
        "POSTDEPLOY_CATALOG": str(tmp / "catalog.yaml"),
        "POSTDEPLOY_REPORTS_DIR": str(tmp / "reports"),
        "COLUMNS": "200",
    }
    return subprocess.run([CLI, "incident", *args], env=env, capture_output=True, text=True)


def test_an_operator_updates_and_resolves_an_incident_and_the_status_page_follows(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump({"services": [{"name": "web"}]}))
    with store_transaction(url) as conn:
        opened = open_or_update_incident(
            conn, service="web", severity="high", title="Checkout errors", key="k1",
            now=datetime.now(UTC),
        )  # fmt: skip

    update = run(tmp_path, "update", str(opened.id), "--message", "We are on it.",
                 "--state", "identified", "--by", "alice")  # fmt: skip
    assert update.returncode == 0, update.stderr
    status = json.loads((tmp_path / "reports" / "status" / "status.json").read_text())
    assert "We are on it." in json.dumps(status)

    listed = run(tmp_path, "list")
    assert "Checkout errors" in listed.stdout

    resolved = run(tmp_path, "resolve", str(opened.id), "--by", "alice")
    assert resolved.returncode == 0, resolved.stderr
    with store_transaction(url) as conn:
        kinds = [r.kind for r in conn.execute(select(incident_event.c.kind))]
    assert "communication" in kinds and len(kinds) >= 3

    missing = run(tmp_path, "update", "999", "--message", "x")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
