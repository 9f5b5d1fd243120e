"""Pinned dependencies from requirements.txt, poetry.lock, package-lock.json or a pinned list."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

Pin = tuple[str, str]  # (name, version)
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;#,]+)")
_NPM_PIN = re.compile(r"^\s*(@?[^\s@]+)@(\S+)\s*$")


class LockfileError(Exception):
    """The dependency file is missing or cannot be read as its kind."""


def read_pins(path: Path, ecosystem: str = "PyPI") -> list[Pin]:
    """Exact pins, sorted by name; unpinned requirements (>=, ~=, none) cannot be judged."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LockfileError(f"cannot read {path}: {exc}") from None
    try:
        if path.name == "poetry.lock" or path.suffix == ".lock" and "[[package]]" in text:
            pins = _poetry(text)
        elif path.name.endswith(".json"):
            pins = _package_lock(json.loads(text))
        else:
            pins = _lines(text, ecosystem)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LockfileError(f"{path} is not a valid {path.name}: {exc}") from None
    return sorted(set(pins))


def _lines(text: str, ecosystem: str) -> list[Pin]:
    pins = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue  # comments, -r/-c includes, --hash and index options
        line = line.rstrip("\\").strip()
        if ecosystem == "npm" and (m := _NPM_PIN.match(line)):
            pins.append((m[1], m[2]))
        elif m := _PIN.match(line):
            pins.append((m[1], m[2]))
        elif len(parts := line.split()) == 2 and parts[1][:1].isdigit():
            pins.append((parts[0], parts[1]))  # "name version"
    return pins


def _poetry(text: str) -> list[Pin]:
    data = tomllib.loads(text)
    return [(str(p["name"]), str(p["version"])) for p in data.get("package", [])]


def _package_lock(data: dict[str, object]) -> list[Pin]:
    packages = data.get("packages")
    if isinstance(packages, dict):  # lockfileVersion 2 and 3
        return [
            (str(meta.get("name") or key.rsplit("node_modules/", 1)[1]), str(meta["version"]))
            for key, meta in packages.items()
            if key and "node_modules/" in key and "version" in meta and not meta.get("link")
        ]
    pins: list[Pin] = []
    todo = [data.get("dependencies") or {}]
    while todo:  # lockfileVersion 1 nests dependencies
        deps = todo.pop()
        assert isinstance(deps, dict)
        for name, meta in deps.items():
            pins.append((str(name), str(meta["version"])))
            todo.append(meta.get("dependencies") or {})
    return pins
