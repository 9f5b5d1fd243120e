"""The resource history capacity planning reads, on SQLite and PostgreSQL."""

from __future__ import annotations

from postdeploy.store.capacity import resource_history
from postdeploy.store.metrics import record_samples
from postdeploy.store.session import store_transaction


def test_each_service_resource_series_is_read_in_order_within_the_window(store_url: str) -> None:
    api, web = {"service": "api"}, {"service": "web"}
    with store_transaction(store_url) as conn:
        record_samples(
            conn,
            samples=[
                ("memory_bytes", api, 200.0, 2.0), ("memory_bytes", api, 100.0, 1.0),
                ("memory_bytes", api, 5000.0, 9.0),  # after the window
                ("cpu_cores", api, 150.0, 0.5), ("latency_p95_ms", api, 150.0, 80.0),
                ("memory_bytes", web, 100.0, 7.0),
                ("memory_bytes", {"service": "api", "pod": "a"}, 100.0, 3.0),  # other labels
            ],
        )  # fmt: skip
        resources = ["memory_bytes", "cpu_cores", "disk_used_ratio"]
        history = resource_history(
            conn, services=["api", "db"], resources=resources, since=0, until=1000
        )
        assert resource_history(conn, services=[], resources=["cpu_cores"], since=0, until=1) == {}
    assert history == {
        ("api", "memory_bytes"): [(100.0, 1.0), (200.0, 2.0)],
        ("api", "cpu_cores"): [(150.0, 0.5)],
    }
