"""Record the histories the replay tests use: `python -m tests.histories.record [FILE...]`.

Re-run only when a change to generated workflows is *meant* to break old histories.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from beluga_temporal import LocalRuntime, Orchestrator, create_worker
from beluga_temporal.declare import Target
from tests import composition_examples as cx
from tests import graph_examples as gx
from tests.examples import Order, order_chain

HERE = Path(__file__).parent
CASES: list[tuple[str, Target, Any]] = [
    ("order_chain.json", order_chain, Order(order_id="h-1", amount=10, items=["book"])),
    ("order_graph.json", gx.ORDER_GRAPH, gx.ORDER_INPUT),
    ("routed_graph.json", gx.ROUTED_GRAPH, {"amount": 500}),
    ("map_graph.json", gx.MAP_GRAPH, {"count": 5}),
    ("nested_graph.json", cx.NESTED_ORDER_GRAPH, cx.NESTED_ORDER_INPUT),
]


async def main(only: list[str]) -> None:
    async with LocalRuntime(kind="time-skipping") as rt:
        for filename, target, value in CASES:
            if only and filename not in only:
                continue
            queue = f"record-{filename}"
            async with create_worker(rt.client, queue, targets=[target]):
                orch = Orchestrator(rt.client, queue)
                run = await orch.start(target, value, workflow_id=filename[:-5])  # the file name is the workflow id
                await orch.result(run.workflow_id, run.run_id)
                history = await rt.client.get_workflow_handle(run.workflow_id).fetch_history()
            (HERE / filename).write_text(history.to_json())
            print("recorded", filename, len(history.events), "events")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
