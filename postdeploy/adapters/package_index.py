"""Latest released versions from a PyPI-style JSON API (or the npm registry), concurrently.
A template without a scheme, or file://, names local JSON files (offline demos, mirrors)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx


@dataclass(frozen=True)
class Latest:
    name: str
    version: str | None
    error: str | None = None


def _latest(data: object) -> str | None:
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("info"), dict):  # PyPI: info.version is the latest release
        return str(data["info"].get("version") or "") or None
    tags = data.get("dist-tags")
    if isinstance(tags, dict) and tags.get("latest"):  # npm
        return str(tags["latest"])
    return str(data["version"]) if data.get("version") else None


def _local(template: str, name: str) -> Latest:
    path = Path(template.removeprefix("file://").replace("{name}", name.replace("/", "__")))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Latest(name, None, "not in the package index")
    except (OSError, ValueError) as exc:
        return Latest(name, None, f"package index file {path} unreadable: {exc}")
    version = _latest(data)
    return Latest(name, version, None if version else "no version in the answer")


async def _one(client: httpx.AsyncClient, template: str, name: str) -> Latest:
    if urlsplit(template).scheme not in ("http", "https"):
        return _local(template, name)
    url = template.replace("{name}", quote(name, safe="@"))
    try:
        response = await client.get(url)
    except httpx.HTTPError as exc:
        return Latest(name, None, f"package index unreachable: {type(exc).__name__}: {exc}")
    if response.status_code == 404:
        return Latest(name, None, "not in the package index")
    if response.status_code >= 400:
        return Latest(name, None, f"package index answered HTTP {response.status_code}")
    try:
        version = _latest(response.json())
    except ValueError:
        return Latest(name, None, "package index answered with something other than JSON")
    return Latest(name, version, None if version else "no version in the answer")


async def latest_versions(
    names: Sequence[str], *, template: str, timeout: float = 10.0, concurrency: int = 16
) -> dict[str, Latest]:
    """Each package's latest version; failures are per package, never raised."""
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:

        async def bounded(name: str) -> Latest:
            async with gate:
                return await _one(client, template, name)

        return {r.name: r for r in await asyncio.gather(*(bounded(n) for n in names))}
