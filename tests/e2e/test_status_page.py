"""The status page in a real headless Chromium: it renders, on a desktop and a phone, and
nothing it asks for leaves localhost. Screenshots are kept in tests/artifacts/."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from postdeploy.reporting.status import write_status_page
from postdeploy.store.migrate import upgrade
from postdeploy.store.session import store_transaction
from tests.conftest import need
from tests.integration.test_status_store import CATALOG, NOW, seed

ARTIFACTS = Path(__file__).parents[1] / "artifacts"
QUIET = [  # no first-run, sync, update or sign-in traffic of the browser's own
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--hide-scrollbars",
    # nothing but loopback resolves, so even a request that slipped through goes nowhere
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]  # fmt: skip


class Served:
    """out_dir over HTTP on loopback; records the paths asked for."""

    def __init__(self, root: Path) -> None:
        self.paths: list[str] = []
        served = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                served.paths.append(self.path)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=root))
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chromium() -> str:
    binary = shutil.which("chromium")
    if binary is None:
        need("Chromium", "no `chromium` binary (apt-get install chromium)")
    return str(binary)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    seed(url)
    with store_transaction(url) as conn:
        write_status_page(conn, CATALOG, tmp_path / "status", NOW)
    # a control page that does load from outside: proves the net-log check can fail
    (tmp_path / "status" / "control.html").write_text(
        '<!doctype html><img src="http://example.com/logo.png"><link rel=stylesheet '
        'href="https://cdn.example.org/x.css">'
    )
    served = Served(tmp_path / "status")
    yield served
    served.close()


def page_requests(net_log: Path, origin: str) -> set[str]:
    """URLs the page asked for: its navigation and everything it initiated. The browser's own
    background requests (initiator 'not an origin', type 'other') are not the page's."""
    log = json.loads(net_log.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = set()
    for event in log["events"]:
        params = event.get("params", {})
        if (
            event["type"] == start
            and "url" in params
            and (params.get("initiator") == origin or params.get("request_type") != "other")
        ):
            urls.add(params["url"])
    return urls


def test_status_page_renders_in_chromium_and_loads_nothing_from_outside(
    chromium: str, site: Served, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    runs = {
        "desktop": ["--dump-dom", f"--screenshot={ARTIFACTS / 'status-page.png'}",
                    "--window-size=1280,1600", f"{site.origin}/index.html"],
        "control": ["--dump-dom", f"{site.origin}/control.html"],
        "phone": [f"--screenshot={ARTIFACTS / 'status-page-phone.png'}", "--window-size=390,1700",
                  f"{site.origin}/index.html"],
    }  # fmt: skip
    procs = {
        name: subprocess.Popen(
            [
                chromium,
                *QUIET,
                f"--user-data-dir={tmp_path / name}",
                f"--log-net-log={tmp_path / f'{name}.json'}",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        for name, args in runs.items()
    }
    out = {name: proc.communicate(timeout=60)[0] for name, proc in procs.items()}
    assert all(p.returncode == 0 for p in procs.values()), {
        n: p.returncode for n, p in procs.items()
    }

    dom = out["desktop"]
    assert "Partial system outage" in dom
    for text in ("api", "web", "billing", "search", "Operational", "Partial outage",
                 "Under maintenance", "Degraded performance", "Login failures on the website",
                 "We are investigating reports of failed logins", "a fix is rolling out",
                 "Billing database upgrade", "API gateway certificate rotation",
                 "Elevated API error rates"):  # fmt: skip
        assert text in dom, text
    assert dom.count("<rect") >= 4 * 90
    assert "<script" not in dom.lower()

    assert page_requests(tmp_path / "desktop.json", site.origin) <= {
        f"{site.origin}/index.html",
        f"{site.origin}/favicon.ico",
    }
    assert f"{site.origin}/index.html" in page_requests(tmp_path / "desktop.json", site.origin)
    control = page_requests(tmp_path / "control.json", site.origin)
    assert "http://example.com/logo.png" in control, control
    assert "/index.html" in site.paths

    html = (tmp_path / "status" / "index.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(|@import""", html, re.I)
    assert "<script" not in html.lower() and "<link" not in html.lower()
    facts = json.loads((tmp_path / "status" / "status.json").read_text())
    assert facts["state"] == "partial_outage" and facts["days"] == 90
    assert {c["name"]: c["state"] for c in facts["components"]} == {
        "api": "operational", "web": "partial_outage", "billing": "maintenance",
        "search": "degraded",
    }  # fmt: skip
    assert [len(i["updates"]) for i in facts["incidents"] if i["open"]] == [2]

    for shot in ("status-page.png", "status-page-phone.png"):
        png = (ARTIFACTS / shot).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 20_000, shot
