"""Probe a batch of checks in one task: a task costs ~7 ms, so never one task per probe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from prefect import task
from prefect.cache_policies import NO_CACHE

from postdeploy.adapters.probes import probe_many
from postdeploy.domain.checks import CheckOutcome, ProbeSpec


@task(name="probe-batch", cache_policy=NO_CACHE, task_run_name="probe {label}")
async def probe_batch(
    specs: Sequence[ProbeSpec], concurrency: int = 1000, label: str = "batch"
) -> list[CheckOutcome]:
    return await probe_many(specs, concurrency=concurrency)


def probe_all(
    specs: Sequence[ProbeSpec], *, batch_size: int, concurrency: int
) -> list[CheckOutcome]:
    """Probe every spec in batches, one task per batch, the batches at once; in spec order.
    `concurrency` bounds the probes in flight across all batches, not per batch: 5,000 checks
    in 5 batches must not open 5,000 sockets at once."""
    batches = [specs[i : i + batch_size] for i in range(0, len(specs), batch_size)]
    share = max(1, concurrency // max(1, len(batches)))
    futures = [
        probe_batch.submit(batch, share, label=f"{len(batch)} checks ({n + 1}/{len(batches)})")
        for n, batch in enumerate(batches)
    ]
    return [o for f in futures for o in cast(list[CheckOutcome], f.result())]
