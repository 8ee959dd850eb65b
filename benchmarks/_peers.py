"""The order DAG on the peers: DBOS (SQLite system database) and LangGraph.

Each peer runs the very same node functions (`_order_dag.NODE_FUNCTIONS`) with the same
shape: validate, then inventory and credit concurrently, then payment, fulfill, notify.
Each context manager yields a coroutine function running one order to its result, in
this process and event loop (both peers are libraries, not servers).

The peers come from the `bench` extra (`pip install -e '.[bench]'`, `make bench`); they
are imported here only, so the other benchmarks run without them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypedDict

from benchmarks._order_dag import EDGES, NODE_FUNCTIONS, State

RunOnce = Callable[[State], Awaitable[State]]


def require_peers(
    *modules: str,
) -> None:
    """Fail with the install command when the `bench` extra is missing."""
    missing = []
    for module in modules or ("dbos", "langgraph", "langgraph.checkpoint.sqlite"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise SystemExit(
            f"missing {', '.join(missing)}: install the bench extra with `make bench` or "
            "`.venv/bin/pip install -e '.[dev,bench]'`"
        )


# -- DBOS ----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def dbos_on_sqlite() -> AsyncIterator[RunOnce]:
    """DBOS Transact with a SQLite system database in a temporary directory."""
    from dbos import DBOS

    # The retry policy of the Temporal variants (3 attempts from 1 s backoff, x2).
    retry: dict[str, Any] = {"retries_allowed": True, "max_attempts": 3, "interval_seconds": 1.0}
    steps = {
        node: DBOS.step(name=f"dbos_{node}", **retry)(fn) for node, fn in NODE_FUNCTIONS.items()
    }

    async def order_dag(order: State) -> State:
        state = dict(order)
        state.update(await steps["validate"](state))
        inventory, credit = await asyncio.gather(
            steps["check_inventory"](state), steps["check_credit"](state)
        )
        state.update(inventory)
        state.update(credit)
        for node in ("payment", "fulfill", "notify"):
            state.update(await steps[node](state))
        return state

    workflow = DBOS.workflow(name="bench_order_dag")(order_dag)
    with tempfile.TemporaryDirectory(prefix="bench-dbos-") as folder:
        DBOS(
            config={
                "name": "bench-order",
                "system_database_url": f"sqlite:///{Path(folder) / 'dbos.sqlite'}",
                "log_level": "WARNING",
            }
        )
        DBOS.launch()
        try:
            yield workflow
        finally:
            DBOS.destroy(destroy_registry=True)
            # DBOS leaves its loggers at INFO on shutdown; it would print between our tables.
            logging.getLogger("dbos").setLevel(logging.WARNING)


# -- LangGraph -----------------------------------------------------------------------------


class _OrderState(TypedDict, total=False):
    order_id: str
    amount: float
    items: list[str]
    valid: bool
    total: float
    reserved: list[str]
    credit_ok: bool
    charged: float
    shipment: str
    notified: str


def _state_graph() -> Any:
    from langgraph.graph import END, START, StateGraph

    builder = StateGraph(_OrderState)
    for node, fn in NODE_FUNCTIONS.items():
        builder.add_node(node, fn)
    builder.add_edge(START, "validate")
    joins: dict[str, list[str]] = {}
    for src, dst in EDGES:
        joins.setdefault(dst, []).append(src)
    for dst, sources in joins.items():
        # A list of sources waits for all of them (payment after inventory AND credit).
        builder.add_edge(sources if len(sources) > 1 else sources[0], dst)
    builder.add_edge("notify", END)
    return builder


@contextlib.asynccontextmanager
async def langgraph_in_memory() -> AsyncIterator[RunOnce]:
    """LangGraph compiled without a checkpointer: nothing is persisted."""
    graph = _state_graph().compile()

    async def run(order: State) -> State:
        result: State = await graph.ainvoke(dict(order))
        return result

    yield run


@contextlib.asynccontextmanager
async def langgraph_sqlite() -> AsyncIterator[RunOnce]:
    """LangGraph with `AsyncSqliteSaver` checkpoints in a temporary SQLite file.

    Durability is LangGraph's default (`"async"`: a step's checkpoint is written while
    the next step runs); each run is its own thread.
    """
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    with tempfile.TemporaryDirectory(prefix="bench-langgraph-") as folder:
        path = str(Path(folder) / "checkpoints.sqlite")
        async with AsyncSqliteSaver.from_conn_string(path) as saver:
            graph = _state_graph().compile(checkpointer=saver)

            async def run(order: State) -> State:
                config = {"configurable": {"thread_id": uuid.uuid4().hex}}
                result: State = await graph.ainvoke(dict(order), config)
                return result

            yield run
