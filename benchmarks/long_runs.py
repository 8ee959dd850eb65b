"""Long runs (DESIGN §3.8): history cost per step, per item, per node; time per step.

Prints, on the embedded dev server (tuned, as `LocalRuntime` starts it):

1. events and history bytes per chain step, per map item, and per graph node (a linear
   graph whose nodes each add 1 KB of state, read whole or narrowed with `reads=`);
2. time per step for 100-, 1,000- and 10,000-step chains (growth must stay linear);
3. map node throughput (items/s) against the same fan-out hand-written in temporalio
   (one workflow, semaphore-bounded) and against child workflows per batch.

Exits non-zero when a target is missed:
- time per step of the longest chain <= 2x that of the 100-step chain (linear growth);
- beluga's map node >= 0.8x the hand-written fan-out's items/s.

Usage: `python benchmarks/long_runs.py [--quick]` (`--quick`: smaller sizes).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import platform
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import temporalio.activity
import temporalio.client
import temporalio.workflow
from temporalio.api.enums.v1 import EventType

from beluga_temporal import Chain, Graph, LocalRuntime, Orchestrator, create_worker, step

CONCURRENCY = 100
CHILD_BATCH = 1_000


@step
async def inc(x: int) -> int:
    return x + 1


@step
async def square(x: int) -> int:
    return x * x


@step
async def add_kilobyte(state: dict[str, Any]) -> dict[str, Any]:
    count = sum(1 for key in state if key.startswith("k"))
    return {f"k{count:04d}": "x" * 1024}


@temporalio.activity.defn(name="bench-square")
async def hand_square(x: int) -> int:
    return x * x


@temporalio.workflow.defn(name="bench-hand-map")
class HandMap:
    """The fan-out written by hand: one workflow, a semaphore, one activity per item."""

    @temporalio.workflow.run
    async def run(self, items: list[int]) -> list[int]:
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(item: int) -> int:
            async with limit:
                return int(
                    await temporalio.workflow.execute_activity(
                        "bench-square", item, start_to_close_timeout=timedelta(seconds=30)
                    )
                )

        return list(await asyncio.gather(*(one(item) for item in items)))


@temporalio.workflow.defn(name="bench-batched-map")
class BatchedMap:
    """The alternative design: a child workflow per batch of items."""

    @temporalio.workflow.run
    async def run(self, items: list[int]) -> list[int]:
        batches = [items[i : i + CHILD_BATCH] for i in range(0, len(items), CHILD_BATCH)]
        info = temporalio.workflow.info()
        children = [
            temporalio.workflow.execute_child_workflow(
                "bench-hand-map", batch, id=f"{info.workflow_id}/batch-{index}"
            )
            for index, batch in enumerate(batches)
        ]
        results: list[int] = []
        for done in await asyncio.gather(*children):
            results.extend(done)
        return results


async def _histories(
    client: temporalio.client.Client, workflow_id: str
) -> list[temporalio.client.WorkflowHistory]:
    handle = client.get_workflow_handle(workflow_id)
    first = (await handle.fetch_history()).events[0]
    run_id: str | None = first.workflow_execution_started_event_attributes.first_execution_run_id
    histories = []
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(history)
        last = history.events[-1]
        run_id = None
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return histories


async def _cost(client: temporalio.client.Client, workflow_id: str) -> tuple[int, int, int]:
    """(events, bytes, runs) of a whole beluga run, across continue-as-new."""
    histories = await _histories(client, workflow_id)
    events = sum(len(h.events) for h in histories)
    size = sum(e.ByteSize() for h in histories for e in h.events)
    return events, size, len(histories)


async def _timed(orch: Orchestrator, target: Any, value: Any) -> tuple[float, str]:
    started = time.perf_counter()
    run = await orch.start(target, value, execution_timeout=1800)
    await orch.result(run.workflow_id, run.run_id)
    return time.perf_counter() - started, run.workflow_id


def _linear_graph(name: str, nodes: int, narrow: bool) -> Graph:
    graph = Graph(name)
    for i in range(nodes):
        graph.add_node(f"n{i}", add_kilobyte, reads=[] if narrow else None)
        if i:
            graph.add_edge(f"n{i - 1}", f"n{i}")
    return graph.set_entry_point("n0")


async def history_costs(rt: LocalRuntime, queue: str, sizes: dict[str, int]) -> None:
    """Section 1: events and bytes per step, item and node."""
    chain = Chain("bench-long-chain", steps=[inc] * sizes["chain"])
    mapped = Graph("bench-long-map").add_map_node(
        "squares", square, items="numbers", max_concurrency=CONCURRENCY
    )
    mapped.set_entry_point("squares")
    whole = _linear_graph("bench-linear-whole", sizes["graph"], narrow=False)
    narrow = _linear_graph("bench-linear-narrow", sizes["graph"], narrow=True)
    cases: list[tuple[str, Any, Any, int, str]] = [
        ("chain", chain, 0, sizes["chain"], "step"),
        ("map node", mapped, {"numbers": list(range(sizes["map"]))}, sizes["map"], "item"),
        ("graph, whole state", whole, {}, sizes["graph"], "node"),
        ("graph, reads=[]", narrow, {}, sizes["graph"], "node"),
    ]
    print("\n1. History cost (all runs of one beluga run, across continue-as-new)")
    print(f"{'case':<22}{'size':>8}{'runs':>6}{'events/unit':>14}{'bytes/unit':>14}")
    async with create_worker(rt.client, queue, targets=[c[1] for c in cases]):
        orch = Orchestrator(rt.client, queue)
        for label, target, value, count, unit in cases:
            _, workflow_id = await _timed(orch, target, value)
            events, size, runs = await _cost(rt.client, workflow_id)
            print(f"{label:<22}{count:>8}{runs:>6}{events / count:>11.2f}/{unit:<2}"
                  f"{size / count:>11.0f}/{unit}")  # fmt: skip


async def chain_times(rt: LocalRuntime, queue: str, lengths: Sequence[int]) -> float:
    """Section 2: time per step by chain length; returns the growth ratio."""
    print("\n2. Time per step by chain length (remote activities)")
    print(f"{'steps':>8}{'seconds':>10}{'ms/step':>10}{'runs':>6}")
    per_step: list[float] = []
    for length in lengths:
        chain = Chain(f"bench-chain-{length}", steps=[inc] * length)
        async with create_worker(rt.client, queue, targets=[chain]):
            elapsed, workflow_id = await _timed(Orchestrator(rt.client, queue), chain, 0)
        _, _, runs = await _cost(rt.client, workflow_id)
        per_step.append(elapsed / length * 1000)
        print(f"{length:>8}{elapsed:>10.1f}{per_step[-1]:>10.2f}{runs:>6}")
    return per_step[-1] / per_step[0]


async def map_throughput(rt: LocalRuntime, queue: str, items: int) -> float:
    """Section 3: items/s of beluga's map node vs hand-written designs; returns the ratio."""
    mapped = Graph("bench-throughput-map").add_map_node(
        "squares", square, items="numbers", max_concurrency=CONCURRENCY
    )
    mapped.set_entry_point("squares")
    batched = Graph("bench-throughput-batched").add_map_node(
        "squares", square, items="numbers", max_concurrency=CONCURRENCY, batch_size=CHILD_BATCH
    )
    batched.set_entry_point("squares")
    numbers = list(range(items))
    print(f"\n3. Map throughput: {items} items, {CONCURRENCY} in flight")
    rates: dict[str, float] = {}
    async with create_worker(
        rt.client, queue, targets=[mapped, batched, HandMap, BatchedMap], activities=[hand_square]
    ):
        orch = Orchestrator(rt.client, queue)
        elapsed, _ = await _timed(orch, mapped, {"numbers": numbers})
        rates["beluga map node (continue-as-new)"] = items / elapsed
        elapsed, _ = await _timed(orch, batched, {"numbers": numbers})
        rates[f"beluga map node, batch_size={CHILD_BATCH}"] = items / elapsed
        for label, workflow in (
            ("hand-written fan-out", HandMap),
            (f"hand-written, child per {CHILD_BATCH}", BatchedMap),
        ):
            started = time.perf_counter()
            await rt.client.execute_workflow(
                workflow.run,  # type: ignore[attr-defined]
                numbers,
                id=f"bench-{uuid.uuid4().hex[:8]}",
                task_queue=queue,
                execution_timeout=timedelta(minutes=30),
            )
            rates[label] = items / (time.perf_counter() - started)
    for label, rate in rates.items():
        print(f"  {label:<40}{rate:>8.0f} items/s")
    return rates["beluga map node (continue-as-new)"] / rates["hand-written fan-out"]


