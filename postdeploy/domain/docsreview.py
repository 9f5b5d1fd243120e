"""Documentation review: staleness against the last deploy, broken internal links, and the
documents the support guide requires."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

DAY = 86400.0
# Support guide, "Documentation": every service keeps these, under any file name containing one
# of the words.
REQUIRED: dict[str, tuple[str, ...]] = {
    "architecture": ("architecture", "design"),
    "API": ("api", "openapi"),
    "troubleshooting": ("troubleshooting", "faq"),
    "runbook": ("runbook", "playbook", "operations"),
    "release notes": ("release-notes", "releasenotes", "changelog", "changes", "history"),
}
_MD_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REF_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
_HREF = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""", re.I)


@dataclass(frozen=True)
class DocFile:
    changed_at: float
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocsReview:
    service: str
    newest_change: float | None
    last_deploy: float | None
    stale: bool
    missing: tuple[str, ...]
    broken_links: tuple[tuple[str, str], ...]  # (document, link)
    problem: str | None = None
    found: dict[str, str] = field(default_factory=dict)  # required document -> file

    @property
    def ok(self) -> bool:
        return not (self.stale or self.missing or self.broken_links or self.problem)


def links_in(text: str) -> tuple[str, ...]:
    """Markdown inline and reference links, and HTML href/src targets, in order."""
    found = [*_MD_LINK.findall(text), *_REF_LINK.findall(text), *_HREF.findall(text)]
    return tuple(dict.fromkeys(found))


def internal_target(document: str, link: str) -> str | None:
    """The docs-relative path a relative link points at; None for URLs and in-page anchors."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", link) or link.startswith(("#", "//")):
        return None
    path = link.split("#", 1)[0].split("?", 1)[0]
    if not path:
        return None
    if path.startswith("/"):
        return posixpath.normpath(path.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(document), path))


def _words(path: str) -> str:
    return re.sub(r"[\s_.]+", "-", path.lower())


def review_docs(
    service: str,
    files: Mapping[str, DocFile],
    *,
    last_deploy: float | None,
    present: frozenset[str] = frozenset(),
    grace_s: float = 0.0,
) -> DocsReview:
    """`files` are the documents by docs-relative POSIX path; `present` holds other existing
    paths (directories, assets, targets outside the folder as '../x')."""
    exists = set(files) | set(present)
    exists |= {posixpath.dirname(p) for p in files if posixpath.dirname(p)}
    broken = tuple(
        (doc, link)
        for doc, facts in sorted(files.items())
        for link in facts.links
        if (target := internal_target(doc, link)) is not None
        and target not in exists
        and target.rstrip("/") not in exists
    )
    found: dict[str, str] = {}
    for title, words in REQUIRED.items():
        for path in sorted(files):
            if any(w in _words(path) for w in words):
                found[title] = path
                break
    missing = tuple(t for t in REQUIRED if t not in found)
    newest = max((f.changed_at for f in files.values()), default=None)
    behind = last_deploy is not None and newest is not None and newest + grace_s < last_deploy
    stale = behind or newest is None
    return DocsReview(service, newest, last_deploy, stale, missing, broken, None, found)


def staleness(review: DocsReview) -> str:
    if review.newest_change is None:
        return "no documents"
    if review.last_deploy is None:
        return "no deploy recorded"
    days = (review.last_deploy - review.newest_change) / DAY
    if review.stale:
        return f"last change {days:.0f} days before the last deploy"
    return "changed since the last deploy"
