"""Local map nodes whose checkpoints changed, and histories recorded before the change.

`python -m tests.engine.checkpoints` records `recorded/*.json.gz` (run it on the code
of the rule the files must show: they were recorded at commit cd2859d, rule 1).
"""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory

from beluga_temporal import Chain, Graph, LocalRuntime, Orchestrator, create_worker, step
from beluga_temporal.declare import Target

HISTORIES = Path(__file__).parent / "recorded"


@step
async def square(x: int) -> int:
    return x * x


@step
async def kilobytes(x: int) -> str:
    """A 40 KB result: 27 of them pass the 1 MiB bound of one workflow task."""
    return str(x % 10) * 40_000


@step
async def echo(text: str) -> str:
    return text


def local_map(name: str, fn: Any, concurrency: int, batch: int | None = None) -> Graph:
    """A local graph mapping `fn` over `state["numbers"]`."""
    graph = Graph(name, local=True).add_map_node(
        "mapped", fn, items="numbers", max_concurrency=concurrency, batch_size=batch
    )
    return graph.set_entry_point("mapped")


WIDE_MAP = local_map("local-map-wide", square, concurrency=50)
"""300 items, 50 in flight: rule 1 pauses after 200 done, rule 2 after 250."""
BATCHED_MAP = local_map("local-map-batched", square, concurrency=100, batch=700)
"""700 items in one batch child, 100 in flight: rule 1 never pauses in the child, rule 2
after 500."""
BIG_RESULTS = Chain("local-chain-big-results", steps=[kilobytes] + [echo] * 39, local=True)
"""40 steps of 40 KB results: rule 1 never pauses, rule 2 pauses past 1 MiB."""
CASES: list[tuple[str, Target, Any]] = [
    ("local_map_wide", WIDE_MAP, {"numbers": list(range(300))}),
    ("local_map_batched", BATCHED_MAP, {"numbers": list(range(700))}),
    ("local_chain_big_results", BIG_RESULTS, 7),
]


def load(name: str) -> WorkflowHistory:
    """A recorded history: `local_map_wide`, or `local_map_batched` and its child."""
    text = gzip.decompress((HISTORIES / f"{name}.json.gz").read_bytes()).decode()
    return WorkflowHistory.from_json(name, text)


async def record() -> None:
    """Run every case on the dev server; save its history (and its batch child's)."""
    HISTORIES.mkdir(exist_ok=True)
    async with LocalRuntime(kind="dev") as rt:
        for name, target, value in CASES:
            queue = f"record-{name}"
            async with create_worker(rt.client, queue, targets=[target]):
                orch = Orchestrator(rt.client, queue)
                run = await orch.start(target, value, workflow_id=name)
                await orch.result(run.workflow_id, run.run_id)
            ids = [name, f"{name}/mapped/batch-0"] if target is BATCHED_MAP else [name]
            for workflow_id in ids:
                history = await rt.client.get_workflow_handle(workflow_id).fetch_history()
                file = workflow_id.replace("/mapped/", "_")
                (HISTORIES / f"{file}.json.gz").write_bytes(
                    gzip.compress(history.to_json().encode())
                )
                print("recorded", file, len(history.events), "events")


if __name__ == "__main__":
    asyncio.run(record())
