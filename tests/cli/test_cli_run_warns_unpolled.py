"""`beluga run` (not only `beluga start`) names the queues no worker polls (issue 10.2).

`beluga run` waits for the result, so its warnings come while it waits; once the run
ends (here: terminated), it exits with the run's failure instead of waiting on.
"""

from __future__ import annotations

import asyncio
import uuid

from beluga_temporal import LocalRuntime
from beluga_temporal.cli import EXIT_FAILURE
from tests.cli._procs import BELUGA, Proc, child_env
from tests.cli.cli_subprocess import address


async def test_run_warns_about_queues_nobody_polls_while_it_waits(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    llm_queue = f"{task_queue}-llm"
    workflow_id = f"unpolled-run-{uuid.uuid4().hex[:8]}"
    args = ["run", "tests.cli.unpolled_app:graph", "-q", task_queue, "--id", workflow_id]
    proc = Proc(
        [BELUGA, "--address", address(dev_runtime), *args],
        env=child_env(UNPOLLED_LLM_QUEUE=llm_queue),
    )
    try:
        # Blocking waits, in a thread: this loop keeps serving the test's client.
        llm = await asyncio.to_thread(
            proc.wait_for_line, f"no worker polls task queue '{llm_queue}' for activity tasks"
        )
        flow = await asyncio.to_thread(
            proc.wait_for_line, f"no worker polls task queue '{task_queue}' for workflow tasks"
        )
        assert f"step think of run '{workflow_id}' waits" in llm
        assert f"the workflow of run '{workflow_id}' waits" in flow
        assert proc.popen.poll() is None, "`beluga run` stopped waiting for its run"
        await dev_runtime.client.get_workflow_handle(workflow_id).terminate()
        code = await asyncio.to_thread(proc.popen.wait, 30)
    finally:
        proc.stop()
    assert code == EXIT_FAILURE, proc.output
    await asyncio.to_thread(proc.wait_for_line, f"run '{workflow_id}' was terminated")
