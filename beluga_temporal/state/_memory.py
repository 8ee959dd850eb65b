from __future__ import annotations

import asyncio
import weakref
from collections import deque
from typing import Any

from beluga_temporal.state._base import Change, Watch

_MISSING = object()


class InMemoryStore:
    """A `StateStore` in this process's memory, for one event loop.

    Values are kept as given (not copied or serialised). Each watcher has a buffer of
    `buffer_size` changes: while it keeps up it receives every change in order; when a
    writer outruns it by more than that, the oldest buffered changes are dropped, so it
    still receives the newest ones, including the latest value (`Change.version` jumps
    where changes were dropped).

    Args:
        buffer_size: Changes buffered per watcher (> 0). Default 1024.
    """

    def __init__(self, buffer_size: int = 1024) -> None:
        if buffer_size <= 0:
            raise ValueError("buffer_size must be greater than 0")
        self._buffer_size = buffer_size
        self._values: dict[str, Any] = {}
        # the version survives a delete so a re-created key keeps counting upwards
        self._versions: dict[str, int] = {}
        # weak: a watcher that is dropped without being closed unsubscribes itself
        self._watchers: dict[str, weakref.WeakSet[_MemoryWatch]] = {}

    async def set(self, key: str, value: Any) -> int:
        """Store `value` under `key` and notify watchers.

        Returns:
            The key's new version.
        """
        self._values[key] = value
        return self._publish(key, value, deleted=False)

    async def get(self, key: str, default: Any = None) -> Any:
        """Return the value under `key`, or `default` when absent or deleted."""
        return self._values.get(key, default)

    async def delete(self, key: str) -> bool:
        """Delete `key`; watchers receive a `deleted=True` change.

        Returns:
            Whether the key existed (deleting a missing key notifies nobody).
        """
        if self._values.pop(key, _MISSING) is _MISSING:
            return False
        self._publish(key, None, deleted=True)
        return True

    def watch(self, key: str) -> Watch:
        """Subscribe to the changes of `key` made from now on."""
        watcher = _MemoryWatch(key, self._buffer_size)
        self._watchers.setdefault(key, weakref.WeakSet()).add(watcher)
        return watcher

    def _publish(self, key: str, value: Any, *, deleted: bool) -> int:
        version = self._versions.get(key, 0) + 1
        self._versions[key] = version
        change = Change(key=key, value=value, version=version, deleted=deleted)
        for watcher in list(self._watchers.get(key, ())):
            watcher.push(change)
        return version


class _MemoryWatch(Watch):
    def __init__(self, key: str, buffer_size: int) -> None:
        super().__init__(key)
        # maxlen: a full buffer drops its oldest change, never the newest
        self._buffer: deque[Change] = deque(maxlen=buffer_size)
        self._ready = asyncio.Event()

    def push(self, change: Change) -> None:
        if not self.closed:
            self._buffer.append(change)
            self._ready.set()

    async def _next(self) -> Change:
        while not self._buffer:
            if self.closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._buffer.popleft()

    async def aclose(self) -> None:
        await super().aclose()
        self._ready.set()  # wake a consumer blocked in `_next` so it stops
