"""Release notes: reports/releases.md, newest deployment first, one entry per deployment."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from postdeploy.reporting.files import write_atomic

HEADER = "# Releases\n\nWritten by postdeploy's post-deploy checks, newest first.\n"


def entry(
    *,
    deployment_id: int,
    service: str,
    version: str,
    environment: str,
    deployed_at: datetime,
    commit: str | None,
    verdict: str,
    reasons: list[str],
    checks: list[str],
) -> str:
    marker = f"<!-- deployment:{deployment_id} -->"
    lines = [
        marker,
        f"## {service} {version} ({environment}): {verdict.upper()}",
        "",
        f"- deployed {deployed_at:%Y-%m-%d %H:%M} UTC" + (f", commit `{commit}`" if commit else ""),
    ]
    lines += [f"- {c}" for c in checks]
    lines += [f"- **{r}**" for r in reasons]
    return "\n".join(lines) + "\n"


def append_release(path: Path, text: str) -> Path:
    """Put the entry first; an entry for the same deployment is replaced, not repeated."""
    marker = text.splitlines()[0]
    old = path.read_text(encoding="utf-8") if path.exists() else HEADER
    body = old[len(HEADER) :] if old.startswith(HEADER) else old
    kept = [e for e in body.split("\n<!-- deployment:") if e.strip()]
    kept = [e if e.startswith("<!--") else "<!-- deployment:" + e for e in kept]
    kept = [e for e in kept if not e.startswith(marker)]
    return write_atomic(path, HEADER + "\n" + "\n".join([text, *kept]).rstrip() + "\n")
