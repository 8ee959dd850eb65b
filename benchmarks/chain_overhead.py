"""Chain overhead: a generated 3-step chain vs the same chain hand-written in temporalio.

Both workflows run the very same three `@step` activities with the same activity options
(60 s start-to-close, 3 attempts from 1 s backoff), on the same worker, server and client,
interleaved run by run. Prints p50/p95 latency and throughput of both and their ratio for
the tuned dev server (the default of `start_environment("dev")`), the stock (untuned) dev
server, and optionally the time-skipping test server.

    .venv/bin/python benchmarks/chain_overhead.py                 # dev + dev-untuned
    .venv/bin/python benchmarks/chain_overhead.py --server dev --server time-skipping
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pydantic
from temporalio import workflow
from temporalio.common import RetryPolicy

from beluga_temporal import Chain, Step, step
from beluga_temporal.declare import Target
from benchmarks import _harness as h


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


@step
async def bench_validate(order: Order) -> Order:
    if not order.items:
        raise ValueError("no items")
    return order


@step
async def bench_price(order: Order) -> PricedOrder:
    return PricedOrder(**order.model_dump(), total=round(order.amount * 1.2, 2))


@step
async def bench_charge(order: PricedOrder) -> Receipt:
    return Receipt(order_id=order.order_id, charged=order.total, status="charged")


STEPS: list[Step[Any, Any]] = [bench_validate, bench_price, bench_charge]
chain = Chain("bench-chain-generated", steps=STEPS)

# Exactly what the generated chain schedules: the step default (60 s per attempt) and the
# chain default retry policy (3 attempts, 1 s initial backoff, x2, at most 60 s).
ACTIVITY_OPTIONS: Mapping[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=60),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=60),
        maximum_attempts=3,
    ),
}


@workflow.defn(name="bench-chain-hand-written")
class HandWrittenChain:
    """What a temporalio user writes by hand for the same chain."""

    @workflow.run
    async def run(self, order: Order) -> Receipt:
        valid = await workflow.execute_activity(bench_validate, order, **ACTIVITY_OPTIONS)
        priced = await workflow.execute_activity(bench_price, valid, **ACTIVITY_OPTIONS)
        receipt: Receipt = await workflow.execute_activity(bench_charge, priced, **ACTIVITY_OPTIONS)
        return receipt


TARGETS: list[Target | type] = [chain, HandWrittenChain]
ACTIVITIES: list[Callable[..., Any]] = [*STEPS]
ORDER = {"order_id": "o-1", "amount": 10.0, "items": ["book", "pen"]}
VARIANTS = [
    h.Variant(h.GENERATED, chain.name, ORDER),
    h.Variant(h.HAND_WRITTEN, "bench-chain-hand-written", ORDER),
]
DEFAULT_SERVERS: list[h.ServerKind] = ["dev", "dev-untuned"]
DESCRIPTION = "Generated 3-step chain vs the same chain hand-written in temporalio."


async def main() -> None:
    args = h.parser(DESCRIPTION, DEFAULT_SERVERS).parse_args()
    print(f"chain_overhead: 3-step chain, generated vs hand-written · {h.machine()}")
    comparisons = []
    for kind in h.servers_of(args, DEFAULT_SERVERS):
        started = time.perf_counter()
        async with (
            h.server(kind) as env,
            h.running_worker(env.client, targets=TARGETS, activities=ACTIVITIES) as queue,
        ):
            comparison = await h.compare(env.client, queue, kind, VARIANTS, args)
        comparisons.append(comparison)
        print(comparison.render())
        print(f"({kind}: {time.perf_counter() - started:.0f} s including server start)")
    print(h.summary(comparisons, "3-step chain, generated vs hand-written"))


if __name__ == "__main__":
    # Run the definitions from `benchmarks.chain_overhead`, a module the sandbox can pass
    # through by name (a `__main__` module cannot be), not from this `__main__` copy.
    from benchmarks.chain_overhead import main as imported_main

    asyncio.run(imported_main())
    raise SystemExit(h.exit_status())
