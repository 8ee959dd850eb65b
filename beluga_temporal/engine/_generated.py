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

from beluga_temporal.engine._core import Run, new_flow
from beluga_temporal.engine._plans import register_plan
from beluga_temporal.engine._progress import PROGRESS_QUERY, NodeProgress, RunProgress
from beluga_temporal.engine._session import CLOSE_SIGNAL, MEMORY_QUERY, TURN_UPDATE, SessionRun
from beluga_temporal.engine._versions import PlanVersions, begin
from beluga_temporal.plan import ChainPlan, run_summary
from beluga_temporal.resilience import check_workflow_payload

_VERSIONS: dict[str, PlanVersions] = {}
_counter = 0


def _class_name(versions: PlanVersions) -> str:
    global _counter
    _counter += 1
    stem = re.sub(r"\W", "_", versions.name).strip("_") or "workflow"
    return f"{versions.newest.kind.title()}_{stem}_{_counter}"


class _Instance:
    """What one workflow instance runs: a plain run, or a session of turns."""

    def __init__(self, versions: PlanVersions) -> None:
        self.versions = versions
        self.run: Run | None = None
        self.session: SessionRun | None = None
        self._closed = False  # a close signal can arrive before the session exists

    async def run_workflow(self, arg: Any) -> Any:
        start = await begin(self.versions, arg)
        plan = start.plan
        # The Web UI shows these "current details" (answered by the worker, kept in no
        # event): the only label a run started by another client (`temporal workflow
        # start`) gets, since a workflow cannot set its own static summary.
        temporalio.workflow.set_current_details(run_summary(plan, start.context.plan))
        if isinstance(plan, ChainPlan) and plan.memory is not None:
            self.session = SessionRun(plan, start.context, start.snapshot)
            if self._closed:
                self.session.close()
            return await self.session.drive(start.input)
        self.run = Run(plan, start.context, new_flow(plan), snapshot=start.snapshot)
        result = await self.run.drive(start.input)
        if not isinstance(plan, ChainPlan):
            # A chain returns what its last step (or handler, or child run) returned: a
            # value the server already accepted, measured by the step that produced it.
            check_workflow_payload(f"result of workflow '{plan.name}'", result)
        return result

    def view(self) -> RunProgress:
        if self.run is not None:
            return self.run.record.view()
        if self.session is not None:
            return self.session.view()
        plan = self.versions.newest  # not started yet: its plan is not resolved
        nodes = {node.name: NodeProgress(step=node.runs) for node in plan.nodes}
        return RunProgress(name=plan.name, kind=plan.kind, nodes=nodes, total=len(nodes))

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        self._closed = True

    async def wait_for_session(self) -> SessionRun:
        # An update can arrive with the start, before the session exists.
        await temporalio.workflow.wait_condition(lambda: self.session is not None)
        assert self.session is not None
        return self.session


def _init(self: Any) -> None:
    self._beluga = _Instance(_VERSIONS[type(self).__name__])


async def _run(self: Any, arg: Any = None) -> Any:
    return await self._beluga.run_workflow(arg)


def _progress(self: Any) -> RunProgress:
    view: RunProgress = self._beluga.view()
    return view


async def _turn(self: Any, arg: Any) -> Any:
    session = await self._beluga.wait_for_session()
    return await session.turn(arg)


def _close(self: Any) -> None:
    self._beluga.close()


def _memory(self: Any) -> list[dict[str, str]]:
    session = self._beluga.session
    return [] if session is None else session.history()


def _method(name: str, template: Callable[..., Any], cls_name: str) -> Any:
    # A fresh function per class: temporalio stores handler metadata on the function.
    fn = typing.cast(types.FunctionType, template)
    copy = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = f"{cls_name}.{name}"
    copy.__module__ = __name__
    copy.__annotations__ = dict(fn.__annotations__)
    return copy


def _namespace(versions: PlanVersions, name: str) -> dict[str, Any]:
    plan = versions.newest
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
    plans = versions.by_fingerprint.values()
    if any(isinstance(p, ChainPlan) and p.memory is not None for p in plans):
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


def workflow_class(versions: PlanVersions) -> type:
    """Generate, register and return the `@workflow.defn` class running `versions`.

    The workflow type name is the plan's name (wire format: renaming it breaks runs in
    flight).
    """
    name = _class_name(versions)
    _VERSIONS[name] = versions
    for plan in versions.by_fingerprint.values():
        register_plan(plan)
    cls = type(name, (), _namespace(versions, name))
    setattr(sys.modules[__name__], name, cls)
    return temporalio.workflow.defn(name=versions.name, sandboxed=runs_user_code(versions))(cls)


def runs_user_code(versions: PlanVersions) -> bool:
    """Whether a workflow runs user code, and so needs temporalio's sandbox.

    Generated workflows run beluga's interpreter, which the sandbox passes through
    anyway (its modules are the process's own), on plain data: the sandbox would check
    nothing in them, yet it costs about a third of the workflow's CPU (a sandboxed
    module environment per run, and a call into it for every payload of every workflow
    task). Route functions are user code, run inside the workflow on every replay:
    plans with routes keep the sandbox, which makes a route that reads the clock, draws
    random numbers or does I/O fail clearly (see `_sandbox`).
    """
    return any(getattr(plan, "routers", None) for plan in versions.by_fingerprint.values())


def versions_of(workflow_cls: type) -> PlanVersions | None:
    """Return the plan versions behind a generated workflow class, or `None`."""
    if workflow_cls.__module__ != __name__:
        return None
    return _VERSIONS.get(workflow_cls.__name__)
