"""Talk to a run by workflow id: signal, query, update, terminate, describe.

`RunControl` is mixed into `Orchestrator`; every call goes through the client's
`BelugaPlugin` (converter and codec), and every temporalio error is translated into a
beluga error by `translate`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

import temporalio.client

from beluga_temporal.client._errors import translate

Handler = str | Callable[..., Any]
"""A signal, query or update: its name, or the workflow method that handles it."""


def _any(handler: Handler) -> Any:
    # temporalio accepts a name or any handler method, typed by one overload per method
    # shape; a name-or-callable union matches none of them statically.
    return handler


@dataclasses.dataclass(frozen=True)
class RunDescription:
    """What the server knows about one run (the answer of `Orchestrator.describe`)."""

    workflow_id: str
    """The workflow id."""
    run_id: str
    """The run id (the latest run unless a run id was asked for)."""
    workflow_type: str
    """The workflow type name (a chain's or graph's name)."""
    status: temporalio.client.WorkflowExecutionStatus | None
    """`RUNNING`, `COMPLETED`, `FAILED`, `CANCELED`, `TERMINATED`, `CONTINUED_AS_NEW` or
    `TIMED_OUT`; `None` if the server did not say."""
    task_queue: str
    """The task queue its workflow tasks go to."""
    start_time: datetime
    """When the run started (UTC)."""
    close_time: datetime | None
    """When the run closed (UTC); `None` while it runs."""
    memo: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The run's memo, decoded (a chain or graph run: `beluga`, its plan fingerprint and
    defaults)."""
    summary: str | None = None
    """The static summary shown in the Web UI, if the run has one."""
    history_length: int = 0
    """Events in the run's history so far."""

    @property
    def running(self) -> bool:
        """Whether the run is still open."""
        return self.status == temporalio.client.WorkflowExecutionStatus.RUNNING


class RunControl:
    """Signals, queries, updates, termination and description of runs by workflow id.

    A mixin of `Orchestrator`: it only needs the connected `client`.
    """

    client: temporalio.client.Client

    def _handle(
        self, workflow_id: str, run_id: str | None
    ) -> temporalio.client.WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(workflow_id, run_id=run_id or None)

    async def signal(
        self, workflow_id: str, signal: Handler, *args: Any, run_id: str | None = None
    ) -> None:
        """Send a signal to a run (it returns once the server has recorded it).

        Args:
            workflow_id: The run's workflow id.
            signal: The signal name, or the `@workflow.signal` method.
            *args: The signal's arguments.
            run_id: A specific run (default: the latest).

        Raises:
            ExecutionError: No such run, or it has already closed.
        """
        try:
            await self._handle(workflow_id, run_id).signal(signal, args=args)
        except Exception as error:
            raise translate(error, workflow_id, run_id) from error

    async def query(
        self,
        workflow_id: str,
        query: Handler,
        *args: Any,
        run_id: str | None = None,
        result_type: type | None = None,
    ) -> Any:
        """Ask a run a query and return the answer (closed runs answer too).

        Args:
            workflow_id: The run's workflow id.
            query: The query name, or the `@workflow.query` method.
            *args: The query's arguments.
            run_id: A specific run (default: the latest).
            result_type: Convert the answer to this type (e.g. a pydantic model).

        Raises:
            ExecutionError: No such run, the query is unknown or failed, or no worker
                answered in time.
        """
        try:
            return await self._handle(workflow_id, run_id).query(
                _any(query), args=args, result_type=result_type
            )
        except Exception as error:
            raise translate(error, workflow_id, run_id) from error

    async def update(
        self,
        workflow_id: str,
        update: Handler,
        *args: Any,
        run_id: str | None = None,
        result_type: type | None = None,
    ) -> Any:
        """Send an update to a run, wait until it completes and return its result.

        Args:
            workflow_id: The run's workflow id.
            update: The update name, or the `@workflow.update` method.
            *args: The update's arguments.
            run_id: A specific run (default: the latest).
            result_type: Convert the result to this type.

        Raises:
            ExecutionError: No such run, or the update was rejected or failed.
        """
        try:
            return await self._handle(workflow_id, run_id).execute_update(
                _any(update), args=args, result_type=result_type
            )
        except Exception as error:
            raise translate(error, workflow_id, run_id) from error

    async def terminate(
        self, workflow_id: str, *, reason: str | None = None, run_id: str | None = None
    ) -> None:
        """End a run at once: no cleanup, compensation or cancellation handlers run.

        Prefer `cancel`, which lets the run clean up; terminate a run that is stuck.

        Args:
            workflow_id: The run's workflow id.
            reason: Recorded in the run's history and shown in the Web UI.
            run_id: A specific run (default: the latest).

        Raises:
            ExecutionError: No such run, or it has already closed.
        """
        try:
            await self._handle(workflow_id, run_id).terminate(reason=reason)
        except Exception as error:
            raise translate(error, workflow_id, run_id) from error

    async def describe(self, workflow_id: str, run_id: str | None = None) -> RunDescription:
        """Return what the server knows about a run: status, type, times, memo.

        Raises:
            ExecutionError: No such run.
        """
        try:
            found = await self._handle(workflow_id, run_id).describe()
            memo = await found.memo()
            summary = await found.static_summary()
        except Exception as error:
            raise translate(error, workflow_id, run_id) from error
        return RunDescription(
            workflow_id=found.id,
            run_id=found.run_id,
            workflow_type=found.workflow_type,
            status=found.status,
            task_queue=found.task_queue,
            start_time=found.start_time,
            close_time=found.close_time,
            memo=dict(memo),
            summary=summary,
            history_length=found.history_length,
        )
