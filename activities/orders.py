"""Order steps: validation, inventory, credit, fulfilment and customer notification.

Each step is a Temporal activity (`@step`). Activity type names are wire format:
renaming one breaks runs in flight, so they are spelled out here.
"""

from __future__ import annotations

import hashlib

from activities.models import (
    CreditResult,
    FulfilledOrder,
    InventoryResult,
    Order,
    OrderResult,
    PaidOrder,
    Shipping,
)
from beluga_temporal import RetryPolicy, step
from beluga_temporal.observability import get_logger

log = get_logger(__name__)

MAX_ORDER_VALUE = 10_000.0
"""Orders above this are rejected by `validate_order`."""

# A stand-in for the inventory service: units in stock per SKU.
STOCK: dict[str, int] = {
    "BELUGA-PLUSH": 500,
    "TEMPORAL-MUG": 200,
    "ORCA-POSTER": 0,
}

# A stand-in for the credit service: limit per customer tier.
CREDIT_LIMITS: dict[str, float] = {
    "standard": 1_000.0,
    "silver": 2_500.0,
    "gold": 5_000.0,
    "platinum": 10_000.0,
}

_CHECK_RETRY = RetryPolicy(max_attempts=3, initial_backoff=0.5, backoff_factor=2.0, max_backoff=5)


class InvalidOrder(Exception):
    """The order can never be processed as submitted."""


class OutOfStock(Exception):
    """An item of the order is not in stock."""


class CreditDenied(Exception):
    """The customer's credit does not cover the order."""


def _short_id(prefix: str, *parts: str) -> str:
    # Derived from the order, not random: a retried step returns the same identifiers.
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()[:12]
    return f"{prefix}-{digest}"


@step(name="validate_order", timeout=10, non_retryable=[InvalidOrder])
async def validate_order(order: Order) -> Order:
    """Reject orders that can never succeed; return the order unchanged otherwise."""
    if order.order_value > MAX_ORDER_VALUE:
        raise InvalidOrder(
            f"order {order.order_id}: value {order.order_value:.2f} exceeds {MAX_ORDER_VALUE:.2f}"
        )
    skus = [item.sku for item in order.items]
    if len(set(skus)) != len(skus):
        raise InvalidOrder(f"order {order.order_id}: an SKU appears on two lines")
    log.info("order validated", order_id=order.order_id, order_value=order.order_value)
    return order


@step(name="check_inventory", timeout=10, retry=_CHECK_RETRY, non_retryable=[OutOfStock])
async def check_inventory(order: Order) -> InventoryResult:
    """Reserve stock for every line of the order.

    Raises:
        OutOfStock: A SKU is unknown or short (not retried).
    """
    for item in order.items:
        available = STOCK.get(item.sku, 0)
        if available < item.quantity:
            raise OutOfStock(f"{item.sku}: {item.quantity} wanted, {available} in stock")
    log.info("inventory reserved", order_id=order.order_id, lines=len(order.items))
    return InventoryResult(in_stock=True, reservation_id=_short_id("res", order.order_id))


@step(name="check_credit", timeout=10, retry=_CHECK_RETRY, non_retryable=[CreditDenied])
async def check_credit(order: Order) -> CreditResult:
    """Check that the customer's credit limit covers the order.

    Raises:
        CreditDenied: The order exceeds the tier's limit (not retried).
    """
    limit = CREDIT_LIMITS[order.customer_tier]
    if order.order_value > limit:
        raise CreditDenied(
            f"{order.customer_id}: {order.order_value:.2f} exceeds the {order.customer_tier} "
            f"limit of {limit:.2f}"
        )
    log.info("credit approved", order_id=order.order_id, credit_limit=limit)
    return CreditResult(credit_approved=True, credit_limit=limit)


def _fulfill(order: PaidOrder, shipping: Shipping) -> FulfilledOrder:
    fulfillment_id = _short_id("ful", order.order_id, order.payment_id)
    carrier = "EXP" if shipping == "express" else "STD"
    log.info("order fulfilled", order_id=order.order_id, shipping=shipping)
    return FulfilledOrder(
        **order.model_dump(exclude={"order_value"}),
        shipping=shipping,
        fulfillment_id=fulfillment_id,
        tracking_number=f"{carrier}{fulfillment_id[-8:].upper()}",
    )


@step(name="fulfill_order", timeout=30)
async def fulfill_order(order: PaidOrder) -> FulfilledOrder:
    """Ship the order with standard shipping."""
    return _fulfill(order, "standard")


@step(name="fulfill_express", timeout=30)
async def fulfill_express(order: PaidOrder) -> FulfilledOrder:
    """Ship the order with express shipping (the expedite decision chose it)."""
    return _fulfill(order, "express")


@step(name="notify_customer", timeout=10)
async def notify_customer(order: FulfilledOrder) -> OrderResult:
    """Tell the customer their order shipped; return the order's outcome."""
    log.info("customer notified", order_id=order.order_id, email_domain=order.email.split("@")[-1])
    return OrderResult(
        order_id=order.order_id,
        status="completed",
        payment_id=order.payment_id,
        fulfillment_id=order.fulfillment_id,
        shipping=order.shipping,
        tracking_number=order.tracking_number,
        notified=True,
    )
