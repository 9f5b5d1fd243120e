"""Ticket imports and the SLA sweep on SQLite and PostgreSQL: CSV, JSON and paginated REST
exports through a mapping, quarantine, event folding, idempotent re-imports and escalation."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from postdeploy.adapters.importers.mapping import TicketMapping, load_mapping
from postdeploy.adapters.importers.tickets import fetch_tickets, open_export
from postdeploy.commands.imports import import_app
from postdeploy.domain.tickets import StatusChange, Ticket
from postdeploy.store.schema import ticket, ticket_event
from postdeploy.store.session import store_transaction
from postdeploy.store.tickets import ImportCounts, sla_sweep, upsert_tickets

SERVICENOW = """\
source: servicenow
timestamp_format: "%Y-%m-%d %H:%M:%S"
fields:
  external_id: number
  title: short_description
  service: cmdb_ci
  priority:
    column: priority
    values: {"1 - Critical": critical, "2 - High": high, "3 - Moderate": medium, "4 - Low": low}
  status:
    column: state
    values: {New: new, In Progress: in_progress, On Hold: waiting, Resolved: resolved}
  created_at: opened_at
  updated_at: sys_updated_on
"""
HEADER = ["number", "short_description", "cmdb_ci", "priority", "state", "opened_at",
          "sys_updated_on"]  # fmt: skip
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CET = timezone(timedelta(hours=1))


def row(
    number: str,
    priority: str = "2 - High",
    state: str = "New",
    opened: str = "2026-03-02 09:00:00",
    updated: str = "2026-03-02 09:30:00",
) -> list[str]:
    return [number, "VPN down", "vpn", priority, state, opened, updated]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([header, *rows])
    return path


def mapping_file(tmp_path: Path, text: str = SERVICENOW) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def import_file(url: str, export: Path, mapping: Path) -> tuple[ImportCounts, int, int]:
    with store_transaction(url) as conn, open_export(export, load_mapping(mapping)) as reader:
        counts = upsert_tickets(conn, reader)
    return counts, reader.read, reader.rejected


def stored(url: str) -> dict[str, Any]:
    with store_transaction(url) as conn:
        return {r.external_id: r for r in conn.execute(select(ticket))}


def events(url: str, external_id: str) -> list[Any]:
    query = (
        select(ticket_event).join(ticket, ticket.c.id == ticket_event.c.ticket_id)
        .where(ticket.c.external_id == external_id).order_by(ticket_event.c.ts, ticket_event.c.id)
    )  # fmt: skip
    with store_transaction(url) as conn:
        return list(conn.execute(query))


def test_a_reimport_updates_changed_tickets_and_never_duplicates(
    store_url: str, tmp_path: Path
) -> None:
    mapping = mapping_file(tmp_path)
    first = write_csv(tmp_path / "a.csv", [row("INC1", "1 - Critical"), row("INC2"), row("INC3")])
    assert import_file(store_url, first, mapping) == (ImportCounts(3, 0, 0, 0), 3, 0)
    assert import_file(store_url, first, mapping) == (ImportCounts(0, 0, 3, 0), 3, 0)
    later = [
        row("INC1", "1 - Critical", "In Progress", updated="2026-03-02 10:00:00"),
        row("INC2"),
        row("INC3"),
        row("INC4", "4 - Low"),
    ]
    counts = import_file(store_url, write_csv(tmp_path / "b.csv", later), mapping)
    assert counts == (ImportCounts(inserted=1, updated=1, unchanged=2, events=0), 4, 0)
    tickets = stored(store_url)
    assert sorted(tickets) == ["INC1", "INC2", "INC3", "INC4"]
    assert (tickets["INC1"].priority, tickets["INC1"].status) == ("critical", "in_progress")
    assert tickets["INC1"].created_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert tickets["INC4"].priority == "low"


def test_an_older_export_does_not_overwrite_newer_ticket_data(
    store_url: str, tmp_path: Path
) -> None:
    mapping = mapping_file(tmp_path)
    newer = [row("INC1", state="Resolved", updated="2026-03-02 11:00:00")]
    import_file(store_url, write_csv(tmp_path / "new.csv", newer), mapping)
    older = [row("INC1", state="In Progress", updated="2026-03-02 10:00:00")]
    counts, _, _ = import_file(store_url, write_csv(tmp_path / "old.csv", older), mapping)
    assert (counts.updated, counts.unchanged) == (0, 1)
    assert stored(store_url)["INC1"].status == "resolved"


def test_bulk_written_times_equal_those_sqlalchemy_writes(store_url: str, tmp_path: Path) -> None:
    import_file(store_url, write_csv(tmp_path / "a.csv", [row("INC1")]), mapping_file(tmp_path))
    with store_transaction(store_url) as conn:
        conn.execute(
            ticket.insert().values(source="core", external_id="X", priority="low", status="new",
                                   created_at=datetime(2026, 3, 2, 10, 0, tzinfo=CET))
        )  # fmt: skip
        same = select(func.count()).where(
            ticket.c.created_at
            == select(ticket.c.created_at).where(ticket.c.source == "core").scalar_subquery()
        )
        assert conn.execute(same).scalar_one() == 2


def test_bad_rows_are_quarantined_with_the_reason_and_the_rest_is_imported(
    store_url: str, tmp_path: Path
) -> None:
    rows = [
        row("INC1"),
        row("INC2", opened="2026-13-45 10:00:00"),
        row("INC3", priority="9 - Whenever"),
        row("INC4")[:-2],
        row("", state="New"),
        row("INC6", state="Resolved"),
    ]
    export = write_csv(tmp_path / "export.csv", rows)
    assert import_file(store_url, export, mapping_file(tmp_path)) == (
        ImportCounts(2, 0, 0, 0), 6, 4,
    )  # fmt: skip
    assert sorted(stored(store_url)) == ["INC1", "INC6"]
    with (tmp_path / "export.rejected.csv").open(newline="", encoding="utf-8") as file:
        quarantined = list(csv.reader(file))
    assert quarantined[0] == ["reason", "row", *HEADER]
    assert [r[:3] for r in quarantined[1:]] == [
        ["created_at (opened_at): '2026-13-45 10:00:00' is not a time in format "
         "'%Y-%m-%d %H:%M:%S'", "2", "INC2"],
        ["priority (priority): '9 - Whenever' is not mapped (fields.priority.values)", "3", "INC3"],
        ["has 5 fields, the header 7", "4", "INC4"],
        ["external_id (number) is empty", "5", ""],
    ]  # fmt: skip


def invoke(*args: str) -> Any:
    return CliRunner().invoke(import_app, ["tickets", *args])


def test_the_command_prints_the_counts_and_where_rejected_rows_went(
    store_url: str, tmp_path: Path
) -> None:
    export = write_csv(tmp_path / "e.csv", [row("INC1"), row("INC2", opened="yesterday")])
    quarantine = tmp_path / "out" / "rejected.csv"
    args = [str(export), "--mapping", str(mapping_file(tmp_path)), "--url", store_url]
    result = invoke(*args, "--quarantine", str(quarantine))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "read 2, inserted 1, updated 0, unchanged 0, rejected 1"
    assert str(quarantine) in result.stderr and quarantine.exists()
    again = invoke(*args, "--source", "servicenow-eu")
    assert again.stdout.startswith("read 2, inserted 1, updated 0")  # another source, another key


def test_a_file_with_wrong_columns_names_the_missing_ones_and_imports_nothing(
    store_url: str, tmp_path: Path
) -> None:
    header = ["number", "short_description", "cmdb_ci", "priority", "Status", "sys_updated_on"]
    export = write_csv(tmp_path / "e.csv", [["INC1", "t", "vpn", "2 - High", "New", ""]], header)
    result = invoke(str(export), "--mapping", str(mapping_file(tmp_path)), "--url", store_url)
    assert result.exit_code == 2
    assert "lacks the mapped column(s): state, opened_at; nothing imported" in result.stderr
    assert stored(store_url) == {}


def test_a_bad_mapping_names_the_file_and_the_field(store_url: str, tmp_path: Path) -> None:
    bad = mapping_file(tmp_path, SERVICENOW.replace('"4 - Low": low', '"4 - Low": lowest'))
    export = write_csv(tmp_path / "e.csv", [row("INC1")])
    result = invoke(str(export), "--mapping", str(bad), "--url", store_url)
    assert result.exit_code == 2
    assert f"invalid mapping {bad}" in result.stderr
    assert "fields.priority: 'lowest' is not one of critical, high, medium, low" in result.stderr
    assert stored(store_url) == {}


AUDIT = SERVICENOW + "events:\n  at: sys_updated_on\n  actor: sys_updated_by\n"


def test_an_export_of_state_changes_folds_into_one_ticket_and_its_events(
    store_url: str, tmp_path: Path
) -> None:
    def change(number: str, state: str, at: str, who: str = "ana") -> list[str]:
        return [*row(number, state=state, updated=f"2026-03-02 {at}:00"), who]

    rows = [
        change("INC1", "In Progress", "09:10"),
        change("INC1", "New", "09:00", who="system"),
        change("INC1", "On Hold", "10:00"),
        change("INC1", "In Progress", "11:00", who="bob"),
        change("INC1", "Resolved", "11:30", who="bob"),
        change("INC2", "New", "09:05", who="system"),
    ]
    export = write_csv(tmp_path / "audit.csv", rows, [*HEADER, "sys_updated_by"])
    mapping = mapping_file(tmp_path, AUDIT)
    assert import_file(store_url, export, mapping) == (ImportCounts(2, 0, 0, 6), 6, 0)
    assert import_file(store_url, export, mapping) == (ImportCounts(0, 0, 2, 0), 6, 0)
    inc1 = stored(store_url)["INC1"]
    assert (inc1.status, inc1.resolved_at) == ("resolved", datetime(2026, 3, 2, 11, 30, tzinfo=UTC))
    assert [(e.from_status, e.to_status, e.actor) for e in events(store_url, "INC1")] == [
        (None, "new", "system"),
        ("new", "in_progress", "ana"),
        ("in_progress", "waiting", "ana"),
        ("waiting", "in_progress", "bob"),
        ("in_progress", "resolved", "bob"),
    ]


ZENDESK = """\
source: zendesk
records: tickets
fields:
  external_id: id
  title: subject
  priority: {column: priority, values: {urgent: critical, normal: medium}}
  status: {column: status, values: {pending: waiting, solved: resolved, hold: waiting}}
  created_at: created_at
  service: custom.service
