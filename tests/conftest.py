"""Shared test fixtures: real services only. A service the machine lacks skips the test with a
one-line reason on a developer's machine, and fails it under CI=true, where .ci/run provides it."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from postdeploy.sample_service import SampleServer, make_server

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

PG_URL = os.environ.get("POSTDEPLOY_TEST_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@contextmanager
def serving(settings: Any) -> Iterator[httpx.Client]:
    """Run the hooks API in a thread; yield a client on its base URL; always stop it."""
    import uvicorn

    from postdeploy.api.app import create_app

    port = free_port()
    config = uvicorn.Config(
        app=create_app(settings), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the API server stopped before it started"
        assert time.monotonic() < deadline, "the API server did not start within 10 s"
        time.sleep(0.01)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(10)
        assert not thread.is_alive(), "the API server did not stop"


def need(service: str, reason: str) -> None:
    """A missing service fails the test in CI and skips it elsewhere, with the reason."""
    message = f"{service} unavailable: {reason}"
    if IN_CI:
        pytest.fail(message + " (CI=true: .ci/run must provide it)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means the server is not there
        need("PostgreSQL", f"{PG_URL}: {str(exc).splitlines()[0]}")
    return PG_URL


def create_pg_database(admin_url: str) -> str:
    name = f"postdeploy_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def pg_database(pg_admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test."""
    url = create_pg_database(pg_admin_url)
    try:
        yield url
    finally:
        drop_pg_database(pg_admin_url, url)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store on each backend: the same tests run on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
def store_url(empty_store_url: str) -> str:
    from postdeploy.store.migrate import upgrade

    upgrade(empty_store_url)
    return empty_store_url


def start_sample(**kwargs: object) -> tuple[SampleServer, threading.Thread]:
    server = make_server(port=0, **kwargs)  # type: ignore[arg-type]
    # a short poll interval: shutdown() waits up to one interval
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def sample_service(tmp_path: Path) -> Iterator[str]:
    """The bundled sample service on a free port; yields its base URL."""
    server, thread = start_sample(version="1.2.3", log_file=tmp_path / "sample.log")
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def broken_sample_service() -> Iterator[str]:
    server, thread = start_sample(version="0.0.1-bad", broken=True)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


class Recorder:
    """A local HTTP server standing in for Slack or a webhook: it records what it received."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[dict[str, object]] = []
        self.status = 200
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                import json

                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                recorder.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "json": json.loads(body) if body else None,
                    }
                )
                self.send_response(recorder.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.close()


@pytest.fixture(scope="session")
def busy_sample() -> Iterator[str]:
    """A sample service with simulated traffic, for metrics tests; yields its base URL."""
    from postdeploy.sample_service import start_traffic

    server, thread = start_sample(version="2.0.0", error_rate=0.1)
    base = f"http://127.0.0.1:{server.server_port}"
    start_traffic(f"{base}/api/orders", 40)
    yield base
    server.shutdown()
    server.server_close()


@contextmanager
def run_daemon(name: str, argv: list[str], ready_url: str, log: Path) -> Iterator[None]:
    """Start a real server process (Prometheus, Alertmanager); wait until it is ready."""
    import shutil
    import subprocess

    binary = shutil.which(argv[0])
    if binary is None:
        need(name, f"no `{argv[0]}` binary (apt-get install {argv[0]})")
    with open(log, "wb") as handle:
        proc = subprocess.Popen([str(binary), *argv[1:]], stdout=handle, stderr=handle)
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"{name} exited: {log.read_text()[-800:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not become ready in 30 s")
            time.sleep(0.2)
        yield
    finally:
        proc.terminate()
        proc.wait(10)


def start_prometheus(home: Path, config: str, port: int) -> Any:
    (home / "prometheus.yml").write_text(config)
    argv = [
        "prometheus",
        f"--config.file={home / 'prometheus.yml'}",
        f"--storage.tsdb.path={home / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    url = f"http://127.0.0.1:{port}"
    return run_daemon("Prometheus", argv, f"{url}/-/ready", home / "prometheus.log")


@pytest.fixture(scope="session")
def prometheus(busy_sample: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus (Debian package) scraping the busy sample service every second."""
    home = tmp_path_factory.mktemp("prometheus")
    target = busy_sample.removeprefix("http://")
    config = (
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: sample\n    static_configs: [{{targets: ['{target}']}}]\n"
    )
    port = free_port()
    with start_prometheus(home, config, port):
        yield f"http://127.0.0.1:{port}"


class PrivatePostgres:
    """A PostgreSQL cluster of one's own (initdb in a temporary folder, trust auth, a free
    loopback port), to stop and restart without touching the shared server other tests use.
    Postgres refuses to run as root, so as root it runs as the `postgres` user."""

    def __init__(self, bindir: Path, home: Path, run_as: list[str]) -> None:
        self.bindir, self.home, self.run_as = bindir, home, run_as
        self.data, self.log = home / "data", home / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        import subprocess

        argv = [*self.run_as, str(self.bindir / tool), *args]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            log = self.log.read_text()[-1500:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {done.stderr.strip()}\n{log}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8")  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.home} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """fast: disconnect clients, then shut down; immediate: like a crash (no checkpoint)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL server for tests that stop or restart it (.restart(), .stop(),
    .start(), .url). Needs Debian's PostgreSQL binaries (/usr/lib/postgresql/*/bin)."""
    import glob
    import shutil
    import tempfile

    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    bindir = Path(found[-1]).parent if found else None
    if bindir is None and shutil.which("initdb"):
        bindir = Path(str(shutil.which("initdb"))).parent
    if bindir is None:
        need("PostgreSQL server binaries", "no initdb (apt-get install postgresql)")
    run_as: list[str] = []
    home = Path(tempfile.mkdtemp(prefix="postdeploy-pg-"))
    if os.geteuid() == 0:
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            need("PostgreSQL server", "running as root and there is no `postgres` user to run it")
        os.chown(home, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    server = PrivatePostgres(bindir, home, run_as)  # type: ignore[arg-type]
    try:
        server.init()
        server.start()
        yield server
    finally:
        try:
            server.stop("immediate")
        except Exception:  # already stopped by the test, or never started
            pass
        shutil.rmtree(home, ignore_errors=True)
