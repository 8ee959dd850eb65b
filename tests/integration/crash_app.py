"""A small order graph with an idempotent SQLite payment ledger, for the crash tests.

Run as a worker process (the tests start it with `python crash_app.py ADDRESS QUEUE` and
SIGKILL it):  validate -> (reserve, charge) -> ship. `charge` records every attempt,
charges under the step's idempotency key, then holds (heartbeating) until the test
releases the ledger: the window in which the tests kill workers or the server.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from beluga_temporal import Graph, Orchestrator, RetryPolicy, create_worker, step
from beluga_temporal.resilience import heartbeat, step_context

GRAPH_NAME = "crash-order-graph"
LEDGER_ENV = "CRASH_LEDGER"
# Lost attempts are noticed after one heartbeat timeout and retried at once: a killed
# worker costs about a second, not the 60 s default start-to-close timeout.
RETRY = RetryPolicy(max_attempts=0, initial_backoff=0.1, max_backoff=0.5)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (
    idempotency_key TEXT PRIMARY KEY, order_id TEXT NOT NULL, amount REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (order_id TEXT, attempt INTEGER, pid INTEGER);
CREATE TABLE IF NOT EXISTS release (released INTEGER);
"""


class Ledger:
    """The payment ledger: one charge per idempotency key, plus an attempt log."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def create(self) -> None:
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    def charge(self, key: str, order_id: str, amount: float) -> None:
        # The key makes a retried charge (a crash after paying) a no-op, not a second charge.
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO charges VALUES (?, ?, ?)", (key, order_id, amount))

    def record_attempt(self, order_id: str, attempt: int) -> None:
        with self._db() as db:
            db.execute("INSERT INTO attempts VALUES (?, ?, ?)", (order_id, attempt, os.getpid()))

    def release(self) -> None:
        with self._db() as db:
            db.execute("INSERT INTO release VALUES (1)")

    def released(self) -> bool:
        with self._db() as db:
            return int(db.execute("SELECT COUNT(*) FROM release").fetchone()[0]) > 0

    def charges_per_order(self) -> dict[str, int]:
        with self._db() as db:
            rows = db.execute("SELECT order_id, COUNT(*) FROM charges GROUP BY order_id")
            return dict(rows.fetchall())

    def attempts_per_order(self) -> dict[str, int]:
        with self._db() as db:
            rows = db.execute("SELECT order_id, COUNT(*) FROM attempts GROUP BY order_id")
            return dict(rows.fetchall())

    def worker_pids(self) -> set[int]:
        with self._db() as db:
            return {pid for (pid,) in db.execute("SELECT DISTINCT pid FROM attempts")}


def _ledger() -> Ledger:
    return Ledger(os.environ[LEDGER_ENV])


@step(name="crash-validate", retry=RETRY)
async def validate(state: dict[str, object]) -> dict[str, object]:
    return {"validated": True}


@step(name="crash-reserve", retry=RETRY)
async def reserve(state: dict[str, object]) -> dict[str, object]:
    return {"reserved": True}


@step(name="crash-charge", timeout=60, heartbeat_timeout=1, retry=RETRY)
async def charge(state: dict[str, object]) -> dict[str, object]:
    ctx, ledger, order_id = step_context(), _ledger(), str(state["order_id"])
    ledger.record_attempt(order_id, ctx.attempt)
    ledger.charge(ctx.idempotency_key, order_id, float(str(state["amount"])))
    while not ledger.released():  # the kill window: charged, not yet reported to Temporal
        heartbeat()
        await asyncio.sleep(0.05)
    return {"charge_key": ctx.idempotency_key}


@step(name="crash-ship", retry=RETRY)
async def ship(state: dict[str, object]) -> dict[str, object]:
    return {"shipped": True}


order_graph = Graph(GRAPH_NAME, max_workers=4)
order_graph.add_node("validate", validate)
order_graph.add_node("reserve", reserve)
order_graph.add_node("charge", charge)
order_graph.add_node("ship", ship)
order_graph.add_edge("validate", "reserve")
order_graph.add_edge("validate", "charge")
order_graph.add_edge("reserve", "ship")
order_graph.add_edge("charge", "ship")
order_graph.set_entry_point(["validate"])
order_graph.set_finish_point(["ship"])


async def serve(address: str, task_queue: str) -> None:
    """Run a worker for the order graph until the process is killed."""
    orch = await Orchestrator.connect(address, task_queue=task_queue)
    worker = create_worker(
        orch.client,
        task_queue,
        targets=[order_graph],
        max_concurrent_activities=50,
        # A dead worker's sticky queue is abandoned after 1 s instead of 10 s.
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=1),
    )
    print("worker ready", os.getpid(), flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
