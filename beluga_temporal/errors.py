"""The exceptions beluga-temporal raises.

Every exception the framework raises derives from one root::

    BelugaError
    ├── DefinitionError          a chain/graph/step declaration is invalid (caught early)
    ├── ConfigurationError       settings, binaries, providers or connections are wrong
    │   ├── CircuitBreakerNotDeclaredError  a step names a breaker its worker never made
    │   └── EncryptionKeyError   a payload is encrypted with a key this process lacks
    ├── CircuitOpenError         a circuit breaker refused a call (retryable, `.retry_after`)
    ├── PayloadTooLargeError     a value is over Temporal's payload limit (`.size`, `.limit`)
    ├── InvalidInputError        a run's input does not fit the declared state model
    ├── UnknownPlanError         a run started on a plan version this process does not know
    ├── InvalidHistoryError      a file is not a readable Temporal workflow history
    └── ExecutionError           a run failed; carries workflow id / run id
        ├── StepFailedError      a step failed after its retries (`.step`, `.error_type`)
        ├── GraphExecutionError  a graph node failed (`.node`, `.completed`, `.skipped`)
        ├── RunTimeoutError      a run timed out (`.timeout_kind`); step timeouts are
        │                        StepFailedError(error_type="TimeoutError")
        ├── RunCancelledError    a run was cancelled
        └── WorkflowAlreadyStartedError  a run with that workflow id is already running

Inside activities, failures become Temporal `ApplicationError`s; on the client side they
are turned back into these types by `beluga_temporal.client`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BelugaError",
    "CircuitBreakerNotDeclaredError",
    "CircuitOpenError",
    "ConfigurationError",
    "DefinitionError",
    "EncryptionKeyError",
    "ExecutionError",
    "GraphExecutionError",
    "InvalidHistoryError",
    "InvalidInputError",
    "PayloadTooLargeError",
    "RunCancelledError",
    "RunTimeoutError",
    "StepFailedError",
    "UnknownPlanError",
    "WorkflowAlreadyStartedError",
]


class BelugaError(Exception):
    """Root of every error raised by beluga-temporal."""


class DefinitionError(BelugaError):
    """A step, chain or graph declaration is invalid.

    Raised when declaring or compiling, before anything runs.
    """


class ConfigurationError(BelugaError):
    """Settings, binaries, providers or connection parameters are wrong or missing."""


class EncryptionKeyError(ConfigurationError):
    """A payload cannot be decrypted with the keys this process has.

    Raised by the payload codec (`beluga_temporal.security`) when a payload names a key
    id that is neither the current key nor one of `security.previous_keys`, when this
    process has no key at all, or when an encrypted payload fails authentication.
    A workflow task that meets it fails and is retried, so the run goes on once a
    worker with the right key polls its task queue.

    Attributes:
        key_id: The key id the payload names (`None` when it names none).
    """

    def __init__(self, message: str, *, key_id: str | None) -> None:
        super().__init__(message)
        self.key_id = key_id


class ExecutionError(BelugaError):
    """A workflow run failed.

    Attributes:
        workflow_id: The failed run's workflow id, when known.
        run_id: The failed run's run id, when known.
        step: The step that failed, when one did.
        node: The graph node that failed, when one did.
        attempt: The attempt number of the failing step, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        workflow_id: str | None = None,
        run_id: str | None = None,
        step: str | None = None,
        node: str | None = None,
        attempt: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.step = step
        self.node = node
        self.attempt = attempt


class StepFailedError(ExecutionError):
    """A step failed after exhausting its retries.

    Attributes:
        error_type: The type name of the step's last error (e.g. `"ValueError"`).
        cause_message: The step's last error message.
    """

    def __init__(
        self,
        message: str,
        *,
        step: str,
        error_type: str,
        cause_message: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, step=step, **kwargs)
        self.error_type = error_type
        self.cause_message = cause_message


