"""Shared key/value state with change notifications (the seed's `state` package).

`InMemoryStore` serves one process; `SqliteStore` is a durable file that several
processes share. Both implement `StateStore`: `set`, `get`, `delete` and `watch(key)`,
an async iterator of `Change`s.

Example:
    ```python
    store = InMemoryStore()
    async with store.watch("workflow:status") as changes:
        await store.set("workflow:status", "running")
        change = await anext(changes)   # Change(key=..., value="running", version=1)
    ```

A watcher never silently misses a change: while it keeps up it receives every change in
order; if it falls behind more than the store buffers, it skips ahead and still receives
the latest value, and the jump in `Change.version` shows that it skipped.
"""

from beluga_temporal.state._base import Change, StateStore, Watch
from beluga_temporal.state._memory import InMemoryStore
from beluga_temporal.state._sqlite import SqliteStore

__all__ = ["Change", "InMemoryStore", "SqliteStore", "StateStore", "Watch"]
