"""Generated workflow classes, one per chain or graph, and their module-level home.

temporalio's sandbox re-imports a workflow class by `module.__name__`, and refuses
classes defined inside functions. Generated classes therefore live as attributes of this
module, which the `BelugaPlugin` passes through the sandbox: chains and graphs declared
anywhere (a function, a test, a notebook) run under the default sandboxed runner.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import temporalio.workflow

from beluga_temporal.plan import ChainPlan, GraphPlan, Plan
from beluga_temporal.runtime._chain import ChainRun
from beluga_temporal.runtime._graph import GraphRun
from beluga_temporal.runtime._progress import PROGRESS_QUERY, RunProgress

_PLANS: dict[str, Plan] = {}
_counter = 0


def _class_name(plan: Plan) -> str:
    global _counter
    _counter += 1
    stem = re.sub(r"\W", "_", plan.name).strip("_") or "workflow"
    return f"{plan.kind.title()}_{stem}_{_counter}"


def workflow_class(plan: Plan) -> type:
    """Generate, register and return the `@workflow.defn` class running `plan`.

    The workflow type name is `plan.name` (wire format: renaming it breaks runs in flight).
    """
    name = _class_name(plan)
    _PLANS[name] = plan

    async def run(self: Any, arg: Any = None) -> Any:
        plan = _PLANS[type(self).__name__]
        runner: ChainRun | GraphRun = (
            ChainRun(plan) if isinstance(plan, ChainPlan) else GraphRun(plan)
        )
        self._beluga_run = runner
        return await runner.execute(arg)

    def progress(self: Any) -> RunProgress:
        runner = getattr(self, "_beluga_run", None)
        if runner is None:  # queried before the first workflow task ran
            return _initial_progress(_PLANS[type(self).__name__])
        return runner.progress  # type: ignore[no-any-return]

    for fn in (run, progress):
        fn.__qualname__ = f"{name}.{fn.__name__}"
        fn.__module__ = __name__
    namespace = {
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"Generated workflow for {plan.kind} '{plan.name}'.",
        "run": temporalio.workflow.run(run),
        "progress": temporalio.workflow.query(name=PROGRESS_QUERY)(progress),
    }
    cls = type(name, (), namespace)
    setattr(sys.modules[__name__], name, cls)
    return temporalio.workflow.defn(name=plan.name)(cls)


def _initial_progress(plan: Plan) -> RunProgress:
    runner = ChainRun(plan) if isinstance(plan, ChainPlan) else GraphRun(plan)
    return runner.progress


def plan_of(workflow_cls: type) -> Plan | None:
    """Return the plan behind a generated workflow class, or `None`."""
    return _PLANS.get(workflow_cls.__name__) if workflow_cls.__module__ == __name__ else None


__all__ = ["GraphPlan", "plan_of", "workflow_class"]
