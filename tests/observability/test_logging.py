import dataclasses
import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

from beluga_temporal.observability import (
    REDACTED,
    Observability,
    current_observability,
    get_logger,
    setup_observability,
)
from beluga_temporal.testing import OTLPReceiver

from .conftest import settings_for

Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def log_lines(observability: Observability) -> Iterator[Lines]:
    live = current_observability()  # the live one, even after a reconfigure
    assert live is not None  # the `observability` fixture set it up
    stream = io.StringIO()
    previous = live.log_handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    if previous is not None:  # None only when the stream was already this one
        live.log_handler.setStream(previous)


def test_lines_inside_a_span_carry_its_trace_and_span_ids(
    observability: Observability, log_lines: Lines
) -> None:
    with observability.tracer().start_as_current_span("node validate") as span:
        get_logger("orders").info("validated", order_id="o-1")
    (line,) = log_lines()
    context = span.get_span_context()
    assert line["event"] == "validated"
    assert line["order_id"] == "o-1"
    assert line["level"] == "info"
    assert line["logger"] == "orders"
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")


def test_stdlib_records_get_the_same_fields(observability: Observability, log_lines: Lines) -> None:
    with observability.tracer().start_as_current_span("worker") as span:
        logging.getLogger("temporalio.worker").warning("poller %s stopped", "p-1")
    (line,) = log_lines()
    assert line["event"] == "poller p-1 stopped"
    assert line["level"] == "warning"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")


def test_lines_inside_an_activity_name_the_run_step_and_attempt(log_lines: Lines) -> None:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info,
        workflow_id="order-123",
        workflow_run_id="run-9",
        activity_type="check_credit",
        attempt=3,
    )
    env.run(lambda: get_logger(__name__).info("checking"))
    (line,) = log_lines()
    assert {k: line[k] for k in ("workflow_id", "run_id", "step", "attempt")} == {
        "workflow_id": "order-123",
        "run_id": "run-9",
        "step": "check_credit",
        "attempt": 3,
    }


def test_outside_spans_and_activities_no_ids_are_added(log_lines: Lines) -> None:
    get_logger().info("plain")
    (line,) = log_lines()
    assert not {"trace_id", "span_id", "workflow_id", "step"} & line.keys()


def test_secrets_and_prompts_are_redacted(log_lines: Lines) -> None:
    get_logger().info("calling", api_key="sk-live-1", authorization="Bearer x", prompt="hi")
    (line,) = log_lines()
    assert line["api_key"] == line["authorization"] == line["prompt"] == REDACTED
    assert "sk-live-1" not in json.dumps(line)


def test_below_the_level_nothing_is_written(log_lines: Lines) -> None:
    get_logger().debug("noise")
    assert log_lines() == []


def test_console_format_is_not_json(observability: Observability, receiver: OTLPReceiver) -> None:
    obs = setup_observability(settings_for(receiver, log_format="console", log_level="debug"))
    try:
        stream = io.StringIO()
        obs.log_handler.setStream(stream)
        get_logger().debug("shown", answer=42)
        text = stream.getvalue()
    finally:
        setup_observability(settings_for(receiver))
    assert "shown" in text
    assert "answer" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_one_handler_however_often_it_is_configured(
    observability: Observability, receiver: OTLPReceiver
) -> None:
    setup_observability(settings_for(receiver, log_level="WARNING"))
    obs = setup_observability(settings_for(receiver))
    ours = [h for h in logging.getLogger().handlers if type(h).__module__.startswith("beluga")]
    assert ours == [obs.log_handler]
