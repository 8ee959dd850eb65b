"""Long runs (DESIGN §3.8): history cost per step, per item, per node; time per step.

Prints, on the embedded dev server (tuned, as `LocalRuntime` starts it):

1. events and history bytes per chain step, per map item, and per graph node (a linear
   graph whose nodes each add 1 KB of state, read whole or narrowed with `reads=`);
2. time per step for 100-, 1,000- and 10,000-step chains (growth must stay linear);
3. map node throughput (items/s): beluga's default map node and `batch_size=` batches
   against the same fan-out hand-written in temporalio (one workflow, semaphore-bounded;
   a child workflow per batch), in remote and local mode, alternating (`_map_throughput.py`).

Exits non-zero when a target is missed:
- time per step of the longest chain <= 2x that of the 100-step chain (linear growth);
- beluga's map node >= 0.8x the hand-written fan-out's items/s.

Usage: `python benchmarks/long_runs.py [--quick] [--only map] [--map-items N] [--rounds R]
[--modes remote,local]` (`--quick`: smaller sizes; `--only map`: section 3 only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import platform
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import temporalio.client
from temporalio.api.enums.v1 import EventType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from beluga_temporal import Chain, Graph, LocalRuntime, Orchestrator, create_worker, step
from benchmarks._map_throughput import map_throughput, ratio

CONCURRENCY = 100


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


async def main(args: argparse.Namespace) -> int:
    quick = args.quick
    sizes = {"chain": 500, "map": 2_000, "graph": 200} if quick else {
        "chain": 2_000, "map": 10_000, "graph": 600}  # fmt: skip
    lengths = [100, 1_000] if quick else [100, 1_000, 10_000]
    items = args.map_items or (2_000 if quick else 10_000)
    modes = args.modes.split(",")
    print(f"long_runs.py  {datetime.date.today()}  {platform.node()}  "
          f"{platform.processor() or platform.machine()}  load {_load()}")  # fmt: skip
    queue = f"bench-long-{uuid.uuid4().hex[:6]}"
    growth = 0.0
    async with LocalRuntime(kind="dev") as rt:
        if args.only != "map":
            await history_costs(rt, queue, sizes)
            growth = await chain_times(rt, queue, lengths)
        samples = await map_throughput(
            rt, queue, items=items, concurrency=CONCURRENCY, rounds=args.rounds, modes=modes,
            only=args.variants.split(",") if args.variants else (),
        )  # fmt: skip
    missed = []
    if growth > 2.0:
        missed.append(f"time per step grew {growth:.2f}x from 100 to {lengths[-1]} steps")
    print(f"\nload at the end {_load()}; growth {growth:.2f}x (target <= 2.0)")
    for mode in modes:
        with contextlib.suppress(KeyError):
            map_ratio = ratio(samples, mode)
            shown = (
                "the hand-written one failed" if map_ratio == float("inf") else f"{map_ratio:.2f}x"
            )
            print(f"{mode}: map node / hand-written fan-out {shown} (target >= 0.8)")
            if map_ratio < 0.8:
                missed.append(f"{mode} map node at {map_ratio:.2f}x the hand-written fan-out")
    for line in missed:
        print("MISSED:", line)
    return 1 if missed else 0


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--only", choices=["map"], help="run only the map throughput section")
    parser.add_argument("--map-items", type=int, help="items per map run (10,000; quick 2,000)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each map variant")
    parser.add_argument("--modes", default="remote,local", help="remote,local (map section)")
    parser.add_argument("--variants", help="comma-separated words: run the variants naming one")
    sys.exit(asyncio.run(main(parser.parse_args())))
