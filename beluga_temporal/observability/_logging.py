"""structlog configuration: one pipeline for structlog and stdlib `logging` records."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import opentelemetry.trace
import structlog
import temporalio.activity
import temporalio.workflow
from structlog.typing import EventDict, Processor, WrappedLogger

from beluga_temporal.observability._redact import REDACTED, must_redact, scrub
from beluga_temporal.settings import ObservabilitySettings


def add_trace_context(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Add `trace_id` / `span_id` (hex, as backends show them) of the current span."""
    context = opentelemetry.trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


def add_temporal_context(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Add workflow id, run id, step (activity type) and attempt inside an activity."""
    if temporalio.activity.in_activity():
        info = temporalio.activity.info()
        event.setdefault("workflow_id", info.workflow_id)
        event.setdefault("run_id", info.workflow_run_id)
        event.setdefault("step", info.activity_type)
        event.setdefault("attempt", info.attempt)
    elif temporalio.workflow.in_workflow():
        workflow = temporalio.workflow.info()
        event.setdefault("workflow_id", workflow.workflow_id)
        event.setdefault("run_id", workflow.run_id)
        event.setdefault("workflow_type", workflow.workflow_type)
    return event


class Redactor:
    """Replace secrets (always) and prompt text (unless captured) in log fields."""

    def __init__(self, *, capture_prompts: bool) -> None:
        self.capture_prompts = capture_prompts

    def __call__(self, _: WrappedLogger, __: str, event: EventDict) -> EventDict:
        for key in list(event):
            if must_redact(key, capture_prompts=self.capture_prompts):
                event[key] = REDACTED
            else:
                event[key] = scrub(event[key], capture_prompts=self.capture_prompts)
        return event


class _Handler(logging.StreamHandler[TextIO]):
    """The handler `configure_logging` installs; its class marks it for replacement."""


def configure_logging(settings: ObservabilitySettings) -> logging.StreamHandler[TextIO]:
    """Route structlog and stdlib logging through one processor chain to stderr.

    Replaces the handler a previous call installed; leaves other handlers alone.

    Returns:
        The installed root handler (`setStream` points it at another stream).
    """
    shared = _shared_processors(settings)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # not cached: a later setup_observability call must reach existing loggers
        cache_logger_on_first_use=False,
    )
    handler = _Handler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,  # records from temporalio & co. get the same fields
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *_renderer(settings),
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    return handler


def _shared_processors(settings: ObservabilitySettings) -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_context,
        add_temporal_context,
        Redactor(capture_prompts=settings.capture_prompts),
        structlog.processors.StackInfoRenderer(),
    ]


def _renderer(settings: ObservabilitySettings) -> list[Processor]:
    console = settings.log_format == "console" or (
        settings.log_format == "auto" and sys.stderr.isatty()
    )
    if console:
        return [structlog.dev.ConsoleRenderer()]
    return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]


def get_logger(name: str | None = None, **initial: Any) -> structlog.stdlib.BoundLogger:
    """Return a structlog logger; fields in `initial` go on every line it writes.

    Args:
        name: Logger name (shown as `logger`); usually `__name__`.
        **initial: Key/value pairs bound to the logger.
    """
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name, **initial)
    return logger
