"""Map node throughput: beluga's two designs against the same fan-out written by hand.

Variants (each in remote and in local mode, `max_concurrency` items in flight):

- beluga map node, default (items are activities of the run, which continues as new
  with its partial results when its history is long);
- beluga map node with `batch_size=` (a child workflow per batch);
- hand-written temporalio: one workflow, a semaphore, one activity per item
  (sandboxed, as `@workflow.defn` runs by default; and unsandboxed, as beluga runs
  generated workflows without routes);
- hand-written temporalio: a child workflow per batch, each the fan-out above.

The variants alternate within each round (the order rotates), so that the load of a
shared machine falls on all of them. Per variant: items/s, this process's CPU per item
(client, worker, workflow and activity code), the Temporal server's CPU per item, and
the events and Temporal runs of the top-level workflow's history.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import temporalio.activity
import temporalio.client
import temporalio.workflow
from temporalio.api.enums.v1 import EventType

from beluga_temporal import Graph, LocalRuntime, Orchestrator, create_worker, step

BATCH = 1_000
TIMEOUT = timedelta(seconds=30)


@step
async def square(x: int) -> int:
    return x * x


@temporalio.activity.defn(name="bench-square")
async def hand_square(x: int) -> int:
    return x * x


async def _fan_out(request: dict[str, Any]) -> list[int]:
    limit = asyncio.Semaphore(request["concurrency"])
    local = request["local"]

    async def one(item: int) -> int:
        async with limit:
            if local:
                return int(
                    await temporalio.workflow.execute_local_activity(
                        "bench-square", item, start_to_close_timeout=TIMEOUT
                    )
                )
            return int(
                await temporalio.workflow.execute_activity(
                    "bench-square", item, start_to_close_timeout=TIMEOUT
                )
            )

    return list(await asyncio.gather(*(one(item) for item in request["items"])))


@temporalio.workflow.defn(name="bench-hand-map")
class HandMap:
    """The fan-out written by hand: one workflow, a semaphore, one activity per item."""

    @temporalio.workflow.run
    async def run(self, request: dict[str, Any]) -> list[int]:
        return await _fan_out(request)


@temporalio.workflow.defn(name="bench-hand-map-unsandboxed", sandboxed=False)
class HandMapUnsandboxed:
    """The same, outside temporalio's sandbox (as beluga runs its generated workflows)."""

    @temporalio.workflow.run
    async def run(self, request: dict[str, Any]) -> list[int]:
        return await _fan_out(request)


