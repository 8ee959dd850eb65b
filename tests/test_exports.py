"""The public surface is pinned: changing it is a deliberate act."""

from __future__ import annotations

import beluga_temporal
import beluga_temporal.errors

PUBLIC = [
    "BelugaError",
    "BelugaPlugin",
    "BelugaSettings",
    "BufferMemory",
    "Chain",
    "ChainSession",
    "Change",
    "CircuitBreaker",
    "CircuitBreakerNotDeclaredError",
    "CircuitOpenError",
    "ConfigurationError",
    "DefinitionError",
    "EncryptionKeyError",
    "ErrorInfo",
    "ExecutionError",
    "Graph",
    "GraphExecutionError",
    "InMemoryStore",
    "InvalidHistoryError",
    "InvalidInputError",
    "LocalRuntime",
    "NodeProgress",
    "Orchestrator",
    "PayloadTooLargeError",
    "RetryPolicy",
    "RunCancelledError",
    "RunDescription",
    "RunProgress",
    "RunTimeoutError",
    "SqliteStore",
    "StateStore",
    "Step",
    "StepContext",
    "StepFailedError",
    "StepOptions",
    "UnknownPlanError",
    "Usage",
    "WindowMemory",
    "WorkflowAlreadyStartedError",
    "WorkflowRun",
    "WorkflowStarter",
    "create_worker",
    "heartbeat",
    "last_heartbeat_details",
    "llm",
    "llm_decision",
    "llm_step",
    "resilience",
    "setup_observability",
    "step",
    "step_context",
]


def test_the_public_names_are_exactly_these() -> None:
    assert sorted(beluga_temporal.__all__) == PUBLIC
    assert len(set(beluga_temporal.__all__)) == len(beluga_temporal.__all__)


def test_every_public_name_resolves() -> None:
    missing = [name for name in PUBLIC if not hasattr(beluga_temporal, name)]
    assert missing == []


def test_every_error_is_public_and_derives_from_the_one_root() -> None:
    for name in beluga_temporal.errors.__all__:
        error = getattr(beluga_temporal.errors, name)
        assert issubclass(error, beluga_temporal.errors.BelugaError), name
        assert getattr(beluga_temporal, name) is error, name
