"""What chains and graphs share: compile once, generate a workflow class, run it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from beluga_temporal.declare._step import Step
from beluga_temporal.errors import DefinitionError

if TYPE_CHECKING:
    from beluga_temporal.plan import Plan


class Target:
    """Base of `Chain` and `Graph`: a declaration compiled into a generated workflow."""

    name: str

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise DefinitionError(f"a workflow name must be a non-empty string, got {name!r}")
        self.name = name
        self._plan: Plan | None = None
        self._workflow: type | None = None

    def _changed(self) -> None:
        self._plan = None
        self._workflow = None

    def _compile(self) -> Plan:
        raise NotImplementedError

    def compile(self) -> Plan:
        """Validate the declaration and return its plan (cached until it changes).

        Raises:
            DefinitionError: The declaration is invalid; the message names what is wrong.
        """
        if self._plan is None:
            self._plan = self._compile()
        return self._plan

    @property
    def workflow(self) -> type:
        """The generated `@workflow.defn` class; its workflow type name is `name`."""
        if self._workflow is None:
            from beluga_temporal.runtime._generated import workflow_class

            self._workflow = workflow_class(self.compile())
        return self._workflow

    @property
    def activities(self) -> list[Step[Any, Any]]:
        """Every step a worker must register to run this target (each once)."""
        self.compile()
        return unique_steps(self._steps())

    def _steps(self) -> Iterable[Step[Any, Any]]:
        raise NotImplementedError

    @property
    def execution_timeout(self) -> timedelta | None:
        """The bound on a whole run, if any."""
        return self.compile().timeout

    async def invoke(self, input: Any = None, **options: Any) -> Any:
        """Run on the process-wide embedded Temporal runtime and return the result.

        Args:
            input: The run's input (a model, dict or JSON-able value).
            **options: Passed to `LocalRuntime.execute` (e.g. `workflow_id`).
        """
        from beluga_temporal.local import shared_runtime

        runtime = await shared_runtime()
        return await runtime.execute(self, input, **options)


def unique_steps(steps: Iterable[Step[Any, Any]]) -> list[Step[Any, Any]]:
    """Deduplicate steps by activity name, rejecting two functions under one name."""
    found: dict[str, Step[Any, Any]] = {}
    for step in steps:
        known = found.get(step.name)
        if known is None:
            found[step.name] = step
        elif known.fn is not step.fn:
            raise DefinitionError(
                f"two different functions are declared as step '{step.name}' "
                f"({known.__qualname__} and {step.__qualname__}); give one another name"
            )
    return list(found.values())


def as_step(value: Any, what: str) -> Step[Any, Any]:
    """Check that `value` is a `@step`, with an error that says how to make one."""
    if isinstance(value, Step):
        return value
    raise DefinitionError(
        f"{what} must be a @step-decorated function, got {value!r}; decorate it with @step"
    )
