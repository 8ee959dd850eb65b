"""Behaviour every `StateStore` shares, run against both implementations."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from beluga_temporal.state import Change, InMemoryStore, SqliteStore, StateStore


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StateStore]:
    if request.param == "memory":
        yield InMemoryStore()
        return
    sqlite = SqliteStore(tmp_path / "state.db")
    yield sqlite
    sqlite.close()


def test_implements_protocol(store: StateStore) -> None:
    assert isinstance(store, StateStore)


async def test_get_returns_default_for_missing_key(store: StateStore) -> None:
    assert await store.get("nope") is None
    assert await store.get("nope", default="d") == "d"


async def test_set_then_get_and_versions_count_up(store: StateStore) -> None:
    assert await store.set("k", {"status": "running"}) == 1
    assert await store.set("k", {"status": "done"}) == 2
    assert await store.get("k") == {"status": "done"}


async def test_watch_subscribes_when_called_not_when_iterated(store: StateStore) -> None:
    async with store.watch("k") as changes:
        await store.set("k", "a")  # before the first __anext__
        assert await anext(changes) == Change("k", "a", 1)


async def test_watch_only_sees_its_key(store: StateStore) -> None:
    async with store.watch("k") as changes:
        await store.set("other", 1)
        await store.set("k", 2)
        assert await anext(changes) == Change("k", 2, 1)


async def test_delete_notifies_watchers_and_get_returns_default(store: StateStore) -> None:
    await store.set("k", "v")
    async with store.watch("k") as changes:
        assert await store.delete("k") is True
        assert await anext(changes) == Change("k", None, 2, deleted=True)
        assert await store.get("k", default="gone") == "gone"
        # deleting a missing key is a no-op: the next change is the re-set, version 3
        assert await store.delete("k") is False
        assert await store.set("k", "again") == 3
        assert await anext(changes) == Change("k", "again", 3)


async def test_closed_watch_stops_iteration(store: StateStore) -> None:
    changes = store.watch("k")
    await changes.aclose()
    await store.set("k", 1)
    with pytest.raises(StopAsyncIteration):
        await anext(changes)
