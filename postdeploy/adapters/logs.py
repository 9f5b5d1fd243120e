"""Log readers: files and globs; plain text split by a regex or a logparser-style layout, or
JSON lines. Bytes are decoded with replacement, so binary or non-UTF-8 input never stops a
review; a line the parser cannot read is kept, flagged unparsed, never dropped."""

from __future__ import annotations

import glob
import gzip
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol, cast


class LogInputError(ValueError):
    """Bad reader input: a missing file, an invalid pattern or layout, unknown JSON keys."""


@dataclass(frozen=True)
class LogRecord:
    path: str
    line_no: int
    timestamp: str | None
    level: str | None
    message: str
    fields: Mapping[str, str] = field(default_factory=dict)
    parsed: bool = True


class LineParser(Protocol):
    def __call__(self, line: str) -> tuple[str | None, str | None, str, dict[str, str]] | None:
        """(timestamp, level, message, other fields), or None when the line does not parse."""


_FIELD = re.compile(r"(<[^<>]+>)")
_MESSAGE_NAMES = ("content", "message")
_TIME_PARTS = ("month", "date", "day", "time")


def format_to_regex(layout: str) -> re.Pattern[str]:
    """A logparser layout (`<Date> <Time> <Level> <Component>: <Content>`) as a regex.

    As in logparser, text between fields is regex syntax (write `\\[` for a bracket) and a run
    of spaces matches any run of whitespace. `<Content>` (or `<Message>`) becomes the group
    `message`, `<Level>` and `<Timestamp>` become `level` and `timestamp`; other fields keep
    their names.
    """
    regex, names = "", set()
    for i, piece in enumerate(_FIELD.split(layout)):
        if i % 2 == 0:
            regex += re.sub(" +", r"\\s+", piece)
            continue
        name = re.sub(r"\W", "_", piece[1:-1].strip()) or "_"
        if name[0].isdigit():
            name = "_" + name
        lowered = name.lower()
        if lowered in _MESSAGE_NAMES:
            name = "message"
        elif lowered in ("level", "timestamp"):
            name = lowered
        if name in names:
            raise LogInputError(f"--format: field <{piece[1:-1]}> appears twice")
        names.add(name)
        regex += f"(?P<{name}>.*?)"
    if "message" not in names:
        raise LogInputError(
            "--format: no <Content> field: the layout must say where the message is"
        )
    try:
        return re.compile(f"^{regex}$")
    except re.error as exc:
        raise LogInputError(f"--format: not a valid layout ({exc})") from None


def compile_pattern(pattern: str) -> re.Pattern[str]:
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise LogInputError(f"--pattern: invalid regular expression ({exc})") from None
    if "message" not in regex.groupindex:
        raise LogInputError("--pattern: needs a named group `message`, e.g. (?P<message>.*)")
    return regex


def regex_parser(regex: re.Pattern[str], *, strip: bool = False) -> LineParser:
    """Groups `message`, `timestamp` and `level` are the record's; the rest go to fields.
    Without a `timestamp` group, the time is the date and time fields joined (logparser style)."""
    names = list(regex.groupindex)
    time_parts = [n for n in names if n.lower() in _TIME_PARTS]
    others = [n for n in names if n not in ("message", "timestamp", "level")]

    def parse(line: str) -> tuple[str | None, str | None, str, dict[str, str]] | None:
        found = regex.match(line.strip() if strip else line)
        if found is None or found["message"] is None:
            return None
        groups = found.groupdict()
        stamp = groups.get("timestamp")
        if stamp is None and time_parts:
            stamp = " ".join(groups[n] for n in time_parts if groups[n] is not None) or None
        fields = {n: groups[n] for n in others if groups[n] is not None}
        return stamp, groups.get("level"), groups["message"], fields

    return parse


JSON_DEFAULTS: dict[str, tuple[str, ...]] = {
    "message": ("message", "msg", "log"),
    "timestamp": ("timestamp", "@timestamp", "time", "ts"),
    "level": ("level", "severity", "lvl"),
}


