"""What chains and graphs share: a generated workflow you can also `invoke()` in-process."""

from __future__ import annotations

from typing import Any

from beluga_temporal.declare._step import Step
from beluga_temporal.errors import DefinitionError
from beluga_temporal.local import shared_runtime
from beluga_temporal.runtime import WorkflowTarget


class Target(WorkflowTarget):
    """Base of `Chain` and `Graph`."""

    async def invoke(self, input: Any = None, **options: Any) -> Any:
        """Run on the process-wide embedded Temporal runtime and return the result.

        The runtime (an embedded dev server and in-process workers) starts on first use
        and stops when the process exits; call `shutdown_shared_runtime()` to stop it
        earlier (e.g. in a notebook).

        Args:
            input: The run's input (a model, dict or JSON-able value).
            **options: Passed to `LocalRuntime.execute` (e.g. `workflow_id`,
                `overrides={step: replacement}`).
        """
        runtime = await shared_runtime()
        return await runtime.execute(self, input, **options)


Runnable = Step[Any, Any] | Target
"""What a chain step or a graph node runs: a step, or a nested chain or graph."""


def as_step(value: Any, what: str) -> Step[Any, Any]:
    """Check that `value` is a `@step`, with an error that says how to make one."""
    if isinstance(value, Step):
        return value
    raise DefinitionError(
        f"{what} must be a @step-decorated function, got {value!r}; decorate it with @step"
    )


def as_runnable(value: Any, what: str) -> Runnable:
    """Check that `value` is a step, or a chain or graph (run as a child workflow)."""
    if isinstance(value, Step | Target):
        return value
    raise DefinitionError(
        f"{what} must be a @step-decorated function, a Chain or a Graph, got {value!r}; "
        "decorate it with @step"
    )
