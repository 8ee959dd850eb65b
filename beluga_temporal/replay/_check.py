"""Check stored histories: each one's plan version, and whether it replays.

Used by `beluga replay` and `beluga_temporal.testing.assert_replays`.

For every history: which plan version (fingerprint) the run executed, then one of
`OK`, `UNKNOWN PLAN` (the targets declare no such version: add it to `previous=`),
`NON-DETERMINISTIC` (the code issues other commands than the history recorded; the
event where it diverges is named) or `FAIL` (an unreadable file, an unknown
workflow type, a payload that cannot be decoded).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import temporalio.client
import temporalio.runtime
import temporalio.worker

from beluga_temporal import _sdk
from beluga_temporal.engine import PlanVersions, versions_of
from beluga_temporal.errors import InvalidHistoryError
from beluga_temporal.replay._recorded import recorded_plan, workflow_type

Status = Literal["OK", "UNKNOWN PLAN", "NON-DETERMINISTIC", "FAIL"]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The verdict on one history file."""

    path: Path
    status: Status
    detail: str

    @property
    def ok(self) -> bool:
        """Whether the history replays."""
        return self.status == "OK"

    def line(self) -> str:
        """The report line (status first, so `grep '^OK'` works)."""
        return f"{self.status:<17}  {self.path}: {self.detail}"


class HistoryChecker:
    """Replays histories against the workflows of some targets."""

    def __init__(self, replayer: temporalio.worker.Replayer, workflows: Sequence[type]) -> None:
        self.replayer = replayer
        self.converter = replayer.config(active_config=True)["data_converter"]
        self.types = {_workflow_type(cls): versions_of(cls) for cls in workflows}

    async def check(self, path: Path) -> Outcome:
        """Say which plan `path` ran and whether it replays."""
        try:
            history = load_history(path)
        except InvalidHistoryError as error:  # one bad file must not hide the others' results
            return Outcome(path, "FAIL", str(error))
        name = workflow_type(history)
        if name is None:
            return Outcome(path, "FAIL", "the history has no WorkflowExecutionStarted event")
        if name not in self.types:
            known = ", ".join(f"'{t}'" for t in sorted(self.types))
            return Outcome(
                path, "FAIL", f"workflow type '{name}' is not among the targets ({known})"
            )
        try:
            plan = await recorded_plan(history, self.converter)
        except Exception as error:
            return Outcome(path, "FAIL", f"{name}: cannot read the plan it ran: {_one_line(error)}")
        versions = self.types[name]
        if versions is not None and plan is not None and plan not in versions.by_fingerprint:
            return Outcome(path, "UNKNOWN PLAN", _unknown(name, plan, versions))
        ran = _ran(name, plan, versions)
        result = await self.replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is None:
            return Outcome(path, "OK", ran)
        after = await first_failing_task(self.replayer, history)
        kind, message = describe_failure(result.replay_failure, history, after)
        status: Status = "NON-DETERMINISTIC" if kind == "non-determinism" else "FAIL"
        return Outcome(path, status, f"{ran}: {message}")


def load_history(path: Path) -> temporalio.client.WorkflowHistory:
    """Read an exported history; the workflow id is taken from the file name.

    Name files after their workflow id (`beluga history export ID -o ID.json`): a run's child
    workflow ids derive from its own, so replaying under another id diverges.

    Raises:
        InvalidHistoryError: The file cannot be read or is not a workflow history.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidHistoryError(f"cannot read history '{path}': {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise InvalidHistoryError(f"history '{path}' is not JSON: {error.msg}") from None
    try:
        return temporalio.client.WorkflowHistory.from_json(path.stem, data)
    except Exception as error:
        raise InvalidHistoryError(f"'{path}' is not a Temporal workflow history: {error}") from None


def _workflow_type(cls: type) -> str:
    return _sdk.workflow_name(cls) or cls.__name__


def _ran(name: str, plan: str | None, versions: PlanVersions | None) -> str:
    if plan is None:
        return f"{name} (no beluga plan recorded)"
    if versions is None:
        return f"{name} plan {plan}"
    which = "newest" if plan == versions.newest_fingerprint else "a previous version"
    return f"{name} plan {plan} ({which})"


def _unknown(name: str, plan: str, versions: PlanVersions) -> str:
    previous = [f for f in versions.by_fingerprint if f != versions.newest_fingerprint]
    knows = f"newest {versions.newest_fingerprint}"
    if previous:
        knows += f", previous {', '.join(previous)}"
    return (
        f"{name} plan {plan}: no declaration for it: add it to previous= (the targets know {knows})"
    )


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


# Core wraps the interesting line in a debug dump: `Failure { message: "...", ... }`.
_CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')
_SCHEDULED = re.compile(r"scheduled event '([^']+)'")


def _scheduled_event(
    history: temporalio.client.WorkflowHistory, activity_type: str, after: int = 0
) -> str:
    # Core names the activity type, not the event: take the first event scheduling that
    # type at or after the first workflow task that fails to replay.
    for event in history.events:
        attributes = event.activity_task_scheduled_event_attributes
        if (
            event.event_id >= after
            and event.HasField("activity_task_scheduled_event_attributes")
            and attributes.activity_type.name == activity_type
        ):
            return f" (history event {event.event_id}: ActivityTaskScheduled '{activity_type}')"
    return ""


async def first_failing_task(
    replayer: temporalio.worker.Replayer, history: temporalio.client.WorkflowHistory
) -> int:
    """Return the id of the first event after the last workflow task that still replays."""
    events = list(history.events)
    after = 0
    for index, event in enumerate(events):
        if not event.HasField("workflow_task_completed_event_attributes"):
            continue
        # A prefix ending with the next task's commands checks this task's commands.
        end = next(
            (
                i
                for i in range(index + 1, len(events))
                if events[i].HasField("workflow_task_completed_event_attributes")
            ),
            len(events) - 1,
        )
        prefix = temporalio.client.WorkflowHistory(history.workflow_id, events[: end + 1])
        result = await replayer.replay_workflow(prefix, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            return event.event_id
        after = event.event_id
    return after


def describe_failure(
    error: Exception, history: temporalio.client.WorkflowHistory, after: int = 0
) -> tuple[str, str]:
    """The kind of a replay failure and one line naming where the code diverges."""
    text = " ".join(str(error).split())
    found = _CORE_MESSAGE.search(text)
    message = found.group(1) if found else text or type(error).__name__
    scheduled = _SCHEDULED.search(message)
    if scheduled is not None:
        message += _scheduled_event(history, scheduled.group(1), after)
    kind = "non-determinism" if "Nondeterminism" in text else type(error).__name__
    return kind, message if kind == "non-determinism" else f"{kind}: {message}"


def quiet_runtime() -> temporalio.runtime.Runtime:
    """A Temporal runtime whose core logs only errors (a replay failure is our output)."""
    quiet = temporalio.runtime.TelemetryFilter(core_level="ERROR", other_level="ERROR")
    return temporalio.runtime.Runtime(
        telemetry=temporalio.runtime.TelemetryConfig(
            logging=temporalio.runtime.LoggingConfig(filter=quiet)
        )
    )


@contextlib.contextmanager
def sdk_logs_silenced(silenced: bool) -> Iterator[None]:
    """Silence the SDK's per-activation tracebacks (the report says it once)."""
    logger = logging.getLogger("temporalio")
    previous = logger.level
    if silenced:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)
