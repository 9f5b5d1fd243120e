"""update-review on a real Prefect server: a fake PyPI JSON API, a pinned requirements file, a
docs folder and a deploy in the store; then the same with the index down."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from flows.update_review import update_review
from postdeploy.settings import get_settings
from postdeploy.store.deployments import record_deployment
from postdeploy.store.migrate import upgrade
from postdeploy.store.session import store_transaction
from tests.conftest import free_port

LATEST = {"flask": "3.0.3", "jinja2": "3.1.4", "django": "5.1.2"}
DAY = 86400


@pytest.fixture
def fake_pypi() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            name = self.path.split("/")[2]
            body = (
                json.dumps({"info": {"version": LATEST[name]}}).encode() if name in LATEST else b""
            )
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/pypi/{{name}}/json"
    server.shutdown()
    server.server_close()


def setup(tmp: Path, index: str) -> Path:
    url = get_settings().database_url
    upgrade(url)
    now = time.time()
    docs = tmp / "docs"
    docs.mkdir()
    (docs / "architecture.md").write_text("See [the API](api.md) and [ops](runbook.md).\n")
    (docs / "runbook.md").write_text("Restart it.\n")
    for path in docs.iterdir():
        os.utime(path, (now - 30 * DAY, now - 30 * DAY))
    with store_transaction(url) as conn:
        record_deployment(
            conn, service="shop", version="2.0.0", environment="production", commit=None,
            committed_at=None, deployed_at=datetime.fromtimestamp(now - 2 * DAY, UTC),
        )  # fmt: skip
    (tmp / "requirements.txt").write_text("flask==1.1.2\njinja2==3.1.4\nprivate-lib==0.1\n")
    catalog = tmp / "catalog.yaml"
    catalog.write_text(
        yaml.safe_dump(
            {
                "services": [
                    {
                        "name": "shop",
                        "dependencies": {"file": str(tmp / "requirements.txt")},
                        "docs": str(docs),
                    },
                    {"name": "batch", "docs": str(tmp / "missing-docs")},
                ],
                "security": {
                    "package_index": index,
                    "eol": {"flask@1": "2023-09-30"},
                    "timeout": "3s",
                },
            }
        )
    )
    return catalog


def test_majors_behind_end_of_life_and_documentation_problems_are_reported(
    settings_env: Path, fake_pypi: str
) -> None:
    catalog = setup(settings_env, fake_pypi)

    result = update_review(catalog_path=str(catalog))

    (flask,) = result["behind"]["shop"]
    assert flask.startswith("flask 1.1.2 -> 3.0.3") and "end of life since 2023-09-30" in flask
    shop = result["docs"]["shop"]
    assert shop["stale"] is True
    assert shop["missing"] == ["API", "troubleshooting", "release notes"]
    assert shop["broken_links"] == ["architecture.md -> api.md"]
    assert "does not exist" in result["docs"]["batch"]
    html = Path(result["report"]).read_text()
    assert "2 majors behind" in html and "latest unknown: not in the package index" in html
    assert "/updates/" in result["report"]


def test_an_unreachable_index_is_reported_and_the_docs_review_still_runs(
    settings_env: Path,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/pypi/{{name}}/json"
    catalog = setup(settings_env, dead)

    result = update_review(catalog_path=str(catalog))

    assert "UNREACHABLE" in result["index"]
    (flask,) = result["behind"]["shop"]  # end of life is known without the index
    assert "end of life since 2023-09-30; latest unknown: package index unreachable" in flask
    assert result["docs"]["shop"]["broken_links"] == ["architecture.md -> api.md"]
    assert "UNREACHABLE" in Path(result["report"]).read_text()
