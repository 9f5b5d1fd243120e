"""Write report files so that no reader ever sees a partial one (write, then rename).

The text goes to a hidden temporary file beside the target (`.NAME.HOST-PID.RANDOM.tmp`),
which then replaces the target in one rename. A writer killed before the rename (SIGKILL, OOM)
leaves its hidden temporary file behind; the next write of the same file removes those of
writers on this host that are no longer running, and any a day old (another host's, or a
container's whose process ids this one cannot see), so leftovers do not pile up.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from pathlib import Path

STALE_S = 86400  # no writer takes a day: a temporary file this old is a leftover


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: running
        return True
    return True


def _writer() -> str:
    return f"{socket.gethostname().replace('.', '_')}-{os.getpid()}"


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the hidden temporary files of `path` left by writers that died mid-write."""
    prefix, removed = f".{path.name}.", []
    host, _, own = _writer().rpartition("-")
    try:
        entries = list(os.scandir(path.parent))
    except FileNotFoundError:
        return []
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        writer, *rest = name[len(prefix) :].split(".")  # HOST-PID, RANDOM, tmp: nothing else
        their_host, _, pid = writer.rpartition("-")
        if len(rest) != 2 or not pid.isdigit():
            continue
        dead = their_host == host and pid != own and not _alive(int(pid))
        try:
            if dead or time.time() - entry.stat().st_mtime > STALE_S:
                Path(entry.path).unlink(missing_ok=True)
                removed.append(Path(entry.path))
        except FileNotFoundError:  # its writer renamed it meanwhile
            continue
    return removed


def write_atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_writer()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
