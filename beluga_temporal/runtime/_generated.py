"""Generated workflow classes, one per chain or graph, and their module-level home.

temporalio's sandbox re-imports a workflow class by `module.__name__`, and refuses
classes defined inside functions. Generated classes therefore live as attributes of this
module, which the `BelugaPlugin` passes through the sandbox: chains and graphs declared
anywhere (a function, a test, a notebook) run under the default sandboxed runner.
"""

from __future__ import annotations

import re
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

import temporalio.workflow

from beluga_temporal.plan import ChainPlan, Plan
from beluga_temporal.runtime._activity import check_workflow_payload
from beluga_temporal.runtime._chain import ChainRun
from beluga_temporal.runtime._graph import GraphRun
from beluga_temporal.runtime._progress import PROGRESS_QUERY, RunProgress
from beluga_temporal.runtime._session import (
    CLOSE_SIGNAL,
    MEMORY_QUERY,
    TURN_UPDATE,
    SessionRun,
)

Runner = ChainRun | GraphRun | SessionRun

_PLANS: dict[str, Plan] = {}
_counter = 0


def _class_name(plan: Plan) -> str:
    global _counter
    _counter += 1
    stem = re.sub(r"\W", "_", plan.name).strip("_") or "workflow"
    return f"{plan.kind.title()}_{stem}_{_counter}"


def runner_for(plan: Plan) -> Runner:
    """Return the interpreter for one run of `plan`."""
    if isinstance(plan, ChainPlan):
        return ChainRun(plan) if plan.memory is None else SessionRun(plan)
    return GraphRun(plan)


def _init(self: Any) -> None:
    self._beluga_run = runner_for(_PLANS[type(self).__name__])


async def _run(self: Any, arg: Any = None) -> Any:
    result = await self._beluga_run.execute(arg)
    check_workflow_payload(f"result of workflow '{self._beluga_run.plan.name}'", result)
    return result


def _progress(self: Any) -> RunProgress:
    progress: RunProgress = self._beluga_run.progress
    return progress


async def _turn(self: Any, arg: Any) -> Any:
    return await self._beluga_run.turn(arg)


def _close(self: Any) -> None:
    self._beluga_run.close()


def _memory(self: Any) -> list[dict[str, str]]:
    history: list[dict[str, str]] = self._beluga_run.history()
    return history


def _method(name: str, template: Callable[..., Any], cls_name: str) -> Any:
    # A fresh function per class: temporalio stores handler metadata on the function.
    fn = typing.cast(types.FunctionType, template)
    copy = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = f"{cls_name}.{name}"
    copy.__module__ = __name__
    copy.__annotations__ = dict(fn.__annotations__)
    return copy


def _namespace(plan: Plan, name: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"Generated workflow for {plan.kind} '{plan.name}'.",
        "__init__": _method("__init__", _init, name),
        "run": temporalio.workflow.run(_method("run", _run, name)),
        "progress": temporalio.workflow.query(name=PROGRESS_QUERY)(
            _method("progress", _progress, name)
        ),
    }
    if isinstance(plan, ChainPlan) and plan.memory is not None:
        namespace["turn"] = temporalio.workflow.update(name=TURN_UPDATE)(
            _method("turn", _turn, name)
        )
        namespace["close"] = temporalio.workflow.signal(name=CLOSE_SIGNAL)(
            _method("close", _close, name)
        )
        namespace["memory"] = temporalio.workflow.query(name=MEMORY_QUERY)(
            _method("memory", _memory, name)
        )
    return namespace


def workflow_class(plan: Plan) -> type:
    """Generate, register and return the `@workflow.defn` class running `plan`.

    The workflow type name is `plan.name` (wire format: renaming it breaks runs in flight).
    """
    name = _class_name(plan)
    _PLANS[name] = plan
    cls = type(name, (), _namespace(plan, name))
    setattr(sys.modules[__name__], name, cls)
    return temporalio.workflow.defn(name=plan.name)(cls)


def plan_of(workflow_cls: type) -> Plan | None:
    """Return the plan behind a generated workflow class, or `None`."""
    return _PLANS.get(workflow_cls.__name__) if workflow_cls.__module__ == __name__ else None
