"""Group commit: concurrent submissions share transactions, and one failure fails only its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, Table, func, select

from postdeploy.api.batching import GroupCommitter
from postdeploy.store.engine import make_engine

meta = MetaData()
item = Table("item", meta, Column("n", Integer, primary_key=True))


def test_concurrent_items_are_all_stored_and_a_failing_one_fails_alone(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    meta.create_all(engine)

    def write(conn: Connection, n: int) -> int:
        if n == 13:
            raise ValueError("unlucky")
        conn.execute(item.insert().values(n=n))
        return n * 2

    committer: GroupCommitter[int, int] = GroupCommitter(engine, write, max_batch=50)

    async def main() -> list[int | BaseException]:
        return await asyncio.gather(
            *(committer.submit(n) for n in range(100)), return_exceptions=True
        )

    results = asyncio.run(main())
    assert isinstance(results[13], ValueError)
    assert [r for i, r in enumerate(results) if i != 13] == [2 * n for n in range(100) if n != 13]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(item)).scalar_one() == 99
        assert conn.execute(select(item.c.n).where(item.c.n == 13)).first() is None
    engine.dispose()


def test_a_lone_submission_is_written_at_once(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'y.db'}")
    meta.create_all(engine)
    committer: GroupCommitter[int, int] = GroupCommitter(
        engine, lambda conn, n: conn.execute(item.insert().values(n=n)).rowcount
    )
    assert asyncio.run(committer.submit(7)) == 1
    with pytest.raises(Exception, match="UNIQUE"):
        asyncio.run(committer.submit(7))
    engine.dispose()
