"""Metric series and samples (long format: integer series id, epoch ts) and scrape snapshots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, select

from postdeploy.domain.metrics import Exposition
from postdeploy.store.schema import metric_sample, metric_series, scrape_state
from postdeploy.store.upsert import upsert

Sample = tuple[str, Mapping[str, str], float, float]  # name, labels, epoch ts, value


def labels_key(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def ensure_series(
    conn: Connection, *, keys: Iterable[tuple[str, Mapping[str, str]]]
) -> dict[tuple[str, str], int]:
    """Series ids for (name, labels), created when new."""
    wanted = {(name, labels_key(labels)): dict(labels) for name, labels in keys}
    rows = [{"name": n, "labels_key": k, "labels": lab} for (n, k), lab in wanted.items()]
    upsert(conn, metric_series, rows, keys=["name", "labels_key"])
    names = {n for n, _ in wanted}
    found = conn.execute(
        select(metric_series.c.id, metric_series.c.name, metric_series.c.labels_key).where(
            metric_series.c.name.in_(names)
        )
    )
    return {(r.name, r.labels_key): r.id for r in found if (r.name, r.labels_key) in wanted}


def record_samples(conn: Connection, *, samples: Iterable[Sample]) -> int:
    """Store samples; a sample at the same (series, second) is replaced, never duplicated."""
    samples = list(samples)
    ids = ensure_series(conn, keys=((name, labels) for name, labels, _, _ in samples))
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    for name, labels, ts, value in samples:
        sid = ids[(name, labels_key(labels))]
        rows[(sid, int(ts))] = {"series_id": sid, "ts": int(ts), "value": value}
    upsert(conn, metric_sample, list(rows.values()), keys=["series_id", "ts"], update=["value"])
    return len(rows)


def read_series(
    conn: Connection, *, name: str, labels: Mapping[str, str], since: float, until: float
) -> list[tuple[int, float]]:
    query = (
        select(metric_sample.c.ts, metric_sample.c.value)
        .join(metric_series, metric_series.c.id == metric_sample.c.series_id)
        .where(metric_series.c.name == name, metric_series.c.labels_key == labels_key(labels))
        .where(metric_sample.c.ts.between(int(since), int(until)))
        .order_by(metric_sample.c.ts)
    )
    return [(int(r.ts), float(r.value)) for r in conn.execute(query)]


def load_scrape(conn: Connection, *, service: str) -> tuple[float, Exposition] | None:
    row = conn.execute(
        select(scrape_state.c.ts, scrape_state.c.samples).where(scrape_state.c.service == service)
    ).first()
    if row is None:
        return None
    return float(row.ts), {(n, tuple(map(tuple, lab))): v for n, lab, v in row.samples}


def save_scrape(conn: Connection, *, service: str, ts: float, samples: Exposition) -> None:
    payload = [
        [name, [list(p) for p in labels], value] for (name, labels), value in samples.items()
    ]
    upsert(
        conn,
        scrape_state,
        [{"service": service, "ts": ts, "samples": payload}],
        keys=["service"],
        update=["ts", "samples"],
    )
