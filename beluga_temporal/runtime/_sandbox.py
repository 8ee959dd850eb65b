"""Run user route functions under the workflow sandbox's restrictions.

Plans live in a framework module that the sandbox passes through, so a route function
stored in a plan is the object imported outside the sandbox: its globals are the real
`random`, `datetime` and `time` modules. Before a run first calls a route, the route is
rebuilt with the same code and closure but with the modules (and members of modules)
it uses taken from inside the sandbox, where reading the clock, drawing random numbers
or doing I/O raises. The route then fails clearly, the first time it runs, instead of
making the run non-deterministic on replay.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import temporalio.workflow
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

from beluga_temporal.plan import RouterPlan, qualified_name
from beluga_temporal.runtime._failures import ROUTING_ERROR


class RouteRunner:
    """Calls the route functions of one run, each rebuilt inside the sandbox once."""

    def __init__(self, error_type: Callable[[str, str], Exception]) -> None:
        self._error = error_type
        self._routes: dict[str, Callable[[dict[str, Any]], Any]] = {}

    def call(self, router: RouterPlan, state: dict[str, Any]) -> Any:
        """Call `router`'s route on `state`, failing clearly on a sandbox violation."""
        route = self._routes.get(router.source)
        if route is None:
            route = self._routes[router.source] = sandboxed(router.route)
        try:
            return route(state)
        except RestrictedWorkflowAccessError as error:
            raise self._error(
                f"route function {qualified_name(router.route)} of '{router.source}' is not "
                f"deterministic: {error}. Route functions run inside the workflow on every "
                "replay; read clocks, random numbers and I/O in a step and route on its output",
                ROUTING_ERROR,
            ) from None


def sandboxed(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Return `fn` with its globals resolved inside the workflow sandbox.

    Outside a sandbox (an unsandboxed runner, or a direct call) `fn` is returned as is.
    Callables that are not plain Python functions are returned as is too.
    """
    if not isinstance(fn, types.FunctionType) or not temporalio.workflow.unsafe.in_sandbox():
        return fn
    names = set(_global_names(fn.__code__))
    namespace: dict[str, Any] = {"__builtins__": _sandbox_builtins()}
    for name in names:
        if name in fn.__globals__:
            namespace[name] = _inside(name, fn.__globals__[name])
    namespace["__name__"] = fn.__globals__.get("__name__")
    rebuilt = types.FunctionType(
        fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__
    )
    rebuilt.__kwdefaults__ = fn.__kwdefaults__
    rebuilt.__qualname__ = fn.__qualname__
    return rebuilt


def _global_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # comprehensions, nested functions
            yield from _global_names(const)


def _sandbox_builtins() -> Any:
    return importlib.import_module("builtins")


def _inside(name: str, value: Any) -> Any:
    """The sandbox's version of a module, or of a member of a module, else `value`."""
    if isinstance(value, types.ModuleType):
        return importlib.import_module(value.__name__)
    module_name = getattr(value, "__module__", None)
    if module_name is None and hasattr(value, "__self__"):  # e.g. `from random import random`
        module_name = type(value.__self__).__module__
    if not isinstance(module_name, str) or not _is_library(module_name):
        return value
    for attribute in (name, getattr(value, "__name__", None)):
        if attribute and _real_member(module_name, attribute) is value:
            return getattr(importlib.import_module(module_name), attribute)
    return value


def _is_library(module_name: str) -> bool:
    # Only stdlib-style modules the sandbox restricts need swapping; user code and
    # the framework stay as they are (re-importing them per run would be slow).
    root = module_name.partition(".")[0]
    return root in _RESTRICTED_ROOTS


def _real_member(module_name: str, attribute: str) -> Any:
    module = sys.modules.get(module_name)
    return getattr(module, attribute, None) if module is not None else None


_RESTRICTED_ROOTS = frozenset(
    {
        "datetime",
        "random",
        "time",
        "os",
        "uuid",
        "secrets",
        "socket",
        "subprocess",
        "threading",
        "urllib",
        "http",
        "io",
        "pathlib",
        "shutil",
        "glob",
        "tempfile",
        "sqlite3",
        "_random",
        "posix",
    }
)
