"""`ChainSession`: talk to a chain with memory, turn by turn, durably."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import temporalio.client
import temporalio.common

from beluga_temporal.client._errors import translate
from beluga_temporal.engine import CLOSE_SIGNAL, MEMORY_QUERY, TURN_UPDATE, WorkflowTarget
from beluga_temporal.plan import MEMO_KEY, process_defaults
from beluga_temporal.plugin import is_time_skipping

if TYPE_CHECKING:
    from beluga_temporal.client._orchestrator import Orchestrator


class ChainSession:
    """A conversation with a chain that has memory; its workflow id is the session id.

    The session's workflow starts with the first `send` (update-with-start) and keeps
    the memory in its state until `close()`.
    """

    def __init__(self, orch: Orchestrator, chain: WorkflowTarget, session_id: str) -> None:
        self._orch = orch
        self.chain = chain
        self.session_id = session_id

    async def send(self, value: Any) -> Any:
        """Run one turn of the chain on `value` and return its output.

        Raises:
            ExecutionError: The turn failed (the session stays open).
        """
        settle = not await is_time_skipping(self._orch.client)
        context = self.chain.start_context(process_defaults(), settle_cancelled=settle)
        start: temporalio.client.WithStartWorkflowOperation[Any, Any]
        start = temporalio.client.WithStartWorkflowOperation(
            self.chain.name,
            None,
            id=self.session_id,
            task_queue=self._orch.task_queue,
            id_conflict_policy=temporalio.common.WorkflowIDConflictPolicy.USE_EXISTING,
            memo={MEMO_KEY: context.to_json()},
        )
        try:
            return await self._orch.client.execute_update_with_start_workflow(
                TURN_UPDATE, value, start_workflow_operation=start
            )
        except Exception as error:
            raise translate(error, self.session_id) from error

    async def history(self) -> list[dict[str, str]]:
        """The remembered exchanges as chat messages (`role`, `content`)."""
        handle = self._orch.client.get_workflow_handle(self.session_id)
        try:
            messages: list[dict[str, str]] = await handle.query(MEMORY_QUERY)
        except Exception as error:
            raise translate(error, self.session_id) from error
        return messages

    async def close(self) -> Any:
        """End the session and return the last turn's output."""
        handle = self._orch.client.get_workflow_handle(self.session_id)
        try:
            await handle.signal(CLOSE_SIGNAL)
        except Exception as error:
            raise translate(error, self.session_id) from error
        return await self._orch.result(self.session_id)
