"""Alertmanager receiver throughput: alerts/s through POST /hooks/alertmanager on loopback,
with 30% duplicates, checking exact dedup (no duplicate row, no lost alert).

Baseline in the same run: the same alerts stored by calling the store function directly
(no HTTP, no JSON), which bounds what the receiver can reach on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
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


async def blast(url: str, bodies: list[dict[str, object]], concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def one(body: dict[str, object]) -> None:
            async with gate:
                response = await client.post("/hooks/alertmanager", json=body, headers=headers)
                response.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(one(b) for b in bodies))
        return time.perf_counter() - start


def serve(store: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "POSTDEPLOY_DATABASE_URL": store, "POSTDEPLOY_HOOKS_TOKEN": TOKEN}
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
            http_s = asyncio.run(blast(f"http://127.0.0.1:{port}", bodies, args.concurrency))
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
