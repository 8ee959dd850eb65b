"""`Chain`: steps run one after another, each output the next step's input."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from beluga_temporal.declare._defaults import default_timeout
from beluga_temporal.declare._step import Step
from beluga_temporal.declare._target import Runnable, Target, as_runnable, as_step, child_plan
from beluga_temporal.engine import WorkflowTarget
from beluga_temporal.errors import DefinitionError
from beluga_temporal.plan import (
    ChainPlan,
    Duration,
    MemoryPlan,
    NodePlan,
    StepDefinition,
    positive,
    to_timedelta,
)


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
        steps: Sequence[Runnable] = (),
        *,
        timeout: Duration | None = None,
        retries: int | None = None,
        retry_delay: Duration | None = None,
        memory: Any = None,
        on_error: Step[Any, Any] | None = None,
        local: bool = False,
        previous: Sequence[Chain] = (),
    ) -> None:
        """Declare a chain.

        Args:
            name: The workflow type name (wire format: renaming breaks runs in flight).
            steps: The steps, in order; a `Chain` or `Graph` among them runs as a child
                workflow.
            timeout: Bound on the whole run (default: settings, else none).
            retries: Default attempts for steps that declare no retry policy (default:
                settings, fixed when each run starts).
            retry_delay: Default initial backoff for those steps (default: settings).
            memory: A `BufferMemory` / `WindowMemory` threaded through the chain.
            on_error: A step called with an `ErrorInfo` when a step fails after its
                retries; its output becomes the chain's result.
            local: Run steps without their own task queue as local activities (fewer
                round trips; best for steps under about 10 s).
            previous: Older versions of this chain whose runs may still be in flight;
                workers run each run on the version it started with.
        """
        super().__init__(name, previous)
        self._items = [as_runnable(s, f"step {i} of chain '{name}'") for i, s in enumerate(steps)]
        self.timeout = positive(to_timedelta(timeout, "timeout"), f"chain '{name}': timeout")
        if retries is not None and retries < 1:
            raise DefinitionError(f"chain '{name}': retries must be >= 1, got {retries}")
        self.retries = retries
        self.retry_delay = to_timedelta(retry_delay, "retry_delay")
        self.memory = memory
        self.on_error = None if on_error is None else as_step(on_error, "on_error")
        self.local = local

    def add_step(self, step: Runnable) -> Chain:
        """Append a step (or a nested chain or graph); returns the chain."""
        self._items.append(as_runnable(step, f"step {len(self._items)} of '{self.name}'"))
        self._changed()
        return self

    @property
    def steps(self) -> tuple[Runnable, ...]:
        """The steps, in order."""
        return tuple(self._items)

    @property
    def step_count(self) -> int:
        """How many steps the chain has."""
        return len(self._items)

    @property
    def output_type(self) -> Any:
        """The declared return type of the last step (what the chain returns)."""
        if self.on_error is not None or not self._items:
            return Any
        last = self._items[-1]
        return last.output_type if isinstance(last, Step) else Any

    def _steps(self) -> Iterable[StepDefinition]:
        yield from (item for item in self._items if isinstance(item, Step))
        if self.on_error is not None:
            yield self.on_error

    def _children(self) -> Iterable[WorkflowTarget]:
        return [item for item in self._items if isinstance(item, Target)]

    def _compile(self) -> ChainPlan:
        if not self._items:
            raise DefinitionError(f"chain '{self.name}' has no steps")
        labels = _labels(item.name for item in self._items)
        nodes = tuple(
            _node(label, item, labels[i - 1] if i else None, self.name)
            for i, (label, item) in enumerate(zip(labels, self._items, strict=True))
        )
        return ChainPlan(
            name=self.name,
            nodes=nodes,
            on_error=None if self.on_error is None else self.on_error.options,
            timeout=self.timeout or default_timeout("chain"),
            memory=_memory_plan(self.memory),
            retries=self.retries,
            retry_delay=self.retry_delay,
            local=self.local,
        )


def _node(label: str, item: Runnable, previous: str | None, chain: str) -> NodePlan:
    deps = () if previous is None else (previous,)
    if isinstance(item, Step):
        return NodePlan(name=label, step=item.options, deps=deps)
    return NodePlan(name=label, child=child_plan(item, f"step {label!r} of {chain!r}"), deps=deps)


def _labels(names: Iterable[str]) -> list[str]:
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return labels


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
