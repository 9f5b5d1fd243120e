"""Survey imports on SQLite and PostgreSQL: the example exports through their mappings,
validation and quarantine, one response per id, idempotent re-imports, comments kept byte for
byte, and reads per period, service and segment."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from postdeploy.adapters.importers.exports import MissingColumns
from postdeploy.adapters.importers.mapping import MappingError, load_survey_mapping
from postdeploy.adapters.importers.surveys import SurveyImport, import_survey_file
from postdeploy.store.schema import survey_response
from postdeploy.store.session import store_transaction
from postdeploy.store.surveys import responses_between

ROOT = Path(__file__).resolve().parents[2]
DATA, MAPPINGS = ROOT / "data" / "surveys", ROOT / "data" / "mappings"
MAPPING = """\
source: web
timestamp_format: "%Y-%m-%d %H:%M:%S"
fields:
  external_id: id
  submitted_at: at
  nps: nps
  csat: {column: csat, values: {Very satisfied: 5, Satisfied: 4, Unsatisfied: 2}}
  ces: ces
  comment: comment
  segment: plan
"""
HEADER = ["id", "at", "nps", "csat", "ces", "comment", "plan"]
OCTOBER = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([header, *rows])
    return path


def mapping(tmp_path: Path, text: str = MAPPING) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def stored(url: str) -> dict[str, object]:
    with store_transaction(url) as conn:
        return {r.external_id: r for r in conn.execute(select(survey_response))}


def count(url: str) -> int:
    with store_transaction(url) as conn:
        return int(conn.execute(select(func.count()).select_from(survey_response)).scalar_one())


def counts(done: SurveyImport) -> tuple[int, ...]:
    return (done.read, done.inserted, done.updated, done.unchanged, done.rejected, done.duplicates)


@pytest.mark.parametrize(
    "export,mapping_file,expected",
    [
        ("typeform-2026-10.csv", "typeform-survey.yaml", (26, 23, 0, 0, 2, 1)),
        ("qualtrics-2026-10.csv", "qualtrics-survey.yaml", (11, 10, 0, 0, 1, 0)),
        ("delighted-2026-10.json", "delighted-survey.yaml", (9, 8, 0, 0, 1, 0)),
    ],
)
def test_the_example_exports_import_once_and_a_rerun_changes_nothing(
    store_url: str, tmp_path: Path, export: str, mapping_file: str, expected: tuple[int, ...]
) -> None:
    q = tmp_path / "rejected"
    first = import_survey_file(store_url, DATA / export, MAPPINGS / mapping_file, quarantine=q)
    assert counts(first) == expected
    again = import_survey_file(store_url, DATA / export, MAPPINGS / mapping_file, quarantine=q)
    read, inserted, _, _, rejected, duplicates = expected
    assert counts(again) == (read, 0, 0, inserted, rejected, duplicates)
    assert count(store_url) == inserted


def test_qualtrics_labels_become_scores_and_berlin_times_become_utc(
    store_url: str, tmp_path: Path
) -> None:
    export = DATA / "qualtrics-2026-10.csv"
    import_survey_file(store_url, export, MAPPINGS / "qualtrics-survey.yaml",
                       quarantine=tmp_path / "q.csv")  # fmt: skip
    r = stored(store_url)["R_2b3C4d"]
    assert (r.nps, r.csat, r.ces, r.segment, r.service) == (2, 1, 2, "enterprise", "shop-web")
    # 2026-10-03 11:01:10 in Berlin (CEST, UTC+2); the two rows after the header are not answers
    assert r.submitted_at == datetime(2026, 10, 3, 9, 1, 10, tzinfo=UTC)
    rejected = list(csv.reader((tmp_path / "q.csv").open(encoding="utf-8")))
    assert rejected[1][:2] == ["csat (Q2): 'Very bad' is not a score 1 to 5", "9"]


def test_bad_rows_are_quarantined_with_the_reason_and_the_good_ones_imported(
    store_url: str, tmp_path: Path
) -> None:
    rows = [
        ["a1", "2026-10-01 10:00:00", "9", "Very satisfied", "6", "fine", "pro"],
        ["a2", "2026-10-01 10:00:00", "11", "", "", "off the scale", "pro"],
        ["a3", "2026-10-01 10:00:00", "", "", "", "no score at all", "pro"],
        ["a4", "yesterday", "7", "", "", "", "pro"],
        ["a5", "2026-10-01 10:00:00", "8", "Meh", "", "", "pro"],
        ["a6", "2026-10-01 10:00:00", "8"],
        ["", "2026-10-01 10:00:00", "8", "", "", "", "pro"],
        ["a7", "2026-10-01 10:00:00", "9.0", "satisfied", "0", "", "free"],
        ["a8", "2026-10-02 10:00:00", "10", "", "", "", ""],
    ]
    q = tmp_path / "rejected.csv"
    done = import_survey_file(store_url, write(tmp_path / "s.csv", rows), mapping(tmp_path),
                              quarantine=q)  # fmt: skip
    assert counts(done) == (9, 2, 0, 0, 7, 0)
    reasons = {r[2]: r[0] for r in list(csv.reader(q.open(encoding="utf-8")))[1:]}
    assert reasons == {
        "a2": "nps (nps): 11 is not 0 to 10",
        "a3": "no score: nps (nps), csat (csat), ces (ces) unanswered",
        "a4": "submitted_at (at): 'yesterday' is not a time in format '%Y-%m-%d %H:%M:%S'",
        "a5": "csat (csat): 'Meh' is not a score 1 to 5",
        "a6": "has 3 fields, the header 7",
        "": "external_id (id) is empty",
        "a7": "ces (ces): 0 is not 1 to 7",
    }
    answers = stored(store_url)
    assert sorted(answers) == ["a1", "a8"]
    assert (answers["a1"].csat, answers["a8"].segment) == (5, None)


def test_one_response_per_id_the_latest_submitted_wins_and_the_others_are_kept_aside(
    store_url: str, tmp_path: Path
) -> None:
    rows = [
        ["d1", "2026-10-05 10:00:00", "3", "", "", "first answer", "pro"],
        ["d1", "2026-10-06 10:00:00", "8", "", "", "edited answer", "pro"],
        ["d1", "2026-10-04 10:00:00", "0", "", "", "an older copy", "pro"],
        ["d2", "2026-10-05 10:00:00", "9", "", "", "same", "pro"],
        ["d2", "2026-10-05 10:00:00", "9", "", "", "same", "pro"],
    ]
    q = tmp_path / "rejected.csv"
    done = import_survey_file(store_url, write(tmp_path / "s.csv", rows), mapping(tmp_path),
                              quarantine=q)  # fmt: skip
    assert counts(done) == (5, 2, 0, 0, 0, 3)
    answers = stored(store_url)
    assert (answers["d1"].nps, answers["d1"].comment) == (8, "edited answer")
    aside = [(r[0], r[1]) for r in list(csv.reader(q.open(encoding="utf-8")))[1:]]
    assert sorted(aside) == [
        ("duplicate external_id 'd1': row 2 was submitted later", "3"),
        ("duplicate external_id 'd1': superseded by row 2", "1"),
        ("duplicate external_id 'd2': superseded by row 5", "4"),
    ]


def test_a_newer_answer_updates_and_an_older_export_does_not_overwrite_it(
    store_url: str, tmp_path: Path
) -> None:
    m = mapping(tmp_path)
    q = tmp_path / "q.csv"
    old = [["u1", "2026-10-05 10:00:00", "3", "", "", "slow", "pro"],
           ["u2", "2026-10-05 10:00:00", "9", "", "", "", "pro"]]  # fmt: skip
    new = [["u1", "2026-10-07 10:00:00", "9", "", "", "fixed now", "pro"]]
    import_survey_file(store_url, write(tmp_path / "old.csv", old), m, quarantine=q)
    done = import_survey_file(store_url, write(tmp_path / "new.csv", new), m, quarantine=q)
    assert counts(done) == (1, 0, 1, 0, 0, 0)
    done = import_survey_file(store_url, tmp_path / "old.csv", m, quarantine=q)
    assert counts(done) == (2, 0, 0, 2, 0, 0)
    assert stored(store_url)["u1"].comment == "fixed now"


def test_comments_survive_byte_for_byte(store_url: str, tmp_path: Path) -> None:
    comments = {
        "c1": 'Zeile eins,\r\nZeile zwei: „Anführungszeichen“ und "quotes"',
        "c2": "ログインが遅い。\nサポートの返信も遅い。😡👍🏽",
        "c3": "  leading and trailing spaces  \n\n\tand a tab",
        "c4": "登录很慢，客服也不回复。",
        "c5": "<script>alert('x')</script> & ; , \" '",
    }
    rows = [[k, "2026-10-01 10:00:00", "5", "", "", v, "pro"] for k, v in comments.items()]
    export = write(tmp_path / "s.csv", rows)
    assert b"Zeile eins,\r\nZeile zwei" in export.read_bytes()  # a quoted multi-line cell
    import_survey_file(store_url, export, mapping(tmp_path), quarantine=tmp_path / "q.csv")
    answers = stored(store_url)
    for key, text in comments.items():
        assert answers[key].comment.encode() == text.encode()


def test_json_lines_with_nested_fields_and_missing_answers(store_url: str, tmp_path: Path) -> None:
    text = """\
