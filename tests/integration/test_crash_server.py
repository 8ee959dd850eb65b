"""The Temporal server SIGKILLed and restarted on its SQLite file while runs are in flight."""

from __future__ import annotations

import asyncio
from pathlib import Path

from beluga_temporal import Orchestrator
from tests.integration import crash_app, crash_processes


async def test_server_killed_and_restarted_all_runs_complete(
    tmp_path: Path, task_queue: str
) -> None:
    ledger = crash_app.Ledger(tmp_path / "ledger.sqlite")
    ledger.create()
    server = crash_processes.DevServer(tmp_path, db_filename=tmp_path / "temporal.db")
    worker = crash_processes.Worker(
        tmp_path, server.address, task_queue, tmp_path / "ledger.sqlite"
    )
    ids = [f"restart-{i}" for i in range(5)]
    try:
        await server.start_and_wait()
        worker.start()
        orch = await Orchestrator.connect(server.address, task_queue=task_queue)
        for i, order_id in enumerate(ids):
            await orch.start(
                crash_app.GRAPH_NAME,
                {"order_id": order_id, "amount": 5.0 + i},
                workflow_id=order_id,
            )

        def all_charging() -> bool:
            return all(ledger.attempts_per_order().get(i, 0) >= 1 for i in ids)

        await crash_processes.wait_until(all_charging, "every order in its charge step")
        server.kill()  # SIGKILL: runs in flight, charge steps holding
        await server.start_and_wait()  # same port, same database file
        ledger.release()

        results = await asyncio.wait_for(
            asyncio.gather(*(orch.result(order_id) for order_id in ids)), timeout=60
        )
    finally:
        worker.kill()
        server.kill()

    completed = sum(1 for r in results if isinstance(r, dict) and r["shipped"])
    charges = ledger.charges_per_order()
    print(
        f"\n[crash b] runs in flight across a server kill/restart: {len(ids)}; "
        f"completed: {completed}; charges: {sum(charges.values())}; "
        f"duplicate charges: {sum(c - 1 for c in charges.values())}"
    )
    assert completed == len(ids)
    assert charges == dict.fromkeys(ids, 1)
