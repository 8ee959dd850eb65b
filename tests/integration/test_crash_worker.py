"""Workers SIGKILLed mid-step: every run completes and each order is charged once.

The dev server and the workers are separate processes; the charge step pays, then holds
(heartbeating) until the test releases the ledger, so each kill lands after the payment
and before Temporal heard of it: exactly the case in which at-least-once execution
charges twice unless the step uses its idempotency key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from beluga_temporal import Orchestrator
from tests.integration import crash_app, crash_processes

Ledger = crash_app.Ledger
wait_until = crash_processes.wait_until


@dataclass
class Cluster:
    server: crash_processes.DevServer
    ledger: Ledger
    orch: Orchestrator
    workdir: Path
    task_queue: str
    workers: list[crash_processes.Worker]

    def start_worker(self) -> crash_processes.Worker:
        worker = crash_processes.Worker(
            self.workdir, self.server.address, self.task_queue, Path(self.ledger.path)
        )
        worker.start()
        self.workers.append(worker)
        return worker

    async def start_orders(self, count: int, prefix: str) -> list[str]:
        ids = [f"{prefix}-{i}" for i in range(count)]
        await asyncio.gather(
            *(
                self.orch.start(
                    crash_app.GRAPH_NAME,
                    {"order_id": order_id, "amount": 10.0 + i},
                    workflow_id=order_id,
                    # A workflow task lost with its worker is retried after 2 s, not 10 s.
                    task_timeout=timedelta(seconds=2),
                )
                for i, order_id in enumerate(ids)
            )
        )
        return ids

    async def wait_charged(self, ids: list[str], min_attempts: int) -> None:
        def ready() -> bool:
            attempts = self.ledger.attempts_per_order()
            return all(attempts.get(order_id, 0) >= min_attempts for order_id in ids)

        await wait_until(ready, f"{len(ids)} orders charged in attempt {min_attempts}")

    async def results(self, ids: list[str]) -> list[object]:
        waits = (self.orch.result(order_id) for order_id in ids)
        return await asyncio.wait_for(asyncio.gather(*waits), timeout=60)


@pytest_asyncio.fixture
async def cluster(tmp_path: Path, task_queue: str) -> AsyncIterator[Cluster]:
    server = crash_processes.DevServer(tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.create()
    workers: list[crash_processes.Worker] = []
    try:
        await server.start_and_wait()
        orch = await Orchestrator.connect(server.address, task_queue=task_queue)
        yield Cluster(server, ledger, orch, tmp_path, task_queue, workers)
    finally:
        for worker in workers:
            worker.kill()
        server.kill()


@pytest.fixture(autouse=True)
def _show_logs_on_failure(tmp_path: Path) -> Iterator[None]:
    yield
    for log in sorted(tmp_path.glob("*.log")):
        print(f"--- {log.name} (tail) ---\n{log.read_text(errors='replace')[-3000:]}")


def assert_each_charged_once(ledger: Ledger, ids: list[str]) -> dict[str, int]:
    charges = ledger.charges_per_order()
    assert sorted(charges) == sorted(ids)
    duplicates = sum(count - 1 for count in charges.values())
    assert duplicates == 0, charges
    return charges


async def test_worker_killed_mid_step_every_run_completes_charged_once(cluster: Cluster) -> None:
    first = cluster.start_worker()
    ids = await cluster.start_orders(3, "kill-a")
    await cluster.wait_charged(ids, min_attempts=1)
    first.kill()  # SIGKILL while every charge step is running
    cluster.ledger.release()
    cluster.start_worker()

    results = await cluster.results(ids)

    assert all(isinstance(r, dict) and r["shipped"] for r in results)
    assert_each_charged_once(cluster.ledger, ids)
    attempts = cluster.ledger.attempts_per_order()
    assert all(attempts[order_id] >= 2 for order_id in ids), attempts  # re-run after the kill
    assert len(cluster.ledger.worker_pids()) == 2
    print(
        f"\n[crash a] runs completed: {len(results)}/{len(ids)}; charge attempts: "
        f"{sum(attempts.values())}; charges: {len(ids)}; duplicate charges: 0"
    )


async def test_twenty_orders_survive_two_worker_kills(cluster: Cluster) -> None:
    cluster.start_worker()
    ids = await cluster.start_orders(20, "kill-c")
    for round_ in (1, 2):
        await cluster.wait_charged(ids, min_attempts=round_)
        cluster.workers[-1].kill()
        cluster.start_worker()
    cluster.ledger.release()

    results = await cluster.results(ids)

    completed = sum(1 for r in results if isinstance(r, dict) and r["shipped"])
    charges = assert_each_charged_once(cluster.ledger, ids)
    attempts = cluster.ledger.attempts_per_order()
    duplicates = sum(count - 1 for count in charges.values())
    print(
        f"\n[crash c] runs: {len(ids)}; completed: {completed}; workers killed: 2; "
        f"charge attempts: {sum(attempts.values())}; charges: {sum(charges.values())}; "
        f"duplicate charges: {duplicates}"
    )
    assert completed == 20
    assert all(attempts[order_id] >= 3 for order_id in ids), attempts
