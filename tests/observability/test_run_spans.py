"""Issue 10.6: failures are visible in traces, and run and node spans last as long as
what they measure — emitted once, by the worker that ends them, never on replay."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import uuid
from collections import Counter
from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

import opentelemetry.context
import pytest
from temporalio.client import Client, WorkflowFailureError

from beluga_temporal import (
    BelugaPlugin,
    Chain,
    Graph,
    GraphExecutionError,
    LocalRuntime,
    Orchestrator,
    RetryPolicy,
    create_worker,
    step,
)
from beluga_temporal.observability import Observability
from beluga_temporal.plan import process_defaults
from beluga_temporal.testing import OTLPReceiver, ReceivedSpan

from .traced_app import HandWritten, Stubborn, slow_fail

GATE = {"event": asyncio.Event()}


@step(name="span-validate")
async def validate(state: dict[str, Any]) -> dict[str, Any]:
    return {"valid": True}


@step(name="span-hold", timeout=30)
async def hold(state: dict[str, Any]) -> dict[str, Any]:
    await GATE["event"].wait()  # held until the test has restarted the worker
    return {"held": True}


@step(name="span-charge", retry=RetryPolicy(max_attempts=1))
async def charge(state: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("card declined")


@step(name="span-unvalidate")
async def unvalidate(state: dict[str, Any]) -> None:
    return None


@step(name="span-tick")
async def tick(value: int) -> int:
    return value + 1


def saga() -> Graph:
    g = Graph("span-saga")
    g.add_node("validate", validate, compensate=unvalidate)
    g.add_node("hold", hold).add_node("charge", charge)
    g.add_edge("validate", "hold").add_edge("hold", "charge")
    return g.set_entry_point("validate")


@pytest.fixture
async def client(dev_runtime: LocalRuntime, observability: Observability) -> Client:
    target = dev_runtime.client.service_client.config.target_host
    return await Client.connect(target, plugins=[BelugaPlugin()])  # tracing from setup


def ns(moment: datetime | None) -> int:
    assert moment is not None
    return (moment - datetime(1970, 1, 1, tzinfo=moment.tzinfo)) // timedelta(microseconds=1) * 1000


async def trace_of(
    receiver: OTLPReceiver, observability: Observability, workflow_id: str, last: str
) -> dict[str, ReceivedSpan]:
    """The spans of one run (queries aside) once `last` arrived; each name only once.

    Activity spans are per attempt: the last attempt's is kept.
    """
    observability.force_flush()
    spans = await receiver.wait_for_spans_async(
        lambda spans: any(s.name == last and mine(s, workflow_id) for s in spans)
    )
    trace = [s for s in spans if mine(s, workflow_id) and "Query" not in s.name]
    counts = Counter(s.name for s in trace if not s.name.startswith("RunActivity:"))
    assert [name for name, n in counts.items() if n > 1] == [], counts
    assert len({s.span_id for s in trace}) == len(trace)
    assert len({s.trace_id for s in trace}) == 1
    return {s.name: s for s in trace}


def mine(span: ReceivedSpan, workflow_id: str) -> bool:
    return span.attributes.get("temporalWorkflowID") == workflow_id


async def replay_with_a_fresh_worker(client: Client, queue: str, graph: Any, wid: str) -> None:
    # A worker with an empty cache answers the query by replaying the whole history.
    async with create_worker(client, queue, targets=[graph]):
        await Orchestrator(client, queue).progress(wid)


async def test_failed_run_spans_last_the_run_and_survive_a_restart(
    client: Client, observability: Observability, receiver: OTLPReceiver, task_queue: str
) -> None:
    g, orch = saga(), Orchestrator(client, task_queue)
    wid = f"span-saga-{uuid.uuid4()}"
    GATE["event"] = asyncio.Event()
    async with create_worker(client, task_queue, targets=[g]):
        run = await orch.start(g, {}, workflow_id=wid)
        async for progress in orch.watch(wid, interval=0.05):
            if progress.nodes["hold"].status == "running":
                break
    # The first worker is gone with `hold` running; a fresh one replays and finishes.
    GATE["event"].set()
    async with create_worker(client, task_queue, targets=[g]):
        with pytest.raises(GraphExecutionError):
            await orch.result(run.workflow_id, run.run_id)
        progress = await orch.progress(wid)
    spans = await trace_of(receiver, observability, wid, "beluga.graph span-saga")
    started = (await client.get_workflow_handle(wid).describe()).start_time

    graph_span, node = spans["beluga.graph span-saga"], spans["beluga.node hold"]
    assert graph_span.parent_span_id == spans["RunWorkflow:span-saga"].span_id
    assert graph_span.status == "ERROR"
    assert graph_span.status_message.startswith(
        "GraphExecutionError: graph 'span-saga' failed at node 'charge'"
    )
    ((event, attributes),) = graph_span.events
    assert (event, attributes["exception.type"]) == ("exception", "GraphExecutionError")
    assert graph_span.attributes["workflow.status"] == "failed"
    # It lasts the run: from the workflow's start to after the compensation.
    assert abs(graph_span.start_ns - ns(started)) < 1_000_000
    undo = spans["RunActivity:span-unvalidate"]
    assert spans["StartActivity:span-unvalidate"].parent_span_id == graph_span.span_id
    assert graph_span.start_ns < node.start_ns < node.end_ns <= undo.end_ns <= graph_span.end_ns
    # The node span crossed the restart: opened by one worker, ended once by the other.
    assert (node.start_ns, node.end_ns) == (
        ns(progress.nodes["hold"].started_at),
        ns(progress.nodes["hold"].finished_at),
    )
    assert node.status == "UNSET"
    assert node.attributes["beluga.status"] == "succeeded"
    assert spans["StartActivity:span-hold"].parent_span_id == node.span_id
    attempts = [s for s in receiver.spans() if mine(s, wid) and s.name == "RunActivity:span-hold"]
    assert len(attempts) == 2  # the worker that stopped interrupted the first attempt
    assert {s.parent_span_id for s in attempts} == {spans["StartActivity:span-hold"].span_id}
    failed = spans["beluga.node charge"]
    assert (failed.status, failed.status_message) == ("ERROR", "RuntimeError: card declined")
    assert failed.events == [
        ("exception", {"exception.type": "RuntimeError", "exception.message": "card declined"})
    ]

    before = len(receiver.spans())
    await replay_with_a_fresh_worker(client, task_queue, g, wid)
    observability.force_flush()
    replayed = [s for s in receiver.spans()[before:] if mine(s, wid) and "Query" not in s.name]
    assert replayed == []  # the replay emitted nothing


async def test_hand_written_workflow_gets_a_run_span_through_the_plugin(
    client: Client, observability: Observability, receiver: OTLPReceiver, task_queue: str
) -> None:
    wid = f"span-hand-{uuid.uuid4()}"
    async with create_worker(client, task_queue, targets=[HandWritten], activities=[slow_fail]):
        with pytest.raises(WorkflowFailureError):
            await client.execute_workflow(HandWritten.run, "o-1", id=wid, task_queue=task_queue)
    spans = await trace_of(receiver, observability, wid, "RunWorkflow:span-hand-written")

    run, activity = spans["RunWorkflow:span-hand-written"], spans["RunActivity:span-slow-fail"]
    assert run.parent_span_id == spans["StartWorkflow:span-hand-written"].span_id
    assert run.status == "ERROR"
    assert run.status_message.startswith("ApplicationError: OrderFailed: step failed")
    ((event, attributes),) = run.events
    assert event == "exception"
    assert attributes["exception.type"] == "temporalio.exceptions.ApplicationError"
    assert spans["StartActivity:span-slow-fail"].parent_span_id == run.span_id
    assert activity.status == "ERROR"
    assert run.start_ns < activity.start_ns < activity.end_ns <= run.end_ns
    assert run.duration >= 0.3


async def test_each_continued_execution_has_its_own_run_span(
    client: Client,
    observability: Observability,
    receiver: OTLPReceiver,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BELUGA_ORCHESTRATION__HISTORY__MAX_EVENTS", "50")
    process_defaults.cache_clear()  # the starter fixes defaults when a run starts
    chain = Chain("span-continued", steps=[tick] * 12)
    wid = f"span-continued-{uuid.uuid4()}"
    orch = Orchestrator(client, task_queue)
    try:
        async with create_worker(client, task_queue, targets=[chain]):
            assert await orch.execute(chain, 0, workflow_id=wid) == 12
            progress = await orch.progress(wid)
    finally:
        monkeypatch.undo()
        process_defaults.cache_clear()
    assert progress.continuations >= 1
    observability.force_flush()
    spans = await receiver.wait_for_spans_async(
        lambda spans: any(
            mine(s, wid) and s.attributes.get("workflow.status") == "completed" for s in spans
        )
    )
    runs = [s for s in spans if mine(s, wid) and s.name == "beluga.chain span-continued"]
    statuses = [s.attributes["workflow.status"] for s in runs]
    assert statuses == ["continued"] * progress.continuations + ["completed"]
    assert len({s.attributes["temporalRunID"] for s in runs}) == len(runs)
    assert len({s.trace_id for s in runs}) == 1  # one trace across the continuations
    nodes = [s for s in spans if mine(s, wid) and s.name.startswith("beluga.node ")]
    assert len(nodes) == 12  # each step once, in the execution that ran it


class Suspend:
    def __await__(self) -> Generator[None]:
        yield


def test_closing_a_dropped_workflow_coroutine_logs_no_detach_error(
    observability: Observability, caplog: pytest.LogCaptureFixture
) -> None:
    # What garbage collection does to the coroutines of a workflow whose worker stopped:
    # close them in another context than the one their `with span:` attached in.
    async def suspended_in_a_span() -> None:
        token = opentelemetry.context.attach(opentelemetry.context.set_value("k", 1))
        try:
            await Suspend()
        finally:
            opentelemetry.context.detach(token)

    coroutine = suspended_in_a_span()
    contextvars.copy_context().run(coroutine.send, None)  # up to its suspension
    coroutine.close()
    assert "Failed to detach context" not in caplog.text


async def test_a_workflow_dropped_by_a_stopped_worker_emits_no_span(
    client: Client, observability: Observability, receiver: OTLPReceiver, task_queue: str
) -> None:
    # Its coroutine, still suspended after the eviction, is closed by garbage collection
    # outside any workflow: the `RunWorkflow` span it ends there is not the run's end.
    wid = f"span-stubborn-{uuid.uuid4()}"
    async with create_worker(client, task_queue, targets=[Stubborn]):
        handle = await client.start_workflow(Stubborn.run, id=wid, task_queue=task_queue)
        await handle.query("__stack_trace")  # the worker has run its first task
    gc.collect()
    observability.force_flush()
    await handle.terminate()
    assert [s.name for s in receiver.spans() if mine(s, wid) and "Query" not in s.name] == [
        "StartWorkflow:span-stubborn"
    ]
