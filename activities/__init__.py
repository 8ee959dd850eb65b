"""Order-processing steps: the domain I/O of the example application."""

from activities.decisions import decide_expedite, uses_offline_provider
from activities.models import (
    CreditResult,
    FulfilledOrder,
    InventoryResult,
    Order,
    OrderItem,
    OrderResult,
    PaidOrder,
)
from activities.orders import (
    CreditDenied,
    InvalidOrder,
    OutOfStock,
    check_credit,
    check_inventory,
    fulfill_express,
    fulfill_order,
    notify_customer,
    validate_order,
)
from activities.payments import Ledger, process_payment

__all__ = [
    "CreditDenied",
    "CreditResult",
    "FulfilledOrder",
    "InvalidOrder",
    "InventoryResult",
    "Ledger",
    "Order",
    "OrderItem",
    "OrderResult",
    "OutOfStock",
    "PaidOrder",
    "check_credit",
    "check_inventory",
    "decide_expedite",
    "fulfill_express",
    "fulfill_order",
    "notify_customer",
    "process_payment",
    "uses_offline_provider",
    "validate_order",
]
