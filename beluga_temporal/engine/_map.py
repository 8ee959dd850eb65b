"""Workflow side: a map node runs its step once per item, with bounded concurrency.

Items are scheduled in order, at most `map_concurrency` at a time; results are kept in
input order. When the run must continue as new, the node stops scheduling, lets the
items in flight finish, and hands back the results so far: the next run resumes at the
first item not yet done.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from temporalio.exceptions import ActivityError, ApplicationError

from beluga_temporal.engine._checkpoints import LocalCheckpoints
from beluga_temporal.engine._failures import (
    MAP_INPUT_ERROR,
    NodeFailure,
    describe,
    is_cancellation,
)
from beluga_temporal.plan import NodePlan

SUSPENDED = object()
"""Returned by a map node that stopped mid-way so that the run can continue as new."""

ItemCall = Callable[[int, Any], Coroutine[Any, Any, Any]]


def items_of(node: NodePlan, state: dict[str, Any]) -> list[Any]:
    """The list a map node fans out over, or a clear non-retryable error."""
    assert node.map_items is not None
    items = state.get(node.map_items)
    if not isinstance(items, list):
        raise ApplicationError(
            f"map node '{node.name}' needs a list in state[{node.map_items!r}], "
            f"got {type(items).__name__}",
            type=MAP_INPUT_ERROR,
            non_retryable=True,
        )
    return items


class MapRun:
    """One execution (or resumption) of a map node."""

    def __init__(
        self,
        node: NodePlan,
        items: list[Any],
        results: list[Any],
        call: ItemCall,
        *,
        draining: Callable[[], bool],
        on_item: Callable[[int], None],
        checkpoints: LocalCheckpoints,
        concurrency: int | None = None,
        offset: int = 0,
    ) -> None:
        """Prepare the run of `items` (resuming after `results`).

        Args:
            node: The map node.
            items: Every item (a batch's items in a batch child).
            results: Results of the first items, done before a continue-as-new.
            call: Runs one item: `call(index, item)`.
            draining: Tells whether to stop scheduling (continue-as-new is due).
            on_item: Told how many items have finished.
            checkpoints: Local-activity checkpoints of the run.
            concurrency: Items in flight at once (default: the node's).
            offset: Index of `items[0]` in the node's whole list (for error messages).
        """
        self.node = node
        self._concurrency = node.map_concurrency if concurrency is None else concurrency
        self._offset = offset
        self.items = items
        self.results = results
        self._call = call
        self._draining = draining
        self._on_item = on_item
        self._checkpoints = checkpoints
        self._in_flight: dict[int, asyncio.Task[Any]] = {}
        self._done: asyncio.Queue[tuple[int, asyncio.Task[Any]]] = asyncio.Queue()
        self._finished: dict[int, Any] = {}  # out-of-order results waiting for their turn

    async def drive(self) -> Any:
        """Run the remaining items; return the results, or `SUSPENDED`."""
        with self._checkpoints.map_node(self._concurrency):
            return await self._drive()

    async def _drive(self) -> Any:
        next_index = len(self.results)
        try:
            while True:
                while self._may_launch(next_index):
                    self._launch(next_index)
                    next_index += 1
                more = next_index < len(self.items)
                if (
                    not self._in_flight
                    and self._checkpoints.pause_before(more)
                    and not self._draining()
                ):
                    await self._checkpoints.take()
                    continue
                if not self._in_flight:
                    break
                index, task = await self._done.get()
                del self._in_flight[index]
                self._settle(index, task)
        except BaseException:
            await self._cancel_in_flight()
            raise
        return self.results if len(self.results) == len(self.items) else SUSPENDED

    def _may_launch(self, index: int) -> bool:
        return (
            index < len(self.items)
            and len(self._in_flight) < self._concurrency
            and not self._checkpoints.due_with(len(self._in_flight))
            and not self._draining()
        )

    def _launch(self, index: int) -> None:
        task = asyncio.create_task(self._call(index, self.items[index]))
        # Reported by a callback, in the order the event loop completes them (replayed
        # identically), not by polling a set.
        task.add_done_callback(functools.partial(self._report, index))
        self._in_flight[index] = task

    def _report(self, index: int, task: asyncio.Task[Any]) -> None:
        self._done.put_nowait((index, task))

    def _settle(self, index: int, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            raise asyncio.CancelledError()
        error = task.exception()
        if error is not None:
            raise self._item_failed(index, error)
        self._finished[index] = task.result()
        while len(self.results) in self._finished:
            self.results.append(self._finished.pop(len(self.results)))
        self._on_item(len(self.results) + len(self._finished))

    def _item_failed(self, index: int, error: BaseException) -> BaseException:
        if is_cancellation(error):
            return asyncio.CancelledError()
        if not isinstance(error, ActivityError | ApplicationError | NodeFailure):
            return error  # a bug in the workflow: fail the workflow task
        error_type, message = describe(error)
        if message.startswith("item "):  # a batch child already named the item
            return NodeFailure(message, error_type)
        where = f"item {self._offset + index} of map node '{self.node.name}'"
        return NodeFailure(f"{where}: {message}", error_type)

    async def _cancel_in_flight(self) -> None:
        for task in self._in_flight.values():
            task.cancel()
        # Wait for every cancelled item to settle: a step that completes anyway must
        # not be left running after the node reports.
        while self._in_flight:
            index, _ = await self._done.get()
            self._in_flight.pop(index, None)
