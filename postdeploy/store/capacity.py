"""The metric history capacity planning forecasts: the resource series of every service."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from postdeploy.store.metrics import labels_key
from postdeploy.store.schema import metric_sample, metric_series

History = dict[tuple[str, str], list[tuple[float, float]]]  # (service, resource) -> points


def resource_history(
    conn: Connection,
    *,
    services: Iterable[str],
    resources: Iterable[str],
    since: float,
    until: float,
) -> History:
    """Samples of each (service, resource) series labelled {"service": name}, oldest first;
    a series without samples in [since, until] is absent."""
    keys = {labels_key({"service": s}): s for s in services}
    if not keys:
        return {}
    series = {
        row.id: (keys[row.labels_key], row.name)
        for row in conn.execute(
            select(metric_series.c.id, metric_series.c.name, metric_series.c.labels_key).where(
                metric_series.c.name.in_(list(resources)),
                metric_series.c.labels_key.in_(list(keys)),
            )
        )
    }
    out: History = {}
    if not series:
        return out
    query = (
        select(metric_sample.c.series_id, metric_sample.c.ts, metric_sample.c.value)
        .where(metric_sample.c.series_id.in_(list(series)))
        .where(metric_sample.c.ts.between(int(since), int(until)))
        .order_by(metric_sample.c.series_id, metric_sample.c.ts)
    )
    for row in conn.execute(query):
        out.setdefault(series[row.series_id], []).append((float(row.ts), float(row.value)))
    return out
