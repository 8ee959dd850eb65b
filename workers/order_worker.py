"""Run a worker for the order-processing chain, graph and workflow.

    python -m workers.order_worker            # address and task queue from settings

Settings come from `beluga.yaml` / `$BELUGA_CONFIG` and `BELUGA_*` variables (e.g.
`BELUGA_TEMPORAL_ADDRESS=temporal:7233`, `BELUGA_TASK_QUEUE=orders`). Stops gracefully
on SIGINT / SIGTERM: in-flight steps get `GRACE_PERIOD` to finish.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from typing import Any

from activities import (
    check_credit,
    check_inventory,
    decide_expedite,
    fulfill_express,
    fulfill_order,
    notify_customer,
    process_payment,
    validate_order,
)
from beluga_temporal import Orchestrator, RetryPolicy, create_worker
from beluga_temporal.cli import exit_process
from beluga_temporal.observability import get_logger, setup_observability
from beluga_temporal.settings import BelugaSettings
from workflows.order_processing import OrderProcessingWorkflow, order_chain, order_graph

GRACE_PERIOD = timedelta(seconds=30)
TARGETS: list[Any] = [order_chain, order_graph, OrderProcessingWorkflow]
# The hand-written workflow calls these directly; the chain and graph bring their own.
ACTIVITIES: list[Any] = [
    validate_order,
    check_inventory,
    check_credit,
    decide_expedite,
    process_payment,
    fulfill_order,
    fulfill_express,
    notify_customer,
]

log = get_logger("workers.order_worker")


async def connect(settings: BelugaSettings) -> Orchestrator:
    """Connect to Temporal as the settings say, exporting telemetry if configured."""
    # Before connecting: the client's BelugaPlugin then adds the tracing interceptor
    # and the process default runtime exports Temporal's SDK metrics.
    setup_observability(settings)
    return await Orchestrator.from_settings(settings)


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def main(settings: BelugaSettings | None = None) -> None:
    """Run the order worker until SIGINT / SIGTERM."""
    settings = settings or BelugaSettings.load()
    orch = await connect(settings)
    task_queue = orch.task_queue
    worker = create_worker(
        orch.client,
        task_queue,
        targets=TARGETS,
        activities=ACTIVITIES,
        graceful_shutdown_timeout=GRACE_PERIOD,
        default_retry=RetryPolicy(max_attempts=max(settings.orchestration.workflow.max_retries, 1)),
    )
    stop = _stop_event()
    async with worker:
        log.info(
            "worker started",
            task_queue=task_queue,
            address=settings.orchestration.workflow.temporal.address,
            workflows=[order_chain.name, order_graph.name, "OrderProcessingWorkflow"],
        )
        await stop.wait()
        log.info("worker stopping", task_queue=task_queue)
    log.info("worker stopped", task_queue=task_queue)


if __name__ == "__main__":
    asyncio.run(main())
    exit_process(0)
