"""The one place beluga reads temporalio's decorator metadata.

temporalio has no public accessor for what `@workflow.defn` and `@activity.defn` record
on a class or function (a workflow's type name and result type, an activity's name):
its own worker reads the `__temporal_workflow_definition` / `__temporal_activity_definition`
attributes. beluga reads the same attributes, here only, so that a change in the SDK
has one place to follow.
"""

from __future__ import annotations

from typing import Any

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
