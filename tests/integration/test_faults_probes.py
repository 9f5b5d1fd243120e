"""Fault injection, one probe at a time: endpoints that hang, reset, or close mid-answer are
failed checks naming what happened, within the check's timeout, and never hold up a sweep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from postdeploy.adapters.probes import probe_many
from postdeploy.domain.checks import CheckOutcome, ProbeSpec
from tests.fault_servers import FaultServer, Mode


@pytest.fixture
def endpoint() -> Iterator[FaultServer]:
    server = FaultServer()
    yield server
    server.close()


def sweep(*specs: ProbeSpec) -> tuple[list[CheckOutcome], float]:
    start = time.perf_counter()
    outcomes = asyncio.run(probe_many(list(specs)))
    return outcomes, time.perf_counter() - start


def spec(url: str, keyword: str | None = None, timeout_s: float = 0.5) -> ProbeSpec:
    return ProbeSpec("svc", "health", f"{url}/healthz", expect_keyword=keyword, timeout_s=timeout_s)


FAULTS: list[tuple[Mode, str]] = [
    ("http503", "HTTP 503, expected 200"),
    ("hang", "timeout after 0.5s"),
    ("reset", "connection dropped: [Errno 104] Connection reset by peer"),  # ECONNRESET
    ("mid_headers", "connection dropped: closed mid-answer after 38 bytes"),
    ("mid_body", "connection dropped: closed after 11 of 110 body bytes"),
]


@pytest.mark.parametrize("keyword", [None, "ok"], ids=["status-only", "keyword"])
@pytest.mark.parametrize(("mode", "detail"), FAULTS, ids=[m for m, _ in FAULTS])
def test_each_fault_is_a_failed_check_naming_it_within_the_timeout(
    endpoint: FaultServer, mode: Mode, detail: str, keyword: str | None
) -> None:
    endpoint.mode = mode
    (outcome,), elapsed = sweep(spec(endpoint.url, keyword))

    assert not outcome.ok
    assert outcome.detail == detail
    assert elapsed < 0.5 + 1.5  # the timeout, plus scheduling slack on a busy machine


def test_a_200_whose_body_is_cut_short_fails_even_without_a_keyword(
    endpoint: FaultServer,
) -> None:
    # regression: the probe read only the headers when no keyword was expected, so a server
    # closing mid-body (a crash while answering) passed as "HTTP 200"
    endpoint.mode = "mid_body"
    (outcome,), _ = sweep(spec(endpoint.url))
    assert not outcome.ok and outcome.status is None

    endpoint.mode = "ok"
    (outcome,), _ = sweep(spec(endpoint.url))
    assert outcome.ok and outcome.detail == "HTTP 200"


def test_hung_endpoints_do_not_hold_up_the_rest_of_the_sweep(endpoint: FaultServer) -> None:
    hang = 3.0  # long enough that "queued behind a hung probe" cannot pass for load on a busy CI
    hung = [FaultServer("hang") for _ in range(20)]
    try:
        specs = [spec(h.url, timeout_s=hang) for h in hung]
        specs += [spec(endpoint.url, "ok", timeout_s=10) for _ in range(50)]
        outcomes, elapsed = sweep(*specs)
    finally:
        for h in hung:
            h.close()

    assert [o.detail for o in outcomes[:20]] == [f"timeout after {hang:g}s"] * 20
    assert all(hang * 1000 <= (o.latency_ms or 0) < (hang + 1.5) * 1000 for o in outcomes[:20])
    assert all(o.ok for o in outcomes[20:])
    # every healthy probe answered before the first hung one timed out: none waited behind them
    assert max(o.latency_ms or 0 for o in outcomes[20:]) < hang * 1000
    assert elapsed < hang + 2.0  # one timeout, not twenty
