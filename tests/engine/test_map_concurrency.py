"""A map node never runs more than `max_concurrency` items at once (issue 11.4).

The step counts items in flight in an in-process gauge (`map_gauge`): the peak must
be the bound, never above it, remote, local (`local=True`) and in batches.
"""

from __future__ import annotations

import pytest

from beluga_temporal import Graph, LocalRuntime, Orchestrator, create_worker
from tests.engine.map_gauge import GAUGE, gauged_double


def map_graph(name: str, limit: int, *, local: bool = False, batch: int | None = None) -> Graph:
    g = Graph(name, local=local)
    g.add_map_node(
        "doubled", gauged_double, items="numbers", max_concurrency=limit, batch_size=batch
    )
    g.set_entry_point("doubled")
    return g


async def peak_of(runtime: LocalRuntime, task_queue: str, g: Graph, limit: int, n: int) -> int:
    GAUGE.reset(limit, n)
    numbers = list(range(n))
    async with create_worker(runtime.client, task_queue, targets=[g]):
        result = await Orchestrator(runtime.client, task_queue).execute(g, {"numbers": numbers})
    assert result["doubled"] == [2 * x for x in numbers]  # input order
    assert GAUGE.started == n
    assert GAUGE.running == 0
    return GAUGE.peak


@pytest.mark.parametrize("local", [False, True], ids=["remote", "local"])
@pytest.mark.parametrize("limit", [1, 3])
async def test_a_map_node_runs_at_most_max_concurrency_items(
    dev_runtime: LocalRuntime, task_queue: str, local: bool, limit: int
) -> None:
    g = map_graph(f"map-bound-{limit}-{local}", limit, local=local)
    peak = await peak_of(dev_runtime, task_queue, g, limit, n=3 * limit + 2)
    assert peak <= limit, f"{peak} items ran at once with max_concurrency={limit}"
    assert peak == limit, f"only {peak} items ran at once with max_concurrency={limit}"


async def test_batches_share_the_bound_of_their_map_node(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    # 50 = 2 children of 25 items in flight each; batches of 25 so each child fills.
    g = map_graph("map-bound-batched", 50, batch=25)
    peak = await peak_of(dev_runtime, task_queue, g, 50, n=100)
    assert 1 < peak <= 50, f"{peak} items ran at once with max_concurrency=50"
