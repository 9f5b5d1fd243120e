"""`postdeploy import surveys` and `postdeploy report surveys` as an operator runs them: the
console script in a subprocess, on SQLite and PostgreSQL, judged by exit code, output, the
store and the report files."""

from __future__ import annotations

import csv
import html
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from postdeploy.store.schema import survey_response
from postdeploy.store.session import store_transaction

POSTDEPLOY = Path(sys.executable).parent / "postdeploy"
ROOT = Path(__file__).resolve().parents[2]
TYPEFORM = ROOT / "data" / "surveys" / "typeform-2026-10.csv"
TYPEFORM_MAP = ROOT / "data" / "mappings" / "typeform-survey.yaml"


def run(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDEPLOY_")}
    env |= {"POSTDEPLOY_DATABASE_URL": url, "POSTDEPLOY_REPORTS_DIR": str(tmp_path / "reports"),
            "POSTDEPLOY_CATALOG": str(ROOT / "data" / "postdeploy.yaml")}  # fmt: skip
    return subprocess.run(
        [str(POSTDEPLOY), *args], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


def rows(url: str) -> int:
    with store_transaction(url) as conn:
        return int(conn.execute(select(func.count()).select_from(survey_response)).scalar_one())


def test_wrong_columns_exit_2_name_the_missing_columns_and_import_nothing(
    store_url: str, tmp_path: Path
) -> None:
    qualtrics = ROOT / "data" / "surveys" / "qualtrics-2026-10.csv"
    done = run(tmp_path, store_url, "import", "surveys", str(qualtrics), "--mapping",
               str(TYPEFORM_MAP))  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "lacks the mapped column(s): #, Submit Date (UTC)" in done.stderr
    assert "How easy was it to get your issue solved?" in done.stderr
    assert done.stderr.rstrip().endswith("nothing imported")
    assert rows(store_url) == 0


def test_a_rerun_reports_everything_unchanged_and_stores_no_duplicate(
    store_url: str, tmp_path: Path
) -> None:
    args = ["import", "surveys", str(TYPEFORM), "--mapping", str(TYPEFORM_MAP),
            "--quarantine", str(tmp_path / "rejected.csv")]  # fmt: skip
    first, second = run(tmp_path, store_url, *args), run(tmp_path, store_url, *args)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert (
        first.stdout == "read 26, inserted 23, updated 0, unchanged 0, rejected 2, duplicates 1\n"
    )
    assert (
        second.stdout == "read 26, inserted 0, updated 0, unchanged 23, rejected 2, duplicates 1\n"
    )
    assert f"rejected rows with the reason: {tmp_path / 'rejected.csv'}" in first.stderr
    assert rows(store_url) == 23


def test_multi_line_utf8_comments_survive_into_the_store_and_the_report(
    store_url: str, tmp_path: Path
) -> None:
    comment = (
        'Die Anmeldung ist „langsam“,\r\nund <b>das</b> seit Tagen.\n\nログインが遅い 😡, "bitte"'
    )
    export = tmp_path / "answers.csv"
    with export.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(
            [["#", "Submit Date (UTC)", "How likely are you to recommend Acme Shop to a friend or "
              "colleague?", "How satisfied are you with our support?", "How easy was it to get "
              "your issue solved?", "What is the main reason for your score?", "plan", "service"],
             ["m1", "2026-10-03 10:00:00", "2", "1", "1", comment, "pro", "shop-web"]]
        )  # fmt: skip
    done = run(tmp_path, store_url, "import", "surveys", str(export), "--mapping",
               str(TYPEFORM_MAP))  # fmt: skip
    assert done.stdout == "read 1, inserted 1, updated 0, unchanged 0, rejected 0\n", done.stderr
    with store_transaction(store_url) as conn:
        stored = conn.execute(select(survey_response.c.comment)).scalar_one()
    assert stored.encode("utf-8") == comment.encode("utf-8")

    report = run(tmp_path, store_url, "report", "surveys", "--period", "2026-10")
    assert report.returncode == 0, report.stderr
    page = (tmp_path / "reports" / "surveys" / "2026-10" / "index.html").read_bytes().decode()
    assert html.escape(comment, quote=False) in page.replace("&#34;", '"')
    assert "<b>das</b>" not in page


def test_the_report_prints_scores_with_intervals_and_a_period_without_answers_no_data(
    store_url: str, tmp_path: Path
) -> None:
    imported = run(tmp_path, store_url, "import", "surveys", str(TYPEFORM), "--mapping",
                   str(TYPEFORM_MAP), "--quarantine", str(tmp_path / "rejected.csv"))  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    done = run(tmp_path, store_url, "report", "surveys", "--period", "2026-10", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert (found["period"], found["responses"], found["nps"]["n"]) == ("2026-10", 23, 23)
    assert found["nps"]["low"] < found["nps"]["value"] < found["nps"]["high"]
    assert found["previous"]["nps"] == {"value": None, "low": None, "high": None, "n": 0,
                                        "unit": "points", "note": "no data"}  # fmt: skip
    assert set(found["segments"]) == {"pro", "free", "business"}
    folder = tmp_path / "reports" / "surveys" / "2026-10"
    assert {p.name for p in folder.iterdir()} == {"index.html", "summary.md", "scores.csv"}

    empty = run(tmp_path, store_url, "report", "surveys", "--period", "2026-09")
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.splitlines()[:4] == [
        "surveys 2026-09: 0 responses", "  NPS   no data", "  CSAT  no data", "  CES   no data",
    ]  # fmt: skip
    page = (tmp_path / "reports" / "surveys" / "2026-09" / "index.html").read_text()
    assert "No survey responses in 2026-09: no data." in page and "nan" not in page.lower()


def test_a_bad_period_or_mapping_exits_2_with_the_reason(store_url: str, tmp_path: Path) -> None:
    bad = run(tmp_path, store_url, "report", "surveys", "--period", "October")
    assert bad.returncode == 2 and "'October' is not a period" in bad.stderr
    broken = tmp_path / "map.yaml"
    broken.write_text("source: x\nfields:\n  external_id: id\n  submitted_at: at\n  nps:\n"
                      "    column: nps\n    values: {top: 12}\n")  # fmt: skip
    done = run(tmp_path, store_url, "import", "surveys", str(TYPEFORM), "--mapping", str(broken))
    assert done.returncode == 2
    assert f"invalid mapping {broken}" in done.stderr and "'top': 12 is not 0 to 10" in done.stderr
