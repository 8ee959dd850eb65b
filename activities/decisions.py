"""The LLM expedite decision: should this order ship express?

Runs as an activity like every step. Without `OPENAI_API_KEY` (and without an
`llm.provider` in settings) it uses the offline, deterministic `test` provider, so the
application runs anywhere; with the key it asks the configured OpenAI model.
"""

from __future__ import annotations

import os
from typing import Any

from beluga_temporal.errors import ConfigurationError
from beluga_temporal.llm import llm_decision
from beluga_temporal.settings import BelugaSettings

EXPEDITE = "expedite"
STANDARD = "standard"
OFFLINE_PROVIDER = "test"

_SYSTEM = (
    "You are an order-operations assistant. Expedite orders from gold or platinum "
    "customers, or orders worth more than 200 dollars; otherwise use standard processing."
)


def expedite_provider() -> str | None:
    """The provider the decision uses: `None` (settings' provider) or `"test"`.

    `llm.provider` set in settings or `OPENAI_API_KEY` in the environment selects the
    configured provider; otherwise the offline `test` provider.
    """
    try:
        configured = "provider" in BelugaSettings.load().llm.model_fields_set
    except ConfigurationError:  # a broken file is reported by the CLI/worker, not here
        configured = False
    if configured or os.environ.get("OPENAI_API_KEY"):
        return None
    return OFFLINE_PROVIDER


def uses_offline_provider() -> bool:
    """Whether the expedite decision runs on the offline `test` provider."""
    return expedite_provider() == OFFLINE_PROVIDER


def expedite_prompt(order: Any) -> str:
    """Render the question from an order (a dict in graphs, a model elsewhere)."""
    data = order if isinstance(order, dict) else order.model_dump()
    return (
        f"Order {data.get('order_id')}: value ${float(data.get('order_value') or 0):.2f}, "
        f"customer tier {data.get('customer_tier')}, {len(data.get('items') or [])} line(s). "
        "Should this order receive expedited processing?"
    )


decide_expedite = llm_decision(
    "decide_expedite",
    expedite_prompt,
    [EXPEDITE, STANDARD],
    system=_SYSTEM,
    provider=expedite_provider(),
    timeout=30,
)
"""Returns `"expedite"` or `"standard"` (the `test` provider picks `"expedite"`)."""
