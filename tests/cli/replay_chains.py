"""Two versions of one chain (same workflow type): the second changes its third step."""

from __future__ import annotations

from typing import Any

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
