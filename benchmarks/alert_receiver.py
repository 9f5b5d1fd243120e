"""Alertmanager receiver throughput: alerts/s through POST /hooks/alertmanager on loopback,
with 30% duplicates, checking exact dedup (no duplicate row, no lost alert).

Baseline in the same run: the same alerts stored by calling the store function directly
(no HTTP, no JSON), which bounds what the receiver can reach on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from postdeploy.domain.alertmanager import AmPayload
from postdeploy.store.engine import make_engine
from postdeploy.store.migrate import upgrade
from postdeploy.store.received_alerts import count_alerts, store_received
from postdeploy.store.session import store_transaction

TOKEN = "bench-token"


def alerts(unique: int, dup_share: float, seed: int = 1) -> list[dict[str, object]]:
    rng = random.Random(seed)
    base = [
        {
            "status": "firing",
            "labels": {
                "alertname": f"Rule{i % 50}",
                "service": f"svc{i % 20}",
                "severity": "warning",
            },
            "annotations": {"summary": f"alert {i}"},
            "startsAt": f"2026-11-27T10:{(i // 60) % 60:02d}:{i % 60:02d}Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": f"{i:016x}",
        }
        for i in range(unique)
    ]
    dups = [dict(rng.choice(base)) for _ in range(int(unique * dup_share))]
    out = base + dups
    rng.shuffle(out)
    return out


def payloads(items: list[dict[str, object]], per: int) -> list[dict[str, object]]:
    return [
        {"version": "4", "groupKey": f"g{i}", "status": "firing", "alerts": items[i : i + per]}
        for i in range(0, len(items), per)
    ]


async def blast(port: int, bodies: list[dict[str, object]], concurrency: int) -> float:
    """`concurrency` keep-alive connections, each posting its share of the bodies in turn.
    A bare asyncio client: httpx would spend more CPU than the server on this 2-core box."""
    requests = [
        (
            "POST /hooks/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode()
        + data
        for data in (json.dumps(b).encode() for b in bodies)
    ]

    async def worker(share: list[bytes]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for request in share:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            if status != 200:
                raise SystemExit(f"receiver answered {status}")
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker(requests[i::concurrency]) for i in range(concurrency)))
    return time.perf_counter() - start


def serve(store: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "POSTDEPLOY_DATABASE_URL": store,
        "POSTDEPLOY_HOOKS_TOKEN": TOKEN,
        # throughput is measured, not the rate limit; the limiter still runs on every request
        "POSTDEPLOY_HOOKS_RATE_PER_MINUTE": "1e9",
        "POSTDEPLOY_HOOKS_RATE_BURST": "1000000000",
    }
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "postdeploy.api.app:create_app",
           "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"hooks API did not start: {log.read_text()[-500:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000, help="unique alerts")
    parser.add_argument("--per-payload", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    items = alerts(args.alerts, 0.3)
    bodies = payloads(items, args.per_payload)
    with tempfile.TemporaryDirectory() as tmp:
        direct = f"sqlite:///{tmp}/direct.db"
        upgrade(direct)
        parsed = [AmPayload.model_validate(b) for b in bodies]
        engine = make_engine(direct)  # one engine, one transaction per payload: as the API does
        start = time.perf_counter()
        for p in parsed:
            with engine.begin() as conn:
                store_received(conn, alerts=p.alerts)
        direct_s = time.perf_counter() - start
        engine.dispose()

        store = f"sqlite:///{tmp}/api.db"
        upgrade(store)
        port = random.randint(20000, 40000)
        proc = serve(store, port, Path(tmp) / "api.log")
        try:
            http_s = asyncio.run(blast(port, bodies, args.concurrency))
        finally:
            proc.terminate()
            proc.wait()
        with store_transaction(store) as conn:
            rows = count_alerts(conn)
    sent = len(items)
    dups = sent - args.alerts
    print(f"alerts sent {sent:,} ({args.alerts:,} unique, {dups:,} duplicates)")
    print(f"in {len(bodies):,} payloads of {args.per_payload}, concurrency {args.concurrency}")
    print("| path | seconds | alerts/s |\n|---|---:|---:|")
    print(f"| HTTP receiver | {http_s:.2f} | {sent / http_s:,.0f} |")
    print(f"| store call, no HTTP (baseline) | {direct_s:.2f} | {sent / direct_s:,.0f} |")
    print(f"ratio receiver/baseline: {direct_s / http_s:.2f}")
    print(f"rows stored {rows:,}: {'exact' if rows == args.alerts else 'WRONG'}")
    return 0 if rows == args.alerts and sent / http_s >= 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