"""


def zendesk(n: int) -> dict[str, Any]:
    return {
        "id": 1000 + n,
        "subject": f"Cannot pay {n}",
        "priority": ["urgent", "high", "normal"][n % 3],
        "status": "open",
        "created_at": f"2026-03-02T09:{n:02d}:00Z",
        "custom": {"service": "billing"},
    }


def test_a_json_export_reads_records_and_nested_fields(store_url: str, tmp_path: Path) -> None:
    records = [zendesk(n) for n in range(5)] + [zendesk(5) | {"created_at": "soon"}]
    export = tmp_path / "tickets.json"
    export.write_text(json.dumps({"tickets": records}), encoding="utf-8")
    counts, read, rejected = import_file(store_url, export, mapping_file(tmp_path, ZENDESK))
    assert (counts.inserted, read, rejected) == (5, 6, 1)
    (quarantined,) = (tmp_path / "tickets.rejected.jsonl").read_text().splitlines()
    assert json.loads(quarantined) == {
        "reason": "created_at (created_at): 'soon' is not a time in format 'iso'",
        "row": 6,
        "record": records[5],
    }
    t = stored(store_url)["1001"]
    assert (t.priority, t.service, t.title) == ("high", "billing", "Cannot pay 1")
    assert t.created_at == datetime(2026, 3, 2, 9, 1, tzinfo=UTC)


class HelpDesk:
    """A paginated help-desk API on a free local port: 25 tickets, 10 per page."""

    def __init__(self, style: str) -> None:
        self.requests: list[str] = []
        desk = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                desk.requests.append(self.path)
                query = {k: int(v[0]) for k, v in parse_qs(urlsplit(self.path).query).items()}
                start = query.get("offset", (query.get("page", 1) - 1) * 10)
                records = [zendesk(n) for n in range(start, min(start + 10, 25))]
                body: dict[str, Any] = {"tickets": records}
                more = start + 10 < 25
                if style == "next":
                    body["next_page"] = f"/api/tickets?page={start // 10 + 2}" if more else None
                payload = json.dumps(body).encode()
                self.send_response(200)
                if style == "link" and more:
                    self.send_header("Link", f'</api/tickets?page={start // 10 + 2}>; rel="next"')
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/tickets"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(params=["link", "next", "offset"])
def help_desk(request: pytest.FixtureRequest) -> Iterator[tuple[HelpDesk, str]]:
    desk = HelpDesk(request.param)
    yield desk, request.param
    desk.server.shutdown()
    desk.server.server_close()


REST = {
    "link": "",
    "next": "rest: {next: next_page}\n",
    "offset": "rest: {offset_param: offset, limit_param: limit, page_size: 10}\n",
}


def test_a_paginated_rest_api_is_read_to_the_last_page(
    store_url: str, tmp_path: Path, help_desk: tuple[HelpDesk, str]
) -> None:
    desk, style = help_desk
    mapping = TicketMapping.model_validate(yaml.safe_load(ZENDESK + REST[style]))
    with (
        httpx.Client(timeout=5) as client,
        store_transaction(store_url) as conn,
        fetch_tickets(client, desk.url, mapping, quarantine=tmp_path / "q.jsonl") as reader,
    ):
        counts = upsert_tickets(conn, reader)
    assert (counts.inserted, reader.read, reader.rejected) == (25, 25, 0)
    assert len(stored(store_url)) == 25
    assert len(desk.requests) == 3


def open_ticket(key: str, priority: str, age: timedelta, status: str = "new",
                changes: tuple[StatusChange, ...] = ()) -> Ticket:  # fmt: skip
    return Ticket("desk", key, priority, status, NOW - age, f"ticket {key}", changes=changes)


def sweep(url: str, now: datetime) -> list[tuple[str, str, str, tuple[str, ...]]]:
    with store_transaction(url) as conn:
        result = sla_sweep(conn, now=now)
    return sorted((e.external_id, e.from_level, e.to_level, e.crossed) for e in result.escalations)


def test_the_sla_sweep_escalates_one_level_per_threshold_and_a_rerun_changes_nothing(
    store_url: str,
) -> None:
    minutes = timedelta(minutes=1)
    c2_answered = (StatusChange(NOW - 200 * minutes, "in_progress", "new"),)
    w1_waits = (StatusChange(NOW - 295 * minutes, "waiting", "new"),)
    tickets = [
        open_ticket("C1", "critical", 50 * minutes),  # response: 50 of 60 minutes
        open_ticket("C2", "critical", 210 * minutes, "in_progress", c2_answered),  # 3.5 of 4 h
        open_ticket("H1", "high", 60 * minutes),
        open_ticket("W1", "critical", 300 * minutes, "waiting", w1_waits),
        open_ticket("R1", "critical", 600 * minutes, "resolved"),
    ]
    with store_transaction(store_url) as conn:
        upsert_tickets(conn, tickets)
    assert sweep(store_url, NOW) == [
        ("C1", "L1", "L2", ("response near-breach",)),
        ("C2", "L1", "L2", ("resolution near-breach",)),
    ]
    assert [e.kind for e in events(store_url, "C1")] == ["sla_response_near_breach", "escalated"]
    assert sweep(store_url, NOW) == []  # the same sweep again, as after a retry
    assert len(events(store_url, "C1")) == 2
    assert sweep(store_url, NOW + 15 * minutes) == [("C1", "L2", "L3", ("response breached",))]
    with store_transaction(store_url) as conn:
        upsert_tickets(conn, tickets)  # a re-import keeps the levels the sweeps set
    levels = {k: t.level for k, t in stored(store_url).items()}
    assert levels == {"C1": "L3", "C2": "L2", "H1": "L1", "W1": "L1", "R1": "L1"}
    escalated = [e for e in events(store_url, "C1") if e.kind == "escalated"]
    assert [(e.data["from_level"], e.data["to_level"]) for e in escalated] == [
        ("L1", "L2"),
        ("L2", "L3"),
    ]


EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "mappings"
SAMPLES: dict[str, tuple[str, str, tuple[str, str, str, str | None, str | None]]] = {
    "servicenow": (
        "incidents.csv",
        "number,short_description,cmdb_ci,category,assigned_to,priority,state,opened_at,"
        "resolved_at,sys_updated_on,close_notes\nINC0010001,Email down,mail,Network,Ana Li,"
        "1 - Critical,On Hold,2026-03-02 09:00:00,,2026-03-02 09:30:00,\n",
        ("INC0010001", "critical", "waiting", "mail", "Ana Li"),
    ),
    "jira": (
        "search.json",
        json.dumps({"issues": [{"key": "OPS-7", "fields": {
            "summary": "Email down", "project": {"key": "OPS"}, "issuetype": {"name": "Incident"},
            "assignee": None, "priority": {"name": "Highest"},
            "status": {"name": "Waiting for customer"}, "created": "2026-03-02T10:00:00.000+0100",
            "resolutiondate": None, "resolution": None,
            "updated": "2026-03-02T10:30:00.000+0100"}}]}),
        ("OPS-7", "critical", "waiting", "OPS", None),
    ),
    "zendesk": (
        "tickets.json",
        json.dumps({"tickets": [{"id": 35436, "subject": "Email down", "type": "incident",
            "assignee_id": 235323, "priority": None, "status": "pending",
            "created_at": "2026-03-02T09:00:00Z", "updated_at": "2026-03-02T09:30:00Z"}]}),
        ("35436", "medium", "waiting", None, "235323"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("desk", sorted(SAMPLES))
def test_the_example_mappings_read_their_help_desks_exports(
    store_url: str, tmp_path: Path, desk: str
) -> None:
    name, content, expected = SAMPLES[desk]
    export = tmp_path / name
    export.write_text(content, encoding="utf-8")
    counts, read, rejected = import_file(store_url, export, EXAMPLES / f"{desk}.yaml")
    assert (counts.inserted, read, rejected) == (1, 1, 0)
    (t,) = stored(store_url).values()
    assert (t.external_id, t.priority, t.status, t.service, t.assignee) == expected
    assert (t.source, t.created_at) == (desk, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
