"""Chain memory declarations: what a chain remembers between turns of a session."""

from __future__ import annotations

import dataclasses

from beluga_temporal.errors import DefinitionError
from beluga_temporal.plan import MemoryPlan


@dataclasses.dataclass(frozen=True)
class BufferMemory:
    """Remember every exchange of the session.

    Each turn's input is merged over the memory variables (`history`: the earlier
    exchanges as chat messages, which LLM steps put before their prompt); after the turn
    the exchange (input, output) is saved in the workflow's state, so memory is durable
    and survives worker restarts.
    """

    input_key: str = "input"
    """Input key saved as the human side of an exchange (else the whole input)."""
    output_key: str = "output"
    """Output key saved as the AI side of an exchange (else the whole output)."""

    def to_plan(self) -> MemoryPlan:
        """Return the plan form the chain's workflow interprets."""
        return MemoryPlan(kind="buffer", input_key=self.input_key, output_key=self.output_key)


@dataclasses.dataclass(frozen=True)
class WindowMemory:
    """Remember the last `k` exchanges of the session (see `BufferMemory`)."""

    k: int = 5
    """How many exchanges to keep."""
    input_key: str = "input"
    """Input key saved as the human side of an exchange (else the whole input)."""
    output_key: str = "output"
    """Output key saved as the AI side of an exchange (else the whole output)."""

    def __post_init__(self) -> None:
        if self.k < 1:
            raise DefinitionError(f"WindowMemory(k) needs k >= 1, got {self.k}")

    def to_plan(self) -> MemoryPlan:
        """Return the plan form the chain's workflow interprets."""
        return MemoryPlan(
            kind="window", k=self.k, input_key=self.input_key, output_key=self.output_key
        )
