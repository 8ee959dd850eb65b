"""Workflow side: a chain with memory runs as a session of turns.

The session's memory (its exchanges) is workflow state: it is rebuilt by replay, so it
survives worker restarts, and it is carried over when the session continues as new —
which it does, between turns, once its history is long (never after a fixed number of
turns). Memory is size-checked: a turn whose input would exceed the payload limit fails
with an error naming the session and suggesting `WindowMemory`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import temporalio.workflow
from temporalio.exceptions import ApplicationError

from beluga_temporal.engine._core import Run
from beluga_temporal.engine._flow import ChainFlow
from beluga_temporal.engine._progress import NodeProgress, RunProgress
from beluga_temporal.engine._snapshot import CONTINUE_KEY, Snapshot
from beluga_temporal.plan import HISTORY_KEY, MEMO_KEY, ChainPlan, MemoryPlan, StartContext
from beluga_temporal.resilience import (
    PAYLOAD_TOO_LARGE,
    PayloadTooLargeError,
    check_payload,
    check_workflow_payload,
)

TURN_UPDATE = "beluga.turn"
"""Update name (wire format) that runs one turn of a session and returns its output."""
CLOSE_SIGNAL = "beluga.close"
"""Signal name (wire format) that ends a session after the running turn."""
MEMORY_QUERY = "beluga.memory"
"""Query name (wire format) returning the session's remembered exchanges."""


def _text(value: Any) -> str:
    # sort_keys: the saved text must not depend on dict insertion order across replays.
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


class SessionRun:
    """A chain with memory: turns run one at a time, each seeing the remembered history."""

    def __init__(self, plan: ChainPlan, context: StartContext, snapshot: Snapshot | None) -> None:
        assert plan.memory is not None
        self.plan = plan
        self.context = context
        self.memory: MemoryPlan = plan.memory
        carried = (snapshot.session if snapshot is not None else None) or {}
        self.exchanges: list[dict[str, str]] = list(carried.get("exchanges", []))
        self.last: Any = carried.get("last")
        self.closed = False
        self._lock = asyncio.Lock()
        self._turn: Run | None = None

    def view(self) -> RunProgress:
        """Progress of the current (or last) turn."""
        if self._turn is not None:
            return self._turn.record.view()
        nodes = {node.name: NodeProgress(step=node.runs) for node in self.plan.nodes}
        return RunProgress(name=self.plan.name, kind="chain", nodes=nodes, plan=self.context.plan)

    async def drive(self, start: Any) -> Any:
        """Run the first turn (if any input), then serve turns until closed."""
        if start is not None:
            await self.turn(start)
        await temporalio.workflow.wait_condition(
            lambda: self.closed or (not self._lock.locked() and self._history_long())
        )
        await temporalio.workflow.wait_condition(temporalio.workflow.all_handlers_finished)
        if not self.closed:
            self._continue_as_new()
        return self.last

    async def turn(self, value: Any) -> Any:
        """Run the chain once on `value` with the memory merged in; save the exchange."""
        async with self._lock:  # turns never interleave: each sees the previous one saved
            turn_input = self._with_memory(value)
            self._check_size(turn_input)
            self._turn = Run(self.plan, self.context, ChainFlow(new_input=True), continues=False)
            output = await self._turn.drive(turn_input)
            self._save(value, output)
            self.last = output
            return output

    def close(self) -> None:
        """End the session once running turns finish."""
        self.closed = True

    def history(self) -> list[dict[str, str]]:
        """The remembered history as chat messages (`role`, `content`)."""
        messages: list[dict[str, str]] = []
        for exchange in self.exchanges:
            messages.append({"role": "user", "content": exchange["input"]})
            messages.append({"role": "assistant", "content": exchange["output"]})
        return messages

    def _history_long(self) -> bool:
        info = temporalio.workflow.info()
        defaults = self.context.defaults
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= defaults.history_events
            or info.get_current_history_size() >= defaults.history_bytes
        )

    def _continue_as_new(self) -> None:
        snapshot = Snapshot(
            context=self.context.to_json(),
            session={"exchanges": self.exchanges, "last": self.last},
        )
        arg = {CONTINUE_KEY: snapshot.model_dump(mode="json")}
        check_workflow_payload(f"memory of session '{self._session_id()}'", arg)
        temporalio.workflow.continue_as_new(arg, memo={MEMO_KEY: self.context.to_json()})

    def _check_size(self, turn_input: Any) -> None:
        try:
            check_payload("turn", [turn_input], temporalio.workflow.payload_converter())
        except PayloadTooLargeError as error:
            raise ApplicationError(
                f"session '{self._session_id()}': the memory merged into this turn makes its "
                f"input {error.size} bytes, over the payload limit of {error.limit} bytes; "
                "use WindowMemory(k) to keep only the last k exchanges",
                {"size": error.size, "limit": error.limit},
                type=PAYLOAD_TOO_LARGE,
                non_retryable=True,
            ) from None

    @staticmethod
    def _session_id() -> str:
        return temporalio.workflow.info().workflow_id

    def _with_memory(self, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return {HISTORY_KEY: self.history(), **value}  # the input wins
        return {HISTORY_KEY: self.history(), self.memory.input_key: value}

    def _save(self, value: Any, output: Any) -> None:
        human = value.get(self.memory.input_key, value) if isinstance(value, dict) else value
        ai = output.get(self.memory.output_key, output) if isinstance(output, dict) else output
        self.exchanges.append({"input": _text(human), "output": _text(ai)})
        if self.memory.kind == "window" and self.memory.k is not None:
            self.exchanges = self.exchanges[-self.memory.k :]
