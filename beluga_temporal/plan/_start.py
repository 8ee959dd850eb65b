"""What a run fixes when it starts: its plan version and the settings it runs with.

Settings that shape the commands a run issues (max workers, parallel execution, default
retries, history bounds) are read once, when the run starts, and travel with it: in
the start memo (written by beluga's starters), in the marker of the worker's start
activity (runs started by other clients), and in every continue-as-new snapshot. A
worker with other settings therefore replays the run exactly.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import pydantic

from beluga_temporal.errors import InvalidInputError
from beluga_temporal.plan._plan import GraphPlan, Plan
from beluga_temporal.settings import BelugaSettings

MEMO_KEY = "beluga"
"""Memo key (wire format) holding a run's `StartContext`."""
CHECKPOINT_RULE = 2
"""How new runs in local mode let their workflow tasks end (see `RunDefaults`)."""


@dataclasses.dataclass(frozen=True)
class RunDefaults:
    """Settings-derived values a run uses where its declaration leaves them open."""

    max_workers: int = 10
    """`orchestration.graph.max_workers`."""
    parallel: bool = True
    """`orchestration.graph.parallel_execution`."""
    chain_retries: int = 3
    """`orchestration.chain.max_retries` (attempts, first included)."""
    chain_retry_delay: float = 1.0
    """`orchestration.chain.retry_delay`, in seconds."""
    history_events: int = 20_000
    """`orchestration.history.max_events`."""
    history_bytes: int = 20 * 1024 * 1024
    """`orchestration.history.max_bytes`."""
    checkpoint_rule: int = CHECKPOINT_RULE
    """Where a run in local mode pauses so that its workflow task ends (wire format:
    the engine's `LocalCheckpoints`). Not a setting: fixed by the code that starts the
    run, so that a run started before a rule changed replays with its own. Recorded
    defaults without it come from runs started with rule 1."""

    @classmethod
    def from_settings(cls, settings: BelugaSettings) -> RunDefaults:
        """Read the defaults from settings."""
        orchestration = settings.orchestration
        return cls(
            max_workers=orchestration.graph.max_workers,
            parallel=orchestration.graph.parallel_execution,
            chain_retries=max(orchestration.chain.max_retries, 1),
            chain_retry_delay=orchestration.chain.retry_delay.total_seconds(),
            history_events=orchestration.history.max_events,
            history_bytes=orchestration.history.max_bytes,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form (memo, markers, snapshots)."""
        # Flat values: not `dataclasses.asdict`, which deep-copies and costs ~10x more
        # (every start writes this memo, every run reads it).
        return {name: getattr(self, name) for name in _DEFAULTS_FIELDS}

    @classmethod
    def from_json(cls, data: Any) -> RunDefaults:
        """Read the JSON form; unknown keys (a newer writer) are ignored."""
        if not isinstance(data, dict):
            return cls(checkpoint_rule=1)
        values = {k: v for k, v in data.items() if k in _DEFAULTS_FIELDS}
        values.setdefault("checkpoint_rule", 1)  # recorded before rule 2 existed
        return cls(**values)


_DEFAULTS_FIELDS = tuple(field.name for field in dataclasses.fields(RunDefaults))


@functools.cache
def process_defaults() -> RunDefaults:
    """This process's defaults, from `BelugaSettings.load()` (read once, never in workflows).

    Raises:
        ConfigurationError: The settings are invalid.
    """
    return RunDefaults.from_settings(BelugaSettings.load())


@dataclasses.dataclass(frozen=True)
class StartContext:
    """What a run started with: its plan fingerprint and its defaults."""

    plan: str
    """Fingerprint of the plan the run executes."""
    defaults: RunDefaults
    validated: bool = True
    """Whether the run input was already validated against the plan's state model."""
    settle_cancelled: bool = True
    """Wait for cancelled steps and child runs to settle. `False` only on the
    time-skipping test server, which fails a workflow task whose cancel request crosses
    the step's completion (so there a step that completes anyway is not compensated)."""

    def to_json(self) -> dict[str, Any]:
        """The memo form."""
        data: dict[str, Any] = {
            "plan": self.plan,
            "defaults": self.defaults.to_json(),
            "validated": self.validated,
        }
        if not self.settle_cancelled:
            data["settle_cancelled"] = False
        return data

    @classmethod
    def from_json(cls, data: Any) -> StartContext | None:
        """Read the memo form; `None` when `data` is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("plan"), str):
            return None
        return cls(
            plan=data["plan"],
            defaults=RunDefaults.from_json(data.get("defaults")),
            validated=bool(data.get("validated", True)),
            settle_cancelled=bool(data.get("settle_cancelled", True)),
        )


def validate_run_input(plan: Plan, value: Any) -> Any:
    """Validate a run's input against the plan's state model; return it as JSON.

    Runs outside workflows (in starters, or the worker's start activity), so a model's
    validators may read clocks or do I/O: what they produce is fixed when the run
    starts.

    Raises:
        InvalidInputError: The input does not fit the model; the message names the fields.
    """
    model = plan.state_model if isinstance(plan, GraphPlan) else None
    if model is None:
        return value
    adapter = _state_adapter(model)
    try:
        validated = adapter.validate_python({} if value is None else value)
    except pydantic.ValidationError as error:
        raise InvalidInputError(f"invalid input for '{plan.name}': {error}") from None
    return adapter.dump_python(validated, mode="json")


_ADAPTERS: dict[type[Any], pydantic.TypeAdapter[Any]] = {}


def _state_adapter(model: type[Any]) -> pydantic.TypeAdapter[Any]:
    # Built once per model, not per start: building one costs more than validating.
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = pydantic.TypeAdapter(model)
    return adapter
