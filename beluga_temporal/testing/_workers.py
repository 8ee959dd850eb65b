"""Run a target on a real server from a test, with the worker started and stopped for you."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import temporalio.client

from beluga_temporal.client import Orchestrator, StartTarget
from beluga_temporal.worker import WorkerTarget, create_worker


async def run_with_worker(
    client: temporalio.client.Client,
    task_queue: str,
    target: StartTarget,
    input: Any = None,
    *,
    hosts: Sequence[WorkerTarget] = (),
    activities: Sequence[Callable[..., Any]] = (),
    **start_options: Any,
) -> Any:
    """Start a worker on `task_queue`, run `target` to its result, stop the worker.

    Example:
        ```python
        async def test_order_graph(dev_runtime, task_queue):
            result = await run_with_worker(dev_runtime.client, task_queue, graph, order)
        ```

    Args:
        client: A client of the server (e.g. a runtime fixture's `.client`).
        task_queue: The queue (the `task_queue` fixture gives a fresh one per test).
        target: The chain, graph or workflow class to run.
        input: The run's input.
        hosts: What the worker hosts (default: `target`).
        activities: Extra steps or activities (e.g. those a hand-written workflow calls).
        **start_options: Passed to `Orchestrator.execute` (`workflow_id`, ...).

    Raises:
        ExecutionError: The run failed (the same errors `Orchestrator.execute` raises).
    """
    hosted = list(hosts) or ([] if isinstance(target, str) else [target])
    async with create_worker(client, task_queue, targets=hosted, activities=activities):
        return await Orchestrator(client, task_queue).execute(target, input, **start_options)
