"""The hooks API's token buckets, on a clock the test moves."""

from __future__ import annotations

import pytest

from postdeploy.api.limits import TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_through_then_the_next_waits_for_one_refill() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=30, burst=3, clock=clock)  # one every 2 s
    assert [buckets.take("t") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("t") == pytest.approx(2.0)
    clock.now += 1.0
    assert buckets.take("t") == pytest.approx(1.0)  # half a token back: wait the other half
    clock.now += 1.0
    assert buckets.take("t") == 0.0


def test_an_idle_key_refills_to_its_burst_and_no_further() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=60, burst=2, clock=clock)
    buckets.take("t"), buckets.take("t")
    clock.now += 3600
    assert [buckets.take("t") for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


def test_keys_have_separate_budgets() -> None:
    buckets = TokenBuckets(per_minute=60, burst=1, clock=Clock())
    assert buckets.take("a") == 0.0 and buckets.take("a") > 0
    assert buckets.take("b") == 0.0


def test_a_rate_of_zero_never_limits() -> None:
    buckets = TokenBuckets(per_minute=0, burst=1, clock=Clock())
    assert {buckets.take("t") for _ in range(1000)} == {0.0}


def test_many_keys_keep_memory_bounded_and_spent_buckets_are_kept_longest() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=60, burst=1, max_keys=100, clock=clock)
    buckets.take("spent")  # this address has used its budget
    for i in range(10_000):  # a flood from many addresses
        buckets.take(f"addr{i}")
    assert len(buckets._buckets) <= 100
    assert buckets.take("spent") > 0  # its empty bucket was not dropped for a fresh one


def test_a_new_key_gets_room_once_a_kept_bucket_is_full_again() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=60, burst=2, max_keys=2, clock=clock)
    buckets.take("a"), buckets.take("b")
    assert buckets.take("c") == pytest.approx(1.0)  # a and b each one token short
    clock.now += 1.0
    assert buckets.take("c") == 0.0
