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

import builtins
import sys
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any

import temporalio.workflow
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

from beluga_temporal.engine._failures import ROUTING_ERROR
from beluga_temporal.plan import RouterPlan, qualified_name


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
                f"deterministic: it uses {_accessed(error)}, which workflow code may not (it "
                "would differ on replay). Route functions run inside the workflow on every "
                "replay; read clocks, random numbers and I/O in a step and route on its output",
                ROUTING_ERROR,
            ) from None


def _accessed(error: RestrictedWorkflowAccessError) -> str:
    """What the sandbox refused, as the user wrote it (`random.random`, `open`)."""
    return error.qualified_name.removesuffix(".__call__").removeprefix("__builtins__.")


def sandboxed(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Return `fn` with its globals resolved inside the workflow sandbox.

    Plain functions of user code that `fn` calls (helpers, by global name or through
    its closure) are rebuilt the same way, so a helper's `random.random()` is caught
    too. Outside a sandbox (an unsandboxed runner, or a direct call) `fn` is returned
    as is, and so are callables that are not plain Python functions.
    """
    if not isinstance(fn, types.FunctionType) or not temporalio.workflow.unsafe.in_sandbox():
        return fn
    return _rebuild(fn, {})


def _rebuild(fn: types.FunctionType, done: dict[int, Any]) -> types.FunctionType:
    known = done.get(id(fn))
    if known is not None:  # recursion, or a helper two routes share
        return typing.cast(types.FunctionType, known)
    namespace: dict[str, Any] = {"__builtins__": _sandbox_builtins()}
    closure = fn.__closure__
    if closure is not None:
        closure = tuple(_cell(cell, done) for cell in closure)
    rebuilt = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, closure)
    rebuilt.__kwdefaults__ = fn.__kwdefaults__
    rebuilt.__qualname__ = fn.__qualname__
    rebuilt.__module__ = fn.__module__
    done[id(fn)] = rebuilt  # before resolving globals: they may name `fn` itself
    for name in set(_global_names(fn.__code__)):
        if name in fn.__globals__:
            namespace[name] = _resolve(name, fn.__globals__[name], done)
    namespace["__name__"] = fn.__globals__.get("__name__")
    return rebuilt


def _cell(cell: types.CellType, done: dict[int, Any]) -> types.CellType:
    try:
        value = cell.cell_contents
    except ValueError:  # not yet bound (a name the enclosing function binds later)
        return cell
    resolved = _resolve("", value, done)
    return cell if resolved is value else types.CellType(resolved)


def _resolve(name: str, value: Any, done: dict[int, Any]) -> Any:
    if isinstance(value, types.FunctionType) and _is_user_code(value.__module__):
        return _rebuild(value, done)
    return _inside(name, value)


def _is_user_code(module_name: str | None) -> bool:
    # The standard library and the framework are trusted; everything else is rebuilt.
    root = (module_name or "").partition(".")[0]
    return root not in sys.stdlib_module_names and root not in _TRUSTED_ROOTS


def _global_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # comprehensions, nested functions
            yield from _global_names(const)


def _sandbox_builtins() -> Any:
    return _import_inside("builtins")


def _import_inside(name: str) -> Any:
    # `__import__`, not `importlib.import_module`: the sandbox hands out its restricted
    # modules through the `builtins.__import__` it installs while a workflow runs;
    # importlib would load a fresh, unrestricted copy of the module instead.
    return builtins.__import__(name, fromlist=["__name__"])


def _inside(name: str, value: Any) -> Any:
    """The sandbox's version of a module, or of a member of a module, else `value`."""
    if isinstance(value, types.ModuleType):
        return _import_inside(value.__name__)
    module_name = getattr(value, "__module__", None)
    if module_name is None and hasattr(value, "__self__"):  # e.g. `from random import random`
        module_name = type(value.__self__).__module__
    if not isinstance(module_name, str) or not _is_library(module_name):
        return value
    for attribute in (name, getattr(value, "__name__", None)):
        if attribute and _real_member(module_name, attribute) is value:
            return getattr(_import_inside(module_name), attribute)
    return value


def _is_library(module_name: str) -> bool:
    # Only stdlib-style modules the sandbox restricts need swapping; user code and
    # the framework stay as they are (re-importing them per run would be slow).
    root = module_name.partition(".")[0]
    return root in _RESTRICTED_ROOTS


def _real_member(module_name: str, attribute: str) -> Any:
    module = sys.modules.get(module_name)
    return getattr(module, attribute, None) if module is not None else None


_TRUSTED_ROOTS = frozenset({"beluga_temporal", "temporalio", "pydantic", "pydantic_core"})

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
