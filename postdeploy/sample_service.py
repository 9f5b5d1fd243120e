"""The bundled sample service that the example catalog monitors: health, version, metrics, logs.

Standard library only, so it starts anywhere in well under a second. It can be told to
misbehave (slow, failing, broken health) so demos and tests have something real to catch.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import random
import resource
import signal
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROUTES = ("/healthz", "/version", "/metrics", "/api/orders")


def route_of(path: str) -> str:
    """Metrics are labelled by route, not raw path: scanners must not create new series."""
    if path in ROUTES:
        return path
    return "/api/*" if path.startswith("/api/") else "other"


def label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def resident_bytes() -> int:
    try:  # Linux: current resident set size
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def filesystem(path: str = ".") -> tuple[int, int]:
    """(size, available) bytes of the filesystem holding `path` (where the service writes)."""
    try:
        st = os.statvfs(path)
    except (OSError, AttributeError):  # no statvfs (Windows): no disk gauges
        return 0, 0
    return st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize


_SERVERS = itertools.count(1)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Behaviour:
    def __init__(
        self,
        version: str,
        latency_ms: float,
        error_rate: float,
        broken: bool,
        data_dir: str = ".",
    ) -> None:
        self.version = version
        self.data_dir = data_dir
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.broken = broken
        self.started = time.time()
        self.lock = threading.Lock()
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.buckets: Counter[tuple[str, float]] = Counter()
        self.duration_sum: dict[str, float] = {}
        self.duration_count: Counter[str] = Counter()

    def observe(self, method: str, path: str, code: int, seconds: float) -> None:
        with self.lock:
            self.requests[(method, path, code)] += 1
            self.duration_sum[path] = self.duration_sum.get(path, 0.0) + seconds
            self.duration_count[path] += 1
            for bound in BUCKETS:
                if seconds <= bound:
                    self.buckets[(path, bound)] += 1

    def metrics(self) -> str:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        lines = [
            "# HELP sample_build_info Version of the running sample service.",
            "# TYPE sample_build_info gauge",
            f'sample_build_info{{version="{label(self.version)}"}} 1',
            "# HELP sample_requests_total Requests served.",
            "# TYPE sample_requests_total counter",
        ]
        with self.lock:
            for (method, path, code), n in sorted(self.requests.items()):
                lines.append(
                    f'sample_requests_total{{method="{method}",path="{path}",code="{code}"}} {n}'
                )
            lines += [
                "# HELP sample_request_duration_seconds Request latency.",
                "# TYPE sample_request_duration_seconds histogram",
            ]
            for path in sorted(self.duration_count):
                for bound in BUCKETS:
                    n = self.buckets[(path, bound)]
                    lines.append(
                        f'sample_request_duration_seconds_bucket{{path="{path}",le="{bound}"}} {n}'
                    )
                count = self.duration_count[path]
                lines.append(
                    f'sample_request_duration_seconds_bucket{{path="{path}",le="+Inf"}} {count}'
                )
                lines.append(
                    f'sample_request_duration_seconds_sum{{path="{path}"}} '
                    f"{self.duration_sum[path]:.6f}"
                )
                lines.append(f'sample_request_duration_seconds_count{{path="{path}"}} {count}')
        lines += [
            "# HELP process_cpu_seconds_total CPU time used.",
            "# TYPE process_cpu_seconds_total counter",
            f"process_cpu_seconds_total {usage.ru_utime + usage.ru_stime:.3f}",
            "# HELP process_resident_memory_bytes Resident memory.",
            "# TYPE process_resident_memory_bytes gauge",
            f"process_resident_memory_bytes {resident_bytes()}",
        ]
        size, avail = filesystem(self.data_dir)
        if size:
            path = label(os.path.abspath(self.data_dir))
            lines += [
                "# HELP node_filesystem_size_bytes Size of the filesystem the service writes to.",
                "# TYPE node_filesystem_size_bytes gauge",
                f'node_filesystem_size_bytes{{path="{path}"}} {size}',
                "# HELP node_filesystem_avail_bytes Space available to the service there.",
                "# TYPE node_filesystem_avail_bytes gauge",
                f'node_filesystem_avail_bytes{{path="{path}"}} {avail}',
            ]
        lines += [
            "# HELP process_start_time_seconds Start time since the epoch.",
            "# TYPE process_start_time_seconds gauge",
            f"process_start_time_seconds {self.started:.3f}",
        ]
        return "\n".join(lines) + "\n"


def make_handler(behaviour: Behaviour, log: logging.Logger) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "postdeploy-sample"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # requests go to the service log below, not stderr

        def _send(self, code: int, body: str, ctype: str = "application/json") -> None:
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_HEAD(self) -> None:  # noqa: N802
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802
            start = time.perf_counter()
            path = self.path.split("?", 1)[0]
            code = 200
            if path == "/healthz":
                if behaviour.broken:
                    code = 503
                    self._send(code, json.dumps({"status": "failing", "reason": "broken build"}))
                else:
                    self._send(code, json.dumps({"status": "ok", "version": behaviour.version}))
            elif path == "/version":
                self._send(code, json.dumps({"version": behaviour.version}))
            elif path == "/metrics":
                self._send(code, behaviour.metrics(), "text/plain; version=0.0.4")
            elif path.startswith("/api/"):
                delay = max(0.0, random.gauss(behaviour.latency_ms, behaviour.latency_ms / 4))
                time.sleep(delay / 1000)
                if random.random() < behaviour.error_rate:
                    code = 500
                    order = random.randint(1000, 99999)
                    log.error("order %s failed: upstream timeout after %dms", order, 3000)
                    self._send(code, json.dumps({"error": "upstream timeout"}))
                else:
                    self._send(code, json.dumps({"orders": [], "served_by": behaviour.version}))
            else:
                code = 404
                self._send(code, json.dumps({"error": f"no route {path}"}))
            seconds = time.perf_counter() - start
            behaviour.observe(self.command, route_of(path), code, seconds)
            log.info(
                "%s %s %d %.1fms from %s",
                self.command,
                path,
                code,
                seconds * 1000,
                self.client_address[0],
            )

    return Handler


def build_logger(log_file: Path | None) -> logging.Logger:
    # one logger per server: several sample services may share a process (demo, tests)
    log = logging.getLogger(f"postdeploy.sample.{next(_SERVERS)}")
    log.handlers.clear()
    log.propagate = False
    log.setLevel(logging.INFO)
    handler: logging.Handler
    if log_file is None:
        handler = logging.NullHandler()
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
    fmt = logging.Formatter(
        "%(asctime)s.%(msecs)03dZ %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    fmt.converter = time.gmtime
    handler.setFormatter(fmt)
    log.addHandler(handler)
    return log


class SampleServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        # clients closing keep-alive connections are normal; anything else is printed
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def make_server(
    host: str = "127.0.0.1",
    port: int = 8801,
    *,
    version: str = "1.0.0",
    latency_ms: float = 20.0,
    error_rate: float = 0.01,
    broken: bool = False,
    log_file: Path | None = None,
) -> SampleServer:
    data_dir = str(log_file.parent) if log_file else "."
    behaviour = Behaviour(version, latency_ms, error_rate, broken, data_dir)
    return SampleServer((host, port), make_handler(behaviour, build_logger(log_file)))


def start_traffic(url: str, rps: float) -> threading.Thread:
    """Simulated users, so metrics and logs have something to show (Poisson arrivals)."""
    import urllib.error
    import urllib.request

    def loop() -> None:
        while True:
            time.sleep(random.expovariate(rps))
            try:
                urllib.request.urlopen(url, timeout=5).read()
            except (urllib.error.URLError, OSError):
                pass  # a 500 is part of the simulation

    thread = threading.Thread(target=loop, daemon=True, name="traffic")
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SAMPLE_PORT", 8801)))
    parser.add_argument("--version", default=os.environ.get("SAMPLE_VERSION", "1.0.0"))
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--error-rate", type=float, default=0.01)
    parser.add_argument("--broken", action="store_true", help="health answers 503")
    parser.add_argument("--log-file", type=Path, default=None)
    parser.add_argument(
        "--traffic", type=float, default=0.0, help="requests per second it sends itself"
    )
    args = parser.parse_args(argv)
    server = make_server(
        args.host,
        args.port,
        version=args.version,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        broken=args.broken,
        log_file=args.log_file,
    )
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    if args.traffic > 0:
        start_traffic(f"http://{args.host}:{server.server_port}/api/orders", args.traffic)
    print(f"sample service {args.version} on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
