"""What users write: steps, chains, graphs, retry policies and step options."""

from beluga_temporal.declare._chain import Chain
from beluga_temporal.declare._graph import Graph
from beluga_temporal.declare._step import AsyncStep, Step, SyncStep, step
from beluga_temporal.declare._target import Runnable, Target
from beluga_temporal.plan import RetryPolicy, StepOptions

__all__ = [
    "AsyncStep",
    "Chain",
    "Graph",
    "RetryPolicy",
    "Runnable",
    "Step",
    "StepOptions",
    "SyncStep",
    "Target",
    "step",
]
