"""Benchmark: wall time of `postdeploy check` over 1,000 slow endpoints versus over 1.

Goal: with every endpoint answering after 200 ms, a sweep of 1,000 endpoints finishes less
than 1.5 s later than a sweep of 1 endpoint (both include process start-up).

The script starts a non-blocking asyncio delay server on 127.0.0.1 (a free port) in a
separate process, checks that it serves 1,000 concurrent connections in about 200 ms,
writes two temporary catalogs (1 endpoint, N endpoints), then runs the real command
`postdeploy check --catalog FILE --json` as a subprocess, alternating the two catalogs,
and times each run on the wall clock. Every run must print one JSON line per check with
ok=true. It prints a markdown table and exits 1 when the median difference is >= 1.5 s.

    .venv/bin/python benchmarks/check_sweep.py --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DELAY_S = 0.2
GOAL_S = 1.5
CLI = Path(sys.executable).with_name("postdeploy")
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
    b"Connection: keep-alive\r\n\r\nok"
)


def raise_nofile_limit(want: int = 8192) -> int:
    """Raise the soft open-files limit (children inherit it); return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every request on the connection after DELAY_S (request bodies are not expected)."""
    try:
        while await reader.readuntil(b"\r\n\r\n"):
            await asyncio.sleep(DELAY_S)
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


def _serve(port_out: mp.connection.Connection) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_handle, "127.0.0.1", 0, backlog=4096)
        port_out.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    raise_nofile_limit()
    asyncio.run(main())


def start_server() -> tuple[mp.Process, int]:
    parent, child = mp.Pipe(duplex=False)
    proc = mp.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
    proc.start()
    if not parent.poll(30):
        raise SystemExit("delay server did not start")
    return proc, parent.recv()


async def _concurrency_probe(port: int, n: int) -> float:
    """Open n connections at once, one request each; return the time until all answered."""

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /probe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await reader.readuntil(b"\r\n\r\nok")
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return time.perf_counter() - start


def write_catalog(path: Path, port: int, endpoints: int) -> Path:
    lines = ["version: 1", "services:", "  - name: bench", f"    url: http://127.0.0.1:{port}"]
    lines.append("    checks:")
    for i in range(endpoints):
        lines += [f"      - name: c{i:05d}", f"        url: /slow/{i}", "        timeout: 5s"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


LATENCIES: list[float] = []  # latency_ms the probes reported in the big sweeps


def timed_check(catalog: Path, expected: int) -> float:
    cmd = [str(CLI), "check", "--catalog", str(catalog), "--json"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    bad = [r for r in rows if not r.get("ok")]
    if proc.returncode != 0 or len(rows) != expected or bad:
        sample = bad[0] if bad else proc.stderr[-2000:]
        raise SystemExit(
            f"{catalog.name}: exit {proc.returncode}, {len(rows)}/{expected} lines, "
            f"{len(bad)} not ok; first problem: {sample}"
        )
    if expected > 1:
        LATENCIES.extend(r["latency_ms"] for r in rows)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per catalog")
    parser.add_argument("--endpoints", type=int, default=1000, help="endpoints in the big sweep")
    args = parser.parse_args()

    nofile = raise_nofile_limit(max(8192, 4 * args.endpoints))
    if nofile < 2 * args.endpoints + 100:
        raise SystemExit(f"RLIMIT_NOFILE soft limit {nofile} is too low for {args.endpoints}")
    server, port = start_server()
    try:
        took = asyncio.run(_concurrency_probe(port, args.endpoints))
        print(f"delay server 127.0.0.1:{port}: {args.endpoints} concurrent requests in {took:.3f}s")
        if took > DELAY_S + 0.5:
            raise SystemExit("delay server is too slow to be a fair target")
        with tempfile.TemporaryDirectory(prefix="check_sweep-") as tmp:
            sizes = (1, args.endpoints)
            cats = {n: write_catalog(Path(tmp) / f"catalog-{n}.yaml", port, n) for n in sizes}
            timed_check(cats[args.endpoints], args.endpoints)  # warm-up: page cache, .pyc
            times: dict[int, list[float]] = {n: [] for n in sizes}
            for run in range(args.runs):
                for n in sizes if run % 2 == 0 else sizes[::-1]:
                    times[n].append(timed_check(cats[n], n))
    finally:
        server.kill()

    med = {n: statistics.median(t) for n, t in times.items()}
    big = args.endpoints
    diff, ratio = med[big] - med[1], med[big] / med[1]
    print("\n| endpoints | runs | median wall s | min wall s |\n|---:|---:|---:|---:|")
    for n, t in times.items():
        print(f"| {n:,} | {len(t)} | {med[n]:.3f} | {min(t):.3f} |")
    lat = sorted(LATENCIES)
    p95 = lat[int(0.95 * len(lat)) - 1]
    print(
        f"\nlatency_ms reported by the {big:,}-endpoint sweeps"
        f" (true answer time {DELAY_S * 1000:.0f} ms):"
        f" median {statistics.median(lat):.0f}, p95 {p95:.0f}, max {lat[-1]:.0f}"
    )
    verdict = "met" if diff < GOAL_S else "NOT met"
    print(f"\nmedian difference ({big:,} - 1): {diff:.3f} s; ratio {ratio:.2f}x")
    print(f"goal (< {GOAL_S} s later): {verdict}")
    return 0 if diff < GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
