"""The compiled, serialisable form of chains and graphs, its validation and identity."""

from beluga_temporal.plan._fingerprint import fingerprint, identity, run_summary
from beluga_temporal.plan._options import (
    DEFAULT_STEP_TIMEOUT,
    Duration,
    RetryPolicy,
    StepOptions,
    error_type_name,
    positive,
    set_default_retry,
    to_timedelta,
)
from beluga_temporal.plan._plan import (
    HISTORY_KEY,
    ChainPlan,
    GraphPlan,
    MemoryPlan,
    NodePlan,
    OnError,
    Plan,
    RouteFn,
    RouterPlan,
    qualified_name,
)
from beluga_temporal.plan._render import to_dot, to_mermaid
from beluga_temporal.plan._start import (
    MEMO_KEY,
    RunDefaults,
    StartContext,
    process_defaults,
    validate_run_input,
)
from beluga_temporal.plan._step import StepDefinition
from beluga_temporal.plan._validate import (
    ancestor_bits,
    check_edges,
    check_entry_and_finish,
    topological_order,
)

__all__ = [
    "DEFAULT_STEP_TIMEOUT",
    "HISTORY_KEY",
    "MEMO_KEY",
    "ChainPlan",
    "Duration",
    "GraphPlan",
    "MemoryPlan",
    "NodePlan",
    "OnError",
    "Plan",
    "RetryPolicy",
    "RouteFn",
    "RouterPlan",
    "RunDefaults",
    "StartContext",
    "StepDefinition",
    "StepOptions",
    "ancestor_bits",
    "check_edges",
    "check_entry_and_finish",
    "error_type_name",
    "fingerprint",
    "identity",
    "positive",
    "process_defaults",
    "qualified_name",
    "run_summary",
    "set_default_retry",
    "to_dot",
    "to_mermaid",
    "to_timedelta",
    "topological_order",
    "validate_run_input",
]