source: app
format: jsonl
fields:
  external_id: id
  submitted_at: {column: meta.at, format: epoch_ms}
  nps: answers.nps
  csat: answers.csat
  comment: answers.text
  segment: meta.plan
"""
    lines = [
        {"id": 1, "meta": {"at": 1791000000000, "plan": "pro"}, "answers": {"nps": 10}},
        {"id": 2, "meta": {"at": 1791000000000}, "answers": {"csat": 2, "text": "zu langsam"}},
        {"id": 3, "meta": {"at": 1791000000000}, "answers": {}},
    ]
    export = tmp_path / "s.jsonl"
    export.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    q = tmp_path / "q.jsonl"
    done = import_survey_file(store_url, export, mapping(tmp_path, text), quarantine=q)
    assert counts(done) == (3, 2, 0, 0, 1, 0)
    assert json.loads(q.read_text())["reason"] == (
        "no score: nps (answers.nps), csat (answers.csat) unanswered"
    )
    answers = stored(store_url)
    assert (answers["1"].nps, answers["1"].segment) == (10, "pro")
    assert (answers["2"].csat, answers["2"].comment) == (2, "zu langsam")


def test_an_export_with_wrong_columns_names_them_and_imports_nothing(
    store_url: str, tmp_path: Path
) -> None:
    rows = [["w1", "2026-10-01 10:00:00", "9", "", "", "", "pro"]]
    export = write(tmp_path / "s.csv", rows, ["id", "when", "score", "csat", "ces", "text", "plan"])
    with pytest.raises(MissingColumns, match="lacks the mapped column.*: at, nps, comment$"):
        import_survey_file(store_url, export, mapping(tmp_path), quarantine=tmp_path / "q.csv")
    assert count(store_url) == 0


def test_a_mapping_without_a_score_or_with_an_off_scale_value_is_refused(tmp_path: Path) -> None:
    no_score = MAPPING.replace("  nps: nps\n", "").replace("  ces: ces\n", "")
    no_score = no_score.replace(
        "  csat: {column: csat, values: {Very satisfied: 5, Satisfied: 4, Unsatisfied: 2}}\n", ""
    )
    with pytest.raises(MappingError, match="map at least one of nps, csat and ces"):
        load_survey_mapping(mapping(tmp_path, no_score))
    with pytest.raises(MappingError, match=r"fields.csat: .*'Very satisfied': 6 is not 1 to 5"):
        load_survey_mapping(
            mapping(tmp_path, MAPPING.replace("Very satisfied: 5", "Very satisfied: 6"))
        )


def test_reads_take_a_period_end_exclusive_and_optionally_a_service_or_segment(
    store_url: str, tmp_path: Path
) -> None:
    import_survey_file(store_url, DATA / "typeform-2026-10.csv",
                       MAPPINGS / "typeform-survey.yaml", quarantine=tmp_path / "q")  # fmt: skip
    start, end = OCTOBER
    with store_transaction(store_url) as conn:
        october = responses_between(conn, start=start, end=end)
        web = responses_between(conn, start=start, end=end, service="shop-web")
        business = responses_between(conn, start=start, end=end, segment="business")
        first_day = responses_between(conn, start=start, end=datetime(2026, 10, 2, tzinfo=UTC))
        november = responses_between(conn, start=end, end=datetime(2026, 12, 1, tzinfo=UTC))
    assert len(october) == 23 and november == []
    assert october == sorted(october, key=lambda r: r.submitted_at)
    assert {r.service for r in web} == {"shop-web"} and 0 < len(web) < 23
    assert {r.segment for r in business} == {"business"} and len(business) == 6
    assert [r.external_id for r in first_day] == ["tf01", "tf02"]
    assert october[-1].submitted_at == datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)
