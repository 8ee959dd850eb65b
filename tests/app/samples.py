"""Sample orders for the application tests."""

from __future__ import annotations

import uuid
from typing import Any


def order(order_id: str | None = None, **changes: Any) -> dict[str, Any]:
    """A valid order as JSON-able input; `changes` replace fields."""
    base: dict[str, Any] = {
        "order_id": order_id or f"o-{uuid.uuid4().hex[:8]}",
        "customer_id": "cust-1",
        "customer_tier": "gold",
        "email": "ada@example.com",
        "items": [{"sku": "BELUGA-PLUSH", "quantity": 2, "unit_price": 49.5}],
    }
    base.update(changes)
    return base


OUT_OF_STOCK_ITEMS = [{"sku": "ORCA-POSTER", "quantity": 1, "unit_price": 12.0}]