async def main(quick: bool) -> int:
    sizes = {"chain": 500, "map": 2_000, "graph": 200} if quick else {
        "chain": 2_000, "map": 10_000, "graph": 600}  # fmt: skip
    lengths = [100, 1_000] if quick else [100, 1_000, 10_000]
    print(f"long_runs.py  {datetime.date.today()}  {platform.node()}  "
          f"{platform.processor() or platform.machine()}")  # fmt: skip
    queue = f"bench-long-{uuid.uuid4().hex[:6]}"
    async with LocalRuntime(kind="dev") as rt:
        await history_costs(rt, queue, sizes)
        growth = await chain_times(rt, queue, lengths)
        ratio = await map_throughput(rt, queue, 2_000 if quick else 10_000)
    missed = []
    if growth > 2.0:
        missed.append(f"time per step grew {growth:.2f}x from 100 to {lengths[-1]} steps")
    if ratio < 0.8:
        missed.append(f"map node at {ratio:.2f}x the hand-written fan-out")
    print(f"\ngrowth {growth:.2f}x (target <= 2.0), map ratio {ratio:.2f}x (target >= 0.8)")
    for line in missed:
        print("MISSED:", line)
    return 1 if missed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    sys.exit(asyncio.run(main(parser.parse_args().quick)))
