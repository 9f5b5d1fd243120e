"""The resolution column through the importer and the store, and the knowledge base's reading
of resolved tickets, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from postdeploy.adapters.importers.mapping import load_mapping
from postdeploy.adapters.importers.tickets import open_export
from postdeploy.domain.kb import build
from postdeploy.store.kb import resolved_tickets
from postdeploy.store.session import store_transaction
from postdeploy.store.tickets import ImportCounts, upsert_tickets

MAPPING = """\
source: servicenow
timestamp_format: "%Y-%m-%d %H:%M:%S"
fields:
  external_id: number
  title: short_description
  service: cmdb_ci
  category: category
  priority:
    column: priority
    values: {"2 - High": high, "3 - Moderate": medium}
  status:
    column: state
    values: {New: new, Resolved: resolved, Closed: closed, Canceled: cancelled}
  created_at: opened_at
  resolved_at: resolved_at
  updated_at: sys_updated_on
  resolution: close_notes
"""
HEADER = ["number", "short_description", "cmdb_ci", "category", "priority", "state", "opened_at",
          "resolved_at", "sys_updated_on", "close_notes"]  # fmt: skip
ROWS = [
    ["INC1", "VPN down for user 101", "vpn", "Network", "2 - High", "Resolved",
     "2026-03-02 09:00:00", "2026-03-02 11:00:00", "2026-03-02 11:00:00", "Restarted gw-1"],
    ["INC2", "VPN down for user 202", "vpn", "Network", "2 - High", "Closed",
     "2026-03-03 09:00:00", "2026-03-03 13:00:00", "2026-03-03 13:00:00", "Restarted gw-2"],
    ["INC3", "VPN down for user 303", "vpn", "Network", "2 - High", "Resolved",
     "2026-03-04 09:00:00", "2026-03-04 10:00:00", "2026-03-04 10:00:00", ""],
    ["INC4", "Printer jam", "office", "Office", "3 - Moderate", "Canceled",
     "2026-03-02 09:00:00", "2026-03-02 09:10:00", "2026-03-02 09:10:00", "Duplicate"],
    ["INC5", "Printer jam", "office", "Office", "3 - Moderate", "New",
     "2026-03-05 09:00:00", "", "2026-03-05 09:00:00", ""],
    ["INC6", "VPN down for user 404", "vpn", "Network", "2 - High", "Resolved",
     "2026-01-02 09:00:00", "2026-01-02 10:00:00", "2026-01-02 10:00:00", "Too old"],
]  # fmt: skip
SINCE, UNTIL = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC)


def import_rows(url: str, tmp_path: Path, rows: list[list[str]]) -> ImportCounts:
    export, mapping = tmp_path / "incidents.csv", tmp_path / "map.yaml"
    with export.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([HEADER, *rows])
    mapping.write_text(MAPPING, encoding="utf-8")
    with store_transaction(url) as conn, open_export(export, load_mapping(mapping)) as reader:
        return upsert_tickets(conn, reader)


def resolutions(url: str) -> dict[str, str | None]:
    with store_transaction(url) as conn:
        return {t.title: t.resolution for t in resolved_tickets(conn, since=SINCE, until=UNTIL)}


def test_imported_resolutions_are_stored_and_an_update_changes_them(
    store_url: str, tmp_path: Path
) -> None:
    assert import_rows(store_url, tmp_path, ROWS).inserted == 6
    assert resolutions(store_url) == {
        "VPN down for user 101": "Restarted gw-1",
        "VPN down for user 202": "Restarted gw-2",
        "VPN down for user 303": None,  # an empty cell
    }
    assert import_rows(store_url, tmp_path, ROWS) == ImportCounts(0, 0, 6, 0)
    edited = [
        r[:8] + ["2026-03-06 08:00:00", "Replaced gw-3"] if r[0] == "INC3" else r for r in ROWS
    ]
    assert import_rows(store_url, tmp_path, edited) == ImportCounts(0, 1, 5, 0)
    assert resolutions(store_url)["VPN down for user 303"] == "Replaced gw-3"


def test_only_tickets_resolved_or_closed_in_the_window_are_read(
    store_url: str, tmp_path: Path
) -> None:
    import_rows(store_url, tmp_path, ROWS)
    with store_transaction(store_url) as conn:
        found = resolved_tickets(conn, since=SINCE, until=UNTIL)
    assert [t.title for t in found] == [f"VPN down for user {n}" for n in (101, 202, 303)]
    first = found[0]
    assert (first.category, first.service) == ("Network", "vpn")
    assert (first.created_at, first.resolved_at) == (
        datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
    )
    (entry,) = build(found)
    assert (entry.signature, entry.count, entry.median_hours) == ("VPN down for user <*>", 3, 2.0)
    assert [(r.signature, r.count) for r in entry.resolutions] == [("Restarted gw-<*>", 2)]
