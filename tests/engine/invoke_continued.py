"""A script calling `invoke()` on a chain that continues as new (run as its own process).

Usage: `python -m tests.engine.invoke_continued WORKFLOW_ID`, with
`BELUGA_ORCHESTRATION__HISTORY__MAX_EVENTS` set low. Prints the result, how many
Temporal runs the beluga run took, and the run's progress counts and continuations.
"""

from __future__ import annotations

import asyncio
import sys

from beluga_temporal import Orchestrator
from beluga_temporal.local import shared_runtime
from tests.engine import long_runs as lr
from tests.engine.continued_app import chain


async def main(workflow_id: str) -> None:
    result = await chain.invoke(0, workflow_id=workflow_id)
    print("result", result, flush=True)
    # The shared runtime's loop is its own: this loop gets a client of its own.
    address = (await shared_runtime()).client.service_client.config.target_host
    orch = await Orchestrator.connect(address)
    latest = await orch.client.get_workflow_handle(workflow_id).fetch_history()
    started = latest.events[0].workflow_execution_started_event_attributes
    histories = await lr.run_histories(orch.client, workflow_id, started.first_execution_run_id)
    progress = await orch.progress(workflow_id)
    print("runs", len(histories), flush=True)
    print("progress", progress.counts, progress.continuations, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
