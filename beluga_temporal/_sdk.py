"""The one place beluga goes past public APIs (temporalio's, and one of the stdlib's).

Each use is here, with why no public hook serves, so that an upgrade has one place to
follow (and `tests/local/test_server_process.py` pins the environment class):

- what `@workflow.defn` and `@activity.defn` record (a workflow's type name and result
  type, whether a function is an activity): temporalio's own worker reads the
  `__temporal_workflow_definition` / `__temporal_activity_definition` attributes, and
  offers no accessor;
- `TimeSkippingEnvironment`: temporalio's time-skipping environment over a test server
  that beluga started itself (in its own session, killed with its parent);
  `WorkflowEnvironment.start_time_skipping` only wraps servers it starts;
- `register_early_exit_hook`: the stdlib's `threading._register_atexit` runs before the
  thread pools join their threads at exit, which an embedded worker must stop first;
  plain `atexit` runs too late (the fallback where it does not exist).
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from typing import Any

from temporalio.testing._workflow import _V1WorkflowEnvironment as TimeSkippingEnvironment

_WORKFLOW = "__temporal_workflow_definition"
_ACTIVITY = "__temporal_activity_definition"


def is_workflow_class(value: Any) -> bool:
    """Whether `value` is a `@workflow.defn` class."""
    return isinstance(value, type) and hasattr(value, _WORKFLOW)


def workflow_name(cls: type) -> str | None:
    """The workflow type name of a `@workflow.defn` class (`None` if it is not one)."""
    name = getattr(getattr(cls, _WORKFLOW, None), "name", None)
    return name if isinstance(name, str) else None


def workflow_result_type(cls: Any) -> Any:
    """The declared result type of a `@workflow.defn` class's run method, if any."""
    return getattr(getattr(cls, _WORKFLOW, None), "ret_type", None)


def is_activity(value: Any) -> bool:
    """Whether `value` was declared with `@activity.defn`."""
    return callable(value) and getattr(value, _ACTIVITY, None) is not None


def register_early_exit_hook(hook: Callable[[], None]) -> None:
    """Run `hook` at interpreter exit, before thread pools join their threads."""
    register = getattr(threading, "_register_atexit", atexit.register)
    try:
        register(hook)
    except RuntimeError:  # the interpreter is already exiting
        atexit.register(hook)


__all__ = [
    "TimeSkippingEnvironment",
    "is_activity",
    "is_workflow_class",
    "register_early_exit_hook",
    "workflow_name",
    "workflow_result_type",
]
