"""Chains and graphs nested in chains and graphs run as child workflows (real servers)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from datetime import timedelta
from typing import Any

import pytest
import temporalio.client
from click.testing import CliRunner
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import RetryPolicy as TemporalRetry
from temporalio.worker import Replayer

from beluga_temporal import (
    BelugaPlugin,
    BufferMemory,
    Chain,
    DefinitionError,
    Graph,
    GraphExecutionError,
    LocalRuntime,
    Orchestrator,
    RunCancelledError,
    StepFailedError,
    create_worker,
    step,
)
from beluga_temporal._sdk import workflow_name
from beluga_temporal.cli import cli
from beluga_temporal.engine import versions_of
from beluga_temporal.plan import process_defaults
from beluga_temporal.testing import run_with_worker
from beluga_temporal.worker import workflows_of
from tests import composition_examples as cx
from tests import graph_examples as gx


async def child_events(
    client: temporalio.client.Client, workflow_id: str
) -> list[temporalio.api.history.v1.HistoryEvent]:
    handle = client.get_workflow_handle(workflow_id)
    return [
        event
        async for event in handle.fetch_history_events()
        if event.HasField("start_child_workflow_execution_initiated_event_attributes")
    ]


async def poll(condition: Any, what: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


# -- success ---------------------------------------------------------------------------


async def test_nested_graph_and_chain_run_as_child_workflows(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    rt = time_skipping_runtime
    workflow_id = f"nested-{uuid.uuid4().hex[:8]}"
    result = await run_with_worker(
        rt.client, task_queue, cx.NESTED_ORDER_GRAPH, cx.NESTED_ORDER_INPUT, workflow_id=workflow_id
    )
    assert result == cx.NESTED_ORDER_RESULT

    started = await child_events(rt.client, workflow_id)
    children = {
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id: (
            e.start_child_workflow_execution_initiated_event_attributes.workflow_type.name
        )
        for e in started
    }
    assert children == {
        f"{workflow_id}/payment": "payment-graph",
        f"{workflow_id}/shipping": "shipping-chain",
    }
    for event in started:
        attrs = event.start_child_workflow_execution_initiated_event_attributes
        assert attrs.parent_close_policy == temporalio.api.enums.v1.ParentClosePolicy.Value(
            "PARENT_CLOSE_POLICY_TERMINATE"
        )
        assert attrs.workflow_execution_timeout.ToTimedelta() > timedelta(0)

    child = await rt.client.get_workflow_handle(f"{workflow_id}/payment").describe()
    assert child.parent_id == workflow_id
    assert child.workflow_type == "payment-graph"
    summary = await child.static_summary()
    assert summary == (
        f"graph payment-graph: 3 nodes, plan {cx.PAYMENT.fingerprint} "
        "(node payment of nested-order-graph)"
    )


async def test_chain_step_runs_a_nested_chain_and_passes_its_output_on(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    outer = Chain(
        "outer-chain", steps=[cx.prepare, Chain("inner-chain", steps=[cx.pack]), cx.label]
    )
    result = await run_with_worker(
        time_skipping_runtime.client, task_queue, outer, {"order": "o-2"}
    )
    assert result == {"order": "o-2", "prepared": True, "packed": True, "label": "L-o-2"}


@step
async def mark_k(state: dict[str, Any]) -> dict[str, Any]:
    return {"k": 2}


async def test_nested_graph_merges_only_what_it_changed(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    # The child returns its whole state, 'k' included (unchanged); a concurrent sibling
    # changes 'k'. Merged like a step's output, the child wrote only 'packed'.
    inner = Graph("keeps-k")
    inner.add_node("pack", cx.pack)
    inner.set_entry_point("pack")
    outer = Graph("sibling-writes-k")
    outer.add_node("prepare", cx.prepare)
    outer.add_node("sub", inner)
    outer.add_node("mark", mark_k)
    outer.add_edge("prepare", "sub").add_edge("prepare", "mark")
    outer.set_entry_point("prepare")
    result = await run_with_worker(
        time_skipping_runtime.client, task_queue, outer, {"order": "o-3", "k": 1}
    )
    assert result == {"order": "o-3", "k": 2, "prepared": True, "packed": True}


async def test_nested_graph_with_its_own_state_model(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    outer = Graph("ships-parcels")
    outer.add_node("prepare", cx.prepare)
    outer.add_node("parcel", cx.PARCEL_GRAPH)
    outer.add_edge("prepare", "parcel")
    outer.set_entry_point("prepare")
    result = await run_with_worker(
        time_skipping_runtime.client,
        task_queue,
        outer,
        {"order": "o-4", "weight": 2, "note": "fragile"},
    )
    # The child validated its input (weight coerced to a float, 'fee' defaulted).
    assert result == {
        "order": "o-4",
        "weight": 2.0,
        "note": "fragile",
        "prepared": True,
        "fee": 5.0,
    }

    with pytest.raises(GraphExecutionError) as caught:
        await run_with_worker(
            time_skipping_runtime.client, task_queue, outer, {"order": "o-5", "weight": "heavy"}
        )
    assert caught.value.node == "parcel"
    assert caught.value.error_type == "InvalidRunInput"
    assert "parcel-graph" in str(caught.value)
    assert "weight" in str(caught.value)


# -- registration ----------------------------------------------------------------------


def test_targets_list_nested_workflows_and_their_steps() -> None:
    outer = Chain("registers-all", steps=[cx.prepare, cx.NESTED_ORDER_GRAPH])
    names = {workflow_name(cls) for cls in outer.workflows}
    assert names == {"registers-all", "nested-order-graph", "payment-graph", "shipping-chain"}
    steps = {s.name for s in outer.activities}
    assert {"reserve", "undo_reserve", "undo_charge", "pack", "ship", "notify"} <= steps


async def test_local_runtime_hosts_nested_targets(
    time_skipping_runtime: LocalRuntime,
) -> None:
    # No worker set up by hand: LocalRuntime (and so invoke) registers the children.
    result = await time_skipping_runtime.execute(cx.order_graph(name="local-nested"),
                                                 cx.NESTED_ORDER_INPUT)  # fmt: skip
    assert result == cx.NESTED_ORDER_RESULT


# -- failure ---------------------------------------------------------------------------


async def test_child_failure_names_the_node_and_the_childs_failing_node(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    failing = Graph("failing-payment")
    failing.add_node("reserve", cx.reserve, compensate=cx.undo_reserve)
    failing.add_node("charge", cx.boom)
    failing.add_edge("reserve", "charge")
    failing.set_entry_point("reserve")
    order = uuid.uuid4().hex[:8]
    with pytest.raises(GraphExecutionError) as caught:
        await run_with_worker(
            time_skipping_runtime.client, task_queue, cx.order_graph(failing, "fails-inside"),
            {"order": order, "amount": 1},
        )  # fmt: skip
    error = caught.value
    assert error.node == "payment"
    assert error.error_type == "GraphExecutionError"
    assert "graph 'failing-payment' failed at node 'charge'" in str(error)
    assert f"card {order} declined" in str(error)
    assert "notify" in error.skipped
    assert cx.UNDONE[order] == ["reserve"]  # the child's saga ran inside the child


async def test_nested_chain_failure_names_the_step(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    outer = Chain("outer-fails", steps=[cx.prepare, Chain("inner-fails", steps=[cx.boom])])
    with pytest.raises(StepFailedError) as caught:
        await run_with_worker(time_skipping_runtime.client, task_queue, outer, {"order": "o-6"})
    assert caught.value.step == "inner-fails"
    assert "step 'boom' of 'inner-fails' failed: ValueError: card o-6 declined" in str(caught.value)


# -- cancellation ----------------------------------------------------------------------


def cancellable(name: str) -> Graph:
    inner = Graph(f"{name}-inner")
    inner.add_node("charge", cx.charge, compensate=cx.undo_charge)
    inner.add_node("wait", gx.wait_for_cancel)
    inner.add_edge("charge", "wait")
    inner.set_entry_point("charge")
    outer = Graph(name)
    outer.add_node("reserve", cx.reserve, compensate=cx.undo_reserve)
    outer.add_node("sub", inner)
    outer.add_edge("reserve", "sub")
    outer.set_entry_point("reserve")
    return outer


async def test_cancelling_the_parent_cancels_the_child_and_both_compensate(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    outer = cancellable("cancel-parent")
    order = uuid.uuid4().hex[:8]
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[outer]):
        run = await orch.start(outer, {"order": order, "amount": 5})
        child_id = f"{run.workflow_id}/sub"
        await asyncio.wait_for(gx.STARTED[child_id].wait(), 10)
        await orch.cancel(run.workflow_id)
        with pytest.raises(RunCancelledError):
            await orch.result(run.workflow_id)
    assert gx.SAW_CANCEL[child_id].is_set()
    child = await dev_runtime.client.get_workflow_handle(child_id).describe()
    assert child.status == WorkflowExecutionStatus.CANCELED
    # the child undid its charge before the parent undid its reservation
    assert cx.UNDONE[order] == ["charge", "reserve"]


async def test_a_child_cancelled_on_its_own_fails_the_parent_naming_the_node(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    outer = cancellable("cancel-child")
    order = uuid.uuid4().hex[:8]
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[outer]):
        run = await orch.start(outer, {"order": order, "amount": 5})
        child_id = f"{run.workflow_id}/sub"
        await asyncio.wait_for(gx.STARTED[child_id].wait(), 10)
        await orch.cancel(child_id)
        with pytest.raises(GraphExecutionError) as caught:
            await orch.result(run.workflow_id)
    assert caught.value.node == "sub"
    assert caught.value.error_type == "CancelledError"
    assert f"child workflow '{child_id}' was cancelled" in str(caught.value)
    assert cx.UNDONE[order] == ["charge", "reserve"]


async def test_terminating_the_parent_terminates_the_child(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    outer = cancellable("terminate-parent")
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[outer]):
        run = await orch.start(outer, {"order": uuid.uuid4().hex[:8], "amount": 5})
        child_id = f"{run.workflow_id}/sub"
        await asyncio.wait_for(gx.STARTED[child_id].wait(), 10)
        await dev_runtime.client.get_workflow_handle(run.workflow_id).terminate("test")
        child = dev_runtime.client.get_workflow_handle(child_id)

        async def child_terminated() -> bool:
            return (await child.describe()).status == WorkflowExecutionStatus.TERMINATED

        await poll(child_terminated, "the parent-close policy to terminate the child")


# -- ids ------------------------------------------------------------------------------


async def test_child_ids_stay_unique_across_continue_as_new(
    time_skipping_runtime: LocalRuntime, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    process_defaults.cache_clear()
    monkeypatch.setenv("BELUGA_ORCHESTRATION__HISTORY__MAX_EVENTS", "50")
    try:
        workflow_id = f"long-{uuid.uuid4().hex[:8]}"
        result = await run_with_worker(
            time_skipping_runtime.client,
            task_queue,
            cx.LONG_CHAIN,
            {"n": 0},
            workflow_id=workflow_id,
        )
    finally:
        monkeypatch.undo()
        process_defaults.cache_clear()
    assert result == {"n": 18}
    client = time_skipping_runtime.client
    run_id: str | None = (
        await client.get_workflow_handle(workflow_id).describe()
    ).raw_description.workflow_execution_info.first_run_id
    ids, runs = [], 0
    while run_id:  # follow the chain of runs
        runs += 1
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        run_id = None
        async for event in handle.fetch_history_events():
            if event.HasField("start_child_workflow_execution_initiated_event_attributes"):
                ids.append(
                    event.start_child_workflow_execution_initiated_event_attributes.workflow_id
                )
            if event.HasField("workflow_execution_continued_as_new_event_attributes"):
                run_id = (
                    event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                )
    assert runs > 1  # it continued as new
    labels = ["bump-twice", *(f"bump-twice#{i}" for i in range(2, 7))]
    assert sorted(ids) == sorted(f"{workflow_id}/{label}" for label in labels)


@step
async def answer(value: dict[str, Any]) -> dict[str, Any]:
    return {"output": f"{value['input']} after {len(value['history'])} messages"}


async def test_each_turn_of_an_outer_session_runs_its_child_again(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    chat = Chain("nesting-session", steps=[Chain("answers", steps=[answer])], memory=BufferMemory())
    session_id = f"chat-{uuid.uuid4().hex[:8]}"
    session = Orchestrator(time_skipping_runtime.client, task_queue).session(chat, session_id)
    async with create_worker(time_skipping_runtime.client, task_queue, targets=[chat]):
        first = await session.send({"input": "hi"})
        second = await session.send({"input": "again"})
        await session.close()
    assert first == {"output": "hi after 0 messages"}
    assert second == {"output": "again after 2 messages"}
    ids = [
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for e in await child_events(time_skipping_runtime.client, session_id)
    ]
    assert ids == [f"{session_id}/answers"] * 2  # the first closed before the second began


RETRY_SOON = timedelta(milliseconds=10)


async def test_a_retried_parent_starts_children_under_its_attempt(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    outer = Chain(
        "retried-parent", steps=[cx.prepare, Chain("retried-child", steps=[cx.block_first_time])]
    )
    orch = Orchestrator(dev_runtime.client, task_queue)
    async with create_worker(dev_runtime.client, task_queue, targets=[outer]):
        handle = await orch.start_handle(
            outer, {"order": "o-9"}, run_timeout=timedelta(seconds=2),
            retry_policy=TemporalRetry(maximum_attempts=2, initial_interval=RETRY_SOON),
        )  # fmt: skip
        result = await orch.result(handle.id)
    # the first attempt's child (timed out with it, terminated by the parent-close
    # policy) and the second attempt's child never share an id
    assert cx.BLOCKED[-2:] == [f"{handle.id}/retried-child", f"{handle.id}@2/retried-child"]
    assert result == {"done_in": f"{handle.id}@2/retried-child"}


# -- versions and replay ---------------------------------------------------------------


@step
async def charge_v2(state: dict[str, Any]) -> dict[str, Any]:
    return {"charged": state["amount"], "currency": "EUR"}


async def test_child_with_previous_versions_runs_the_version_its_parent_chose(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    child_v1 = cx.payment_graph("versioned-payment")
    child_v2 = cx.payment_graph("versioned-payment")
    child_v2.add_node("currency", charge_v2).add_edge("charge", "currency")
    child_v2.previous.append(child_v1)
    parent_v1 = cx.order_graph(child_v1, "versioned-order")
    parent_v2 = cx.order_graph(child_v2, "versioned-order")
    parent_v2.previous.append(parent_v1)
    assert parent_v1.fingerprint != parent_v2.fingerprint  # the child's plan is part of it

    orch = Orchestrator(time_skipping_runtime.client, task_queue)
    async with create_worker(time_skipping_runtime.client, task_queue, targets=[parent_v2]):
        # a run an older deployment started, then a new one
        old = await orch.execute(parent_v1, cx.NESTED_ORDER_INPUT)
        new = await orch.execute(parent_v2, cx.NESTED_ORDER_INPUT)
    assert old == cx.NESTED_ORDER_RESULT
    assert new == {**cx.NESTED_ORDER_RESULT, "currency": "EUR"}


def test_a_worker_hosts_the_newest_of_two_listed_versions() -> None:
    child_v1 = cx.payment_graph("listed-payment")
    child_v2 = cx.payment_graph("listed-payment")
    child_v2.add_node("currency", charge_v2).add_edge("charge", "currency")
    child_v2.previous.append(child_v1)
    parent = cx.order_graph(child_v2, "listed-order")
    # the old declaration listed first (as a module listing both might)
    hosted = {workflow_name(cls): cls for cls in workflows_of([child_v1, parent])}
    assert hosted["listed-payment"] is child_v2.workflow


def test_a_child_changed_with_its_parent_is_hosted_knowing_both_versions() -> None:
    old_child = cx.payment_graph("lost-payment")
    parent_v1 = cx.order_graph(old_child, "lost-order")
    changed = cx.payment_graph("lost-payment")
    changed.add_node("currency", charge_v2).add_edge("charge", "currency")
    parent_v2 = cx.order_graph(changed, "lost-order")
    parent_v2.previous.append(parent_v1)  # the child itself lists no previous version
    hosted = {workflow_name(cls): cls for cls in parent_v2.workflows}
    versions = versions_of(hosted["lost-payment"])
    assert versions is not None
    assert versions.newest_fingerprint == changed.fingerprint
    assert set(versions.by_fingerprint) == {changed.fingerprint, old_child.fingerprint}


def test_two_listed_versions_that_do_not_know_each_other_are_rejected() -> None:
    one = cx.payment_graph("lost-listed")
    other = cx.payment_graph("lost-listed")
    other.add_node("currency", charge_v2).add_edge("charge", "currency")
    with pytest.raises(DefinitionError, match=r"'lost-listed'.*previous="):
        workflows_of([cx.order_graph(one, "lost-a"), cx.order_graph(other, "lost-b")])


async def test_parent_history_with_children_replays(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    workflow_id = f"replay-nested-{uuid.uuid4().hex[:8]}"
    await run_with_worker(
        time_skipping_runtime.client, task_queue, cx.NESTED_ORDER_GRAPH, cx.NESTED_ORDER_INPUT,
        workflow_id=workflow_id,
    )  # fmt: skip
    replayer = Replayer(workflows=cx.NESTED_ORDER_GRAPH.workflows, plugins=[BelugaPlugin()])
    for run_id in (workflow_id, f"{workflow_id}/payment", f"{workflow_id}/shipping"):
        history = await time_skipping_runtime.client.get_workflow_handle(run_id).fetch_history()
        await replayer.replay_workflow(history)


# -- definition ------------------------------------------------------------------------


def test_a_chain_with_memory_cannot_be_nested() -> None:
    session = Chain("remembers", steps=[cx.pack], memory=BufferMemory())
    with pytest.raises(DefinitionError, match="'remembers' has memory"):
        Chain("holds-session", steps=[cx.prepare, session])
    g = Graph("graph-holds-session")
    with pytest.raises(DefinitionError, match="'remembers' has memory"):
        g.add_node("chat", session)
    # memory given after nesting is caught when the parent compiles
    later = Chain("remembers-later", steps=[cx.pack])
    parent = Chain("holds-later", steps=[cx.prepare, later])
    later.memory = BufferMemory()
    with pytest.raises(DefinitionError, match="'remembers-later' has memory"):
        parent.compile()


def test_a_map_node_runs_a_step_not_a_chain() -> None:
    g = Graph("maps-a-chain")
    with pytest.raises(
        DefinitionError, match="map node 'each' must be a @step; it cannot run a chain"
    ):
        # A chain where a step is typed: mypy rejects it too; the run-time error is tested.
        g.add_map_node("each", cx.SHIPPING, items="orders")  # type: ignore[arg-type]


def test_a_graph_cannot_nest_itself() -> None:
    g = Graph("recursive")
    g.add_node("prepare", cx.prepare)
    g.add_node("again", Chain("recursive-inner", steps=[g]))
    g.add_edge("prepare", "again").set_entry_point("prepare")
    with pytest.raises(DefinitionError, match="'recursive' nests itself"):
        g.compile()


# -- drawing ---------------------------------------------------------------------------


def test_mermaid_draws_nested_runs_as_subgraphs() -> None:
    text = Chain("draws-nested", steps=[cx.prepare, cx.NESTED_ORDER_GRAPH]).to_mermaid()
    assert 'subgraph nested_order_graph["nested-order-graph: graph nested-order-graph"]' in text
    assert '    subgraph nested_order_graph__payment["payment: graph payment-graph"]' in text
    assert "nested_order_graph__payment__reserve[reserve]" in text
    assert "nested_order_graph__shipping__pack --> nested_order_graph__shipping__label" in text
    assert "prepare --> nested_order_graph\n" in text  # an edge to the subgraph itself
    assert "nested_order_graph --> END" in text


def test_dot_draws_nested_runs_as_clusters_with_edges_to_their_borders() -> None:
    text = cx.NESTED_ORDER_GRAPH.to_dot()
    assert "compound=true;" in text
    assert 'subgraph "cluster_payment" {' in text
    assert 'label="payment: graph payment-graph";' in text
    assert '"payment/reserve" [shape=box, label="reserve"];' in text
    assert '"prepare" -> "payment/reserve" [lhead="cluster_payment"];' in text
    assert '"shipping/ship" -> "notify" [ltail="cluster_shipping"];' in text
    if shutil.which("dot"):  # Graphviz, where installed, accepts it
        drawn = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True)
        assert drawn.returncode == 0, drawn.stderr


def test_beluga_graph_show_draws_a_nested_target() -> None:
    target = "tests.composition_examples:NESTED_ORDER_GRAPH"
    shown = CliRunner().invoke(cli, ["graph", "show", target])
    assert shown.exit_code == 0, shown.output
    assert 'subgraph payment["payment: graph payment-graph"]' in shown.stdout
    shown = CliRunner().invoke(cli, ["graph", "show", target, "--format", "dot"])
    assert 'subgraph "cluster_shipping" {' in shown.stdout