@temporalio.workflow.defn(name="bench-hand-batched-map")
class HandBatchedMap:
    """A child workflow (the fan-out above) per batch of items, all at once."""

    @temporalio.workflow.run
    async def run(self, request: dict[str, Any]) -> list[int]:
        items: list[int] = request["items"]
        info = temporalio.workflow.info()
        per_child = max(1, request["concurrency"] * BATCH // max(len(items), 1))
        local = request["local"]
        children = [
            temporalio.workflow.execute_child_workflow(
                "bench-hand-map",
                {"items": items[i : i + BATCH], "concurrency": per_child, "local": local},
                id=f"{info.workflow_id}/batch-{i // BATCH}",
            )
            for i in range(0, len(items), BATCH)
        ]
        results: list[int] = []
        for done in await asyncio.gather(*children):
            results.extend(done)
        return results


def map_graph(name: str, concurrency: int, *, local: bool, batch: int | None) -> Graph:
    """A one-node graph mapping `square` over `state["numbers"]`."""
    graph = Graph(name, local=local).add_map_node(
        "squares", square, items="numbers", max_concurrency=concurrency, batch_size=batch
    )
    return graph.set_entry_point("squares")


# -- measuring ---------------------------------------------------------------------------


def _cpu_seconds(pids: Sequence[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def server_pids() -> list[int]:
    """The Temporal server processes this process started (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == os.getpid() and b"temporal" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


@dataclasses.dataclass
class Sample:
    """One run of one variant."""

    rate: float
    cpu_ms: float
    server_ms: float
    events: int
    runs: int
    error: str | None = None
    """Why the run failed (the hand-written fan-out outgrows one history)."""


@dataclasses.dataclass(frozen=True)
class Variant:
    """A way of mapping `square` over a list, started by `start(items)`."""

    label: str
    start: Callable[[list[int]], Any]


async def _top_history(client: temporalio.client.Client, workflow_id: str) -> tuple[int, int]:
    """Events and Temporal runs of a workflow id's whole run chain."""
    handle = client.get_workflow_handle(workflow_id)
    first = (await handle.fetch_history()).events[0]
    run_id: str | None = first.workflow_execution_started_event_attributes.first_execution_run_id
    events = runs = 0
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        events += len(history.events)
        runs += 1
        last = history.events[-1]
        run_id = None
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return events, runs


def variants(
    rt: LocalRuntime, queue: str, concurrency: int, *, local: bool
) -> tuple[list[Variant], list[Any]]:
    """The five variants of one mode, and the targets their worker must host."""
    mode = "local" if local else "remote"
    default = map_graph(f"bench-map-{mode}", concurrency, local=local, batch=None)
    batched = map_graph(f"bench-map-{mode}-batched", concurrency, local=local, batch=BATCH)
    orch = Orchestrator(rt.client, queue)

    def beluga(graph: Graph) -> Callable[[list[int]], Any]:
        async def start(items: list[int]) -> str:
            run = await orch.start(graph, {"numbers": items}, execution_timeout=3600)
            await orch.result(run.workflow_id, run.run_id)
            return run.workflow_id

        return start

    def hand(workflow: str) -> Callable[[list[int]], Any]:
        async def start(items: list[int]) -> str:
            workflow_id = f"bench-hand-{uuid.uuid4().hex[:8]}"
            request = {"items": items, "concurrency": concurrency, "local": local}
            await rt.client.execute_workflow(
                workflow,
                request,
                id=workflow_id,
                task_queue=queue,
                execution_timeout=timedelta(hours=1),
            )
            return workflow_id

        return start

    found = [
        Variant(f"beluga map node ({mode})", beluga(default)),
        Variant(f"beluga, batch_size={BATCH} ({mode})", beluga(batched)),
        Variant(f"hand-written fan-out ({mode})", hand("bench-hand-map")),
        Variant(f"hand-written, unsandboxed ({mode})", hand("bench-hand-map-unsandboxed")),
        Variant(f"hand-written, child per {BATCH} ({mode})", hand("bench-hand-batched-map")),
    ]
    return found, [default, batched]


async def measure(
    rt: LocalRuntime, queue: str, variant: Variant, items: list[int], server: Sequence[int]
) -> Sample:
    """Run `variant` once over `items`."""
    started, cpu, server_cpu = time.perf_counter(), time.process_time(), _cpu_seconds(server)
    try:
        workflow_id = await variant.start(items)
    except temporalio.client.WorkflowFailureError as error:
        return Sample(0.0, 0.0, 0.0, 0, 0, error=str(error.cause or error))
    elapsed = time.perf_counter() - started
    cpu_ms = (time.process_time() - cpu) * 1000 / len(items)
    server_ms = (_cpu_seconds(server) - server_cpu) * 1000 / len(items)
    events, runs = await _top_history(rt.client, workflow_id)
    return Sample(len(items) / elapsed, cpu_ms, server_ms, events, runs)


async def map_throughput(
    rt: LocalRuntime,
    queue: str,
    *,
    items: int,
    concurrency: int,
    rounds: int,
    modes: Sequence[str],
    only: Sequence[str] = (),
) -> dict[str, list[Sample]]:
    """Every variant of every mode, `rounds` times, alternating; prints a table."""
    numbers = list(range(items))
    server = server_pids()
    print(f"\n3. Map throughput: {items} items, {concurrency} in flight, {rounds} round(s)")
    samples: dict[str, list[Sample]] = {}
    for mode in modes:
        chosen, targets = variants(rt, queue, concurrency, local=mode == "local")
        chosen = [v for v in chosen if not only or any(word in v.label for word in only)]
        async with create_worker(
            rt.client,
            queue,
            targets=[*targets, HandMap, HandMapUnsandboxed, HandBatchedMap],
            activities=[hand_square],
        ):
            for round_index in range(rounds):
                shift = round_index % len(chosen)
                for variant in chosen[shift:] + chosen[:shift]:
                    sample = await measure(rt, queue, variant, numbers, server)
                    samples.setdefault(variant.label, []).append(sample)
                    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
                    outcome = (
                        f"failed: {sample.error}"
                        if sample.error
                        else f"{sample.rate:>7.0f} items/s"
                    )
                    print(f"  round {round_index + 1}  {variant.label:<40}{outcome}"
                          f"  load {load}", flush=True)  # fmt: skip
    print(f"\n{'variant':<42}{'items/s (median)':>17}{'range':>12}{'CPU ms/item':>13}"
          f"{'server ms/item':>16}{'events/item':>13}{'runs':>6}")  # fmt: skip
    for label, every in samples.items():
        found = [s for s in every if s.error is None]
        if not found:
            print(f"{label:<42}  failed: {every[0].error}")
            continue
        rates = [s.rate for s in found]
        print(f"{label:<42}{statistics.median(rates):>17.0f}"
              f"{f'{min(rates):.0f}-{max(rates):.0f}':>12}"
              f"{statistics.median(s.cpu_ms for s in found):>13.2f}"
              f"{statistics.median(s.server_ms for s in found):>16.2f}"
              f"{found[0].events / items:>13.2f}{found[0].runs:>6}")  # fmt: skip
    return samples


def ratio(samples: dict[str, list[Sample]], mode: str = "remote") -> float:
    """Median items/s of beluga's default map node over the hand-written fan-out's.

    0 when beluga's runs failed; infinite when only the hand-written ones did.
    """
    beluga = [s.rate for s in samples[f"beluga map node ({mode})"] if s.error is None]
    hand = [s.rate for s in samples[f"hand-written fan-out ({mode})"] if s.error is None]
    if not beluga:
        return 0.0
    return statistics.median(beluga) / statistics.median(hand) if hand else float("inf")
