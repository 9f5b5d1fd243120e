"""Survey answers (NPS, CSAT, CES and a comment) from CSV, JSON or JSON-lines exports through a
mapping: each row validated, one response per external id, bad rows quarantined with the
reason. Comments are kept exactly as the export holds them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from postdeploy.adapters.importers.exports import (
    Quarantine,
    cell,
    open_rows,
    require_columns,
)
from postdeploy.adapters.importers.mapping import (
    Column,
    Score,
    SurveyMapping,
    load_survey_mapping,
    timestamp_parser,
    zone,
)
from postdeploy.domain.surveys import SCALES, Response
from postdeploy.store.session import store_transaction
from postdeploy.store.surveys import upsert_responses

_INTEGER = re.compile(r"[+-]?\d+(?:\.0*)?")  # '9' or '9.0' (a JSON number or a spreadsheet)
MAX_LENGTH = {"external_id": 200, "service": 100, "segment": 200}  # the store's columns


class Rejected(Exception):
    """A row that cannot be a response; the message is the reason."""


def _read_score(spec: Score, name: str, text: str) -> int | str:
    """The score an answer stands for, or why it stands for none."""
    low, high = SCALES[name]
    found = spec.values.get(text)
    if found is None:
        folded = {k.casefold(): v for k, v in spec.values.items()}
        found = folded.get(text.casefold())
    if found is None and _INTEGER.fullmatch(text):
        found = int(float(text))
    if found is None:
        return f"{name} ({spec.column}): {text!r} is not a score {low} to {high}"
    if not low <= found <= high:
        return f"{name} ({spec.column}): {found} is not {low} to {high}"
    return found


class RowParser:
    """One export row (a CSV row or a JSON record) to a Response, or Rejected with the reason."""

    def __init__(self, mapping: SurveyMapping, source: str, header: list[str] | None) -> None:
        self.source, self.fields = source, mapping.fields
        tz = zone(mapping.timezone)
        at = mapping.fields.submitted_at
        self.time_format = at.format or mapping.timestamp_format
        self.parse_time = timestamp_parser(self.time_format, tz)
        index = {name: i for i, name in reversed(list(enumerate(header or [])))}
        self.get: Callable[[Any, str], str] = (
            (lambda raw, column: raw[index[column]]) if header is not None else cell
        )
        self.scores: dict[str, dict[str, int | str]] = {n: {} for n in SCALES}

    def _text(self, raw: Any, name: str) -> str | None:
        spec: Column | None = getattr(self.fields, name)
        if spec is None:
            return None
        value = self.get(raw, spec.column).strip()
        value = spec.values.get(value, value) or spec.default or ""
        if len(value) > MAX_LENGTH[name]:
            raise Rejected(f"{name} ({spec.column}) is longer than {MAX_LENGTH[name]} characters")
        return value or None

    def _score(self, raw: Any, name: str) -> int | None:
        spec: Score | None = getattr(self.fields, name)
        if spec is None:
            return None
        text = self.get(raw, spec.column).strip()
        if not text:
            return None
        known = self.scores[name]
        if text not in known:  # each distinct answer is read once
            known[text] = _read_score(spec, name, text)
        found = known[text]
        if isinstance(found, str):
            raise Rejected(found)
        return found

    def _submitted(self, raw: Any) -> datetime:
        column = self.fields.submitted_at.column
        text = self.get(raw, column).strip()
        if not text:
            raise Rejected(f"submitted_at ({column}) is empty")
        try:
            return self.parse_time(text)
        except (ValueError, OverflowError, OSError):
            raise Rejected(
                f"submitted_at ({column}): {text!r} is not a time in format {self.time_format!r}"
            ) from None

    def parse(self, raw: Any) -> Response:
        external_id = self._text(raw, "external_id")
        if not external_id:
            raise Rejected(f"external_id ({self.fields.external_id.column}) is empty")
        submitted = self._submitted(raw)
        nps, csat, ces = (self._score(raw, n) for n in SCALES)
        if nps is None and csat is None and ces is None:
            mapped = [f"{n} ({s.column})" for n in SCALES if (s := getattr(self.fields, n))]
            raise Rejected(f"no score: {', '.join(mapped)} unanswered")
        spec = self.fields.comment
        comment = self.get(raw, spec.column) if spec else ""
        if spec and "\x00" in comment:  # PostgreSQL text cannot hold it
            raise Rejected(f"comment ({spec.column}) holds a NUL character")
        return Response(
            self.source, external_id, submitted, nps, csat, ces, self._text(raw, "service"),
            self._text(raw, "segment"), comment if comment.strip() else None,
        )  # fmt: skip


class SurveyReader:
    """Iterate for the responses of an export, one per external id: of rows with the same id
    the latest submitted wins (on a tie, the later row); the others go to the quarantine as
    duplicates. `read`, `rejected` and `duplicates` count rows; rows are numbered from 1, the
    first answer row."""

    def __init__(
        self,
        rows: Iterable[Any],
        mapping: SurveyMapping,
        *,
        header: list[str] | None,
        quarantine: Path,
        source: str | None = None,
        where: str = "the export",
    ) -> None:
        self.rows, self.mapping, self.header, self.where = rows, mapping, header, where
        self.source = source or mapping.source
        self.quarantine = Quarantine(quarantine, header)
        self.read = self.duplicates = 0

    @property
    def rejected(self) -> int:
        return self.quarantine.count - self.duplicates

    def __iter__(self) -> Iterator[Response]:
        kept: dict[str, tuple[int, Any, Response]] = {}
        parser = self._parser(None) if self.header is not None else None  # even with no rows
        width = len(self.header or ())
        for raw in self.rows:
            self.read += 1
            parser = parser or self._parser(raw)
            try:
                if width and len(raw) != width:
                    raise Rejected(f"has {len(raw)} fields, the header {width}")
                response = parser.parse(raw)
            except Rejected as exc:
                self.quarantine.add(self.read, str(exc), raw)
                continue
            before = kept.get(response.external_id)
            if before is None:
                kept[response.external_id] = (self.read, raw, response)
                continue
            self.duplicates += 1
            if response.submitted_at >= before[2].submitted_at:
                kept[response.external_id] = (self.read, raw, response)
                row, raw, why = before[0], before[1], f"superseded by row {self.read}"
            else:
                row, why = self.read, f"row {before[0]} was submitted later"
            self.quarantine.add(row, f"duplicate external_id {response.external_id!r}: {why}", raw)
        for _, _, response in kept.values():
            yield response

    def _parser(self, first: Any) -> RowParser:
        require_columns(self.header, first, self.mapping, self.where)
        return RowParser(self.mapping, self.source, self.header)


@contextmanager
def open_survey_export(
    path: Path,
    mapping: SurveyMapping,
    *,
    source: str | None = None,
    quarantine: Path | None = None,
) -> Iterator[SurveyReader]:
    """A reader over a CSV, JSON or JSON-lines survey export, chosen by the mapping or the
    suffix. Rejected rows go to `quarantine`, by default FILE.rejected.csv (or .jsonl)."""
    with open_rows(path, mapping, skip_rows=mapping.skip_rows) as (rows, header, default):
        reader = SurveyReader(
            rows, mapping, header=header, quarantine=quarantine or default, source=source,
            where=str(path),
        )  # fmt: skip
        try:
            yield reader
        finally:
            reader.quarantine.close()


@dataclass(frozen=True)
class SurveyImport:
    file: Path
    read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    duplicates: int
    quarantine: Path | None  # written when a row was rejected or a duplicate

    def line(self) -> str:
        return (
            f"read {self.read}, inserted {self.inserted}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {self.rejected}"
            + (f", duplicates {self.duplicates}" if self.duplicates else "")
        )


def import_survey_file(
    url: str,
    file: Path,
    mapping: Path,
    *,
    source: str | None = None,
    quarantine: Path | None = None,
) -> SurveyImport:
    """Import one export in one transaction: all of it or, on an error, nothing. Raises
    MappingError, MissingColumns, StoreUnavailable, OSError, UnicodeDecodeError or ValueError
    (e.g. broken JSON)."""
    spec = load_survey_mapping(mapping)
    with (
        store_transaction(url) as conn,
        open_survey_export(file, spec, source=source, quarantine=quarantine) as reader,
    ):
        counts = upsert_responses(conn, reader)
    q = reader.quarantine
    return SurveyImport(
        file, reader.read, counts.inserted, counts.updated, counts.unchanged, reader.rejected,
        reader.duplicates, q.path if q.count else None,
    )  # fmt: skip
