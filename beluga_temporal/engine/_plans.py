"""Every plan this process declared, by fingerprint (for map batches run as children)."""

from __future__ import annotations

from beluga_temporal.plan import Plan, fingerprint

_PLANS: dict[str, Plan] = {}


def register_plan(plan: Plan) -> None:
    """Remember `plan` and the plans it nests."""
    stack = [plan]
    while stack:
        current = stack.pop()
        _PLANS.setdefault(fingerprint(current), current)
        stack.extend(node.child for node in current.nodes if node.child is not None)


def plan_for(plan_fingerprint: str) -> Plan:
    """The plan with this fingerprint.

    Raises:
        KeyError: This process declared no such plan.
    """
    return _PLANS[plan_fingerprint]
