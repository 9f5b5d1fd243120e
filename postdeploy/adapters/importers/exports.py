"""What every export importer shares: opening a CSV, JSON or JSON-lines export, reading a cell
of a CSV row or a JSON record, the missing-columns error and the quarantine of rejected rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TextIO

from postdeploy.adapters.importers.mapping import ExportMapping

SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class MissingColumns(Exception):
    """The export lacks columns the mapping names: nothing is imported."""

    def __init__(self, where: str, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(f"{where} lacks the mapped column(s): {', '.join(missing)}")


def lookup(record: Any, path: str) -> Any:
    """A key of a JSON record, or a dotted path into it; KeyError when it has neither."""
    if isinstance(record, dict) and path in record:
        return record[path]
    for part in path.split("."):
        if not isinstance(record, dict) or part not in record:
            raise KeyError(path)
        record = record[part]
    return record


def cell(record: Any, column: str) -> str:
    """A JSON record's value as CSV would hold it: text as is, null or absent as ''."""
    try:
        value = lookup(record, column)
    except KeyError:
        return ""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def columns_in(record: Any, columns: Iterable[str]) -> list[str]:
    """The columns a JSON record has (a key, or a dotted path into it)."""
    found = []
    for column in columns:
        try:
            lookup(record, column)
            found.append(column)
        except KeyError:
            pass
    return found


class MappedColumns(Protocol):
    def all_columns(self) -> list[str]: ...
    def required_columns(self) -> list[str]: ...


def require_columns(
    header: list[str] | None, first: Any, mapping: MappedColumns, where: str
) -> None:
    """MissingColumns naming every mapped column the export lacks: all of them for a file with
    a header row, the required ones for records (where optional keys may be absent)."""
    if header is not None:
        present, wanted = header, mapping.all_columns()
    else:
        present, wanted = columns_in(first, mapping.all_columns()), mapping.required_columns()
    missing = [c for c in wanted if c not in present]
    if missing:
        raise MissingColumns(where, missing)


def records_at(document: Any, path: str | None, where: str) -> list[Any]:
    found = lookup(document, path) if path else document
    if not isinstance(found, list):
        raise MissingColumns(where, [f"{path or '(the document)'} as a list of records"])
    return found


class Quarantine:
    """Rejected rows with the reason: CSV for CSV input (reason, row, original columns),
    JSON lines otherwise. The file is only written when a row is rejected."""

    def __init__(self, path: Path, header: list[str] | None) -> None:
        self.path, self.header, self.count = path, header, 0
        self._file: TextIO | None = None
        self._csv: Any = None

    def add(self, row: int, reason: str, raw: Any) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8", newline="")
            if self.header is not None:
                self._csv = csv.writer(self._file)
                self._csv.writerow(["reason", "row", *self.header])
        if self._csv is not None:
            self._csv.writerow([reason, row, *raw])
        else:
            line = json.dumps({"reason": reason, "row": row, "record": raw}, ensure_ascii=False)
            self._file.write(line + "\n")
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class Export(NamedTuple):
    rows: Iterable[Any]  # CSV rows (lists of cells) or JSON records
    header: list[str] | None  # CSV only
    quarantine: Path  # where rejected rows go unless the caller names a file


@contextmanager
def open_rows(path: Path, mapping: ExportMapping, *, skip_rows: int = 0) -> Iterator[Export]:
    """The rows of a CSV, JSON or JSON-lines export, chosen by the mapping or the suffix; the
    default quarantine is FILE.rejected.csv (or .jsonl) beside it. CSV cells are read as they
    are: quoted multi-line cells keep their line breaks; `skip_rows` rows after the header
    (a Qualtrics export's question texts and import ids) are not data."""
    kind = mapping.format or SUFFIXES.get(path.suffix.lower(), "csv")
    default = path.with_name(f"{path.stem}.rejected.{'csv' if kind == 'csv' else 'jsonl'}")
    with path.open(encoding=mapping.encoding, newline="") as file:
        header: list[str] | None = None
        rows: Iterable[Any]
        if kind == "csv":
            rows = filter(None, csv.reader(file, delimiter=mapping.delimiter))  # no blank lines
            header = next(rows, [])
            if skip_rows:
                rows = islice(rows, skip_rows, None)
        elif kind == "json":
            rows = records_at(json.load(file), mapping.records, str(path))
        else:
            rows = (json.loads(line) for line in file if line.strip())
        yield Export(rows, header, default)
