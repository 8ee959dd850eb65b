"""Issue 10.3: a step's result is checked in the activity that produced it.

A result that does not match the declared return type, or cannot be serialised, fails
that step at once (non-retryable), naming the step and the fields or the type, instead
of failing the workflow that reads it (a chain error naming no step, or a hand-written
workflow whose task retries forever).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any, cast

import pydantic
import pytest
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from beluga_temporal import (
    Chain,
    LocalRuntime,
    StepFailedError,
    create_worker,
    step,
)
from beluga_temporal.testing import run_with_worker

CALLS: Counter[str] = Counter()


class Receipt(pydantic.BaseModel):
    order_id: str
    charged: float


class Opaque:
    """Not JSON: no converter can put it in a payload."""


@step(name="rc-bad-receipt")
async def bad_receipt(order: dict[str, Any]) -> Receipt:
    CALLS[order["run"]] += 1
    # `charged` is missing and `order_id` has the wrong type
    return cast(Receipt, {"order_id": 7})


@step(name="rc-opaque")
async def opaque(order: dict[str, Any]) -> Any:
    CALLS[order["run"]] += 1
    return Opaque()


@workflow.defn(name="rc-hand-written")
class CallsBadStep:
    @workflow.run
    async def run(self, order: dict[str, Any]) -> dict[str, Any]:
        try:
            await bad_receipt.execute(order)
        except ActivityError as error:
            cause = error.cause
            assert isinstance(cause, ApplicationError)
            return {"type": cause.type, "message": cause.message, "retry": not cause.non_retryable}
        return {}


async def run_chain(rt: LocalRuntime, queue: str, chain: Chain, run: str) -> StepFailedError:
    """Run `chain` to the step failure it must end in (bounded: a regression may hang)."""
    with pytest.raises(StepFailedError) as caught:
        await asyncio.wait_for(run_with_worker(rt.client, queue, chain, {"run": run}), 30)
    return caught.value


async def test_a_wrong_result_fails_its_step_in_a_chain(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    run = uuid.uuid4().hex
    chain = Chain("rc-chain", steps=[bad_receipt], retries=3)
    error = await run_chain(time_skipping_runtime, task_queue, chain, run)

    assert error.step == "rc-bad-receipt"
    assert error.error_type == "StepResultError"
    assert "result of step 'rc-bad-receipt' does not match its return type Receipt" in str(error)
    assert "order_id: Input should be a valid string" in error.cause_message
    assert "charged: Field required" in error.cause_message
    assert CALLS[run] == 1  # not retried: the same code returns the same wrong result


async def test_a_wrong_result_fails_the_step_in_a_hand_written_workflow(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    run = uuid.uuid4().hex
    client = time_skipping_runtime.client
    async with create_worker(client, task_queue, targets=[CallsBadStep], activities=[bad_receipt]):
        # Before, decoding the result failed the workflow task, retried forever.
        outcome = await asyncio.wait_for(
            time_skipping_runtime.client.execute_workflow(
                CallsBadStep.run, {"run": run}, id=f"rc-{run}", task_queue=task_queue
            ),
            30,
        )
    assert outcome["type"] == "StepResultError"
    assert outcome["message"].startswith("result of step 'rc-bad-receipt' does not match")
    assert "charged: Field required" in outcome["message"]
    assert outcome["retry"] is False
    assert CALLS[run] == 1


async def test_a_result_that_cannot_be_serialised_names_the_step_and_type(
    time_skipping_runtime: LocalRuntime, task_queue: str
) -> None:
    run = uuid.uuid4().hex
    chain = Chain("rc-opaque-chain", steps=[opaque], retries=3)
    error = await run_chain(time_skipping_runtime, task_queue, chain, run)

    assert error.step == "rc-opaque"
    assert error.error_type == "StepResultError"
    assert "result of step 'rc-opaque' cannot be serialised: a Opaque" in error.cause_message
    assert CALLS[run] == 1
