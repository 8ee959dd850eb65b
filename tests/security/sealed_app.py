"""A small application whose data must never reach Temporal in plain text.

Module level so the CLI can import it as a TARGET and histories replay.
"""

from __future__ import annotations

import base64
import os

import temporalio.workflow

from beluga_temporal import Chain, ErrorInfo, RetryPolicy, step

CARD = "4111-SECRET-CARD-77"
"""Plain text that appears in inputs, results, an error message and `ErrorInfo.input`."""
NOTE = "SIGNAL-SECRET-NOTE-31"
REFUSAL = "REFUSED-BY-BANK-93"


def new_key() -> str:
    """A fresh `BELUGA_ENCRYPTION_KEY` value."""
    return base64.b64encode(os.urandom(32)).decode()


@step
async def mask_card(order: dict[str, str]) -> dict[str, str]:
    return {**order, "masked": "****" + order["card"][-4:], "echo": order["card"]}


@step(retry=RetryPolicy(max_attempts=1))
async def charge_card(order: dict[str, str]) -> dict[str, str]:
    raise ValueError(f"card {order['card']} {REFUSAL}")


@step
async def handle_decline(info: ErrorInfo) -> dict[str, str]:
    return {"declined": str(info.input["card"]), "reason": info.message}


@step
async def add_note(value: dict[str, str]) -> dict[str, str]:
    return {**value, "noted": "yes"}


sealed_chain = Chain("sealed-chain", steps=[mask_card])
declined_chain = Chain("sealed-declined", steps=[mask_card, charge_card], on_error=handle_decline)
failing_chain = Chain("sealed-failing", steps=[charge_card])


@temporalio.workflow.defn(name="sealed-approval")
class SealedApproval:
    """Waits for an `approve` signal, then runs one step: a run in flight for rotation."""

    def __init__(self) -> None:
        self._note: str | None = None

    @temporalio.workflow.signal
    def approve(self, note: str) -> None:
        self._note = note

    @temporalio.workflow.run
    async def run(self, order: dict[str, str]) -> dict[str, str]:
        await temporalio.workflow.wait_condition(lambda: self._note is not None)
        return await add_note.execute({**order, "note": self._note or ""})