def parse_json_fields(spec: str | None) -> dict[str, tuple[str, ...]]:
    """`message=msg,level=lvl` over the defaults; a dotted key (`log.level`) looks inside."""
    keys = dict(JSON_DEFAULTS)
    for item in filter(None, (s.strip() for s in (spec or "").split(","))):
        role, sep, key = item.partition("=")
        if not sep or not key.strip() or role.strip() not in JSON_DEFAULTS:
            raise LogInputError(
                f"--json-fields: {item!r} is not ROLE=KEY with ROLE one of "
                + ", ".join(JSON_DEFAULTS)
            )
        keys[role.strip()] = (key.strip(),)
    return keys


def _lookup(obj: Mapping[str, object], key: str) -> object:
    value: object = obj.get(key)
    if value is None and "." in key:
        value = obj
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
    return value


def json_parser(keys: Mapping[str, Sequence[str]]) -> LineParser:
    def first(obj: Mapping[str, object], role: str) -> str | None:
        for key in keys[role]:
            value = _lookup(obj, key)
            if value is not None:
                return value if isinstance(value, str) else json.dumps(value)
        return None

    used = {k for role in keys.values() for k in role}

    def parse(line: str) -> tuple[str | None, str | None, str, dict[str, str]] | None:
        try:
            obj = json.loads(line)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        message = first(obj, "message")
        if message is None:
            return None
        fields = {
            k: v if isinstance(v, str) else json.dumps(v)
            for k, v in obj.items()
            if k not in used and not isinstance(v, dict | list)
        }
        return first(obj, "timestamp"), first(obj, "level"), message, fields

    return parse


def whole_line(line: str) -> tuple[str | None, str | None, str, dict[str, str]] | None:
    return None, None, line, {}


def expand(paths: Iterable[str]) -> list[Path]:
    """Files named or matched by globs, in order; a name that matches nothing is an error."""
    found: list[Path] = []
    for name in paths:
        if glob.has_magic(name):
            matches = sorted(Path(m) for m in glob.glob(name, recursive=True))
            matches = [m for m in matches if m.is_file()]
            if not matches:
                raise LogInputError(f"{name}: no file matches this pattern")
            found.extend(matches)
        elif Path(name).is_file():
            found.append(Path(name))
        elif Path(name).exists():
            raise LogInputError(f"{name}: not a file")
        else:
            raise LogInputError(f"{name}: no such file")
    return list(dict.fromkeys(found))


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def read_records(paths: Iterable[Path], parse: LineParser = whole_line) -> Iterator[LogRecord]:
    """One record per line of each file, in order; unparsable lines come flagged unparsed."""
    for path in paths:
        with _open(path) as handle:
            for line_no, raw in enumerate(handle, start=1):
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                parsed = parse(line)
                if parsed is None:
                    yield LogRecord(str(path), line_no, None, None, line, {}, parsed=False)
                else:
                    stamp, level, message, fields = parsed
                    yield LogRecord(str(path), line_no, stamp, level, message, fields)


@dataclass(frozen=True)
class Chunk:
    """What a file gained since `offset` (a rotated or truncated file is read from the top)."""

    path: str
    inode: int
    offset: int
    records: list[LogRecord]


def read_new(
    path: Path, inode: int | None, offset: int, parse: LineParser, limit: int = 1 << 30
) -> Chunk:
    """Records of the complete lines appended since (inode, offset); a half-written last line
    waits for the next read. At most `limit` bytes are read per call."""
    stat = path.stat()
    if inode != stat.st_ino or stat.st_size < offset:
        offset = 0  # rotated or truncated: start over
    records: list[LogRecord] = []
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read(min(limit, max(0, stat.st_size - offset)))
    end = data.rfind(b"\n") + 1
    for raw in data[:end].splitlines():
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        parsed = parse(line)
        if parsed is None:
            records.append(LogRecord(str(path), 0, None, None, line, {}, parsed=False))
        else:
            stamp, level, message, fields = parsed
            records.append(LogRecord(str(path), 0, stamp, level, message, fields))
    return Chunk(str(path), stat.st_ino, offset + end, records)


def parser_for(
    pattern: str | None, layout: str | None, json_fields: str | None, json_lines: bool
) -> LineParser:
    """The line parser a log source describes (regex, logparser layout, JSON lines or whole)."""
    if json_lines:
        return json_parser(parse_json_fields(json_fields))
    if pattern:
        return regex_parser(compile_pattern(pattern))
    if layout:
        return regex_parser(format_to_regex(layout), strip=True)
    return whole_line
