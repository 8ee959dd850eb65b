"""A hand-written workflow for the tracing tests (its own module: the sandbox imports it)."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from beluga_temporal import RetryPolicy, step


@step(name="span-slow-fail", retry=RetryPolicy(max_attempts=1))
async def slow_fail(value: str) -> str:
    await asyncio.sleep(0.3)
    raise RuntimeError(f"cannot handle {value}")


@workflow.defn(name="span-hand-written")
class HandWritten:
    @workflow.run
    async def run(self, value: str) -> str:
        try:
            return await slow_fail.execute(value)
        except ActivityError as error:
            raise ApplicationError(f"step failed: {error.cause}", type="OrderFailed") from None


@workflow.defn(name="span-stubborn")
class Stubborn:
    """Waits for ever, and keeps waiting when its worker evicts it (it should not)."""

    @workflow.run
    async def run(self) -> None:
        try:
            await workflow.wait_condition(lambda: False)
        except asyncio.CancelledError:
            await workflow.wait_condition(lambda: False)
