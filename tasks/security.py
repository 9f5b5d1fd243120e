"""Security scan and update review tasks: thin wrappers over the adapters, batched per stage."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection

from postdeploy.adapters.lockfiles import LockfileError, Pin, read_pins
from postdeploy.adapters.osv import FeedUnavailable, load_feed
from postdeploy.adapters.package_index import Latest, latest_versions
from postdeploy.adapters.tls import Endpoint, EndpointFacts, inspect_many
from postdeploy.domain.docsreview import DocFile, links_in
from postdeploy.domain.security import Advisory, Finding
from postdeploy.reporting import security as security_report
from postdeploy.reporting import updates as updates_report
from postdeploy.store.deployments import deployments_between
from postdeploy.store.findings import FindingAlert, sync_findings
from postdeploy.store.session import in_store

SOURCE = "security"  # the alert table's source for scan findings
ALERT_NAMES = {
    "tls": "TlsProblem",
    "header": "SecurityHeader",
    "vulnerability": "VulnerableDependency",
}
DOC_SUFFIXES = {".md", ".markdown", ".rst", ".txt", ".html", ".htm", ".adoc"}


@task(name="inspect-endpoints", cache_policy=NO_CACHE)
async def inspect_endpoints(endpoints: Sequence[Endpoint]) -> list[EndpointFacts]:
    return await inspect_many(endpoints)


@task(name="load-advisories", retries=1, retry_delay_seconds=5, cache_policy=NO_CACHE)
def load_advisories(source: str | None, timeout_s: float) -> tuple[list[Advisory], str]:
    """(advisories, what the report says about the feed); an unreadable feed is not an error."""
    if not source:
        return [], "none configured (`security.advisories` in the catalog)"
    try:
        advisories = load_feed(source, timeout=timeout_s)
    except FeedUnavailable as exc:
        get_run_logger().warning("%s", exc)
        return [], f"UNAVAILABLE: {exc}"
    return advisories, f"{source} ({len(advisories)} advisories)"


@task(name="read-dependencies", cache_policy=NO_CACHE)
def read_dependencies(files: Mapping[str, tuple[str, str]]) -> dict[str, list[Pin] | str]:
    """Each service's pins by (file, ecosystem); a string says why they could not be read."""
    out: dict[str, list[Pin] | str] = {}
    for service, (path, ecosystem) in files.items():
        try:
            out[service] = read_pins(Path(path), ecosystem)
        except LockfileError as exc:
            out[service] = f"UNREADABLE: {exc}"
    return out


@task(name="latest-versions", cache_policy=NO_CACHE)
async def fetch_latest(names: Sequence[str], template: str, timeout_s: float) -> dict[str, Latest]:
    return await latest_versions(sorted(set(names)), template=template, timeout=timeout_s)


@task(name="record-security-findings", cache_policy=NO_CACHE)
def record_findings(
    url: str, findings: Sequence[Finding], unchecked: Sequence[tuple[str, str]], now: float
) -> tuple[list[str], list[str]]:
    """High and critical findings as alerts of source "security"; (opened, resolved)."""
    alerts = [
        FindingAlert(
            f.fingerprint, ALERT_NAMES[f.kind], f.service, f.severity, f.summary,
            {"kind": f.kind, "subject": f.subject, "rule": f.rule},
        )
        for f in findings
        if f.severity in ("critical", "high")
    ]  # fmt: skip
    at = datetime.fromtimestamp(now, UTC)
    return in_store(
        url,
        lambda conn: sync_findings(
            conn, source=SOURCE, findings=alerts, now=at, unchecked=set(unchecked)
        ),
    )


@task(name="write-security-report", cache_policy=NO_CACHE)
def write_security_report(
    services: list[security_report.ServiceScan], feed: str, reports_dir: Path, now: float
) -> Path:
    path, md = security_report.write_report(services, feed=feed, out_dir=reports_dir, now=now)
    create_markdown_artifact(
        key="security-scan", markdown=md + f"\nHTML: `{path.resolve()}`\n",
        description="TLS, security headers and vulnerable dependencies",
    )  # fmt: skip
    return path


@task(name="last-deploys", cache_policy=NO_CACHE)
def last_deploys(url: str, services: Sequence[str], now: float) -> dict[str, float]:
    def read(conn: Connection) -> dict[str, float]:
        out = {}
        for name in services:
            rows = deployments_between(
                conn,
                service=name,
                since=datetime.fromtimestamp(0, UTC),
                until=datetime.fromtimestamp(now, UTC),
            )
            if rows:
                out[name] = rows[-1][0].timestamp()
        return out

    return in_store(url, read)


def _changed_at(path: Path) -> float:
    """The last commit touching the file when it is in a git work tree, else its mtime: a
    checkout resets mtimes, commits keep the date the text changed."""
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%ct", "--", path.name],
            cwd=path.parent, capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
        if out.returncode == 0 and out.stdout.strip():
            return float(out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return path.stat().st_mtime


@task(name="read-docs", cache_policy=NO_CACHE)
def read_docs(
    folders: Mapping[str, str],
) -> dict[str, tuple[dict[str, DocFile], frozenset[str]] | str]:
    """Each service's documents with their last change and links, and the other paths that
    exist (assets, directories, link targets outside the folder); a string when unreadable."""
    out: dict[str, tuple[dict[str, DocFile], frozenset[str]] | str] = {}
    for service, folder in folders.items():
        root = Path(folder)
        if not root.is_dir():
            out[service] = f"UNAVAILABLE: docs folder {folder} does not exist"
            continue
        files: dict[str, DocFile] = {}
        present: set[str] = set()
        try:
            for path in sorted(root.rglob("*")):
                rel = path.relative_to(root).as_posix()
                if path.is_dir() or path.suffix.lower() not in DOC_SUFFIXES:
                    present.add(rel)
                    continue
                text = path.read_text(encoding="utf-8", errors="replace")
                files[rel] = DocFile(_changed_at(path), links_in(text))
        except OSError as exc:
            out[service] = f"UNAVAILABLE: cannot read docs folder {folder}: {exc}"
            continue
        for doc, facts in files.items():  # targets outside the folder: look them up here
            for link in facts.links:
                target = os.path.normpath(os.path.join(os.path.dirname(doc), link.split("#")[0]))
                if target.startswith("..") and (root / target).exists():
                    present.add(Path(target).as_posix())
        out[service] = (files, frozenset(present))
    return out


@task(name="write-update-report", cache_policy=NO_CACHE)
def write_update_report(
    services: list[updates_report.ServiceUpdates], index: str, reports_dir: Path, now: float
) -> Path:
    path, md = updates_report.write_report(services, index=index, out_dir=reports_dir, now=now)
    create_markdown_artifact(
        key="update-review", markdown=md + f"\nHTML: `{path.resolve()}`\n",
        description="Dependencies behind their latest major, end of life, documentation",
    )  # fmt: skip
    return path
