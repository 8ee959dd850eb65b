"""beluga-temporal: steps, chains and graphs compiled to deterministic Temporal workflows.

Declare steps with `@step`, compose them into a `Chain` or a `Graph`, and run them on
Temporal: in-process on an embedded server (`await graph.invoke(...)`, `LocalRuntime`)
or on any cluster through workers (`create_worker`) and clients (`Orchestrator`).
"""

from beluga_temporal import llm, resilience
from beluga_temporal.client import (
    ChainSession,
    Orchestrator,
    RunDescription,
    WorkflowRun,
    WorkflowStarter,
)
from beluga_temporal.declare import Chain, Graph, RetryPolicy, Step, StepOptions, step
from beluga_temporal.engine import ErrorInfo, NodeProgress, RunProgress, Usage
from beluga_temporal.errors import (
    BelugaError,
    CircuitBreakerNotDeclaredError,
    CircuitOpenError,
    ConfigurationError,
    DefinitionError,
    EncryptionKeyError,
    ExecutionError,
    GraphExecutionError,
    InvalidHistoryError,
    InvalidInputError,
    PayloadTooLargeError,
    RunCancelledError,
    RunTimeoutError,
    StepFailedError,
    UnknownPlanError,
    WorkflowAlreadyStartedError,
)
from beluga_temporal.llm import llm_decision, llm_step
from beluga_temporal.local import LocalRuntime
from beluga_temporal.memory import BufferMemory, WindowMemory
from beluga_temporal.observability import setup_observability
from beluga_temporal.plugin import BelugaPlugin
from beluga_temporal.resilience import (
    CircuitBreaker,
    StepContext,
    heartbeat,
    last_heartbeat_details,
    step_context,
)
from beluga_temporal.settings import BelugaSettings
from beluga_temporal.state import Change, InMemoryStore, SqliteStore, StateStore
from beluga_temporal.worker import create_worker

__all__ = [
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
