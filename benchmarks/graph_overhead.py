"""Graph overhead: the six-node order DAG generated vs hand-written with `asyncio.gather`.

Part 1 runs the order DAG (validate -> inventory || credit -> payment -> fulfill ->
notify) as a generated `Graph` and as a hand-written temporalio workflow over the very
same `@step` activities and activity options, on the same worker, server and client,
interleaved: p50/p95 latency and throughput of both and their ratios.

Part 2 measures the scheduler: a graph with sleeping steps (a diamond plus an unrelated
slow branch) must finish within its critical path + 10%: no rounds, no barriers.

    .venv/bin/python benchmarks/graph_overhead.py                  # tuned dev server
    .venv/bin/python benchmarks/graph_overhead.py --server dev --server time-skipping
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio import workflow

from beluga_temporal import Graph, Step, step
from beluga_temporal.declare import Target
from benchmarks import _harness as h
from benchmarks._order_dag import (
    ACTIVITY_OPTIONS,
    ORDER,
    STEPS,
    HandWrittenOrderGraph,
    State,
    order_graph,
)

# -- part 1: the order DAG (benchmarks/_order_dag.py) ----------------------------------

ORDER_STEPS: list[Step[Any, Any]] = list(STEPS.values())


async def _run(activity: Step[Any, Any], state: State) -> State:
    result: State = await workflow.execute_activity(activity, state, **ACTIVITY_OPTIONS)
    return result


# -- part 2: makespan vs critical path ---------------------------------------------------

# node -> (sleep seconds, predecessors). A diamond (a -> b || c -> d) next to an
# unrelated slow branch (s1 -> s2); the slow branch is the critical path.
SLEEPS: dict[str, tuple[float, tuple[str, ...]]] = {
    "a": (0.2, ()),
    "b": (0.3, ("a",)),
    "c": (0.5, ("a",)),
    "d": (0.2, ("b", "c")),
    "s1": (0.6, ()),
    "s2": (0.5, ("s1",)),
}


def _napper(node: str, seconds: float) -> Step[Any, Any]:
    async def nap(state: State) -> State:
        await asyncio.sleep(seconds)
        return {f"{node}_done": True}

    nap.__qualname__ = nap.__name__ = f"bench_nap_{node}"
    return step(name=f"bench-nap-{node}")(nap)


NAPS = {node: _napper(node, seconds) for node, (seconds, _) in SLEEPS.items()}
sleep_graph = Graph("bench-sleep-graph")
for _node, (_, _deps) in SLEEPS.items():
    sleep_graph.add_node(_node, NAPS[_node])
for _node, (_, _deps) in SLEEPS.items():
    for _dep in _deps:
        sleep_graph.add_edge(_dep, _node)
sleep_graph.set_entry_point([n for n, (_, deps) in SLEEPS.items() if not deps])


def critical_path(sleeps: Mapping[str, tuple[float, tuple[str, ...]]]) -> tuple[float, list[str]]:
    """Longest path of summed sleeps (nodes are listed in topological order)."""
    best: dict[str, tuple[float, list[str]]] = {}
    for node, (seconds, deps) in sleeps.items():
        before = max((best[d] for d in deps), default=(0.0, []), key=lambda b: b[0])
        best[node] = (before[0] + seconds, [*before[1], node])
    return max(best.values(), key=lambda b: b[0])


@workflow.defn(name="bench-sleep-graph-hand-written")
class HandWrittenSleepGraph:
    """The same sleeping DAG hand-scheduled: the best a hand-written workflow can do."""

    @workflow.run
    async def run(self, state: State) -> State:
        async def diamond() -> State:
            out = await _run(NAPS["a"], state)
            b, c = await asyncio.gather(_run(NAPS["b"], state), _run(NAPS["c"], state))
            return {**out, **b, **c, **await _run(NAPS["d"], state)}

        async def slow() -> State:
            return {**await _run(NAPS["s1"], state), **await _run(NAPS["s2"], state)}

        left, right = await asyncio.gather(diamond(), slow())
        return {**state, **left, **right}


TARGETS: list[Target | type] = [
    order_graph,
    HandWrittenOrderGraph,
    sleep_graph,
    HandWrittenSleepGraph,
]
ACTIVITIES: list[Callable[..., Any]] = [*ORDER_STEPS, *NAPS.values()]
VARIANTS = [
    h.Variant(h.GENERATED, order_graph.name, ORDER),
    h.Variant(h.HAND_WRITTEN, "bench-order-graph-hand-written", ORDER),
]
SLEEP_VARIANTS = [
    h.Variant(h.GENERATED, sleep_graph.name, {}),
    h.Variant(h.HAND_WRITTEN, "bench-sleep-graph-hand-written", {}),
]
DEFAULT_SERVERS: list[h.ServerKind] = ["dev"]
DESCRIPTION = "Generated order DAG vs hand-written asyncio.gather; makespan vs critical path."
MAKESPAN_TOLERANCE = 1.10


async def makespan(env_client: Any, queue: str, kind: h.ServerKind, repeats: int) -> str:
    """Run the sleeping graph `repeats` times; compare makespans with the critical path."""
    path_seconds, path = critical_path(SLEEPS)
    client_times: dict[str, list[float]] = {v.label: [] for v in SLEEP_VARIANTS}
    server_times: dict[str, list[float]] = {v.label: [] for v in SLEEP_VARIANTS}
    last: dict[str, h.HistoryStats] = {}
    for round_no in range(repeats):
        order = SLEEP_VARIANTS if round_no % 2 == 0 else list(reversed(SLEEP_VARIANTS))
        for variant in order:
            seconds, workflow_id, _ = await h.execute(env_client, queue, variant)
            stats = await h.history_stats(env_client, workflow_id)
            client_times[variant.label].append(seconds)
            server_times[variant.label].append(stats.server_seconds)
            last[variant.label] = stats
    rows = []
    for label in client_times:
        median = statistics.median(client_times[label])
        worst = max(client_times[label])
        rows.append(
            [
                label,
                h.ms(median),
                h.ms(worst),
                h.ms(statistics.median(server_times[label])),
                f"{median / path_seconds:.3f}x",
                h.check(
                    f"{kind}: makespan / critical path", median / path_seconds, MAKESPAN_TOLERANCE
                )
                if label == h.GENERATED
                else "(reference)",
            ]
        )
    title = (
        f"{h.SERVER_LABELS[kind]} — makespan of the sleeping graph, {repeats} runs each; "
        f"critical path {' -> '.join(path)} = {h.ms(path_seconds)}"
    )
    out = h.table(
        ["workflow", "p50 makespan", "max", "p50 server-side", "p50 / critical path", "target"],
        rows,
        title,
    )
    done = {name.removeprefix("bench-nap-"): end for name, _, end in last[h.GENERATED].timeline}
    timeline = []
    for name, at, end in sorted(last[h.GENERATED].timeline, key=lambda t: t[1]):
        node = name.removeprefix("bench-nap-")
        seconds, deps = SLEEPS[node]
        ready = max((done[d] for d in deps), default=0.0)
        waited = f"+{h.ms(at - ready)}" + (f" after {', '.join(deps)}" if deps else " after start")
        timeline.append([node, h.ms(seconds), h.ms(at), waited, h.ms(end)])
    out += h.table(
        ["node", "sleeps", "scheduled at", "scheduled", "completed at"],
        timeline,
        "Timeline of the last generated run (server timestamps): each node is scheduled "
        "once its own predecessors are done, whatever the other branch is doing",
    )
    return out


async def main() -> None:
    parser = h.parser(DESCRIPTION, DEFAULT_SERVERS)
    parser.add_argument("--makespan-runs", type=int, default=5, help="sleeping-graph runs (5)")
    args = parser.parse_args()
    print(f"graph_overhead: six-node order DAG, generated vs hand-written · {h.machine()}")
    comparisons = []
    for kind in h.servers_of(args, DEFAULT_SERVERS):
        started = time.perf_counter()
        async with (
            h.server(kind) as env,
            h.running_worker(env.client, targets=TARGETS, activities=ACTIVITIES) as queue,
        ):
            comparison = await h.compare(env.client, queue, kind, VARIANTS, args)
            print(comparison.render())
            print(await makespan(env.client, queue, kind, args.makespan_runs))
        comparisons.append(comparison)
        print(f"({kind}: {time.perf_counter() - started:.0f} s including server start)")
    print(h.summary(comparisons, "six-node order DAG, generated vs hand-written"))


if __name__ == "__main__":
    # Run the definitions from `benchmarks.graph_overhead`, a module the sandbox can pass
    # through by name (a `__main__` module cannot be), not from this `__main__` copy.
    from benchmarks.graph_overhead import main as imported_main

    asyncio.run(imported_main())
    raise SystemExit(h.exit_status())
