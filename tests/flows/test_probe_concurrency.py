"""POSTDEPLOY_PROBE_CONCURRENCY bounds the probes in flight across all batches of a sweep."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from prefect import flow

from postdeploy.domain.checks import CheckOutcome, ProbeSpec
from tasks.checks import probe_all


class CountingServer:
    """Answers every request after 100 ms and records the most connections open at once."""

    def __init__(self) -> None:
        self.open = self.peak = 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.open += 1
            self.peak = max(self.peak, self.open)
            try:
                await reader.readuntil(b"\r\n\r\n")
                await asyncio.sleep(0.1)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                await writer.drain()
            finally:
                self.open -= 1
                writer.close()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            server = self.loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
            self.port = int(server.sockets[0].getsockname()[1])
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        ready.wait(5)


@flow
def sweep(specs: list[ProbeSpec], batch_size: int, concurrency: int) -> list[CheckOutcome]:
    return probe_all(specs, batch_size=batch_size, concurrency=concurrency)


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.loop.call_soon_threadsafe(server.loop.stop)


def test_the_concurrency_limit_holds_across_batches_not_per_batch(
    counting_server: CountingServer,
) -> None:
    specs = [
        ProbeSpec(service="s", check=f"c{i}", url=f"http://127.0.0.1:{counting_server.port}/{i}")
        for i in range(60)
    ]
    outcomes = sweep(specs, batch_size=20, concurrency=12)  # 3 batches, run at once
    assert [o.check for o in outcomes] == [s.check for s in specs]
    assert all(o.ok for o in outcomes), [o.detail for o in outcomes if not o.ok][:3]
    assert 1 < counting_server.peak <= 12
