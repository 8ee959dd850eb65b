"""Steps, chains and graphs shared by the tests (module level so histories replay)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pydantic
import temporalio.activity

from beluga_temporal import Chain, ErrorInfo, RetryPolicy, step

# Attempts seen per (step, workflow id): how tests count retries without mocks.
ATTEMPTS: Counter[tuple[str, str]] = Counter()


def count_attempt(name: str) -> int:
    info = temporalio.activity.info()
    ATTEMPTS[(name, info.workflow_id or "")] += 1
    return info.attempt


class Order(pydantic.BaseModel):
    order_id: str
    amount: float = pydantic.Field(gt=0)
    items: list[str] = []


class PricedOrder(Order):
    total: float


class Receipt(pydantic.BaseModel):
    order_id: str
    charged: float
    status: str


class CreditDenied(Exception):
    pass


@step
async def validate_order(order: Order) -> Order:
    if not order.items:
        raise ValueError(f"order {order.order_id} has no items")
    return order


@step(name="price-order")
def price_order(order: Order) -> PricedOrder:
    return PricedOrder(**order.model_dump(), total=round(order.amount * 1.2, 2))


@step(timeout=10)
async def charge(order: PricedOrder) -> Receipt:
    return Receipt(order_id=order.order_id, charged=order.total, status="charged")


order_chain = Chain("test-order-chain", steps=[validate_order, price_order, charge])


@step(retry=RetryPolicy(max_attempts=5, initial_backoff=0.05, max_backoff=0.1))
async def flaky(value: dict[str, int]) -> dict[str, int]:
    attempt = count_attempt("flaky")
    if attempt < 3:
        raise ConnectionError(f"transient failure on attempt {attempt}")
    return {**value, "attempts": attempt}


@step(non_retryable=[CreditDenied], retry=RetryPolicy(max_attempts=5, initial_backoff=0.05))
async def deny_credit(value: dict[str, int]) -> dict[str, int]:
    count_attempt("deny_credit")
    raise CreditDenied("credit limit exceeded")


@step(retry=RetryPolicy(max_attempts=2, initial_backoff=0.05))
async def always_fails(value: dict[str, int]) -> dict[str, int]:
    count_attempt("always_fails")
    raise RuntimeError("boom")


@step
async def recover(info: ErrorInfo) -> dict[str, str]:
    return {"recovered_from": info.step, "error_type": info.error_type, "message": info.message}


@step(local=True)
async def local_tag(value: dict[str, object]) -> dict[str, object]:
    return {**value, "local": temporalio.activity.info().is_local}


@step(timeout=30)
async def slow(value: dict[str, object]) -> dict[str, object]:
    await asyncio.sleep(float(str(value.get("sleep", 5))))
    return value
