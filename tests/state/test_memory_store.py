import asyncio

import pytest

from beluga_temporal.state import Change, InMemoryStore

N = 5_000


async def test_watch_sees_every_change_in_order_under_a_fast_writer() -> None:
    store = InMemoryStore(buffer_size=N)
    async with store.watch("k") as changes:
        # the writer never yields, so the watcher runs only after all N sets
        for i in range(N):
            await store.set("k", i)
        received = [await anext(changes) for _ in range(N)]
    assert [c.value for c in received] == list(range(N))
    assert [c.version for c in received] == list(range(1, N + 1))


async def test_concurrent_reader_and_writer_see_every_change() -> None:
    store = InMemoryStore(buffer_size=16)
    async with store.watch("k") as changes:

        async def read() -> list[int]:
            return [(await anext(changes)).value for _ in range(N)]

        reader = asyncio.create_task(read())

        for i in range(N):
            await store.set("k", i)
            await asyncio.sleep(0)  # a yield, not a wait: lets the reader keep up
        assert await reader == list(range(N))


async def test_overflowing_watcher_skips_ahead_and_gets_the_latest_value() -> None:
    store = InMemoryStore(buffer_size=8)
    async with store.watch("k") as changes:
        for i in range(100):
            await store.set("k", i)
        received = [await anext(changes) for _ in range(8)]
    assert [c.value for c in received] == list(range(92, 100))
    assert received[-1] == Change("k", 99, 100)
    # the jump from 0 to 93 is how a watcher knows it skipped changes
    assert received[0].version == 93


async def test_aclose_wakes_a_blocked_consumer() -> None:
    store = InMemoryStore()
    changes = store.watch("k")
    waiter = asyncio.create_task(anext(changes))
    await asyncio.sleep(0)  # let it block on the empty buffer
    await changes.aclose()
    with pytest.raises(StopAsyncIteration):
        await waiter


async def test_unreferenced_watch_unsubscribes() -> None:
    store = InMemoryStore()
    store.watch("k")  # dropped at once
    await store.set("k", 1)
    assert not list(store._watchers["k"])


def test_buffer_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="buffer_size"):
        InMemoryStore(buffer_size=0)
