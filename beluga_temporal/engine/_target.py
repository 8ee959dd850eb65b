"""`WorkflowTarget`: what runs as a generated workflow (a chain or a graph).

Workers, clients and the embedded runtime know chains and graphs only through this
base: its plan versions, its generated workflow class, the steps to register and the
nested targets it starts as child workflows.
"""

from __future__ import annotations

import abc
import collections
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from beluga_temporal.engine._generated import workflow_class
from beluga_temporal.engine._versions import PlanVersions
from beluga_temporal.errors import DefinitionError
from beluga_temporal.plan import (
    Plan,
    RunDefaults,
    StartContext,
    StepDefinition,
    fingerprint,
    validate_run_input,
)


class WorkflowTarget(abc.ABC):
    """Base of `Chain` and `Graph`: a declaration compiled into a generated workflow."""

    name: str

    def __init__(self, name: str, previous: Sequence[WorkflowTarget] = ()) -> None:
        if not isinstance(name, str) or not name.strip():
            raise DefinitionError(f"a workflow name must be a non-empty string, got {name!r}")
        self.name = name
        self.previous = list(previous)
        for old in self.previous:
            if not isinstance(old, WorkflowTarget) or old.name != name:
                raise DefinitionError(
                    f"'{name}': previous versions must be declarations with the same name, "
                    f"got {old!r}"
                )
        self._plan: Plan | None = None
        self._fingerprint: tuple[Plan, str] | None = None
        self._workflow: type | None = None
        self._compiling = False

    def _changed(self) -> None:
        self._plan = None
        self._workflow = None

    @abc.abstractmethod
    def _compile(self) -> Plan:
        """Validate the declaration and build its plan."""

    @abc.abstractmethod
    def _steps(self) -> Iterable[StepDefinition]:
        """Every step this declaration runs (fallbacks, handlers included)."""

    @abc.abstractmethod
    def _children(self) -> Iterable[WorkflowTarget]:
        """The chains and graphs this declaration runs as child workflows."""

    def compile(self) -> Plan:
        """Validate the declaration and return its plan (cached until it changes).

        Raises:
            DefinitionError: The declaration is invalid; the message names what is wrong.
        """
        if self._plan is None:
            if self._compiling:  # reached again while compiling its own nodes
                raise DefinitionError(
                    f"'{self.name}' nests itself (directly or through the chains and "
                    "graphs it nests): a run would start itself forever"
                )
            self._compiling = True
            try:
                self._plan = self._compile()
            finally:
                self._compiling = False
        return self._plan

    @property
    def fingerprint(self) -> str:
        """The plan's fingerprint: the identity of this version of the declaration."""
        plan = self.compile()
        # Computed once per plan, not per start: it hashes the whole plan's JSON.
        if self._fingerprint is None or self._fingerprint[0] is not plan:
            self._fingerprint = (plan, fingerprint(plan))
        return self._fingerprint[1]

    @property
    def versions(self) -> PlanVersions:
        """The newest plan and the plans of `previous` versions."""
        return PlanVersions(self.compile(), [old.compile() for old in self.previous])

    @property
    def workflow(self) -> type:
        """The generated `@workflow.defn` class; its workflow type name is `name`."""
        if self._workflow is None:
            self._workflow = workflow_class(self.versions)
        return self._workflow

    @property
    def workflows(self) -> list[type]:
        """This target's workflow class and those of the targets it nests, each once.

        A nested chain or graph reached in several versions (from this declaration and
        from its previous ones) gets one class knowing all of them, the newest being
        the version this declaration nests: runs of either parent find their child's plan.
        """
        return workflow_classes([self])

    @property
    def activities(self) -> list[StepDefinition]:
        """Every step a worker registers for this target (each activity name once).

        Includes the steps of previous versions and of the chains and graphs it nests.
        """
        steps: list[StepDefinition] = []
        for target in self._all_targets():
            steps.extend(target._steps())
            for old in target.previous:
                steps.extend(old._steps())
        return unique_steps(steps)

    @property
    def output_type(self) -> Any:
        """The type a run's result is decoded as (`Any` unless declared)."""
        return Any

    @property
    def execution_timeout(self) -> timedelta | None:
        """The bound on a whole run, if any."""
        return self.compile().timeout

    def start_context(
        self, defaults: RunDefaults, *, settle_cancelled: bool = True
    ) -> StartContext:
        """What a starter records for a new run of the newest version."""
        return StartContext(
            plan=self.fingerprint, defaults=defaults, settle_cancelled=settle_cancelled
        )

    def validate_input(self, value: Any) -> Any:
        """Validate a run input against the state model (outside any workflow)."""
        return validate_run_input(self.compile(), value)

    def _all_targets(self) -> list[WorkflowTarget]:
        """This target and every one it nests, breadth first: newer versions come first."""
        found: dict[int, WorkflowTarget] = {}
        queue: collections.deque[WorkflowTarget] = collections.deque([self])
        while queue:
            target = queue.popleft()
            if id(target) in found:
                continue
            found[id(target)] = target
            for old in [target, *target.previous]:
                queue.extend(old._children())
        return list(found.values())


