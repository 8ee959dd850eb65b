"""Steps: direct calls, hand-written workflows, plain temporalio workers, invoke()."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from beluga_temporal import BelugaPlugin, LocalRuntime, step
from beluga_temporal.local import shutdown_shared_runtime
from tests.examples import Order, PricedOrder, Receipt, charge, order_chain, price_order

with workflow.unsafe.imports_passed_through():
    from tests import examples


@workflow.defn(name="hand-written-order")
class HandWrittenOrder:
    @workflow.run
    async def run(self, order: examples.Order) -> examples.Receipt:
        valid = await examples.validate_order.execute(order)
        priced = await examples.price_order.execute(valid, timeout=timedelta(seconds=5))
        return await examples.charge.execute(priced)


async def test_steps_stay_directly_callable() -> None:
    order = Order(order_id="d-1", amount=10, items=["a"])
    priced = price_order(order)  # sync step: a plain call
    assert priced == PricedOrder(**order.model_dump(), total=12.0)
    assert await charge(priced) == Receipt(order_id="d-1", charged=12.0, status="charged")


async def test_hand_written_workflow_calls_steps_with_execute(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    result = await time_skipping_runtime.execute(
        HandWrittenOrder,
        Order(order_id="h-1", amount=1, items=["a"]),
        activities=[examples.validate_order, examples.price_order, examples.charge],
    )
    assert result == Receipt(order_id="h-1", charged=1.2, status="charged")


async def test_steps_register_on_a_plain_temporalio_worker(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    import concurrent.futures

    target = time_skipping_runtime.client.service_client.config.target_host
    client = await Client.connect(target, plugins=[BelugaPlugin()])  # plain temporalio
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[HandWrittenOrder],
            activities=[examples.validate_order, examples.price_order, examples.charge],
            activity_executor=pool,
        ):
            result = await client.execute_workflow(
                HandWrittenOrder.run,
                Order(order_id="p-1", amount=2, items=["a"]),
                id=f"plain-{uuid.uuid4()}",
                task_queue=task_queue,
            )
    assert result == Receipt(order_id="p-1", charged=2.4, status="charged")


async def test_invoke_runs_on_the_process_wide_embedded_runtime() -> None:
    try:
        result = await order_chain.invoke(Order(order_id="i-1", amount=5, items=["a"]))
    finally:
        await shutdown_shared_runtime()
    assert result == Receipt(order_id="i-1", charged=6.0, status="charged")


def test_step_options_and_name() -> None:
    @step(name="check-credit", timeout=30, heartbeat_timeout=5, task_queue="llm", local=False)
    def check_credit(order: Order) -> bool:
        return True

    assert check_credit.name == "check-credit"
    kwargs = check_credit.options.activity_kwargs()
    assert kwargs["start_to_close_timeout"] == timedelta(seconds=30)
    assert kwargs["heartbeat_timeout"] == timedelta(seconds=5)
    assert kwargs["task_queue"] == "llm"


# `step` is typed for one-input functions only; a step without input works at run
# time, which is what the test below checks.
@step  # type: ignore[arg-type]
async def tick() -> int:
    return 42


async def test_a_step_without_input_runs_directly_and_as_activity(
    time_skipping_runtime: LocalRuntime,
) -> None:
    from beluga_temporal import Chain

    assert await tick() == 42
    assert await time_skipping_runtime.execute(Chain("tick-chain", steps=[tick]), None) == 42
