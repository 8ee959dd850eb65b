"""`beluga start` / `beluga run` name missing workers instead of waiting silently."""

from __future__ import annotations

import asyncio
import re
import time

from beluga_temporal import LocalRuntime, create_worker
from tests.cli._procs import BELUGA, REPO, child_env
from tests.cli.unpolled_app import Hosted


async def beluga(runtime: LocalRuntime, *args: str, **env: str) -> tuple[int, str, str]:
    address = runtime.client.service_client.config.target_host
    proc = await asyncio.create_subprocess_exec(
        BELUGA,
        "--address",
        address,
        *args,
        cwd=REPO,
        env=child_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_start_warns_about_queues_nobody_polls(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    llm_queue = f"{task_queue}-llm"
    code, out, err = await beluga(
        dev_runtime,
        *("start", "tests.cli.unpolled_app:graph", "-q", task_queue),
        UNPOLLED_LLM_QUEUE=llm_queue,
    )
    assert code == 0, err
    workflow_id = re.search(r"workflow_id: (\S+)", out)
    assert workflow_id is not None, out
    await dev_runtime.client.get_workflow_handle(workflow_id.group(1)).terminate()
    assert f"no worker polls task queue '{task_queue}' for workflow tasks" in err
    assert f"no worker polls task queue '{llm_queue}' for activity tasks: step think" in err


async def test_run_names_a_workflow_type_no_worker_hosts(
    dev_runtime: LocalRuntime, task_queue: str
) -> None:
    async with create_worker(dev_runtime.client, task_queue, targets=[Hosted]):
        started = time.monotonic()
        code, _, err = await beluga(dev_runtime, "run", "cli-not-hosted", "-q", task_queue)
        elapsed = time.monotonic() - started
    assert code != 0
    assert "cli-not-hosted is not registered on this worker" in err, err
    assert elapsed < 30  # before: it waited for the one-hour run timeout
