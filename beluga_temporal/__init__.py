"""beluga-temporal: steps, chains and graphs compiled to deterministic Temporal workflows.

Declare steps with `@step`, compose them into a `Chain` or a `Graph`, and run them on
Temporal: in-process on an embedded server (`await graph.invoke(...)`, `LocalRuntime`)
or on any cluster through workers (`create_worker`) and clients (`Orchestrator`).
"""

from beluga_temporal.client import Orchestrator, WorkflowRun, WorkflowStarter
from beluga_temporal.declare import Chain, Graph, RetryPolicy, Step, StepOptions, step
from beluga_temporal.errors import (
    BelugaError,
    ConfigurationError,
    DefinitionError,
    ExecutionError,
    GraphExecutionError,
    RunCancelledError,
    RunTimeoutError,
    StepFailedError,
    WorkflowAlreadyStartedError,
)
from beluga_temporal.local import LocalRuntime
from beluga_temporal.runtime import ErrorInfo, NodeProgress, RunProgress, Usage
from beluga_temporal.worker import BelugaPlugin, create_worker

__all__ = [
    "BelugaError",
    "BelugaPlugin",
    "Chain",
    "ConfigurationError",
    "DefinitionError",
    "ErrorInfo",
    "ExecutionError",
    "Graph",
    "GraphExecutionError",
    "LocalRuntime",
    "NodeProgress",
    "Orchestrator",
    "RetryPolicy",
    "RunCancelledError",
    "RunProgress",
    "RunTimeoutError",
    "Step",
    "StepFailedError",
    "StepOptions",
    "Usage",
    "WorkflowAlreadyStartedError",
    "WorkflowRun",
    "WorkflowStarter",
    "create_worker",
    "step",
]
