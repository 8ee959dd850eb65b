"""Inside Temporal: generated workflow classes, the deterministic interpreter, activities.

Workflow-side modules here never do I/O, read clocks or randomness, or import anything
non-deterministic (no `openai`, no `structlog`, no HTTP clients).
"""

from beluga_temporal.runtime._activity import report_usage
from beluga_temporal.runtime._failures import ErrorInfo
from beluga_temporal.runtime._progress import PROGRESS_QUERY, NodeProgress, RunProgress, Usage

__all__ = ["PROGRESS_QUERY", "ErrorInfo", "NodeProgress", "RunProgress", "Usage", "report_usage"]
