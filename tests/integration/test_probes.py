"""probe_many against real servers on localhost: the sample service, misbehaving sockets, TLS.

No mocks: every check talks to a real listening socket (or to a port nothing listens on).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from postdeploy.adapters.probes import probe_many
from postdeploy.domain.checks import CheckOutcome, ProbeSpec
from postdeploy.sample_service import make_server

DAY = 86400.0

# --- shared helpers -------------------------------------------------------------------------


def spec(url: str, check: str = "check", **kwargs: object) -> ProbeSpec:
    return ProbeSpec(service="svc", check=check, url=url, **kwargs)  # type: ignore[arg-type]


def probe(*specs: ProbeSpec) -> tuple[list[CheckOutcome], float]:
    """Run one sweep; return the outcomes and the wall time it took in seconds."""
    start = time.perf_counter()
    outcomes = asyncio.run(probe_many(list(specs)))
    return outcomes, time.perf_counter() - start


def free_port() -> int:
    """A port that nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(server: ThreadingHTTPServer, scheme: str = "http") -> Iterator[str]:
    """Run an HTTP server in a thread; yield its base URL; always shut it down."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class QuietHandler(BaseHTTPRequestHandler):
    """Answer every GET with `status` and `body` after `delay(path)` seconds."""

    status = 200
    body = b"hello"

    def delay(self) -> float:
        return 0.0

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        time.sleep(self.delay())
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


class BigQueueServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # the default backlog of 5 would drop SYNs under a burst


def http_server(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    return BigQueueServer(("127.0.0.1", 0), handler)


@contextmanager
def raw_server(on_connection: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A bare TCP server: each accepted connection goes to `on_connection(conn, stop)`."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    workers: list[threading.Thread] = []

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=_own, args=(conn,), daemon=True)
            workers.append(worker)
            worker.start()

    def _own(conn: socket.socket) -> None:
        with conn:
            on_connection(conn, stop)

    acceptor = threading.Thread(target=accept_loop, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join(timeout=5)
        listener.close()
        for worker in workers:
            worker.join(timeout=5)


def read_request(conn: socket.socket) -> None:
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def never_answer(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    stop.wait(10)


def hang_up_after_request(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)  # the `with conn` in raw_server closes it right after


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def sample_service() -> Iterator[str]:
    with serving(make_server(port=0, version="2.4.1")) as url:
        yield url


@pytest.fixture
def broken_sample_service() -> Iterator[str]:
    with serving(make_server(port=0, version="2.4.2", broken=True)) as url:
        yield url


@pytest.fixture
def hanging_server() -> Iterator[str]:
    with raw_server(never_answer) as url:
        yield url


class Pki:
    """A throwaway CA that issues server certificates for 127.0.0.1 and localhost."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "postdeploy test CA")])
        now = dt.datetime.now(dt.UTC)
        public = self.key.public_key()
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, valid_for: dt.timedelta) -> tuple[Path, Path, x509.Certificate]:
        """Write a server cert and key valid from yesterday for `valid_for`; return paths."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        ca_ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + valid_for)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        cert_file = self.directory / f"{name}.pem"
        key_file = self.directory / f"{name}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert_file, key_file, cert


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@contextmanager
def https_server(pki: Pki, valid_for: dt.timedelta) -> Iterator[tuple[str, x509.Certificate]]:
    cert_file, key_file, cert = pki.issue(f"server-{valid_for.days}d", valid_for)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    server = http_server(QuietHandler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with serving(server, scheme="https") as url:
        yield url, cert


@pytest.fixture
def https_year(pki: Pki) -> Iterator[tuple[str, x509.Certificate]]:
    with https_server(pki, dt.timedelta(days=365)) as served:
        yield served


@pytest.fixture
def https_three_days(pki: Pki) -> Iterator[tuple[str, x509.Certificate]]:
    with https_server(pki, dt.timedelta(days=3)) as served:
        yield served


# --- the sample service ---------------------------------------------------------------------


def test_a_healthy_sample_service_passes_with_status_200_and_a_latency(sample_service: str) -> None:
    (health, version), _ = probe(
        spec(f"{sample_service}/healthz", "health"), spec(f"{sample_service}/version", "version")
    )

    for outcome in (health, version):
        assert outcome.ok, outcome.detail
        assert outcome.status == 200
        assert outcome.detail == "HTTP 200"
        assert outcome.latency_ms is not None and 0 < outcome.latency_ms < 2000
        assert outcome.cert_expires_at is None
    assert (health.service, health.check) == ("svc", "health")


def test_an_expected_keyword_in_the_body_passes(sample_service: str) -> None:
    (outcome,), _ = probe(spec(f"{sample_service}/version", expect_keyword="2.4.1"))

    assert outcome.ok, outcome.detail
    assert outcome.status == 200


def test_a_missing_keyword_fails_and_names_the_keyword(sample_service: str) -> None:
    (outcome,), _ = probe(spec(f"{sample_service}/version", expect_keyword="9.9.9"))

    assert not outcome.ok
    assert outcome.status == 200
    assert "'9.9.9'" in outcome.detail and "not in body" in outcome.detail


def test_a_broken_sample_service_is_a_failed_check_naming_http_503(
    broken_sample_service: str,
) -> None:
    (outcome,), _ = probe(spec(f"{broken_sample_service}/healthz"))

    assert not outcome.ok
    assert outcome.status == 503
    assert "HTTP 503" in outcome.detail
    assert outcome.latency_ms is not None


def test_a_503_listed_in_expect_status_is_a_pass(broken_sample_service: str) -> None:
    (outcome,), _ = probe(spec(f"{broken_sample_service}/healthz", expect_status=(200, 503)))

    assert outcome.ok, outcome.detail
    assert outcome.status == 503


# --- network failures -----------------------------------------------------------------------


def test_connection_refused_is_a_failed_check_and_never_raises() -> None:
    (outcome,), elapsed = probe(spec(f"http://127.0.0.1:{free_port()}/healthz", timeout_s=5))

    assert not outcome.ok
    assert outcome.status is None
    assert outcome.detail
    assert elapsed < 2


def test_connection_refused_detail_says_connection_refused() -> None:
    (outcome,), _ = probe(spec(f"http://127.0.0.1:{free_port()}/healthz", timeout_s=5))

    assert outcome.detail.startswith("connection refused"), outcome.detail


def test_an_unresolvable_hostname_is_a_failed_check_saying_dns_lookup_failed() -> None:
    # `.invalid` is reserved (RFC 2606) and never resolves; on this machine the lookup fails fast.
    (outcome,), elapsed = probe(spec("http://postdeploy-probe-test.invalid/healthz", timeout_s=5))

    assert not outcome.ok
    assert outcome.status is None
    assert "DNS lookup failed" in outcome.detail, outcome.detail
    assert elapsed < 5.5


def test_a_server_that_never_answers_times_out_within_the_spec_timeout(
    hanging_server: str,
) -> None:
    (outcome,), elapsed = probe(spec(f"{hanging_server}/healthz", timeout_s=0.5))

    assert not outcome.ok
    assert outcome.status is None
    assert "timeout" in outcome.detail
    assert "0.5s" in outcome.detail
    assert elapsed < 2


def test_a_connection_closed_after_the_request_is_a_failed_check_with_a_reason() -> None:
    with raw_server(hang_up_after_request) as url:
        (outcome,), elapsed = probe(spec(f"{url}/healthz", timeout_s=5))

    assert not outcome.ok
    assert outcome.status is None
    assert outcome.detail.startswith("connection dropped"), outcome.detail
    assert elapsed < 2


def test_http_500_is_a_failed_check_with_the_status_in_detail() -> None:
    handler = type("Fails", (QuietHandler,), {"status": 500, "body": b"boom"})
    with serving(http_server(handler)) as url:
        (outcome,), _ = probe(spec(f"{url}/healthz"))

    assert not outcome.ok
    assert outcome.status == 500
    assert outcome.detail == "HTTP 500, expected 200"


# --- TLS ------------------------------------------------------------------------------------


def test_a_certificate_from_an_unknown_ca_is_a_tls_error(
    https_year: tuple[str, x509.Certificate],
) -> None:
    url, _ = https_year
    (outcome,), _ = probe(spec(f"{url}/healthz"))

    assert not outcome.ok
    assert outcome.status is None
    assert outcome.detail.startswith("TLS error"), outcome.detail
    assert "certificate verify failed" in outcome.detail


def test_with_the_ca_file_the_check_passes_and_reports_the_certificate_expiry(
    pki: Pki, https_year: tuple[str, x509.Certificate]
) -> None:
    url, cert = https_year
    (outcome,), _ = probe(spec(f"{url}/healthz", ca_file=str(pki.ca_file)))

    assert outcome.ok, outcome.detail
    assert outcome.status == 200
    assert outcome.cert_expires_at is not None
    assert abs(outcome.cert_expires_at - cert.not_valid_after_utc.timestamp()) <= 1
    assert "certificate valid until" in outcome.detail


def test_a_certificate_close_to_expiry_passes_with_a_warning_in_detail(
    pki: Pki, https_three_days: tuple[str, x509.Certificate]
) -> None:
    url, cert = https_three_days
    (outcome,), _ = probe(spec(f"{url}/healthz", ca_file=str(pki.ca_file), cert_warning_s=14 * DAY))

    assert outcome.ok, outcome.detail
    assert "certificate expires in" in outcome.detail
    assert "3.0 days" in outcome.detail or "2.9 days" in outcome.detail
    assert abs(outcome.cert_expires_at - cert.not_valid_after_utc.timestamp()) <= 1  # type: ignore[operator]


def test_checks_with_and_without_a_ca_file_in_one_sweep_each_use_their_own_trust(
    pki: Pki, https_year: tuple[str, x509.Certificate]
) -> None:
    url, _ = https_year
    (trusted, untrusted), _ = probe(
        spec(f"{url}/healthz", "trusted", ca_file=str(pki.ca_file)),
        spec(f"{url}/healthz", "untrusted"),
    )

    assert trusted.ok, trusted.detail
    assert not untrusted.ok
    assert untrusted.detail.startswith("TLS error")


def test_a_missing_ca_file_fails_only_its_own_check(
    tmp_path: Path, sample_service: str, https_year: tuple[str, x509.Certificate]
) -> None:
    url, _ = https_year
    missing = tmp_path / "no-such-ca.pem"
    (healthy, tls), _ = probe(
        spec(f"{sample_service}/healthz", "health"),
        spec(f"{url}/healthz", "tls", ca_file=str(missing)),
    )

    assert healthy.ok, healthy.detail
    assert not tls.ok
    assert str(missing) in tls.detail


# --- many targets at once -------------------------------------------------------------------


class Slow(QuietHandler):
    """Waits 0.2-0.3 s, longest for the lowest number so completion order reverses spec order;
    paths ending in an odd number answer 500."""

    def number(self) -> int:
        return int(self.path.rsplit("/", 1)[1])

    def delay(self) -> float:
        return 0.2 + 0.1 * (1 - self.number() / 200)

    def do_GET(self) -> None:  # noqa: N802
        self.status = 500 if self.number() % 2 else 200
        super().do_GET()


def test_two_hundred_slow_checks_run_concurrently_and_come_back_in_spec_order() -> None:
    with serving(http_server(Slow)) as url:
        specs = [spec(f"{url}/item/{i}", f"item-{i}", timeout_s=10) for i in range(200)]
        outcomes, elapsed = probe(*specs)

    assert elapsed < 5, f"200 probes of 0.2 s took {elapsed:.1f}s: not concurrent"
    assert [o.check for o in outcomes] == [s.check for s in specs]
    assert [o.ok for o in outcomes] == [i % 2 == 0 for i in range(200)]
    assert all(o.latency_ms is not None and o.latency_ms >= 200 for o in outcomes)


def test_a_broken_target_in_a_batch_does_not_change_the_other_outcomes(
    sample_service: str, broken_sample_service: str, hanging_server: str
) -> None:
    healthy = [
        spec(f"{sample_service}/healthz", "health"),
        spec(f"{sample_service}/version", "version", expect_keyword="2.4.1"),
    ]
    alone, _ = probe(*healthy)
    broken = [
        spec(f"{broken_sample_service}/healthz", "broken"),
        spec(f"{hanging_server}/healthz", "hangs", timeout_s=3),
        spec(f"http://127.0.0.1:{free_port()}/healthz", "refused"),
    ]
    mixed, elapsed = probe(broken[0], healthy[0], broken[1], healthy[1], broken[2])

    by_check = {o.check: o for o in mixed}
    for before in alone:
        after = by_check[before.check]
        assert (after.ok, after.status, after.detail) == (before.ok, before.status, before.detail)
        # answered before the hung probe timed out: nothing waited behind it
        assert after.latency_ms is not None and after.latency_ms < 3000
    assert by_check["broken"].detail.startswith("HTTP 503")
    assert "timeout" in by_check["hangs"].detail
    assert not by_check["refused"].ok
    assert elapsed < 3 + 2
