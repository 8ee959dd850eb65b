import asyncio
import os
import stat
import sys
import textwrap
from pathlib import Path

import pydantic

from beluga_temporal.state import Change, SqliteStore

N = 300

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from beluga_temporal.state import SqliteStore

    async def main() -> None:
        store = SqliteStore(sys.argv[1])
        for i in range(int(sys.argv[2])):
            await store.set("progress", {"step": i})
        await store.delete("progress")

    asyncio.run(main())
    """
)


class Order(pydantic.BaseModel):
    order_id: str
    total: float


async def test_watch_sees_every_change_from_another_process(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    store = SqliteStore(db, poll_interval=0.01)
    async with store.watch("progress") as changes:
        writer = await asyncio.create_subprocess_exec(sys.executable, "-c", WRITER, str(db), str(N))
        async with asyncio.timeout(60):
            received = [await anext(changes) for _ in range(N + 1)]
            assert await writer.wait() == 0
    assert [c.value for c in received[:N]] == [{"step": i} for i in range(N)]
    assert [c.version for c in received] == list(range(1, N + 2))
    assert received[-1] == Change("progress", None, N + 1, deleted=True)
    store.close()


async def test_values_survive_reopening(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "state.db")
    await first.set("order", Order(order_id="o-1", total=9.5))
    first.close()
    second = SqliteStore(tmp_path / "state.db")
    # JSON storage: a pydantic model comes back as its model_dump(mode="json")
    assert await second.get("order") == {"order_id": "o-1", "total": 9.5}
    assert await second.set("order", None) == 2
    second.close()


async def test_watcher_on_another_connection_sees_commits(tmp_path: Path) -> None:
    # no in-process wake-up between two stores: only data_version polling finds the change
    writer, reader = SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db")
    async with reader.watch("k") as changes:
        await writer.set("k", [1, 2])
        async with asyncio.timeout(10):
            assert await anext(changes) == Change("k", [1, 2], 1)
    writer.close()
    reader.close()


async def test_watcher_behind_the_kept_history_gets_the_latest(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db", history=5)
    async with store.watch("k") as changes:
        for i in range(50):
            await store.set("k", i)
        received = [await anext(changes) for _ in range(5)]
    assert [c.version for c in received] == [46, 47, 48, 49, 50]
    assert received[-1].value == 49
    store.close()


def test_file_uses_wal_mode(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    mode = store._conn.execute("PRAGMA journal_mode").fetchone()[0]
    store.close()
    assert mode == "wal"


async def test_state_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    previous = os.umask(0o022)  # the common default, which leaves files world-readable
    try:
        store = SqliteStore(path)
        await store.set("order", {"card": "4242"})
        watch = store.watch("order")  # a second connection: the -shm file is in use
        await store.set("order", {"card": "4000"})
        files = [path, path.with_name("state.db-wal"), path.with_name("state.db-shm")]
        modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
        await watch.aclose()
        store.close()
    finally:
        os.umask(previous)
    assert modes == dict.fromkeys(modes, 0o600)
