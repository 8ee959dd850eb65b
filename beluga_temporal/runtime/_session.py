"""Workflow side: a chain with memory runs as a session of turns.

The session's memory (its exchanges) is workflow state: it is rebuilt by replay, so it
survives worker restarts, and it is carried over when the session continues as new.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import temporalio.workflow

from beluga_temporal.plan import ChainPlan, MemoryPlan
from beluga_temporal.plan._plan import HISTORY_KEY
from beluga_temporal.runtime._chain import ChainRun
from beluga_temporal.runtime._progress import RunProgress

TURN_UPDATE = "beluga.turn"
"""Update name (wire format) that runs one turn of a session and returns its output."""
CLOSE_SIGNAL = "beluga.close"
"""Signal name (wire format) that ends a session after the running turn."""
MEMORY_QUERY = "beluga.memory"
"""Query name (wire format) returning the session's remembered exchanges."""
CARRY_KEY = "__beluga_session__"
TURNS_BEFORE_CONTINUE_AS_NEW = 200


def _text(value: Any) -> str:
    # sort_keys: the saved text must not depend on dict insertion order across replays.
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


class SessionRun:
    """A chain with memory: turns run one at a time, each seeing the remembered history."""

    def __init__(self, plan: ChainPlan) -> None:
        assert plan.memory is not None
        self.plan = plan
        self.memory: MemoryPlan = plan.memory
        self.chain = ChainRun(plan)
        self.exchanges: list[dict[str, str]] = []
        self.closed = False
        self.turns = 0
        self.last: Any = None
        self._lock = asyncio.Lock()

    @property
    def progress(self) -> RunProgress:
        """Progress of the current (or last) turn."""
        return self.chain.progress

    async def execute(self, start: Any) -> Any:
        """Run the first turn (if any input), then serve turns until closed."""
        if isinstance(start, dict) and CARRY_KEY in start:
            carried = start[CARRY_KEY]
            self.exchanges = list(carried["exchanges"])
            self.last = carried.get("last")
            start = None
        if start is not None:
            await self.turn(start)
        await temporalio.workflow.wait_condition(
            lambda: self.closed or self.turns >= TURNS_BEFORE_CONTINUE_AS_NEW
        )
        await temporalio.workflow.wait_condition(temporalio.workflow.all_handlers_finished)
        if not self.closed:
            # Keep history bounded: a new run carries the memory on.
            temporalio.workflow.continue_as_new(
                {CARRY_KEY: {"exchanges": self.exchanges, "last": self.last}}
            )
        self.progress.status = "completed"
        return self.last

    async def turn(self, value: Any) -> Any:
        """Run the chain once on `value` with the memory merged in; save the exchange."""
        async with self._lock:  # turns never interleave: each sees the previous one saved
            output = await self.chain.run_turn(self._with_memory(value))
            self._save(value, output)
            self.turns += 1
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
