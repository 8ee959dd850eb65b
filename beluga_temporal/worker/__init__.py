"""Workers: `create_worker` and the temporalio plugin carrying beluga's settings."""

from beluga_temporal.worker._plugin import BelugaPlugin, sandboxed_runner
from beluga_temporal.worker._worker import WorkerTarget, create_worker

__all__ = ["BelugaPlugin", "WorkerTarget", "create_worker", "sandboxed_runner"]
