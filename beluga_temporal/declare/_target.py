"""What chains and graphs share: a generated workflow you can also `invoke()` in-process."""

from __future__ import annotations

from typing import Any

from beluga_temporal.declare._step import Step
from beluga_temporal.engine import WorkflowTarget
from beluga_temporal.errors import DefinitionError
from beluga_temporal.local import shared_runtime
from beluga_temporal.plan import ChainPlan, Plan, to_dot, to_mermaid


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

    def to_mermaid(self) -> str:
        """Draw the chain or graph as a Mermaid flowchart (nested runs as subgraphs)."""
        return to_mermaid(self.compile())

    def to_dot(self) -> str:
        """Draw the chain or graph in Graphviz DOT (nested runs as clusters)."""
        return to_dot(self.compile())


Runnable = Step[Any, Any] | Target
"""What a chain step or a graph node runs: a step, or a nested chain or graph."""


def as_step(value: Any, what: str) -> Step[Any, Any]:
    """Check that `value` is a `@step`, with an error that says how to make one."""
    if isinstance(value, Step):
        return value
    if isinstance(value, Target):
        raise DefinitionError(
            f"{what} must be a @step; it cannot run a chain or graph ({value.name!r}); "
            "nest it as a node of its own, or make a step of what it does"
        )
    raise DefinitionError(
        f"{what} must be a @step-decorated function, got {value!r}; decorate it with @step"
    )


def as_runnable(value: Any, what: str) -> Runnable:
    """Check that `value` is a step, or a chain or graph (run as a child workflow)."""
    if isinstance(value, Target):
        _check_nestable(value, what)
        return value
    if isinstance(value, Step):
        return value
    raise DefinitionError(
        f"{what} must be a @step-decorated function, a Chain or a Graph, got {value!r}; "
        "decorate it with @step"
    )


def child_plan(target: Target, what: str) -> Plan:
    """Compile a nested chain or graph, the plan its child workflow runs."""
    _check_nestable(target, what)
    plan = target.compile()
    if isinstance(plan, ChainPlan) and plan.memory is not None:
        _check_nestable(target, what, has_memory=True)
    return plan


def _check_nestable(target: Target, what: str, *, has_memory: bool = False) -> None:
    if has_memory or getattr(target, "memory", None) is not None:
        # A session lives in its own long-running workflow; a child copy would start
        # with empty memory on every parent run and wait for turns that never come.
        raise DefinitionError(
            f"{what}: chain {target.name!r} has memory, so it runs as a session of turns "
            "and cannot be nested as a child workflow; give the memory to the outer "
            "chain, or talk to the session with Orchestrator.session()"
        )
