"""Workflow tasks per run: nodes that become ready together are scheduled together.

Counted from the histories of the six-node order DAG (validate -> inventory || credit ->
payment -> fulfill -> notify) and a three-step chain, in remote and local mode, and for
runs started by a plain temporalio client (whose run asks the worker for its plan in the
`beluga.start` local activity). See docs/guides/speed.md for what each task does.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio.client import Client

from beluga_temporal import Chain, LocalRuntime, Orchestrator, create_worker
from tests import graph_examples as gx
from tests.engine import histories as hx
from tests.engine import local_mode as lm

SCHEDULED = "ACTIVITY_TASK_SCHEDULED"
DONE = "WORKFLOW_EXECUTION_COMPLETED"
ORDER_TASKS = [
    [f"{SCHEDULED}(validate)"],
    [f"{SCHEDULED}(check_inventory)", f"{SCHEDULED}(check_credit)"],
    [f"{SCHEDULED}(process_payment)"],
    [f"{SCHEDULED}(fulfill)"],
    [f"{SCHEDULED}(notify)"],
    [DONE],
]
"""The order DAG's workflow tasks with commands, remote mode: the minimum."""


def _graph(local: bool) -> Any:
    graph = gx.order_graph(f"round-trips-{'local' if local else 'remote'}")
    graph.local = local
    return graph


async def _history(rt: LocalRuntime, queue: str, target: Any, value: Any, plain: bool) -> Any:
    async with create_worker(rt.client, queue, targets=[target]):
        if plain:  # another client: no memo, so the run asks the worker (`beluga.start`)
            client = await Client.connect(rt.client.service_client.config.target_host)
            handle = await client.start_workflow(
                target.name, value, id=f"plain-{uuid.uuid4().hex[:8]}", task_queue=queue
            )
        else:
            handle = await Orchestrator(rt.client, queue).start_handle(target, value)
        await handle.result()
    return await handle.fetch_history()


@pytest.mark.parametrize("plain", [False, True], ids=["beluga-start", "plain-start"])
async def test_remote_order_dag_takes_one_task_per_dependency_level(
    dev_runtime: LocalRuntime, task_queue: str, plain: bool
) -> None:
    graph = _graph(local=False)
    history = await _history(dev_runtime, task_queue, graph, gx.ORDER_INPUT, plain)
    tasks = hx.workflow_tasks(history)
    busy = [t.commands for t in tasks if t.commands]
    if plain:  # the start activity's marker and memo are written by the first task
        assert busy[0][:2] == ["MARKER_RECORDED", "WORKFLOW_PROPERTIES_MODIFIED"]
        busy[0] = busy[0][2:]
    assert busy == ORDER_TASKS
    # A task without commands only when one of the parallel pair completed while the
    # other still ran; two completions seen together are handled in one task.
    idle = [t for t in tasks if not t.commands]
    assert len(idle) <= 1
    for task in idle:
        assert len(task.completions) == 1
        assert task.completions[0] in ("check_inventory", "check_credit")
    assert len(tasks) == len(ORDER_TASKS) + len(idle)


@pytest.mark.parametrize("plain", [False, True], ids=["beluga-start", "plain-start"])
async def test_local_order_dag_takes_one_workflow_task(
    dev_runtime: LocalRuntime, task_queue: str, plain: bool
) -> None:
    graph = _graph(local=True)
    history = await _history(dev_runtime, task_queue, graph, gx.ORDER_INPUT, plain)
    tasks = hx.workflow_tasks(history)
    assert len(tasks) == 1
    markers = 7 if plain else 6  # plus the start activity's
    assert tasks[0].commands.count("MARKER_RECORDED") == markers
    assert tasks[0].commands[-1] == DONE


@pytest.mark.parametrize("local", [False, True], ids=["remote", "local"])
async def test_three_step_chain_tasks(
    dev_runtime: LocalRuntime, task_queue: str, local: bool
) -> None:
    chain = Chain(f"round-trips-chain-{local}", steps=[lm.inc] * 3, local=local)
    history = await _history(dev_runtime, task_queue, chain, 0, plain=False)
    tasks = hx.workflow_tasks(history)
    if local:
        assert [t.commands for t in tasks] == [["MARKER_RECORDED"] * 3 + [DONE]]
    else:
        assert [t.commands for t in tasks] == [
            [f"{SCHEDULED}(inc)"],
            [f"{SCHEDULED}(inc)"],
            [f"{SCHEDULED}(inc)"],
            [DONE],
        ]
