"""Probe a batch of checks in one task: a task costs ~7 ms, so never one task per probe."""

from __future__ import annotations

from collections.abc import Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE

from postdeploy.adapters.probes import probe_many
from postdeploy.domain.checks import CheckOutcome, ProbeSpec


@task(name="probe-batch", cache_policy=NO_CACHE, task_run_name="probe {label}")
async def probe_batch(
    specs: Sequence[ProbeSpec], concurrency: int = 1000, label: str = "batch"
) -> list[CheckOutcome]:
    return await probe_many(specs, concurrency=concurrency)
