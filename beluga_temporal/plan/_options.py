"""Retry policies and per-step options, and their mapping onto Temporal's."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import temporalio.common
import temporalio.workflow

from beluga_temporal.errors import DefinitionError

Duration = timedelta | float | int
"""A duration: a `timedelta` or a number of seconds."""

DEFAULT_STEP_TIMEOUT = timedelta(seconds=60)


def to_timedelta(value: Duration | None, what: str) -> timedelta | None:
    """Normalise a duration given as seconds or `timedelta`, rejecting negatives."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, timedelta | float | int):
        raise DefinitionError(f"{what} must be seconds or a timedelta, got {value!r}")
    try:
        delta = value if isinstance(value, timedelta) else timedelta(seconds=float(value))
    except OverflowError:
        raise DefinitionError(f"{what} is too large: {value!r}") from None
    if delta < timedelta(0):
        raise DefinitionError(f"{what} must not be negative, got {value!r}")
    return delta


def positive(value: timedelta | None, what: str) -> timedelta | None:
    """Reject a zero duration where Temporal needs a positive one."""
    if value is not None and value <= timedelta(0):
        raise DefinitionError(f"{what} must be positive, got {value.total_seconds()} s")
    return value


def error_type_name(error: type[BaseException] | str) -> str:
    """Return the type name Temporal records for an exception class."""
    return error if isinstance(error, str) else error.__name__


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often and how fast a failing step is retried.

    Maps onto `temporalio.common.RetryPolicy`. Durations accept seconds or `timedelta`.
    """

    max_attempts: int = 3
    """Total attempts including the first; `0` means unlimited (Temporal's default)."""
    initial_backoff: Duration = 1.0
    """Delay before the first retry."""
    backoff_factor: float = 2.0
    """Multiplier applied to the delay after each retry."""
    max_backoff: Duration | None = 60.0
    """Upper bound on the delay between retries."""
    non_retryable: Sequence[type[BaseException] | str] = ()
    """Exception classes (or type names) that fail the step at once."""

    def __post_init__(self) -> None:
        if self.max_attempts < 0:
            raise DefinitionError(f"max_attempts must be >= 0, got {self.max_attempts}")
        if self.backoff_factor < 1:
            raise DefinitionError(f"backoff_factor must be >= 1, got {self.backoff_factor}")
        object.__setattr__(self, "initial_backoff", to_timedelta(self.initial_backoff, "backoff"))
        object.__setattr__(self, "max_backoff", to_timedelta(self.max_backoff, "max_backoff"))
        names = tuple(sorted(set(map(error_type_name, self.non_retryable))))
        object.__setattr__(self, "non_retryable", names)

    def to_temporal(self, extra_non_retryable: Sequence[str] = ()) -> temporalio.common.RetryPolicy:
        """Return the equivalent Temporal retry policy."""
        names = sorted({*map(error_type_name, self.non_retryable), *extra_non_retryable})
        initial = self.initial_backoff
        assert isinstance(initial, timedelta)  # normalised in __post_init__
        maximum = self.max_backoff
        assert maximum is None or isinstance(maximum, timedelta)
        return temporalio.common.RetryPolicy(
            initial_interval=initial,
            backoff_coefficient=self.backoff_factor,
            maximum_interval=maximum if maximum is None or maximum >= initial else initial,
            maximum_attempts=self.max_attempts,
            non_retryable_error_types=names or None,
        )

    def identity(self) -> dict[str, Any]:
        """A JSON-able description, part of plan fingerprints."""
        return {
            "max_attempts": self.max_attempts,
            "initial_backoff": _seconds(self.initial_backoff),
            "backoff_factor": self.backoff_factor,
            "max_backoff": _seconds(self.max_backoff),
            "non_retryable": list(self.non_retryable),
        }


def _seconds(value: Duration | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@dataclasses.dataclass(frozen=True)
class StepOptions:
    """Everything Temporal needs to schedule one step as an activity.

    Activity names are wire format: renaming a step breaks runs in flight.
    """

    name: str
    """The activity type name."""
    start_to_close: timedelta | None = DEFAULT_STEP_TIMEOUT
    """Bound on one attempt."""
    schedule_to_close: timedelta | None = None
    """Bound on all attempts together, including backoff."""
    heartbeat: timedelta | None = None
    """Longest silence between heartbeats before an attempt is considered lost."""
    retry: RetryPolicy | None = None
    """The step's own retry policy; `None` lets the chain/graph default apply."""
    non_retryable: tuple[str, ...] = ()
    """Exception type names that fail the step at once."""
    task_queue: str | None = None
    """Run on another task queue (e.g. a queue of LLM workers)."""
    local: bool | None = None
    """Run as a local activity; `None` follows the chain's or graph's `local`."""
    circuit_breaker: str | None = None
    """Name of the `CircuitBreaker` guarding the step in each worker process."""
    settle_cancelled: bool = True
    """Wait for a cancelled step to settle (set per run; not part of the plan)."""

    def replace(self, **overrides: Any) -> StepOptions:
        """Return a copy with the given fields overridden (durations may be seconds)."""
        unknown = set(overrides) - {f.name for f in dataclasses.fields(self)} - {"timeout"}
        if unknown:
            raise DefinitionError(f"unknown step option(s): {', '.join(sorted(unknown))}")
        if "timeout" in overrides:
            overrides["start_to_close"] = overrides.pop("timeout")
        for key in ("start_to_close", "schedule_to_close", "heartbeat"):
            if key in overrides:
                overrides[key] = positive(to_timedelta(overrides[key], key), key)
        if "non_retryable" in overrides:
            overrides["non_retryable"] = tuple(map(error_type_name, overrides["non_retryable"]))
        if "circuit_breaker" in overrides:
            overrides["circuit_breaker"] = _breaker_name(overrides["circuit_breaker"])
        return dataclasses.replace(self, **overrides)

    def resolved(
        self, retry: RetryPolicy | None, local: bool, *, settle_cancelled: bool = True
    ) -> StepOptions:
        """Fill in what the step left open: the default retry policy and local mode.

        A step with its own task queue never runs locally unless it asked to: local
        activities run on the workflow's worker, whatever queue the step names.
        """
        return _resolved(self, retry, local, settle_cancelled)

    def activity_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments for `workflow.execute_activity`."""
        # Built once per options and process default: every step of every run asks.
        return dict(_activity_kwargs(self, _default_retry))

    def _activity_kwargs(self, default_retry: RetryPolicy) -> dict[str, Any]:
        retry = self.retry or default_retry
        kwargs: dict[str, Any] = {
            "start_to_close_timeout": self.start_to_close,
            "schedule_to_close_timeout": self.schedule_to_close,
            "retry_policy": retry.to_temporal(self.non_retryable),
        }
        if not self.local:
            kwargs["heartbeat_timeout"] = self.heartbeat
            kwargs["task_queue"] = self.task_queue
            # Wait for a cancelled step to settle: a step that completes anyway must be
            # known (and compensated), and a run must not report failure before it does.
            kwargs["cancellation_type"] = (
                _WAIT_CANCELLATION if self.settle_cancelled else _TRY_CANCEL
            )
        if kwargs["start_to_close_timeout"] is None and kwargs["schedule_to_close_timeout"] is None:
            # Temporal requires one of the two; keep the default bound rather than fail.
            kwargs["start_to_close_timeout"] = DEFAULT_STEP_TIMEOUT
        return kwargs

    def identity(self) -> dict[str, Any]:
        """A JSON-able description, part of plan fingerprints."""
        return {
            "name": self.name,
            "start_to_close": _seconds(self.start_to_close),
            "schedule_to_close": _seconds(self.schedule_to_close),
            "heartbeat": _seconds(self.heartbeat),
            "retry": None if self.retry is None else self.retry.identity(),
            "non_retryable": sorted(self.non_retryable),
            "task_queue": self.task_queue,
            "local": self.local,
            "circuit_breaker": self.circuit_breaker,
        }


@functools.lru_cache(maxsize=4096)
def _resolved(
    options: StepOptions, retry: RetryPolicy | None, local: bool, settle_cancelled: bool
) -> StepOptions:
    # Cached: every run resolves the same few options the same way.
    run_local = options.local if options.local is not None else local and options.task_queue is None
    return dataclasses.replace(
        options, retry=options.retry or retry, local=run_local, settle_cancelled=settle_cancelled
    )


@functools.lru_cache(maxsize=4096)
def _activity_kwargs(options: StepOptions, default_retry: RetryPolicy) -> dict[str, Any]:
    return options._activity_kwargs(default_retry)


_WAIT_CANCELLATION = temporalio.workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
_TRY_CANCEL = temporalio.workflow.ActivityCancellationType.TRY_CANCEL


def _breaker_name(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    name = getattr(value, "name", None)
    if not isinstance(name, str):
        raise DefinitionError(f"circuit_breaker must be a CircuitBreaker or a name, got {value!r}")
    return name


_default_retry = RetryPolicy()


def set_default_retry(policy: RetryPolicy | None) -> None:
    """Set the retry policy of steps that declare none and run outside chains.

    Chains and graphs fill in their own defaults when a run starts; this one applies to
    steps that hand-written workflows call with `.execute()`. It is process-wide and
    set by workers before they run (`create_worker(default_retry=...)`); `None`
    restores 3 attempts. Retry policies are not part of replay checks, so changing it
    affects only steps scheduled afterwards.
    """
    global _default_retry
    _default_retry = policy or RetryPolicy()
