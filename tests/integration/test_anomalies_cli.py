"""`postdeploy anomalies INPUT --output OUT` as a user runs it, on CSV files written here."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from postdeploy.commands.anomalies import anomalies

app = typer.Typer()
app.command()(anomalies)


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def series_csv(path: Path, values: list[float]) -> Path:
    lines = ["timestamp,value"]
    lines += [f"2025-01-01 {i // 60:02d}:{i % 60:02d}:00,{v}" for i, v in enumerate(values)]
    return write(path, "\n".join(lines) + "\n")


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_input_row_gets_one_output_row_with_score_and_alert(tmp_path: Path) -> None:
    values = [float(v) for v in np.random.default_rng(0).normal(50, 2, 600)]
    values[450] += 40
    source = series_csv(tmp_path / "in.csv", values)
    code, out, _ = invoke(source, "--output", tmp_path / "out" / "scored.csv")
    assert code == 0
    rows = read(tmp_path / "out" / "scored.csv")
    assert list(rows[0]) == ["timestamp", "value", "score", "alert"]
    assert [r["timestamp"] for r in rows] == [r["timestamp"] for r in read(source)]
    assert [float(r["value"]) for r in rows] == values
    assert all(0.0 <= float(r["score"]) <= 1.0 and r["alert"] in {"0", "1"} for r in rows)
    assert rows[450]["alert"] == "1"
    assert "600 rows scored" in out


def test_extra_columns_and_missing_values_are_accepted(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "host,value,timestamp\na,1.5,t1\na,,t2\na,nan,t3\na,2,t4\n")
    code, _, _ = invoke(source, "--output", tmp_path / "out.csv")
    assert code == 0
    rows = read(tmp_path / "out.csv")
    assert [(r["timestamp"], r["value"]) for r in rows] == [
        ("t1", "1.5"),
        ("t2", ""),
        ("t3", "nan"),
        ("t4", "2"),
    ]
    assert [float(r["score"]) for r in rows[1:3]] == [0.0, 0.0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("", "empty file"),
        ("timestamp,value\n", "no data rows"),
        ("time,value\nt1,1\n", "missing column(s) timestamp"),
        ("timestamp,metric\nt1,1\n", "missing column(s) value"),
        ("timestamp,value\nt1,1\nt2,fast\nt3,2\n", "row 3: column value: 'fast' is not a number"),
        ("timestamp,value\nt1,1\nt2\n", "row 3: 1 fields"),
    ],
    ids=["missing file", "empty", "header only", "no timestamp", "no value", "text", "short row"],
)
def test_bad_input_exits_2_naming_the_problem_and_writes_nothing(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    source = tmp_path / "in.csv"
    if content is not None:
        write(source, content)
    target = tmp_path / "out.csv"
    code, out, err = invoke(source, "--output", target)
    assert code == 2
    assert str(source) in err and expected in err
    assert not target.exists()
    assert list(tmp_path.iterdir()) == ([source] if content is not None else [])


def test_an_existing_output_is_replaced_whole(tmp_path: Path) -> None:
    target = write(tmp_path / "out.csv", "old\n" * 10_000)
    source = series_csv(tmp_path / "in.csv", [1.0, 2.0, math.pi])
    code, _, _ = invoke(source, "--output", target)
    assert code == 0
    assert [r["value"] for r in read(target)] == ["1.0", "2.0", str(math.pi)]


def test_the_output_option_is_required(tmp_path: Path) -> None:
    source = series_csv(tmp_path / "in.csv", [1.0, 2.0])
    code, _, err = invoke(source)
    assert code == 2
    assert "--output" in err
