"""`postdeploy logs templates` and the log readers, on log files the tests write.

The command group is mounted as `logs` under a parent app, as postdeploy.cli registers it,
and run in-process; each test judges what an operator gets: exit code, stderr, the CSV.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from postdeploy.adapters.logs import (
    LogInputError,
    format_to_regex,
    json_parser,
    parse_json_fields,
    read_records,
    regex_parser,
)
from postdeploy.commands.logs import app as logs_app

cli = typer.Typer()
cli.add_typer(logs_app, name="logs")
PATTERN = r"(?P<timestamp>\S+ \S+) (?P<level>[A-Z]+) (?P<component>\w+): (?P<message>.*)"
APP_LOG = """\
2024-05-01 10:00:01 INFO api: request 4411 served in 12 ms
2024-05-01 10:00:02 INFO api: request 4412 served in 9 ms
2024-05-01 10:00:03 ERROR db: connection to 10.0.0.7:5432 refused
this line has no header
2024-05-01 10:00:04 ERROR db: connection to 10.0.0.9:5432 refused
2024-05-01 10:00:05 INFO api: request 4413 served in 30 ms
"""
PATTERN_LAYOUT = "<Date> <Time> <Level> <Component>: <Content>"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["logs", "templates", *args])
    return result.exit_code, result.stderr


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def test_templates_writes_one_row_per_line_and_counts_the_unparsed_line(tmp_path: Path) -> None:
    log = write(tmp_path / "app.log", APP_LOG)
    code, err = run(str(log), "--pattern", PATTERN, "--output", str(tmp_path / "out.csv"))
    assert code == 0, err
    out = rows(tmp_path / "out.csv")
    assert list(out[0]) == ["line_no", "template_id", "template", "file"]
    assert [r["line_no"] for r in out] == ["1", "2", "3", "4", "5", "6"]
    assert {r["template"] for r in out} == {
        "request <*> served in <*>",
        "connection to <*> refused",
        "unparsed",
    }
    assert out[3]["template_id"] == "unparsed"
    assert out[0]["template_id"] == out[1]["template_id"] == out[5]["template_id"]
    assert out[2]["template_id"] == out[4]["template_id"] != out[0]["template_id"]
    assert "lines 6, parsed 5, unparsed 1, templates 2" in err


def test_a_logparser_format_is_an_alternative_to_a_pattern(tmp_path: Path) -> None:
    log = write(tmp_path / "app.log", APP_LOG)
    code, err = run(str(log), "--format", PATTERN_LAYOUT, "-o", str(tmp_path / "out.csv"))
    assert code == 0, err
    assert rows(tmp_path / "out.csv")[2]["template"] == "connection to <*> refused"
    assert "unparsed 1" in err


def test_without_a_pattern_the_whole_line_is_the_message(tmp_path: Path) -> None:
    log = write(tmp_path / "plain.log", "disk sda full\ndisk sdb full\n")
    code, err = run(str(log), "-o", str(tmp_path / "out.csv"))
    assert code == 0, err
    assert [r["template"] for r in rows(tmp_path / "out.csv")] == ["disk sda full", "disk sdb full"]


def test_non_utf8_and_binary_bytes_do_not_stop_the_review(tmp_path: Path) -> None:
    log = write(
        tmp_path / "mixed.log",
        b"job 1 started\n\xff\xfe\x00\x9c garbage \x00\x01\n"
        b"caf\xe9 opened on port 80\njob 2 started\n",
    )
    code, err = run(str(log), "-o", str(tmp_path / "out.csv"))
    assert code == 0, err
    out = rows(tmp_path / "out.csv")
    assert len(out) == 4
    assert out[0]["template_id"] == out[3]["template_id"]
    assert "\ufffd" in out[2]["template"]


def test_json_lines_with_custom_field_names_and_a_broken_line(tmp_path: Path) -> None:
    lines = [
        {"ts": "2024-05-01T10:00:00Z", "lvl": "error", "msg": "payment 991 declined", "svc": "pay"},
        {"ts": "2024-05-01T10:00:01Z", "lvl": "error", "msg": "payment 992 declined", "svc": "pay"},
        {"ts": "2024-05-01T10:00:02Z", "lvl": "info", "text": "no msg key here"},
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\n{not json\n"
    log = write(tmp_path / "app.jsonl", text)
    spec = "message=msg,level=lvl,timestamp=ts"
    code, err = run(str(log), "--json-fields", spec, "-o", str(tmp_path / "out.csv"))
    assert code == 0, err
    out = rows(tmp_path / "out.csv")
    assert [r["template"] for r in out] == [
        "payment <*> declined",
        "payment <*> declined",
        "unparsed",
        "unparsed",
    ]
    assert "unparsed 2" in err
    records = list(read_records([log], json_parser(parse_json_fields(spec))))
    assert (records[0].timestamp, records[0].level, records[0].fields) == (
        "2024-05-01T10:00:00Z",
        "error",
        {"svc": "pay"},
    )


def test_a_glob_reads_every_matching_file_with_line_numbers_per_file(tmp_path: Path) -> None:
    write(tmp_path / "a.log", "worker 1 ready\nworker 2 ready\n")
    write(tmp_path / "b.log", "worker 3 ready\n")
    with gzip.open(tmp_path / "c.log.gz", "wb") as handle:
        handle.write(b"worker 4 ready\n")
    write(tmp_path / "notes.txt", "not a log\n")
    code, err = run(str(tmp_path / "*.log*"), "-o", str(tmp_path / "out" / "t.csv"))
    assert code == 0, err
    out = rows(tmp_path / "out" / "t.csv")
    assert [(Path(r["file"]).name, r["line_no"]) for r in out] == [
        ("a.log", "1"),
        ("a.log", "2"),
        ("b.log", "1"),
        ("c.log.gz", "1"),
    ]
    assert {r["template"] for r in out} == {"worker <*> ready"}


def test_templates_with_commas_and_quotes_survive_csv_quoting(tmp_path: Path) -> None:
    log = write(tmp_path / "q.log", 'user "bob", id 7, said: "hi, there"\n')
    code, _ = run(str(log), "-o", str(tmp_path / "out.csv"))
    assert code == 0
    assert rows(tmp_path / "out.csv")[0]["template"] == 'user "bob", id <*>, said: "hi, there"'


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["missing.log"], "missing.log: no such file"),
        (["*.nothing"], "*.nothing: no file matches"),
        (["app.log", "--pattern", "(?P<message>.*"], "--pattern: invalid regular expression"),
        (["app.log", "--pattern", r"(?P<msg>.*)"], "needs a named group `message`"),
        (["app.log", "--format", "<Date> <Level>"], "no <Content> field"),
        (["app.log", "--pattern", "(?P<message>.*)", "--json"], "choose one of"),
        (["app.log", "--json-fields", "body=text"], "'body=text' is not ROLE=KEY"),
    ],
)
def test_bad_input_exits_2_and_says_what_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "app.log", APP_LOG)
    code, err = run(*args, "-o", str(tmp_path / "out.csv"))
    assert code == 2
    assert says in err
    assert "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()


def test_a_corrupt_gzip_file_exits_2_naming_the_problem(tmp_path: Path) -> None:
    log = write(tmp_path / "rotated.log.gz", b"this is not gzip data\n")
    code, err = run(str(log), "-o", str(tmp_path / "out.csv"))
    assert code == 2
    assert err.startswith("error: ") and "gzip" in err.lower()
    assert not (tmp_path / "out.csv").exists()


def test_the_output_is_replaced_whole_never_left_half_written(tmp_path: Path) -> None:
    out = write(tmp_path / "out.csv", "old content\n")
    log = write(tmp_path / "app.log", APP_LOG)
    code, _ = run(str(log), "-o", str(out))
    assert code == 0
    assert out.read_text().startswith("line_no,template_id,template,file\n")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_format_follows_logparser_notation_with_optional_groups() -> None:
    regex = format_to_regex(r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>")
    parse = regex_parser(regex, strip=True)
    line = "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown "
    assert parse(line) == (
        "Jun 14 15:16:01",
        "combo",
        "check pass; user unknown",
        {
            "Month": "Jun",
            "Date": "14",
            "Time": "15:16:01",
            "Component": "sshd(pam_unix)",
            "PID": "19939",
        },
    )
    assert parse("cupsd: no header") is None


def test_a_timestamp_field_in_the_format_is_the_records_time() -> None:
    line = "- 1117838570 2005.06.03 R02-M1 RAS KERNEL INFO cache parity error corrected"
    layout = "<Label> <Timestamp> <Date> <Node> <Type> <Component> <Level> <Content>"
    assert regex_parser(format_to_regex(layout))(line) == (
        "1117838570",
        "INFO",
        "cache parity error corrected",
        {
            "Label": "-",
            "Date": "2005.06.03",
            "Node": "R02-M1",
            "Type": "RAS",
            "Component": "KERNEL",
        },
    )


def test_a_format_naming_a_field_twice_is_refused() -> None:
    with pytest.raises(LogInputError, match="appears twice"):
        format_to_regex("<Time> <Time> <Content>")


def test_records_carry_path_line_number_and_parsed_flag(tmp_path: Path) -> None:
    log = write(tmp_path / "app.log", APP_LOG)
    records = list(read_records([log], regex_parser(format_to_regex(PATTERN_LAYOUT))))
    assert [(r.line_no, r.parsed) for r in records][2:4] == [(3, True), (4, False)]
    assert records[3].message == "this line has no header"
    assert records[2].level == "ERROR" and records[2].path == str(log)


def test_reading_is_streamed_line_by_line(tmp_path: Path) -> None:
    log = write(tmp_path / "big.log", "".join(f"tick {i}\n" for i in range(10_000)))
    records = read_records([log])
    assert iter(records) is records  # a lazy iterator, not a list
    assert next(records).message == "tick 0"
    assert sum(1 for _ in records) == 9_999
