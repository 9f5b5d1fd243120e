"""Security scan and update review adapters against real local servers and real files:
TLS facts and headers from an HTTPS server with a throwaway CA, an OSV feed served as a zip and
as JSON, a fake PyPI JSON API, and lock files written here."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import ssl
import time
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from postdeploy.adapters.lockfiles import LockfileError, read_pins
from postdeploy.adapters.osv import FeedUnavailable, load_feed, pep440_compare
from postdeploy.adapters.package_index import latest_versions
from postdeploy.adapters.tls import Endpoint, EndpointFacts, inspect_many
from postdeploy.domain.security import judge_headers, vulnerabilities
from tests.conftest import need
from tests.integration.test_probes import Pki, free_port, http_server, serving

HARDENED = {
    "Strict-Transport-Security": "max-age=63072000",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
ADVISORY = {
    "id": "GHSA-aaaa-bbbb-cccc",
    "summary": "request smuggling",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "Requests"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.32.0"}]}
            ],
        }
    ],
    "database_specific": {"severity": "HIGH"},
}


def handler(headers: dict[str, str], routes: dict[str, bytes] | None = None) -> type:
    class Handler(BaseHTTPRequestHandler):
        server_version, sys_version = "shop", ""  # not the default "BaseHTTP/0.6 Python/3…"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = (routes or {"/": b"ok"}).get(self.path)
            self.send_response(200 if body is not None else 404)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    return Handler


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@contextmanager
def https(
    pki: Pki, headers: dict[str, str], days: int = 365, legacy: bool = False
) -> Iterator[str]:
    cert_file, key_file, _ = pki.issue(f"srv-{days}-{legacy}", dt.timedelta(days=days))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    if legacy:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.set_ciphers("ALL:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    server = http_server(handler(headers))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with serving(server, scheme="https") as url:
        yield url


def inspect(*endpoints: Endpoint) -> list[EndpointFacts]:
    return asyncio.run(inspect_many(list(endpoints)))


# --- TLS and headers --------------------------------------------------------------------------


def test_a_modern_server_negotiates_tls_1_3_and_reports_its_certificate_expiry(pki: Pki) -> None:
    with https(pki, HARDENED, days=20) as url:
        (facts,) = inspect(Endpoint("shop", "home", url, str(pki.ca_file)))
    assert (facts.protocol, facts.tls_error, facts.error) == ("TLSv1.3", None, None)
    assert facts.expires_at is not None
    assert 19 < (facts.expires_at - time.time()) / 86400 < 21
    assert facts.legacy_accepted == ()
    assert judge_headers("shop", "home", facts.headers, https=True) == []


def test_a_server_still_speaking_tls_1_0_and_1_1_is_caught(pki: Pki) -> None:
    with https(pki, HARDENED, legacy=True) as url:
        (facts,) = inspect(Endpoint("shop", "home", url, str(pki.ca_file)))
    assert facts.protocol == "TLSv1.2"
    if not facts.legacy_accepted:
        need("TLS 1.0/1.1", "this OpenSSL build cannot speak them even at security level 0")
    assert facts.legacy_accepted == ("TLSv1", "TLSv1.1")


def test_missing_security_headers_are_read_from_the_real_response(pki: Pki) -> None:
    with https(pki, {"X-Powered-By": "Express 4.17.1"}) as url:
        (facts,) = inspect(Endpoint("shop", "home", url, str(pki.ca_file)))
    rules = {f.rule for f in judge_headers("shop", "home", facts.headers, https=True)}
    assert {"strict-transport-security", "content-security-policy", "x-powered-by"} <= rules


def test_an_untrusted_certificate_is_a_tls_error_not_a_crash(pki: Pki) -> None:
    with https(pki, HARDENED) as url:
        (facts,) = inspect(Endpoint("shop", "home", url))  # no ca_file: unknown CA
    assert facts.tls_error and "certificate verify failed" in facts.tls_error


def test_a_port_nothing_listens_on_is_reported_unreachable() -> None:
    (facts,) = inspect(Endpoint("shop", "home", f"https://127.0.0.1:{free_port()}/", timeout_s=2))
    assert facts.error and facts.error.startswith("unreachable")


def test_plain_http_endpoints_have_headers_but_no_tls_facts() -> None:
    with serving(http_server(handler({"X-Powered-By": "PHP/7.4.3"}))) as url:
        (facts,) = inspect(Endpoint("shop", "home", url))
    assert facts.protocol is None and facts.headers["x-powered-by"] == "PHP/7.4.3"


# --- OSV feeds --------------------------------------------------------------------------------


def zipped(*records: Mapping[str, object]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for r in records:
            archive.writestr(f"{r['id']}.json", json.dumps(r))
    return buffer.getvalue()


def test_an_osv_zip_and_a_json_list_served_over_http_load_the_same_advisories() -> None:
    other = {**ADVISORY, "id": "PYSEC-2026-1"}
    routes = {
        "/all.zip": zipped(ADVISORY, other),
        "/feed.json": json.dumps([ADVISORY, other]).encode(),
    }
    with serving(http_server(handler({}, routes))) as url:
        from_zip = load_feed(f"{url}/all.zip")
        from_json = load_feed(f"{url}/feed.json")
    assert sorted(a.id for a in from_zip) == sorted(a.id for a in from_json)
    assert sorted(a.id for a in from_zip) == ["GHSA-aaaa-bbbb-cccc", "PYSEC-2026-1"]


def test_a_directory_of_osv_files_matches_pinned_versions_with_pep_440(tmp_path: Path) -> None:
    (tmp_path / "GHSA-aaaa-bbbb-cccc.json").write_text(json.dumps(ADVISORY))
    advisories = load_feed(str(tmp_path))
    pins = [("requests", "2.32.0rc1"), ("requests", "2.32.0")]
    found = vulnerabilities("shop", "PyPI", pins, advisories, pep440_compare)
    assert [f.summary.split(":")[0] for f in found] == ["requests 2.32.0rc1"]
    assert found[0].severity == "high"


def test_an_unreachable_or_missing_feed_raises_feed_unavailable_naming_it(tmp_path: Path) -> None:
    with pytest.raises(FeedUnavailable, match="unreachable"):
        load_feed(f"http://127.0.0.1:{free_port()}/all.zip", timeout=2)
    with pytest.raises(FeedUnavailable, match="no such directory"):
        load_feed(str(tmp_path / "nope"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(FeedUnavailable, match="not OSV JSON"):
        load_feed(str(tmp_path))


# --- package index ----------------------------------------------------------------------------


def test_the_latest_versions_come_from_a_pypi_style_json_api() -> None:
    routes = {
        "/pypi/flask/json": json.dumps({"info": {"version": "3.0.3"}}).encode(),
        "/pypi/@scope%2Fpkg/json": json.dumps({"dist-tags": {"latest": "5.1.0"}}).encode(),
    }
    with serving(http_server(handler({}, routes))) as url:
        got = asyncio.run(
            latest_versions(["flask", "ghost", "@scope/pkg"], template=f"{url}/pypi/{{name}}/json")
        )
    assert got["flask"].version == "3.0.3"
    assert got["@scope/pkg"].version == "5.1.0"
    assert (got["ghost"].version, got["ghost"].error) == (None, "not in the package index")


def test_an_unreachable_package_index_is_an_error_per_package_not_an_exception() -> None:
    template = f"http://127.0.0.1:{free_port()}/pypi/{{name}}/json"
    got = asyncio.run(latest_versions(["flask"], template=template, timeout=2))
    assert got["flask"].version is None and "unreachable" in (got["flask"].error or "")


# --- lock files -------------------------------------------------------------------------------


def test_requirements_pins_skip_options_comments_and_unpinned_lines(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(
        "# top\n-r base.txt\n--index-url https://x\nFlask==1.1.2  # web\n"
        "requests[socks]==2.25.1 ; python_version >= '3.8' \\\n    --hash=sha256:abc\n"
        "urllib3>=1.26\nJinja2===2.11.3\n"
    )
    assert read_pins(path) == [("Flask", "1.1.2"), ("Jinja2", "2.11.3"), ("requests", "2.25.1")]


def test_poetry_lock_packages_are_read(tmp_path: Path) -> None:
    path = tmp_path / "poetry.lock"
    path.write_text(
        '[[package]]\nname = "django"\nversion = "3.2.25"\n\n'
        '[[package]]\nname = "sqlparse"\nversion = "0.4.4"\n\n[metadata]\nlock-version = "2.0"\n'
    )
    assert read_pins(path) == [("django", "3.2.25"), ("sqlparse", "0.4.4")]


def test_package_lock_v3_and_v1_give_every_installed_package(tmp_path: Path) -> None:
    v3 = tmp_path / "package-lock.json"
    v3.write_text(json.dumps({"lockfileVersion": 3, "packages": {
        "": {"name": "app", "version": "1.0.0"},
        "node_modules/lodash": {"version": "4.17.20"},
        "node_modules/a/node_modules/@scope/b": {"version": "2.0.0"},
    }}))  # fmt: skip
    assert read_pins(v3, "npm") == [("@scope/b", "2.0.0"), ("lodash", "4.17.20")]
    v1 = tmp_path / "v1" / "package-lock.json"
    v1.parent.mkdir()
    v1.write_text(json.dumps({"lockfileVersion": 1, "dependencies": {
        "express": {"version": "4.17.1", "dependencies": {"qs": {"version": "6.7.0"}}},
    }}))  # fmt: skip
    assert read_pins(v1, "npm") == [("express", "4.17.1"), ("qs", "6.7.0")]


def test_a_pinned_npm_list_and_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "pins.txt"
    path.write_text("lodash@4.17.20\n@scope/pkg@1.2.3\n")
    assert read_pins(path, "npm") == [("@scope/pkg", "1.2.3"), ("lodash", "4.17.20")]
    with pytest.raises(LockfileError, match="cannot read"):
        read_pins(tmp_path / "nope.txt")


def test_a_folder_of_json_files_serves_as_an_offline_package_index(tmp_path: Path) -> None:
    (tmp_path / "flask.json").write_text(json.dumps({"info": {"version": "3.0.3"}}))
    template = str(tmp_path / "{name}.json")
    got = asyncio.run(latest_versions(["flask", "ghost"], template=template))
    assert (got["flask"].version, got["ghost"].error) == ("3.0.3", "not in the package index")
