"""security-scan on a real Prefect server: the sample service's headers, pinned dependencies
against an OSV directory, findings as alerts the alerting flow routes, and a dead feed."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from sqlalchemy import select

from flows.security_scan import security_scan
from postdeploy.settings import get_settings
from postdeploy.store.alerts import dispatch_alerts
from postdeploy.store.migrate import upgrade
from postdeploy.store.schema import alert
from postdeploy.store.session import store_transaction
from tests.conftest import free_port

ADVISORY = {
    "id": "GHSA-test-0001",
    "summary": "sandbox escape",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "Jinja2"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.4"}]}],
        }
    ],
    "database_specific": {"severity": "CRITICAL"},
}


def setup(tmp: Path, sample: str, advisories: str, pins: str) -> Path:
    upgrade(get_settings().database_url)
    (tmp / "requirements.txt").write_text(pins)
    catalog = tmp / "catalog.yaml"
    catalog.write_text(
        yaml.safe_dump(
            {
                "services": [
                    {
                        "name": "sample",
                        "url": sample,
                        "checks": [{"name": "health", "url": "/healthz"}],
                        "dependencies": {"file": str(tmp / "requirements.txt")},
                    }
                ],
                "security": {"advisories": advisories, "timeout": "3s"},
            }
        )
    )
    return catalog


def security_alerts() -> dict[str, str]:
    with store_transaction(get_settings().database_url) as conn:
        rows = conn.execute(select(alert).where(alert.c.source == "security"))
        return {f"{r.name}:{r.labels['subject']}": r.status for r in rows}


def test_a_vulnerable_pin_raises_an_alert_that_resolves_once_upgraded(
    settings_env: Path, sample_service: str
) -> None:
    feed = settings_env / "osv"
    feed.mkdir()
    (feed / "GHSA-test-0001.json").write_text(json.dumps(ADVISORY))
    catalog = setup(settings_env, sample_service, str(feed), "jinja2==2.11.3\nflask==3.0.3\n")

    result = security_scan(catalog_path=str(catalog))

    assert result["alerts_opened"] == 1
    assert any("GHSA-test-0001" in s for s in result["findings"]["sample"])
    assert security_alerts() == {"VulnerableDependency:jinja2": "firing"}
    with store_transaction(get_settings().database_url) as conn:
        routed = dispatch_alerts(conn, told=[])
    assert [a.labels["alertname"] for a in routed] == ["VulnerableDependency"]
    assert routed[0].labels["severity"] == "critical"
    html = Path(result["report"]).read_text()
    assert "GHSA-test-0001" in html and "content-security-policy" in html

    (settings_env / "requirements.txt").write_text("jinja2==3.1.4\nflask==3.0.3\n")
    again = security_scan(catalog_path=str(catalog))

    assert (again["alerts_opened"], again["alerts_resolved"]) == (0, 1)
    assert security_alerts() == {"VulnerableDependency:jinja2": "resolved"}


def test_an_unreachable_feed_is_reported_and_the_rest_of_the_scan_still_runs(
    settings_env: Path, sample_service: str
) -> None:
    feed = settings_env / "osv"
    feed.mkdir()
    (feed / "GHSA-test-0001.json").write_text(json.dumps(ADVISORY))
    catalog = setup(settings_env, sample_service, str(feed), "jinja2==2.11.3\n")
    security_scan(catalog_path=str(catalog))
    dead = f"http://127.0.0.1:{free_port()}/all.zip"
    catalog.write_text(catalog.read_text().replace(str(feed), dead))

    result = security_scan(catalog_path=str(catalog))

    assert result["feed"].startswith("UNAVAILABLE") and dead in result["feed"]
    # a scan that could not read the feed says nothing about the open vulnerability alert
    assert security_alerts() == {"VulnerableDependency:jinja2": "firing"}
    headers = [s for s in result["findings"]["sample"] if "content-security-policy" in s]
    assert headers, result["findings"]
    report = Path(result["report"])
    assert "UNAVAILABLE" in report.read_text()
    assert (report.parent / "report.md").exists()


def test_tls_is_read_once_per_https_host_and_headers_once_per_service() -> None:
    from flows.security_scan import plan_endpoints
    from postdeploy.catalog import Catalog

    cat = Catalog.model_validate({"services": [
        {"name": "web", "url": "https://web.example", "checks": [
            {"name": "home", "url": "/"},
            {"name": "api", "url": "https://api.example/health", "ca_file": "/etc/ca.pem"},
            {"name": "api-v2", "url": "https://api.example/v2/health"},
            {"name": "plain", "url": "http://internal.example/health"}]},
        {"name": "batch", "checks": [{"name": "ping", "url": "http://batch.example/ping"}]},
    ]})  # fmt: skip

    planned = [(e.service, e.check, e.ca_file, e.headers) for e in plan_endpoints(cat)]

    assert planned == [
        ("web", "service", None, True),
        ("web", "api", "/etc/ca.pem", False),
        ("batch", "ping", None, True),
    ]
