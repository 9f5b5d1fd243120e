"""Group commit: the payloads of concurrent requests stored in one transaction.

A store takes one writer at a time (SQLite always, PostgreSQL on the same rows): one drain
loop writing whatever has queued up beats many threads each waiting for the write lock and
paying for a commit of its own. Each payload stays all-or-nothing: when a batch fails, its
payloads are written one by one, so one bad payload never fails another request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, Engine

P = TypeVar("P")
R = TypeVar("R")


class GroupCommitter(Generic[P, R]):
    def __init__(
        self, engine: Engine, write: Callable[[Connection, P], R], max_batch: int = 256
    ) -> None:
        self.engine = engine
        self.write = write
        self.max_batch = max_batch
        self._pending: list[tuple[P, asyncio.Future[R]]] = []
        self._draining = False

    async def submit(self, item: P) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    def _transaction(self, items: Sequence[P]) -> list[R]:
        with self.engine.begin() as conn:
            return [self.write(conn, item) for item in items]

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                try:
                    results = await run_in_threadpool(self._transaction, [i for i, _ in batch])
                    for (_, future), result in zip(batch, results, strict=True):
                        future.set_result(result)
                except Exception:
                    for item, future in batch:
                        try:
                            (result,) = await run_in_threadpool(self._transaction, [item])
                            future.set_result(result)
                        except Exception as exc:  # that request answers with its own error
                            future.set_exception(exc)
        finally:
            self._draining = False
