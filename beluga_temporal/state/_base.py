from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable


@dataclass(frozen=True)
class Change:
    """One change to one key, as a watcher receives it."""

    key: str
    """The key that changed."""
    value: Any
    """The new value; `None` when `deleted`."""
    version: int
    """The key's version after the change: 1 for the first `set`, then +1 per `set` or
    `delete`. A jump of more than one tells a watcher it skipped intermediate changes."""
    deleted: bool = False
    """Whether the change deleted the key."""


@runtime_checkable
class StateStore(Protocol):
    """Shared key/value state whose changes can be watched.

    A watcher subscribes when `watch` is called (not when iteration starts) and receives
    every later change to its key in order while it keeps up. If it falls further behind
    than the store's buffer allows, it skips to newer changes and always receives the
    latest one — never a silent gap, since `Change.version` jumps.
    """

    async def set(self, key: str, value: Any) -> int:
        """Store `value` under `key` and notify watchers; return the new version."""
        ...

    async def get(self, key: str, default: Any = None) -> Any:
        """Return the value under `key`, or `default` when absent or deleted."""
        ...

    async def delete(self, key: str) -> bool:
        """Delete `key`; watchers get a `deleted=True` change. Return whether it existed."""
        ...

    def watch(self, key: str) -> Watch:
        """Subscribe to the changes of `key` from now on."""
        ...


class Watch(AsyncIterator[Change], abc.ABC):
    """An async iterator of one key's changes; close it (or use `async with`) to unsubscribe.

    Example:
        ```python
        async with store.watch("order:o-1:status") as changes:
            async for change in changes:
                if change.value == "done":
                    break
        ```
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.closed = False

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Change:
        if self.closed:
            raise StopAsyncIteration
        return await self._next()

    @abc.abstractmethod
    async def _next(self) -> Change:
        """Wait for the next change (stores implement it)."""

    async def aclose(self) -> None:
        """Unsubscribe; iteration then stops."""
        self.closed = True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
