"""Versions of one chain and of one hand-written workflow, for `beluga replay` tests.

`chain_aba` and `chain_abc` are two declarations of workflow type `replay-abc` (the
third step changed); `chain_abc_next` is the new one declared properly, with the old
one kept in `previous=`. `HandABA` and `HandABC` are two versions of a hand-written
workflow `replay-hand` whose third call changed without `workflow.patched`: histories
of the first must fail to replay against the second, naming the diverging event.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from beluga_temporal import Chain, step


@step
async def step_a(value: dict[str, Any]) -> dict[str, Any]:
    return value


@step
async def step_b(value: dict[str, Any]) -> dict[str, Any]:
    return value


@step
async def step_c(value: dict[str, Any]) -> dict[str, Any]:
    return value


chain_aba = Chain("replay-abc", steps=[step_a, step_b, step_a])
chain_abc = Chain("replay-abc", steps=[step_a, step_b, step_c])
chain_abc_next = Chain("replay-abc", steps=[step_a, step_b, step_c], previous=[chain_aba])


@workflow.defn(name="replay-hand")
class HandABA:
    """Calls `step_a`, `step_b`, `step_a`."""

    @workflow.run
    async def run(self, value: dict[str, Any]) -> dict[str, Any]:
        for called in (step_a, step_b, step_a):
            value = await called.execute(value)
        return value


@workflow.defn(name="replay-hand")
class HandABC:
    """The same workflow type, its third call changed to `step_c`."""

    @workflow.run
    async def run(self, value: dict[str, Any]) -> dict[str, Any]:
        for called in (step_a, step_b, step_c):
            value = await called.execute(value)
        return value
