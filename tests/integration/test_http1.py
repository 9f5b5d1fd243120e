"""The probe's HTTP/1.1 client against a real server speaking each framing it must read."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from postdeploy.adapters.http1 import ProtocolError, fetch

Handler = Callable[[bytes], bytes]


@pytest.fixture
def raw_server() -> Iterator[Callable[[Handler], str]]:
    """A socket server whose answer to each request is written by the test, byte for byte."""
    sockets: list[socket.socket] = []

    def start(handler: Handler) -> str:
        listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        sockets.append(listener)

        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        request += chunk
                    conn.sendall(handler(request))

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for s in sockets:
        s.close()


def get(url: str, **kwargs: object) -> object:
    return asyncio.run(fetch("GET", url, **kwargs))  # type: ignore[arg-type]


def test_a_chunked_body_is_reassembled(raw_server: Callable[[Handler], str]) -> None:
    body = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n"
    )
    response = get(raw_server(lambda _: body) + "/")
    assert response.status == 200 and response.body == b"hello world"  # type: ignore[attr-defined]


def test_a_body_without_length_is_read_until_the_server_closes(
    raw_server: Callable[[Handler], str],
) -> None:
    response = get(raw_server(lambda _: b"HTTP/1.0 200 OK\r\n\r\nall of it") + "/")
    assert response.body == b"all of it"  # type: ignore[attr-defined]


def test_a_long_body_is_capped_at_the_limit(raw_server: Callable[[Handler], str]) -> None:
    big = b"x" * 100_000
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + big
    response = get(raw_server(lambda _: answer) + "/", limit=1000)
    assert response.body == b"x" * 1000  # type: ignore[attr-defined]


def test_redirects_are_followed_to_the_final_answer(raw_server: Callable[[Handler], str]) -> None:
    def handler(request: bytes) -> bytes:
        if request.startswith(b"GET /old "):
            return b"HTTP/1.1 301 Moved\r\nLocation: /new?x=1\r\nContent-Length: 0\r\n\r\n"
        return b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n" + request.split(b" ")[1][:4]

    response = get(raw_server(handler) + "/old")
    assert response.status == 200 and response.body == b"/new"  # type: ignore[attr-defined]
    assert response.url.endswith("/new?x=1")  # type: ignore[attr-defined]


def test_a_redirect_loop_is_an_error_not_a_hang(raw_server: Callable[[Handler], str]) -> None:
    loop = b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"
    with pytest.raises(ProtocolError, match="more than 5 redirects"):
        get(raw_server(lambda _: loop) + "/")


def test_the_request_carries_host_headers_and_asks_to_close(
    raw_server: Callable[[Handler], str],
) -> None:
    seen: list[bytes] = []

    def handler(request: bytes) -> bytes:
        seen.append(request)
        return b"HTTP/1.1 204 No Content\r\n\r\n"

    url = raw_server(handler)
    response = get(url + "/p?q=1", headers={"X-Token": "abc"})
    assert response.status == 204  # type: ignore[attr-defined]
    request = seen[0].decode()
    assert request.startswith("GET /p?q=1 HTTP/1.1\r\n")
    assert f"Host: {url.removeprefix('http://')}\r\n" in request
    assert "X-Token: abc\r\n" in request and "Connection: close\r\n" in request


def test_an_answer_that_is_not_http_is_a_protocol_error(
    raw_server: Callable[[Handler], str],
) -> None:
    with pytest.raises(ProtocolError, match="not an HTTP/1.x status line"):
        get(raw_server(lambda _: b"SSH-2.0-OpenSSH_9.2\r\n\r\n") + "/")
