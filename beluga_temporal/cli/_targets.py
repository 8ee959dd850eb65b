"""Import `module:attribute` targets and find what a module declares.

Like uvicorn and celery, the current directory is put on `sys.path` first, so
`beluga worker workflows.order_processing` works from a project's root.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from types import ModuleType
from typing import Any

from beluga_temporal import _sdk
from beluga_temporal.cli._errors import UsageError
from beluga_temporal.client import workflow_type_of
from beluga_temporal.declare import Step, Target
from beluga_temporal.errors import DefinitionError


@dataclasses.dataclass
class Discovered:
    """What a worker hosts: generated-workflow targets, workflow classes and activities."""

    targets: list[Target | type] = dataclasses.field(default_factory=list)
    activities: list[Any] = dataclasses.field(default_factory=list)

    def add(self, value: Any) -> None:
        """Add `value` if it is hostable (a target, workflow class, step or activity)."""
        if isinstance(value, Target) or is_workflow_class(value):
            if not any(value is known for known in self.targets):
                self.targets.append(value)
        elif is_activity(value) and not any(value is known for known in self.activities):
            self.activities.append(value)

    def extend(self, other: Discovered) -> None:
        """Add everything `other` found."""
        for value in [*other.targets, *other.activities]:
            self.add(value)


def is_workflow_class(value: Any) -> bool:
    """Whether `value` is a `@workflow.defn` class."""
    return _sdk.is_workflow_class(value)


def is_activity(value: Any) -> bool:
    """Whether `value` is a `@step` or a temporalio activity definition."""
    return isinstance(value, Step) or _sdk.is_activity(value)


def _cwd_on_path() -> None:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def import_module(name: str) -> ModuleType:
    """Import module `name` with the current directory on `sys.path`.

    Raises:
        UsageError: The module (or a module it imports) cannot be found.
    """
    _cwd_on_path()
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and (name == error.name or name.startswith(f"{error.name}.")):
            raise UsageError(
                f"cannot import module '{name}': no module named '{error.name}'"
            ) from None
        raise UsageError(f"cannot import module '{name}': {error}") from error
    except SyntaxError as error:
        where = f"{error.filename}:{error.lineno}" if error.filename else name
        raise UsageError(f"cannot import module '{name}': {where}: {error.msg}") from None


def load_attribute(spec: str) -> Any:
    """Import `module:attribute` (the attribute may be dotted) and return it.

    Raises:
        UsageError: `spec` is not `module:attribute`, or the module or attribute is unknown.
    """
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise UsageError(f"target '{spec}' must be 'module:attribute', e.g. 'workflows.app:graph'")
    value: Any = import_module(module_name)
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise UsageError(f"module '{module_name}' has no attribute '{attribute}'")
        value = getattr(value, part)
    return value


def load_target(spec: str) -> Target | type:
    """Import a Chain, Graph or `@workflow.defn` class named `module:attribute`.

    Raises:
        UsageError: It cannot be imported or is none of those.
    """
    value = load_attribute(spec)
    if isinstance(value, Target):
        return value
    if isinstance(value, type) and is_workflow_class(value):
        return value
    raise UsageError(
        f"target '{spec}' is a {type(value).__name__}, not a Chain, Graph or @workflow.defn class"
    )


def load_graph(spec: str) -> Target:
    """Import a Graph or Chain (something with a plan) named `module:attribute`."""
    value = load_target(spec)
    if not isinstance(value, Target):
        raise UsageError(
            f"target '{spec}' is a workflow class; only chains and graphs have plans to "
            "draw or compare"
        )
    return value


def discover_module(module: ModuleType) -> Discovered:
    """Find every Chain, Graph, workflow class, step and activity defined in `module`."""
    found = Discovered()
    for name in sorted(vars(module)):
        if not name.startswith("_"):
            found.add(getattr(module, name))
    return found


def discover(specs: tuple[str, ...] | list[str]) -> Discovered:
    """Resolve `MODULE` (everything in it) or `MODULE:ATTR` (one target) specs.

    A module may keep older versions of a chain or graph next to the newest one (named
    in its `previous=`): only the newest is kept, it runs the others' runs.

    Raises:
        DefinitionError: Two targets are one workflow type, and neither is a previous
            version of the other.
    """
    found = Discovered()
    for spec in specs:
        if ":" in spec:
            # One target, plus the steps of its module (hand-written workflows call them).
            found.add(load_target(spec))
            module = discover_module(import_module(spec.partition(":")[0]))
            for activity in module.activities:
                found.add(activity)
        else:
            found.extend(discover_module(import_module(spec)))
    found.targets = newest_versions(found.targets)
    return found


def newest_versions(targets: list[Target | type]) -> list[Target | type]:
    """One target per workflow type: of several versions, the one that knows the others.

    Raises:
        DefinitionError: Two targets share a workflow type and neither knows the other.
    """
    groups: dict[str, list[Target | type]] = {}
    for target in targets:
        groups.setdefault(workflow_type_of(target), []).append(target)
    return [_newest(name, group) for name, group in groups.items()]


def _newest(name: str, group: list[Target | type]) -> Target | type:
    if len(group) == 1:
        return group[0]
    versions = [t for t in group if isinstance(t, Target)]
    if len(versions) == len(group):
        wanted = {target.fingerprint for target in versions}
        for target in versions:
            if wanted <= target.versions.by_fingerprint.keys():
                return target
    raise DefinitionError(
        f"{len(group)} targets are workflow type '{name}' ({', '.join(map(_label, group))}) "
        "and none declares the others in previous=: declare older versions in the newest "
        "one's previous=, or name one target with module:attribute"
    )


def _label(target: Target | type) -> str:
    if isinstance(target, Target):
        return f"{type(target).__name__} with plan {target.fingerprint}"
    return f"class {target.__module__}.{target.__qualname__}"
