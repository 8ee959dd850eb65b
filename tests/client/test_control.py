"""`Orchestrator.signal/query/update/terminate/describe` against the real dev server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
import temporalio.api.enums.v1
from temporalio.client import WorkflowExecutionStatus

from beluga_temporal.client import Orchestrator, RunDescription
from beluga_temporal.errors import BelugaError, ExecutionError
from beluga_temporal.local import LocalRuntime
from beluga_temporal.worker import create_worker
from tests.client.approval_app import APPROVAL, Approval


@pytest_asyncio.fixture
async def orch(dev_runtime: LocalRuntime, task_queue: str) -> AsyncIterator[Orchestrator]:
    """An orchestrator on the dev server, with a worker hosting `Approval`."""
    async with create_worker(dev_runtime.client, task_queue, targets=[Approval]):
        yield Orchestrator(dev_runtime.client, task_queue)


def new_id() -> str:
    return f"approval-{uuid.uuid4().hex[:8]}"


async def test_signal_query_update_drive_a_run(orch: Orchestrator) -> None:
    run = await orch.start(Approval, "refund 42", workflow_id=new_id())
    assert await orch.update(run.workflow_id, "add_note", "checked receipt") == 1
    assert await orch.update(run.workflow_id, Approval.add_note, "ok by phone") == 2
    status = await orch.query(run.workflow_id, Approval.status)
    assert status == {"approver": None, "notes": ["checked receipt", "ok by phone"]}
    await orch.signal(run.workflow_id, Approval.approve, "ada", run_id=run.run_id)
    assert await orch.result(run.workflow_id) == "refund 42: approved by ada"
    # A closed run still answers queries.
    closed = await orch.query(run.workflow_id, "status")
    assert closed["approver"] == "ada"


async def test_failed_update_and_unknown_query_are_execution_errors(orch: Orchestrator) -> None:
    run = await orch.start(Approval, "r", workflow_id=new_id())
    with pytest.raises(ExecutionError, match="EmptyNote: a note must not be empty"):
        await orch.update(run.workflow_id, "add_note", "")
    with pytest.raises(ExecutionError, match=f"query on run '{run.workflow_id}' failed: .*nope"):
        await orch.query(run.workflow_id, "nope")
    await orch.terminate(run.workflow_id)


async def test_terminate_records_the_reason(orch: Orchestrator) -> None:
    run = await orch.start(Approval, "r", workflow_id=new_id())
    await orch.terminate(run.workflow_id, reason="stuck on a human", run_id=run.run_id)
    found = await orch.describe(run.workflow_id)
    assert found.status == WorkflowExecutionStatus.TERMINATED
    assert not found.running
    history = await orch.client.get_workflow_handle(run.workflow_id).fetch_history()
    terminated = history.events[-1]
    event_type = temporalio.api.enums.v1.EventType
    assert terminated.event_type == event_type.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED
    assert terminated.workflow_execution_terminated_event_attributes.reason == "stuck on a human"
    with pytest.raises(ExecutionError, match=f"run '{run.workflow_id}' has already closed"):
        await orch.terminate(run.workflow_id)
    with pytest.raises(ExecutionError, match="has already closed"):
        await orch.signal(run.workflow_id, "approve", "late")


async def test_describe_a_running_then_completed_run(orch: Orchestrator, task_queue: str) -> None:
    plan = {"fingerprint": "abc123", "nodes": 3}
    run = await orch.start(
        Approval, "r", workflow_id=new_id(), memo={"beluga.plan": plan, "team": "ops"}
    )
    found = await orch.describe(run.workflow_id)
    assert isinstance(found, RunDescription)
    assert (found.workflow_id, found.run_id) == (run.workflow_id, run.run_id)
    assert found.workflow_type == APPROVAL
    assert found.status == WorkflowExecutionStatus.RUNNING
    assert found.running
    assert found.task_queue == task_queue
    assert found.close_time is None
    assert found.memo == {"beluga.plan": plan, "team": "ops"}
    assert found.history_length >= 2

    await orch.signal(run.workflow_id, "approve", "bob")
    await orch.result(run.workflow_id)
    done = await orch.describe(run.workflow_id, run.run_id)
    assert done.status == WorkflowExecutionStatus.COMPLETED
    assert done.close_time is not None
    assert done.close_time >= done.start_time


@pytest.mark.parametrize("call", ["signal", "query", "update", "terminate", "describe"])
async def test_unknown_run_is_named(orch: Orchestrator, call: str) -> None:
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "signal": lambda: orch.signal("no-such-run", "approve", "x"),
        "query": lambda: orch.query("no-such-run", "status"),
        "update": lambda: orch.update("no-such-run", "add_note", "x"),
        "terminate": lambda: orch.terminate("no-such-run"),
        "describe": lambda: orch.describe("no-such-run"),
    }
    with pytest.raises(BelugaError, match="no workflow run 'no-such-run'"):
        await calls[call]()