_MERGED: dict[tuple[str, ...], type] = {}
"""Workflow classes of nested targets reached in several versions, by their fingerprints."""


def workflow_classes(targets: Iterable[WorkflowTarget]) -> list[type]:
    """The workflow classes hosting `targets`, their previous versions and nested targets.

    Each workflow type once. Declarations of one type reached from one target (a nested
    graph changed along with its parent) share one class knowing all their plans, the
    newest first. Reached from different targets, the declaration that knows every plan
    of the others hosts the type.

    Raises:
        DefinitionError: Different targets nest declarations of one workflow type that
            know different plans, and neither lists the other in `previous=`.
    """
    chosen: dict[str, PlanVersions] = {}
    classes: dict[str, type] = {}
    for top in targets:
        groups: dict[str, list[WorkflowTarget]] = {}
        for target in top._all_targets():  # newest first
            groups.setdefault(target.name, []).append(target)
        for name, group in groups.items():
            versions, cls = _hosted(group)
            known = chosen.get(name)
            if known is None or set(known.by_fingerprint) < set(versions.by_fingerprint):
                chosen[name], classes[name] = versions, cls
            elif not set(versions.by_fingerprint) <= set(known.by_fingerprint):
                raise _not_covering(name, known, versions)
    return list(classes.values())


def _hosted(group: list[WorkflowTarget]) -> tuple[PlanVersions, type]:
    newest = group[0]
    if len(group) == 1:
        return newest.versions, newest.workflow
    plans = [plan for target in group for plan in target.versions.by_fingerprint.values()]
    versions = PlanVersions(newest.compile(), plans)
    key = (versions.newest_fingerprint, *sorted(versions.by_fingerprint))
    if key not in _MERGED:  # one class per set of versions, however often it is asked for
        _MERGED[key] = workflow_class(versions)
    return versions, _MERGED[key]


def _not_covering(name: str, first: PlanVersions, second: PlanVersions) -> DefinitionError:
    mine, theirs = sorted(first.by_fingerprint), sorted(second.by_fingerprint)
    return DefinitionError(
        f"workflow '{name}' is declared in two versions that do not know each other "
        f"(plans {', '.join(mine)} and {', '.join(theirs)}); one worker hosts one "
        f"'{name}': list the older declaration in the newer one's previous= "
        f"(e.g. Graph('{name}', ..., previous=[older]))"
    )


def unique_steps(steps: Iterable[StepDefinition]) -> list[StepDefinition]:
    """Deduplicate steps by activity name, rejecting two functions under one name."""
    found: dict[str, StepDefinition] = {}
    for step in steps:
        known = found.get(step.name)
        if known is None:
            found[step.name] = step
        elif known.fn is not step.fn:
            raise DefinitionError(
                f"two different functions are declared as step '{step.name}' "
                f"({known.fn.__qualname__} and {step.fn.__qualname__}); give one another name"
            )
    return list(found.values())
