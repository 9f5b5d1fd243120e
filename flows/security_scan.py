"""security-scan (weekly): TLS protocol and certificate expiry, HTTP security headers, and
dependencies matched against an OSV advisory feed; high and critical findings raise alerts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from prefect import flow, get_run_logger

from flows.common import catalog as load
from flows.common import store_url, with_store_retries
from postdeploy.adapters.osv import compare_for
from postdeploy.adapters.tls import Endpoint, EndpointFacts
from postdeploy.catalog import Catalog
from postdeploy.domain.security import Finding, judge_headers, judge_tls, vulnerabilities
from postdeploy.reporting.security import EndpointRow, ServiceScan
from postdeploy.settings import get_settings
from tasks.security import (
    inspect_endpoints,
    load_advisories,
    read_dependencies,
    record_findings,
    write_security_report,
)


def plan_endpoints(cat: Catalog) -> list[Endpoint]:
    """Headers once per service (its url, else its first check); TLS once per https host:port."""
    out = []
    for s in cat.services:
        seen: set[tuple[str, int | None]] = set()
        urls: list[tuple[str, str, Path | None, bool]] = []
        if s.url:
            urls.append((s.url, "service", None, True))
        urls += [(s.check_url(c), c.name, c.ca_file, not urls and i == 0)
                 for i, c in enumerate(s.checks)]  # fmt: skip
        ca = {urlsplit(s.check_url(c)).netloc: c.ca_file for c in s.checks if c.ca_file}
        for url, name, ca_file, headers in urls:
            parts = urlsplit(url)
            key = (parts.hostname or "", parts.port)
            if key in seen and not headers:
                continue
            if parts.scheme != "https" and not headers:
                continue
            seen.add(key)
            ca_file = ca_file or ca.get(parts.netloc)
            out.append(Endpoint(s.name, name, url, str(ca_file) if ca_file else None,
                                cat.security.timeout.total_seconds(), headers))  # fmt: skip
    return out


def _row(f: EndpointFacts) -> EndpointRow:
    stamp = ""
    if f.expires_at is not None:
        stamp = "valid until " + time.strftime("%Y-%m-%d", time.gmtime(f.expires_at))
    legacy = f" (also accepts {', '.join(f.legacy_accepted)})" if f.legacy_accepted else ""
    https = f.endpoint.url.startswith("https:")
    protocol = (f.protocol or "?") + legacy if https else "plain HTTP"
    return EndpointRow(f.endpoint.check, f.endpoint.url, protocol, stamp, f.error or "")


@flow(name="security-scan", description="TLS, security headers and vulnerable dependencies.")
def security_scan(
    catalog_path: str | None = None, store_block: str | None = None
) -> dict[str, Any]:
    """Write reports/security/<ISO week>/, the `security-scan` artifact, and alerts.

    Args:
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG.
        store_block: a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
    """
    logger = get_run_logger()
    cat = load(catalog_path)
    sec, now = cat.security, time.time()
    source = sec.advisories
    if sec.advisories_block:
        from prefect.blocks.system import Secret

        source = str(Secret.load(sec.advisories_block).get())  # type: ignore[union-attr]
    advisories, feed = load_advisories(source, sec.timeout.total_seconds())
    facts = cast(list[EndpointFacts], inspect_endpoints.submit(plan_endpoints(cat)).result())
    files = {s.name: (str(s.dependencies.file), s.dependencies.ecosystem)
             for s in cat.services if s.dependencies}  # fmt: skip
    pins = read_dependencies(files)

    findings: list[Finding] = []
    unchecked: list[tuple[str, str]] = []
    scans = []
    for s in cat.services:
        mine = [f for f in facts if f.endpoint.service == s.name]
        found: list[Finding] = []
        for f in mine:
            if f.error and f.protocol is None and f.tls_error is None:
                unchecked += [(s.name, "tls"), (s.name, "header")]
                continue
            if f.endpoint.url.startswith("https:"):
                found += judge_tls(
                    s.name, f.endpoint.check, protocol=f.protocol, expires_at=f.expires_at,
                    now=now, legacy_accepted=f.legacy_accepted, error=f.tls_error,
                )  # fmt: skip
            if f.endpoint.headers and (f.error or f.tls_error):
                unchecked.append((s.name, "header"))  # no response: keep header alerts open
            elif f.endpoint.headers:
                https = f.endpoint.url.startswith("https:")
                found += judge_headers(s.name, f.endpoint.check, f.headers, https=https)
        deps = "no `dependencies:` in the catalog"
        if s.dependencies:
            got = pins[s.name]
            if isinstance(got, str):
                deps, got = got, []
            else:
                deps = f"{s.dependencies.file} ({s.dependencies.ecosystem}, {len(got)} pinned)"
            if isinstance(pins[s.name], str) or not source or feed.startswith("UNAVAILABLE"):
                unchecked.append((s.name, "vulnerability"))
            eco = s.dependencies.ecosystem
            found += vulnerabilities(s.name, eco, got, advisories, compare_for(eco))
        findings += found
        scans.append(ServiceScan(s.name, [_row(f) for f in mine], found, deps))

    opened, resolved = with_store_retries(record_findings)(
        store_url(store_block), findings, sorted(set(unchecked)), now
    )
    path = write_security_report(scans, feed, get_settings().reports_dir, now)
    logger.info("security scan: %s findings, %s alerts opened, %s resolved; %s",
                len(findings), len(opened), len(resolved), path)  # fmt: skip
    return {
        "findings": {s.name: [f.summary for f in s.findings] for s in scans if s.findings},
        "alerts_opened": len(opened),
        "alerts_resolved": len(resolved),
        "feed": feed,
        "report": str(path),
    }
