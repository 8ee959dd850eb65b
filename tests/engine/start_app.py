"""Targets whose runs fix things when they start: settings, plan version, validated input.

- `fanout`: `split`, four parallel `part` nodes, `join`; its scheduling (max workers,
  parallel) is left to settings, so histories are replayed under other settings.
- `tickets`: a graph whose state model stamps the input with the clock when validated.
- `long_chain`: twelve steps, enough to continue as new under a small history bound.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pydantic

from beluga_temporal import Chain, Graph, step


@step
async def split(state: dict[str, Any]) -> dict[str, Any]:
    return {"parts": state.get("parts", 4)}


@step
async def part(state: dict[str, Any]) -> int:
    return int(state["parts"])


@step
async def join(state: dict[str, Any]) -> dict[str, Any]:
    return {"total": sum(state[f"p{i}"] for i in range(4))}


fanout = Graph("versions-fanout")  # no max_workers / parallel: settings decide per run
fanout.add_node("split", split)
for index in range(4):
    fanout.add_node(f"p{index}", part)
    fanout.add_edge("split", f"p{index}")
    fanout.add_edge(f"p{index}", "join")
fanout.add_node("join", join)
fanout.set_entry_point("split")


class Ticket(pydantic.BaseModel):
    """A ticket; validation stamps when it was received (reads the clock)."""

    ticket_id: str
    quantity: int = pydantic.Field(ge=1)
    received_at: datetime | None = None

    @pydantic.model_validator(mode="after")
    def _stamp(self) -> Ticket:
        if self.received_at is None:
            self.received_at = datetime.now(UTC)  # fine: validated outside the workflow
        return self


@step
async def receive(ticket: Ticket) -> dict[str, Any]:
    return {"seen": ticket.received_at}


tickets = Graph("versions-tickets", state=Ticket)
tickets.add_node("receive", receive).set_entry_point("receive")


@step
async def count(value: dict[str, Any]) -> dict[str, Any]:
    return {"count": value.get("count", 0) + 1}


long_chain = Chain("versions-long-chain", steps=[count] * 12)
