"""`BelugaPlugin`: what plain temporalio clients, workers and replayers need for beluga.

A neutral layer: both `client` and `worker` use it, and neither imports the other.
"""

from beluga_temporal.plugin._plugin import (
    PASSTHROUGH_MODULES,
    PLUGIN_NAME,
    BelugaPlugin,
    has_beluga_plugin,
    sandboxed_runner,
    with_beluga_plugin,
)
from beluga_temporal.plugin._server import is_time_skipping

__all__ = [
    "PASSTHROUGH_MODULES",
    "PLUGIN_NAME",
    "BelugaPlugin",
    "has_beluga_plugin",
    "is_time_skipping",
    "sandboxed_runner",
    "with_beluga_plugin",
]
