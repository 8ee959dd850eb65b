"""`Chain`: steps run one after another, each output the next step's input."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from beluga_temporal.declare._defaults import chain_defaults
from beluga_temporal.declare._step import Step
from beluga_temporal.declare._target import Target, as_step
from beluga_temporal.errors import DefinitionError
from beluga_temporal.plan import ChainPlan, MemoryPlan
from beluga_temporal.plan._options import Duration, RetryPolicy, positive, to_timedelta


class Chain(Target):
    """A sequential workflow generated from a list of steps.

    Example:
        ```python
        order_chain = Chain("order-chain", steps=[validate_order, process_payment])
        result = await order_chain.invoke(order)
        ```
    """

    def __init__(
        self,
        name: str,
        steps: Sequence[Step[Any, Any]] = (),
        *,
        timeout: Duration | None = None,
        retries: int | None = None,
        retry_delay: Duration | None = None,
        memory: Any = None,
        on_error: Step[Any, Any] | None = None,
    ) -> None:
        """Declare a chain.

        Args:
            name: The workflow type name (wire format: renaming breaks runs in flight).
            steps: The steps, in order.
            timeout: Bound on the whole run (default: settings, else none).
            retries: Default attempts for steps that declare no retry policy (default:
                settings, else 3).
            retry_delay: Default initial backoff for those steps (default 1 s).
            memory: A `BufferMemory` / `WindowMemory` threaded through the chain.
            on_error: A step called with an `ErrorInfo` when a step fails after its
                retries; its output becomes the chain's result.
        """
        super().__init__(name)
        self._steps_list = [as_step(s, f"step {i} of chain '{name}'") for i, s in enumerate(steps)]
        self.timeout = positive(to_timedelta(timeout, "timeout"), f"chain '{name}': timeout")
        if retries is not None and retries < 1:
            raise DefinitionError(f"chain '{name}': retries must be >= 1, got {retries}")
        self.retries = retries
        self.retry_delay = to_timedelta(retry_delay, "retry_delay")
        self.memory = memory
        self.on_error = None if on_error is None else as_step(on_error, "on_error")

    def add_step(self, step: Step[Any, Any]) -> Chain:
        """Append a step; returns the chain so calls can be chained."""
        self._steps_list.append(as_step(step, f"step {len(self._steps_list)} of '{self.name}'"))
        self._changed()
        return self

    @property
    def steps(self) -> tuple[Step[Any, Any], ...]:
        """The steps, in order."""
        return tuple(self._steps_list)

    @property
    def step_count(self) -> int:
        """How many steps the chain has."""
        return len(self._steps_list)

    @property
    def output_type(self) -> Any:
        """The declared return type of the last step (what the chain returns)."""
        if self.on_error is not None or not self._steps_list:
            return Any
        return self._steps_list[-1].output_type

    def _steps(self) -> Iterable[Step[Any, Any]]:
        yield from self._steps_list
        if self.on_error is not None:
            yield self.on_error

    def _compile(self) -> ChainPlan:
        if not self._steps_list:
            raise DefinitionError(f"chain '{self.name}' has no steps")
        defaults = chain_defaults()
        retry = RetryPolicy(
            max_attempts=defaults.max_retries if self.retries is None else self.retries,
            initial_backoff=defaults.retry_delay if self.retry_delay is None else self.retry_delay,
        )
        return ChainPlan(
            name=self.name,
            steps=tuple(s.options.with_default_retry(retry) for s in self._steps_list),
            labels=_labels(s.name for s in self._steps_list),
            on_error=None if self.on_error is None else self.on_error.options,
            timeout=defaults.timeout if self.timeout is None else self.timeout,
            memory=_memory_plan(self.memory),
        )


def _labels(names: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return tuple(labels)


def _memory_plan(memory: Any) -> MemoryPlan | None:
    if memory is None:
        return None
    to_plan = getattr(memory, "to_plan", None)
    if to_plan is None:
        raise DefinitionError(f"memory must be BufferMemory or WindowMemory, got {memory!r}")
    plan = to_plan()
    if not isinstance(plan, MemoryPlan):
        raise DefinitionError(f"memory {memory!r} did not produce a memory plan")
    return plan
