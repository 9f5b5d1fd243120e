"""Load: one burst of Alertmanager notifications (default 10,000 unique alerts in 100 groups,
30% duplicates) through the real receiver, then one alerting run: every unique alert stored
once, one incident per group.

The burst is what Alertmanager sends when many groups fire at once: notifications of up to
`--per-payload` alerts of one group each (groupKey, groupLabels as Alertmanager sets them),
30% of them sent twice as an HA pair of Alertmanagers does, all shuffled and posted over 16
keep-alive connections to `POST /hooks/alertmanager` on uvicorn (a subprocess, as `up` runs
it). Then the alerting flow runs once on a Prefect test server with a catalog whose root
route opens incidents (`incident: {}`, `group_wait: 0s`), and once more to show a rerun
opens nothing new.

    .venv/bin/python benchmarks/alert_burst.py                      # store on SQLite
    .venv/bin/python benchmarks/alert_burst.py --postgres           # store on PostgreSQL
    .venv/bin/python benchmarks/alert_burst.py --alerts 2000 --groups 20   # small
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402
from alert_receiver import TOKEN, serve  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from postdeploy.store.migrate import upgrade  # noqa: E402
from postdeploy.store.schema import alert, incident  # noqa: E402
from postdeploy.store.session import store_transaction  # noqa: E402

PG_ADMIN = os.environ.get("POSTDEPLOY_TEST_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")


def burst(
    unique: int, groups: int, per: int, dup_share: float, seed: int = 7
) -> list[dict[str, object]]:
    """Alertmanager notifications: each group's alerts in payloads of `per`, a share of the
    payloads sent twice, shuffled. Severities alternate warning/high by group."""
    rng = random.Random(seed)
    payloads: list[dict[str, object]] = []
    for g in range(groups):
        name, service = f"Rule{g % 25}", f"svc{g // 25}"
        labels = {"alertname": name, "service": service, "severity": ("warning", "high")[g % 2]}
        key = f'{{}}:{{alertname="{name}", service="{service}"}}'
        members = [
            {
                "status": "firing",
                "labels": {**labels, "instance": f"host{i}"},
                "annotations": {"summary": f"{name} on {service} host{i}"},
                "startsAt": f"2026-11-27T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": f"{g:04x}{i:012x}",
            }
            for i in range(g, unique, groups)
        ]
        for start in range(0, len(members), per or len(members)):
            payloads.append(
                {"version": "4", "groupKey": key, "status": "firing", "receiver": "postdeploy",
                 "groupLabels": {"alertname": name, "service": service},
                 "commonLabels": labels, "alerts": members[start : start + (per or len(members))]}
            )  # fmt: skip
    resent = rng.sample(payloads, round(len(payloads) * dup_share))
    out = payloads + resent
    rng.shuffle(out)
    return out


async def blast(port: int, bodies: list[dict[str, object]], concurrency: int) -> tuple[float, int]:
    """Post every body over `concurrency` keep-alive connections; a 429 is retried after its
    Retry-After, as Alertmanager retries. Returns (seconds, 429 answers)."""
    limited = 0

    def request(body: dict[str, object]) -> bytes:
        data = json.dumps(body).encode()
        head = (f"POST /hooks/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n")  # fmt: skip
        return head.encode() + data

    async def worker(share: list[bytes]) -> None:
        nonlocal limited
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for raw in share:
            while True:
                writer.write(raw)
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
                status = int(head.split(" ", 2)[1])
                length = int(head.split("content-length:")[1].split("\r\n")[0])
                await reader.readexactly(length)
                if status != 429:
                    break
                limited += 1
                wait = (
                    head.split("retry-after:")[1].split("\r\n")[0]
                    if "retry-after:" in head
                    else "1"
                )
                await asyncio.sleep(min(float(wait), 5.0))
            if status != 200:
                raise SystemExit(f"receiver answered {status}")
        writer.close()

    requests = [request(b) for b in bodies]
    start = time.perf_counter()
    await asyncio.gather(*(worker(requests[i::concurrency]) for i in range(concurrency)))
    return time.perf_counter() - start, limited


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def scratch_postgres() -> Iterator[str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write_catalog(path: Path) -> str:
    catalog = {
        "version": 1,
        "services": [{"name": "svc0"}],
        "routes": [{"name": "log", "kind": "log"}],
        "alert_routing": {"receivers": ["log"], "group_by": ["alertname", "service"],
                          "group_wait": "0s", "incident": {}},
    }  # fmt: skip
    path.write_text(yaml.safe_dump(catalog))
    return str(path)


def alerting_runs(store: str, catalog: str, reports: Path) -> tuple[float, int, int]:
    """Two alerting runs on a Prefect test server: (first run s, opened, opened by rerun)."""
    os.environ["POSTDEPLOY_DATABASE_URL"] = store
    os.environ["POSTDEPLOY_REPORTS_DIR"] = str(reports)
    from prefect.testing.utilities import prefect_test_harness

    from flows.alerting import alerting

    with prefect_test_harness(server_startup_timeout=180):
        start = time.perf_counter()
        first = alerting(catalog_path=catalog)
        took = time.perf_counter() - start
        again = alerting(catalog_path=catalog)
    opened = sum(1 for i in first["incidents"] if i["opened"])
    return took, opened, sum(1 for i in again["incidents"] if i["opened"])


def run(args: argparse.Namespace, store: str, tmp: Path) -> int:
    upgrade(store)
    bodies = burst(args.alerts, args.groups, args.per_payload, 0.3)
    sent = sum(len(b["alerts"]) for b in bodies)  # type: ignore[arg-type]
    port = random.randint(20000, 40000)
    proc = serve(store, port, tmp / "api.log")
    try:
        http_s, limited = asyncio.run(blast(port, bodies, args.concurrency))
        rss = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait()
    with store_transaction(store) as conn:
        rows = conn.execute(select(func.count()).select_from(alert)).scalar_one()
        fingerprints = conn.execute(select(func.count(alert.c.fingerprint.distinct()))).scalar_one()
    alerting_s, opened, reopened = alerting_runs(store, write_catalog(tmp / "c.yaml"), tmp / "r")
    with store_transaction(store) as conn:
        incidents = conn.execute(select(func.count()).select_from(incident)).scalar_one()

    ok = rows == fingerprints == args.alerts and incidents == opened == args.groups
    ok = ok and reopened == 0
    backend = store.split(":", 1)[0].split("+")[0]
    size = args.per_payload or args.alerts // args.groups
    print(f"store {backend}; {args.alerts:,} unique alerts in {args.groups} groups; "
          f"sent {sent:,} ({sent - args.alerts:,} duplicates, {sent / args.alerts - 1:.0%}) "
          f"in {len(bodies):,} notifications of <= {size}, "
          f"concurrency {args.concurrency}")  # fmt: skip
    print("| step | seconds | rate | result |\n|---|---:|---:|---|")
    print(
        f"| receiver burst | {http_s:.2f} | {sent / http_s:,.0f} alerts/s | "
        f"{rows:,} rows, {fingerprints:,} fingerprints (expected {args.alerts:,}) |"
    )
    print(
        f"| alerting run (group, open incidents) | {alerting_s:.2f} | "
        f"{args.alerts / alerting_s:,.0f} alerts/s | {opened} incidents opened, "
        f"{incidents} in the store (expected {args.groups}) |"
    )
    print(f"| alerting rerun | | | {reopened} opened (expected 0) |")  # fmt: skip
    print(f"receiver peak RSS {rss:.0f} MB; 429 answers retried: {limited}")
    print("verdict:", "exact" if ok else "WRONG")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000, help="unique alerts")
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument(
        "--per-payload", type=int, default=0, help="alerts per notification; 0: the whole group"
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--postgres", action="store_true", help="store on a scratch database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="alert_burst-") as folder:
        if args.postgres:
            with scratch_postgres() as store:
                return run(args, store, Path(folder))
        return run(args, f"sqlite:///{folder}/store.db", Path(folder))


if __name__ == "__main__":
    sys.exit(main())
