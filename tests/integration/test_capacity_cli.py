"""`postdeploy forecast INPUT.csv` and `postdeploy capacity` as a user runs them."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from postdeploy.cli import app
from postdeploy.store.metrics import record_samples
from postdeploy.store.session import store_transaction

DAY, HOUR = 86400, 3600
T0 = 1_790_000_000 // DAY * DAY


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args], env=env)
    return result.exit_code, result.stdout, result.stderr


def strict_json(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in the JSON output")

    return json.loads(text, parse_constant=refuse)


def growth(h: int) -> float:
    """40% full, 1 point a day, with a daily swing of 5 points."""
    return 0.40 + 0.01 * h / 24 + 0.05 * math.sin(2 * math.pi * h / 24)


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in rows))
    return path


def disk_csv(tmp_path: Path, days: int = 21) -> Path:
    rows = [(str(T0 + h * HOUR), f"{growth(h):.5f}") for h in range(days * 24)]
    return write_csv(tmp_path / "disk.csv", rows)


def test_forecast_json_has_the_documented_shape_and_the_crossing(tmp_path: Path) -> None:
    code, out, err = invoke(
        "forecast", disk_csv(tmp_path), "--horizon", "30d", "--threshold", "85%",
        "--resource", "disk_used_ratio", "--json",
    )  # fmt: skip
    assert code == 0, err
    doc = strict_json(out)
    assert set(doc) == {
        "input", "service", "resource", "threshold", "urgency", "days_to_threshold",
        "days_to_threshold_upper", "crosses_at", "recommendation", "error", "forecast",
    }  # fmt: skip
    assert doc["resource"] == "disk_used_ratio" and doc["threshold"] == 0.85
    # 0.40 + 0.01/day + 0.05 at the daily peak reaches 0.85 on day 40: 19 days after day 21
    assert doc["days_to_threshold"] == pytest.approx(19.0, abs=1.0)
    assert doc["urgency"] == "soon" and doc["crosses_at"].endswith("Z")
    f = doc["forecast"]
    assert f["seasonality"] == "daily" and f["step_s"] == HOUR and f["history_points"] == 504
    assert f["backtest"]["points"] > 0 and f["backtest"]["mape_pct"] < 5
    assert len(f["points"]) == 30 * 24 and set(f["points"][0]) == {"ts", "mean", "lower", "upper"}
    assert all(p["lower"] <= p["mean"] <= p["upper"] for p in f["points"])


def test_forecast_prints_a_summary_a_person_can_read(tmp_path: Path) -> None:
    code, out, _ = invoke(
        "forecast", disk_csv(tmp_path), "--threshold", "0.85", "--resource", "disk_used_ratio"
    )
    assert code == 0
    assert "model:       Holt-Winters, additive trend and daily season (24 steps)" in out
    assert "threshold 85.0%: reached in 1" in out and "backtest:    MAPE" in out
    code, out, _ = invoke("forecast", disk_csv(tmp_path), "--horizon", "7d", "--threshold", "0.99")
    assert code == 0 and "threshold 0.99: not within horizon" in out


def test_forecast_reads_iso_times_and_treats_empty_values_as_missing(tmp_path: Path) -> None:
    rows = [(f"2026-03-{1 + h // 24:02d}T{h % 24:02d}:00:00Z", str(10 + h)) for h in range(72)]
    rows[30] = (rows[30][0], "")
    code, out, err = invoke("forecast", write_csv(tmp_path / "iso.csv", rows), "--json")
    assert code == 0, err
    doc = strict_json(out)
    assert doc["threshold"] is None and doc["urgency"] == "no threshold"
    assert doc["forecast"]["history_start"] == "2026-03-01T00:00:00Z"
    assert doc["forecast"]["history_points"] == 72  # the missing hour filled in


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("time,value\n1,2\n", "missing column(s) timestamp"),
        ("timestamp,value\n1790000000,12\n1790003600,lots\n", "row 3: column value: 'lots'"),
        ("timestamp,value\nyesterday,1\n", "row 2: column timestamp: 'yesterday' is neither"),
        ("timestamp,value\n1790000000,inf\n", "row 2: column value: 'inf' is not a finite"),
        ("timestamp,value\n" + "".join(f"{T0 + h * HOUR},1.5\n" for h in range(5)),
         "not enough history (5 points at 1h steps, need 12)"),
        ("timestamp,value\n" + "".join(f"{T0 + h * HOUR},{h}\n" for h in range(48)
                                       if not 10 <= h < 30),
         "gap of 21h in the history"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_what_is_wrong(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(content)
    code, out, err = invoke("forecast", path, "--json")
    assert code == 2 and out == ""
    assert message in err and str(path) in err


def test_bad_options_are_refused(tmp_path: Path) -> None:
    code, _, err = invoke("forecast", disk_csv(tmp_path), "--threshold", "lots")
    assert code == 2 and "--threshold: 'lots' is not a number" in err
    code, _, err = invoke("forecast", disk_csv(tmp_path), "--horizon", "soon")
    assert code == 2 and "--horizon: 'soon' is not a duration" in err
    code, _, err = invoke("forecast", tmp_path / "missing.csv")
    assert code == 2 and "no such file" in err


def test_capacity_reads_the_store_and_ranks_by_urgency(store_url: str, tmp_path: Path) -> None:
    now = time.time() // HOUR * HOUR  # the command reads the --history (30d) before now
    start = now - 20 * DAY
    with store_transaction(store_url) as conn:
        record_samples(
            conn,
            samples=[
                (name, {"service": "api"}, start + h * HOUR, value(h))
                for h in range(20 * 24)
                for name, value in (
                    ("disk_used_ratio", growth),
                    ("cpu_cores", lambda h: 0.2 + 0.05 * math.sin(2 * math.pi * h / 24)),
                )
            ],
        )
    catalog = tmp_path / "catalog.yaml"
    services = [
        {"name": "api", "capacity": {"disk_used_ratio": "85%", "cpu_cores": 2}},
        {"name": "batch", "capacity": {"memory_bytes": "1GiB"}},
        {"name": "quiet"},
    ]
    catalog.write_text(yaml.safe_dump({"services": services}))
    base = ("capacity", "--catalog", catalog, "--url", store_url)
    code, out, err = invoke(*base, "--json")
    assert code == 0, err
    doc = strict_json(out)
    assert set(doc) == {"generated_at", "horizon_days", "history_days", "forecasts"}
    got = [(f["service"], f["resource"], f["urgency"]) for f in doc["forecasts"]]
    assert got == [
        ("api", "disk_used_ratio", "soon"),
        ("api", "cpu_cores", "ok"),
        ("batch", "memory_bytes", "no forecast"),
    ]
    assert doc["forecasts"][0]["days_to_threshold"] == pytest.approx(20, abs=1.5)
    assert "points" not in doc["forecasts"][0]["forecast"]
    code, out, _ = invoke(*base, "--service", "api")
    assert code == 0 and out.splitlines()[0].startswith("1. [soon] api disk: forecast reaches")
    code, _, err = invoke(*base, "--service", "nope")
    assert code == 2 and "unknown service(s) nope" in err
