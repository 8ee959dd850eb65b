"""What the Web UI shows, read back from real histories: summaries, details, step results.

The Web UI reads these from the same places: an activity's summary from its scheduled
event's user metadata, a run's summary from its started event, the current details from
the `__temporal_workflow_metadata` query, an activity's result from its completed event.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pydantic
import pytest
import temporalio.api.history.v1
import temporalio.client

from beluga_temporal import (
    Chain,
    Graph,
    GraphExecutionError,
    LocalRuntime,
    Orchestrator,
    create_worker,
    step,
)
from beluga_temporal.engine import STEP_METADATA
from beluga_temporal.llm import llm_step
from tests import composition_examples as cx

HistoryEvent = temporalio.api.history.v1.HistoryEvent
METADATA_QUERY = "__temporal_workflow_metadata"


async def events(client: temporalio.client.Client, workflow_id: str) -> list[HistoryEvent]:
    handle = client.get_workflow_handle(workflow_id)
    return [event async for event in handle.fetch_history_events()]


def summaries(history: list[HistoryEvent]) -> list[str]:
    """The summaries of scheduled activities and local activity markers, in order."""
    found = []
    for event in history:
        scheduled = event.HasField("activity_task_scheduled_event_attributes")
        if (scheduled or event.HasField("marker_recorded_event_attributes")) and (
            event.user_metadata.HasField("summary")
        ):
            found.append(json.loads(event.user_metadata.summary.data))
    return found


def static_summary(history: list[HistoryEvent]) -> str:
    started = history[0]
    assert started.HasField("workflow_execution_started_event_attributes")
    return str(json.loads(started.user_metadata.summary.data))


@step
async def list_parcels(state: dict[str, Any]) -> dict[str, Any]:
    return {"parcels": ["p1", "p2", "p3"]}


@step
async def weigh(parcel: str) -> float:
    return 1.5


def parcels_graph(name: str) -> Graph:
    g = Graph(name)
    g.add_node("reserve", cx.reserve, compensate=cx.undo_reserve)
    g.add_node("list", list_parcels)
    g.add_map_node("weigh", weigh, items="parcels")
    g.add_node("charge", cx.boom)
    g.add_edge("reserve", "list").add_edge("list", "weigh").add_edge("weigh", "charge")
    g.set_entry_point("reserve")
    return g


async def test_every_activity_names_its_node(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    rt = time_skipping_runtime
    graph = parcels_graph("summarised-graph")
    run = None
    async with create_worker(rt.client, task_queue, targets=[graph]):
        orch = Orchestrator(rt.client, task_queue)
        run = await orch.start(graph, {"order": uuid.uuid4().hex[:8], "amount": 1})
        with pytest.raises(GraphExecutionError):
            await orch.result(run.workflow_id)
    history = await events(rt.client, run.workflow_id)
    assert summaries(history) == [
        "reserve",
        "list",
        "weigh[0]",
        "weigh[1]",
        "weigh[2]",
        "charge",
        "compensate reserve",
    ]
    assert static_summary(history) == f"graph summarised-graph: 4 nodes, plan {graph.fingerprint}"


@step
async def recover(info: Any) -> dict[str, Any]:
    return {"recovered": True}


async def test_chain_steps_local_steps_and_on_error_are_named(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    rt = time_skipping_runtime
    chain = Chain("summarised-chain", steps=[cx.prepare, cx.boom], on_error=recover, local=True)
    async with create_worker(rt.client, task_queue, targets=[chain]):
        orch = Orchestrator(rt.client, task_queue)
        run = await orch.start(chain, {"order": "o-1"})
        assert await orch.result(run.workflow_id) == {"recovered": True}
    history = await events(rt.client, run.workflow_id)
    assert summaries(history) == ["prepare", "boom", "on_error"]
    assert static_summary(history) == (f"chain summarised-chain: 2 nodes, plan {chain.fingerprint}")


async def test_runs_started_by_local_runtime_carry_the_static_summary(
    time_skipping_runtime: LocalRuntime,
) -> None:
    graph = parcels_graph("summarised-local")
    handle = await time_skipping_runtime.start(graph, {"order": "o-2", "amount": 1})
    with pytest.raises(temporalio.client.WorkflowFailureError):
        await handle.result()
    description = await handle.describe()
    assert await description.static_summary() == (
        f"graph summarised-local: 4 nodes, plan {graph.fingerprint}"
    )
    memo = await description.memo_value("beluga")
    assert memo["plan"] == graph.fingerprint


async def test_a_run_started_by_type_name_shows_current_details(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    # As `temporal workflow start --type ...` does: no static summary, no memo.
    rt = time_skipping_runtime
    graph = parcels_graph("detailed-by-type")
    async with create_worker(rt.client, task_queue, targets=[graph]):
        handle = await rt.client.start_workflow(
            "detailed-by-type",
            {"order": "o-3", "amount": 1},
            id=f"by-type-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        with pytest.raises(temporalio.client.WorkflowFailureError):
            await handle.result()
        metadata = await handle.query(METADATA_QUERY)
    assert metadata.current_details == (
        f"graph detailed-by-type: 4 nodes, plan {graph.fingerprint}"
    )
    history = await events(rt.client, handle.id)
    assert not history[0].user_metadata.HasField("summary")


class Verdict(pydantic.BaseModel):
    urgent: bool
    reason: str


judge = llm_step("ui-judge", "Order {order}: urgent?", output=Verdict, provider="test")


async def test_an_llm_steps_result_in_history_is_its_own_output(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    rt = time_skipping_runtime
    chain = Chain("ui-llm-chain", steps=[judge])
    async with create_worker(rt.client, task_queue, targets=[chain]):
        orch = Orchestrator(rt.client, task_queue)
        run = await orch.start(chain, {"order": "o-4"})
        output = await orch.result(run.workflow_id)
    completed = [
        e.activity_task_completed_event_attributes
        for e in await events(rt.client, run.workflow_id)
        if e.HasField("activity_task_completed_event_attributes")
    ]
    (payload,) = completed[-1].result.payloads
    # The data is the step's output, exactly; usage and attempt ride in the metadata.
    assert json.loads(payload.data) == output
    assert Verdict.model_validate(output)
    assert b"__beluga" not in payload.data
    assert b"usage" not in payload.data
    meta = json.loads(payload.metadata[STEP_METADATA])
    assert meta["usage"]["total_tokens"] > 0  # (an attempt past the first is noted too)


async def test_a_child_shows_its_own_summary_and_details(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    # the dev server: the time-skipping server drops the summary of a child's start event
    rt = dev_runtime
    workflow_id = f"ui-nested-{uuid.uuid4().hex[:8]}"
    async with create_worker(rt.client, task_queue, targets=[cx.NESTED_ORDER_GRAPH]):
        await Orchestrator(rt.client, task_queue).execute(
            cx.NESTED_ORDER_GRAPH, cx.NESTED_ORDER_INPUT, workflow_id=workflow_id
        )
        child = rt.client.get_workflow_handle(f"{workflow_id}/shipping")
        metadata = await child.query(METADATA_QUERY)
    shipping = cx.SHIPPING.fingerprint
    assert metadata.current_details == f"chain shipping-chain: 3 nodes, plan {shipping}"
    history = await events(rt.client, child.id)
    assert static_summary(history) == (
        f"chain shipping-chain: 3 nodes, plan {shipping} (node shipping of nested-order-graph)"
    )
    assert summaries(history) == ["pack", "label", "ship"]
    parent = await events(rt.client, workflow_id)
    started = [
        e for e in parent if e.HasField("start_child_workflow_execution_initiated_event_attributes")
    ]
    assert {json.loads(e.user_metadata.summary.data).split(" (")[0] for e in started} == {
        f"graph payment-graph: 3 nodes, plan {cx.PAYMENT.fingerprint}",
        f"chain shipping-chain: 3 nodes, plan {shipping}",
    }
