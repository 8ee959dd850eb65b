"""Payment: charge an order exactly once per run, however often Temporal retries the step.

The charge is recorded in a SQLite ledger under the step's idempotency key
(`step_context().idempotency_key`: workflow id, run id, activity id). It stays the same
across the attempts of one scheduled step, so a retry (after a crash, a timeout or an
error raised after the charge) finds the first charge and returns it instead of charging
again. A new run under the same workflow id (an order re-run after a failure) is a new
charge request with its own key: it is recorded, never answered with an earlier run's
charge of perhaps another amount.

The ledger holds payment data: its file is created readable by its owner only (0600).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from activities.models import Order, PaidOrder
from beluga_temporal import RetryPolicy, step
from beluga_temporal.observability import get_logger
from beluga_temporal.resilience import step_context

log = get_logger(__name__)

LEDGER_ENV_VAR = "BELUGA_LEDGER_PATH"
DEFAULT_LEDGER_PATH = ".beluga/ledger.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (
    idempotency_key TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    amount REAL NOT NULL,
    attempt INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


@dataclass(frozen=True)
class Charge:
    """One row of the ledger."""

    idempotency_key: str
    order_id: str
    payment_id: str
    amount: float
    attempt: int


def ledger_path() -> Path:
    """The ledger file: `$BELUGA_LEDGER_PATH`, default `.beluga/ledger.db`."""
    return Path(os.environ.get(LEDGER_ENV_VAR) or DEFAULT_LEDGER_PATH)


class Ledger:
    """A SQLite file of charges keyed by idempotency key (safe across processes)."""

    def __init__(self, path: Path | None = None) -> None:
        """Open (creating if needed) the ledger at `path` (default `ledger_path()`)."""
        self.path = path or ledger_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _create_private(self.path)
        with self._connect() as db:
            db.execute(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # timeout: several worker processes may write at once; wait for the lock.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def charge_once(self, key: str, order_id: str, amount: float, attempt: int) -> Charge:
        """Record a charge under `key` unless one exists; return the recorded charge."""
        payment_id = "pay-" + hashlib.sha256(key.encode()).hexdigest()[:16]
        with self._connect() as db:
            # IMMEDIATE: take the write lock first, so two attempts cannot both insert.
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT OR IGNORE INTO charges (idempotency_key, order_id, payment_id, amount,"
                " attempt) VALUES (?, ?, ?, ?, ?)",
                (key, order_id, payment_id, amount, attempt),
            )
            row = db.execute(
                "SELECT idempotency_key, order_id, payment_id, amount, attempt FROM charges"
                " WHERE idempotency_key = ?",
                (key,),
            ).fetchone()
            db.execute("COMMIT")
        return Charge(*row)

    def charges_for(self, order_id: str) -> list[Charge]:
        """Every charge recorded for `order_id`."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT idempotency_key, order_id, payment_id, amount, attempt FROM charges"
                " WHERE order_id = ? ORDER BY created_at",
                (order_id,),
            ).fetchall()
        return [Charge(*row) for row in rows]


def _create_private(path: Path) -> None:
    # SQLite creates a missing file (and its -wal/-shm files, which copy the database
    # file's mode) world-readable under the usual umask; create it 0600 first.
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def charge(order: Order) -> PaidOrder:
    """Charge `order` once per scheduled step (the body of `process_payment`)."""
    ctx = step_context()
    key = ctx.idempotency_key
    recorded = Ledger().charge_once(key, order.order_id, order.order_value, ctx.attempt)
    replayed = recorded.attempt != ctx.attempt
    log.info(
        "payment recorded" if not replayed else "payment already recorded; not charged again",
        order_id=order.order_id,
        payment_id=recorded.payment_id,
        amount=recorded.amount,
    )
    return PaidOrder(
        **order.model_dump(exclude={"order_value"}),
        payment_id=recorded.payment_id,
        amount_charged=recorded.amount,
    )


@step(
    name="process_payment",
    timeout=30,
    retry=RetryPolicy(max_attempts=5, initial_backoff=1, backoff_factor=2.0, max_backoff=10),
)
def process_payment(order: Order) -> PaidOrder:
    """Charge the order (idempotent: a retried attempt never charges twice).

    A sync step: SQLite blocks, so it runs in the worker's thread pool.
    """
    return charge(order)
