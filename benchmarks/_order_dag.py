"""The seed's six-node order DAG, steps doing no work, in every Temporal shape measured.

validate -> check_inventory || check_credit -> payment -> fulfill -> notify. The node
bodies are plain functions (`NODE_FUNCTIONS`) so the peers (DBOS, LangGraph) run the very
same code; `STEPS` wraps them as beluga `@step`s, which are also the activities the
hand-written temporalio workflows call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

from beluga_temporal import Graph, Step, step

State = dict[str, Any]
NodeFunction = Callable[[State], Awaitable[State]]


async def validate(state: State) -> State:
    return {"valid": bool(state["items"]), "total": round(state["amount"] * 1.2, 2)}


async def check_inventory(state: State) -> State:
    return {"reserved": list(state["items"])}


async def check_credit(state: State) -> State:
    return {"credit_ok": state["total"] < 1000}


async def payment(state: State) -> State:
    return {"charged": state["total"] if state["credit_ok"] else 0.0}


async def fulfill(state: State) -> State:
    return {"shipment": f"ship-{state['order_id']}-{len(state['reserved'])}"}


async def notify(state: State) -> State:
    return {"notified": f"{state['order_id']}: {state['shipment']}"}


NODE_FUNCTIONS: dict[str, NodeFunction] = {
    "validate": validate,
    "check_inventory": check_inventory,
    "check_credit": check_credit,
    "payment": payment,
    "fulfill": fulfill,
    "notify": notify,
}
EDGES: list[tuple[str, str]] = [
    ("validate", "check_inventory"),
    ("validate", "check_credit"),
    ("check_inventory", "payment"),
    ("check_credit", "payment"),
    ("payment", "fulfill"),
    ("fulfill", "notify"),
]
ORDER: State = {"order_id": "o-1", "amount": 10.0, "items": ["book", "pen"]}

# Activity names are the historical `bench_*` ones (graph_overhead.py's histories).
_ACTIVITY_NAMES = {
    "validate": "bench_validate",
    "check_inventory": "bench_inventory",
    "check_credit": "bench_credit",
    "payment": "bench_payment",
    "fulfill": "bench_fulfill",
    "notify": "bench_notify",
}
STEPS: dict[str, Step[Any, Any]] = {
    node: step(name=_ACTIVITY_NAMES[node])(fn) for node, fn in NODE_FUNCTIONS.items()
}


def build_order_graph(name: str, *, local: bool = False) -> Graph:
    """The order DAG as a beluga `Graph`; `local=True` runs every node as a local activity."""
    graph = Graph(name, local=local)
    for node, node_step in STEPS.items():
        graph.add_node(node, node_step)
    for src, dst in EDGES:
        graph.add_edge(src, dst)
    graph.set_entry_point(["validate"])
    graph.set_finish_point(["notify"])
    return graph


order_graph = build_order_graph("bench-order-graph-generated")
local_order_graph = build_order_graph("bench-order-graph-local", local=True)

# Exactly what the generated graph schedules for a step without options: 60 s per
# attempt, 3 attempts from 1 s backoff (x2, at most 60 s).
ACTIVITY_OPTIONS: Mapping[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=60),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=60),
        maximum_attempts=3,
    ),
}


async def _remote(node: str, state: State) -> State:
    result: State = await workflow.execute_activity(STEPS[node], state, **ACTIVITY_OPTIONS)
    return result


async def _local(node: str, state: State) -> State:
    result: State = await workflow.execute_local_activity(STEPS[node], state, **ACTIVITY_OPTIONS)
    return result


async def _hand_written_dag(run: Callable[[str, State], Awaitable[State]], order: State) -> State:
    state = dict(order)
    state.update(await run("validate", state))
    inventory, credit = await asyncio.gather(
        run("check_inventory", state), run("check_credit", state)
    )
    state.update(inventory)
    state.update(credit)
    for node in ("payment", "fulfill", "notify"):
        state.update(await run(node, state))
    return state


@workflow.defn(name="bench-order-graph-hand-written")
class HandWrittenOrderGraph:
    """The DAG as a temporalio user writes it: state dicts and `asyncio.gather`."""

    @workflow.run
    async def run(self, order: State) -> State:
        return await _hand_written_dag(_remote, order)


@workflow.defn(name="bench-order-graph-hand-written-local")
class HandWrittenLocalOrderGraph:
    """The same, every node a local activity (same timeout and retry policy)."""

    @workflow.run
    async def run(self, order: State) -> State:
        return await _hand_written_dag(_local, order)


@workflow.defn(name="bench-order-graph-hand-written-local-unsandboxed", sandboxed=False)
class HandWrittenLocalUnsandboxedOrderGraph:
    """The local DAG outside temporalio's sandbox, as beluga runs plans without routes.

    The fair baseline for beluga's local mode: a generated workflow without route
    functions skips the sandbox too (see docs/guides/speed.md).
    """

    @workflow.run
    async def run(self, order: State) -> State:
        return await _hand_written_dag(_local, order)


@workflow.defn(name="bench-noop")
class NoopWorkflow:
    """Returns its input: a start, one workflow task and a result (the server's floor)."""

    @workflow.run
    async def run(self, order: State) -> State:
        return order
