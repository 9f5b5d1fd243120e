"""log-review on a real Prefect server over real log files that grow between reviews."""

from __future__ import annotations

from pathlib import Path

import yaml

from flows.log_review import log_review
from postdeploy.settings import get_settings
from postdeploy.store.migrate import upgrade


def write(path: Path, lines: list[str], mode: str = "a") -> None:
    with path.open(mode + "b") as handle:
        for line in lines:
            handle.write(line.encode() + b"\n")


def catalog(dir: Path, log: Path) -> str:
    source = {"path": str(log), "format": "<Timestamp> <Level> <Content>"}
    doc = {"services": [{"name": "shop", "logs": [source, {"path": str(dir / "missing-*.log")}]}]}
    file = dir / "catalog.yaml"
    file.write_text(yaml.safe_dump(doc))
    return str(file)


def test_reviews_read_only_new_lines_and_report_new_and_erroring_signatures(
    settings_env: Path,
) -> None:
    upgrade(get_settings().database_url)
    log = settings_env / "app.log"
    write(log, [f"2026-11-27T10:00:{n:02d}Z INFO GET /api/orders 200 {n}ms" for n in range(30)])
    write(log, ["garbage"])  # does not fit the layout: kept as "unparsed", not dropped
    path = catalog(settings_env, log)

    first = log_review(catalog_path=path)["services"]["shop"]
    assert first["lines"] == 31 and first["unparsed"] == 1
    assert len(first["new"]) == 2 and first["top_errors"] == []  # the requests, and "unparsed"
    assert any("missing-*.log" in p for p in first["problems"])

    write(log, [f"2026-11-27T11:00:{n:02d}Z ERROR order {n} failed: timeout" for n in range(12)])
    write(
        log, ["2026-11-27T11:01:00Z INFO GET /api/orders 200 9ms", "2026-11-27T11:02:00Z INFO half"]
    )
    with log.open("ab") as handle:
        handle.write(b"\xff\xfe binary junk \x00 without a newline yet")
    second = log_review(catalog_path=path)["services"]["shop"]
    assert second["lines"] == 14  # the 12 errors, the request, "half"; not the unfinished line
    assert "order <*> failed: timeout" in second["new"]
    assert second["top_errors"] == ["order <*> failed: timeout"]
    (page,) = (settings_env / "reports" / "logs").glob("*/index.html")
    html = page.read_text()
    assert "order &lt;*&gt; failed: timeout" in html and "shop" in html

    third = log_review(catalog_path=path)["services"]["shop"]
    assert third["lines"] == 0 and third["new"] == []  # nothing counted twice

    write(log, ["", "2026-11-27T12:00:00Z INFO back to normal"])
    fourth = log_review(catalog_path=path)["services"]["shop"]
    assert fourth["lines"] == 2  # the junk line, now complete, and the next one


def test_a_rotated_file_is_read_from_its_start(settings_env: Path) -> None:
    upgrade(get_settings().database_url)
    log = settings_env / "app.log"
    write(log, [f"2026-11-27T10:00:00Z INFO job {n} done" for n in range(50)])
    path = catalog(settings_env, log)
    assert log_review(catalog_path=path)["services"]["shop"]["lines"] == 50
    log.rename(settings_env / "app.log.1")
    write(log, ["2026-11-27T10:00:00Z INFO job 1 done", "2026-11-27T10:00:00Z INFO job 2 done"])
    assert log_review(catalog_path=path)["services"]["shop"]["lines"] == 2
