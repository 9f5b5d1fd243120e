"""A misbehaving HTTP endpoint for fault-injection tests: a real TCP server whose answer to the
next request is whatever its `mode` says at that moment, so a test can script a schedule of
faults across sweeps (flap, hang, reset, close mid-answer) on one stable URL."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Literal

Mode = Literal["ok", "http503", "hang", "reset", "mid_headers", "mid_body"]
MODES: tuple[Mode, ...] = ("ok", "http503", "hang", "reset", "mid_headers", "mid_body")
BODY = b"status: ok\n"


class FaultServer:
    """Answers each connection per `mode`: `ok` 200 with BODY, `http503`, `hang` (accept, read
    the request, never answer), `reset` (RST: SO_LINGER 0 then close, so the client reads
    ECONNRESET), `mid_headers` / `mid_body` (a partial answer, then a normal close)."""

    def __init__(self, mode: Mode = "ok") -> None:
        self.mode: Mode = mode
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._workers: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            worker = threading.Thread(target=self._answer, args=(conn, self.mode), daemon=True)
            self._workers.append(worker)
            worker.start()

    def _answer(self, conn: socket.socket, mode: Mode) -> None:
        try:
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            if mode == "hang":
                self._stop.wait(60)  # holds the connection open, silent, until the test ends
            elif mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif mode == "mid_headers":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/pl")
            elif mode == "mid_body":
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(BODY) * 10}\r\n\r\n"
                conn.sendall(head.encode() + BODY)  # a tenth of the promised body
            else:
                status = "200 OK" if mode == "ok" else "503 Service Unavailable"
                head = f"HTTP/1.1 {status}\r\nContent-Length: {len(BODY)}\r\n\r\n"
                conn.sendall(head.encode() + BODY)
        except OSError:
            pass  # the client gave up first (its timeout): nothing to answer
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._acceptor.join(5)
        self._listener.close()
        for worker in self._workers:
            worker.join(5)
