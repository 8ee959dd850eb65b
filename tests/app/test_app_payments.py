"""Payment idempotency: a retried payment step charges once; a re-run is a new charge."""

from __future__ import annotations

import stat
import uuid
from collections import Counter
from pathlib import Path

import pytest
import temporalio.activity

from activities import Ledger, Order, PaidOrder
from activities.payments import charge
from beluga_temporal import Chain, LocalRuntime, Orchestrator, RetryPolicy, create_worker, step
from tests.app.samples import order

ATTEMPTS: Counter[str] = Counter()


@step(name="pay_then_lose_connection", retry=RetryPolicy(max_attempts=3, initial_backoff=0.01))
def pay_then_lose_connection(value: Order) -> PaidOrder:
    """The payment body, failing after the charge on the first attempt (a lost reply)."""
    paid = charge(value)
    info = temporalio.activity.info()
    ATTEMPTS[info.workflow_id or ""] += 1
    if info.attempt == 1:
        raise ConnectionResetError("gateway reply lost after the charge")
    return paid


async def test_retry_after_the_charge_does_not_charge_again(
    time_skipping_runtime: LocalRuntime,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ledger_path = tmp_path / "ledger.db"
    monkeypatch.setenv("BELUGA_LEDGER_PATH", str(ledger_path))
    chain = Chain("pay-twice-chain", steps=[pay_then_lose_connection])
    client = time_skipping_runtime.client
    async with create_worker(client, task_queue, targets=[chain]):
        run = await Orchestrator(client, task_queue).start(chain, order("o-pay"))
        paid = await Orchestrator(client, task_queue).result(run.workflow_id, run.run_id)
    assert ATTEMPTS[run.workflow_id] == 2
    charges = Ledger(ledger_path).charges_for("o-pay")
    assert len(charges) == 1
    assert charges[0].attempt == 1
    assert paid["payment_id"] == charges[0].payment_id
    assert charges[0].idempotency_key.startswith(f"{run.workflow_id}/{run.run_id}/")


async def test_rerun_under_the_same_order_id_charges_its_own_amount(
    time_skipping_runtime: LocalRuntime,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The order id as workflow id, re-run with a corrected basket: the second run's charge
    # must be recorded, not answered with the first run's charge of another amount.
    ledger_path = tmp_path / "ledger.db"
    monkeypatch.setenv("BELUGA_LEDGER_PATH", str(ledger_path))
    order_id = f"o-rerun-{uuid.uuid4().hex[:6]}"
    chain = Chain("pay-rerun-chain", steps=[pay_then_lose_connection])
    client = time_skipping_runtime.client
    orch = Orchestrator(client, task_queue)
    corrected = [{"sku": "BELUGA-PLUSH", "quantity": 3, "unit_price": 49.5}]
    async with create_worker(client, task_queue, targets=[chain]):
        first = await orch.execute(chain, order(order_id), workflow_id=order_id)
        second = await orch.execute(chain, order(order_id, items=corrected), workflow_id=order_id)
    charges = Ledger(ledger_path).charges_for(order_id)
    assert sorted(c.amount for c in charges) == [99.0, 148.5]  # one charge per run, no more
    assert second.amount_charged == 148.5
    assert first.payment_id != second.payment_id


def test_ledger_file_is_private(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.db")
    ledger.charge_once("wf/run/1", "o-1", 10.0, attempt=1)
    assert stat.S_IMODE(ledger.path.stat().st_mode) == 0o600


def test_ledger_keeps_the_first_charge(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.db")
    first = ledger.charge_once("wf/1", "o-1", 10.0, attempt=1)
    again = ledger.charge_once("wf/1", "o-1", 10.0, attempt=2)
    other = ledger.charge_once("wf/2", "o-1", 10.0, attempt=1)
    assert again == first
    assert other.payment_id != first.payment_id
    assert len(ledger.charges_for("o-1")) == 2
