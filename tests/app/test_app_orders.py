"""The order application on a real (time-skipping) Temporal server, and its steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from activities import (
    CreditDenied,
    InvalidOrder,
    Ledger,
    Order,
    OrderResult,
    OutOfStock,
    check_credit,
    check_inventory,
    validate_order,
)
from activities.decisions import expedite_provider
from beluga_temporal import GraphExecutionError, LocalRuntime
from beluga_temporal.client import StartTarget
from beluga_temporal.testing import run_with_worker
from tests.app.samples import OUT_OF_STOCK_ITEMS, order
from workers.order_worker import ACTIVITIES, TARGETS
from workflows.order_processing import OrderProcessingWorkflow, order_chain, order_graph


@pytest.fixture(autouse=True)
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    path = tmp_path / "ledger.db"
    monkeypatch.setenv("BELUGA_LEDGER_PATH", str(path))
    return Ledger(path)


async def execute(rt: LocalRuntime, queue: str, target: StartTarget, value: object) -> Any:
    """Run `target` on a worker hosting what the app's worker hosts."""
    return await run_with_worker(
        rt.client, queue, target, value, hosts=TARGETS, activities=ACTIVITIES
    )


async def test_validate_rejects_duplicate_lines() -> None:
    line = {"sku": "BELUGA-PLUSH", "quantity": 1, "unit_price": 1.0}
    with pytest.raises(InvalidOrder, match="appears on two lines"):
        await validate_order(Order.model_validate(order(items=[line, line])))


async def test_inventory_and_credit_checks_refuse() -> None:
    with pytest.raises(OutOfStock, match="ORCA-POSTER"):
        await check_inventory(Order.model_validate(order(items=OUT_OF_STOCK_ITEMS)))
    big = [{"sku": "BELUGA-PLUSH", "quantity": 100, "unit_price": 20.0}]
    with pytest.raises(CreditDenied, match="standard limit"):
        await check_credit(Order.model_validate(order(customer_tier="standard", items=big)))


def test_offline_provider_unless_a_key_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("BELUGA_LLM__PROVIDER", raising=False)
    assert expedite_provider() == "test"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert expedite_provider() is None  # the settings' provider: openai


async def test_order_graph_completes_with_express_shipping(
    time_skipping_runtime: LocalRuntime, task_queue: str, ledger: Ledger
) -> None:
    state = await execute(time_skipping_runtime, task_queue, order_graph, order("o-graph"))
    assert isinstance(state, dict)
    assert state["status"] == "completed"
    assert state["decide_expedite"] == "expedite"
    assert state["shipping"] == "express"
    assert state["in_stock"]
    assert state["credit_approved"]
    assert [c.payment_id for c in ledger.charges_for("o-graph")] == [state["payment_id"]]


async def test_order_graph_out_of_stock_fails_at_check_inventory(
    time_skipping_runtime: LocalRuntime, task_queue: str, ledger: Ledger
) -> None:
    with pytest.raises(GraphExecutionError) as caught:
        await execute(
            time_skipping_runtime, task_queue, order_graph, order("o-oos", items=OUT_OF_STOCK_ITEMS)
        )
    assert caught.value.node == "check_inventory"
    assert caught.value.error_type == "OutOfStock"
    assert "process_payment" in caught.value.skipped
    assert ledger.charges_for("o-oos") == []


async def test_order_chain_returns_the_order_result(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    result = await execute(time_skipping_runtime, task_queue, order_chain, order("o-chain"))
    assert isinstance(result, OrderResult)
    assert result.status == "completed"
    assert result.shipping == "standard"


async def test_durable_workflow_completes_and_stops_when_out_of_stock(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    done = await execute(time_skipping_runtime, task_queue, OrderProcessingWorkflow, order("o-wf"))
    assert isinstance(done, OrderResult)
    assert done.status == "completed"
    assert done.shipping == "express"
    stopped = await execute(
        time_skipping_runtime,
        task_queue,
        OrderProcessingWorkflow,
        order("o-wf-oos", items=OUT_OF_STOCK_ITEMS),
    )
    assert isinstance(stopped, OrderResult)
    assert stopped.status == "out_of_stock"
    assert stopped.payment_id is None
