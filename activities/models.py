"""The order and what each step of its processing adds to it (pydantic models).

Models that flow from one step to the next extend the previous one (`Order` →
`PaidOrder` → `FulfilledOrder`), so the same steps work in a chain (each output is the
next input) and in a graph (each output is merged into the shared state).
"""

from __future__ import annotations

from typing import Literal

import pydantic

CustomerTier = Literal["standard", "silver", "gold", "platinum"]
Shipping = Literal["standard", "express"]
OrderStatus = Literal["completed", "out_of_stock"]


class OrderItem(pydantic.BaseModel):
    """One line of an order."""

    sku: str = pydantic.Field(min_length=1)
    quantity: int = pydantic.Field(default=1, gt=0)
    unit_price: float = pydantic.Field(gt=0)


class Order(pydantic.BaseModel):
    """An order as a client submits it (`temporal workflow start --input '{...}'`)."""

    order_id: str = pydantic.Field(min_length=1)
    customer_id: str = pydantic.Field(min_length=1)
    customer_tier: CustomerTier = "standard"
    email: str = "customer@example.com"
    items: list[OrderItem] = pydantic.Field(min_length=1)

    @pydantic.computed_field  # type: ignore[prop-decorator]
    @property
    def order_value(self) -> float:
        """The order total (computed; ignored when it comes back as input)."""
        return round(sum(item.quantity * item.unit_price for item in self.items), 2)


class InventoryResult(pydantic.BaseModel):
    """What `check_inventory` adds: the stock reservation."""

    in_stock: bool
    reservation_id: str


class CreditResult(pydantic.BaseModel):
    """What `check_credit` adds: the approved credit."""

    credit_approved: bool
    credit_limit: float


class PaidOrder(Order):
    """An order after `process_payment`."""

    payment_id: str
    amount_charged: float


class FulfilledOrder(PaidOrder):
    """An order after fulfilment."""

    shipping: Shipping
    fulfillment_id: str
    tracking_number: str


class OrderResult(pydantic.BaseModel):
    """The outcome of processing one order."""

    order_id: str
    status: OrderStatus
    payment_id: str | None = None
    fulfillment_id: str | None = None
    shipping: Shipping | None = None
    tracking_number: str | None = None
    notified: bool = False
