"""OSV advisory feeds: a directory of OSV JSON files, or a URL serving a JSON list or a zip."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from packaging.version import InvalidVersion, Version

from postdeploy.domain.security import Advisory, Compare, parse_advisory, semver_compare


class FeedUnavailable(Exception):
    """The advisory feed could not be read; the message says where and why."""


def pep440_compare(a: str, b: str) -> int:
    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion as exc:
        raise ValueError(str(exc)) from None
    return (va > vb) - (va < vb)


def compare_for(ecosystem: str) -> Compare:
    return pep440_compare if ecosystem == "PyPI" else semver_compare


def _records(data: Any) -> Iterable[dict[str, Any]]:
    if isinstance(data, dict) and "vulns" in data:
        data = data["vulns"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ValueError("expected an OSV record, a list of them, or {vulns: [...]}")
    return (r for r in data if isinstance(r, dict) and "id" in r)


def _parse(blobs: Iterable[tuple[str, bytes]]) -> list[Advisory]:
    out: list[Advisory] = []
    for name, blob in blobs:
        try:
            out.extend(parse_advisory(r) for r in _records(json.loads(blob)))
        except (ValueError, TypeError, AttributeError) as exc:
            raise FeedUnavailable(f"{name}: not OSV JSON: {exc}") from None
    return out


def _from_zip(blob: bytes, where: str) -> list[Advisory]:
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            names = [n for n in archive.namelist() if n.endswith(".json")]
            return _parse((f"{where}!{n}", archive.read(n)) for n in names)
    except zipfile.BadZipFile as exc:
        raise FeedUnavailable(f"{where}: bad zip: {exc}") from None


def load_feed(
    source: str, *, timeout: float = 30.0, client: httpx.Client | None = None
) -> list[Advisory]:
    """Every advisory of the feed; FeedUnavailable when it cannot be read at all."""
    if urlsplit(source).scheme in ("http", "https"):
        try:
            if client is None:
                with httpx.Client(timeout=timeout, follow_redirects=True) as own:
                    response = own.get(source)
            else:
                response = client.get(source)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise FeedUnavailable(f"advisory feed {source} unreachable: {exc}") from None
        if response.content[:2] == b"PK":
            return _from_zip(response.content, source)
        return _parse([(source, response.content)])
    folder = Path(source.removeprefix("file://"))
    if folder.is_file() and folder.suffix == ".zip":
        return _from_zip(folder.read_bytes(), str(folder))
    if folder.is_file():
        return _parse([(str(folder), folder.read_bytes())])
    if not folder.is_dir():
        raise FeedUnavailable(f"advisory feed {source}: no such directory")
    return _parse((str(p), p.read_bytes()) for p in sorted(folder.rglob("*.json")))