class GraphExecutionError(ExecutionError):
    """A graph run failed because a node failed.

    Attributes:
        error_type: The type name of the failed node's error.
        error: The failed node's error message.
        completed: Nodes that completed, in completion order.
        skipped: Nodes that were skipped (including those the failure left unstarted).
        cancelled: Nodes that were running and were cancelled (`fail_fast`).
        unfinished: Finish points that did not succeed (`on_error="continue"`).
    """

    def __init__(
        self,
        message: str,
        *,
        node: str,
        error_type: str,
        error: str,
        completed: list[str],
        skipped: list[str],
        cancelled: list[str] | None = None,
        unfinished: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, node=node, **kwargs)
        self.error_type = error_type
        self.error = error
        self.completed = completed
        self.skipped = skipped
        self.cancelled = cancelled or []
        self.unfinished = unfinished or []


class RunTimeoutError(ExecutionError):
    """A run timed out.

    A step that timed out after its retries surfaces as `StepFailedError` (or a graph's
    `GraphExecutionError`) with `error_type == "TimeoutError"` and a message naming the
    timeout that fired (`start_to_close`, `schedule_to_close`, `heartbeat`).

    Attributes:
        timeout_kind: Which timeout fired: `"execution"` for the whole run.
    """

    def __init__(self, message: str, *, timeout_kind: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.timeout_kind = timeout_kind


class RunCancelledError(ExecutionError):
    """A run was cancelled before it finished."""


class WorkflowAlreadyStartedError(ExecutionError):
    """A run with the requested workflow id is already running."""


class CircuitOpenError(BelugaError):
    """A circuit breaker refused a call because its dependency is failing.

    Retryable: inside a step it becomes an `ApplicationError` whose `next_retry_delay`
    is `retry_after`, so Temporal schedules the next attempt when the breaker half-opens.

    Attributes:
        breaker: The breaker's name.
        retry_after: Seconds until the breaker admits a probe call.
    """

    def __init__(self, breaker: str, retry_after: float) -> None:
        super().__init__(f"circuit breaker '{breaker}' is open; next attempt in {retry_after:.2f}s")
        self.breaker = breaker
        self.retry_after = retry_after


class CircuitBreakerNotDeclaredError(ConfigurationError):
    """A step names a circuit breaker that its worker process never declared.

    Never retried: the worker's configuration does not change between attempts. Inside
    a step it becomes a non-retryable `ApplicationError`, before the step's function
    runs.

    Attributes:
        breaker: The breaker's name.
    """

    def __init__(self, breaker: str) -> None:
        super().__init__(
            f"circuit breaker '{breaker}' is not declared in this worker process: create it "
            f"with CircuitBreaker({breaker!r}, max_failures=..., reset_timeout=...) in a "
            "module the worker imports (e.g. next to the steps that use it), or pass that "
            "object as @step(circuit_breaker=...)"
        )
        self.breaker = breaker


class PayloadTooLargeError(BelugaError):
    """A step input or result, or a run input, is over Temporal's payload size limit.

    Never retried: the same value would be rejected again. Store large data elsewhere
    (a blob store, a database) and pass a reference.

    Attributes:
        what: What was too large, e.g. `"result of step 'render'"`.
        size: Its encoded size in bytes.
        limit: The limit in bytes.
    """

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(
            f"{what} is {_mib(size)} ({size} bytes), over the payload limit of "
            f"{_mib(limit)} ({limit} bytes); store large data elsewhere and pass a reference"
        )
        self.what = what
        self.size = size
        self.limit = limit


class InvalidInputError(BelugaError):
    """A run's input does not fit the state model its graph declares.

    Raised by starters before anything starts; a run started by another client with
    such an input fails with the same message.
    """


class InvalidHistoryError(BelugaError):
    """A file given as a workflow history cannot be read, or is not one."""


class UnknownPlanError(BelugaError):
    """A run started on a version of a chain or graph that this process does not know.

    Inside a worker it fails the workflow task (the run waits, unharmed, for a worker
    that knows its plan); `beluga replay` reports it per history.

    Attributes:
        workflow_id: The run's workflow id.
        started: Fingerprint of the plan the run started on.
        known: Fingerprints this process knows, newest first.
    """

    def __init__(self, message: str, *, workflow_id: str, started: str, known: list[str]) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.started = started
        self.known = known


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.2f} MiB"
