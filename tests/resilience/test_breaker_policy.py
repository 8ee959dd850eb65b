"""Breaker policy, with a fake clock: jittered rejections, business errors, declaration."""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Unpack

import pydantic
import pytest
from temporalio.exceptions import ApplicationError

from beluga_temporal.errors import ConfigurationError, DefinitionError
from beluga_temporal.resilience import (
    CircuitBreaker,
    CircuitBreakerNotDeclaredError,
    CircuitOpenError,
    CircuitState,
    add_breaker_listener,
    get_circuit_breaker,
    remove_breaker_listener,
)
from tests.resilience.test_breaker import BreakerOptions, FakeClock, fail, succeed


class CardDeclined(Exception):
    """A business answer of the payment service."""


class CardExpired(CardDeclined):
    pass


class Amount(pydantic.BaseModel):
    cents: int


def validation_error() -> pydantic.ValidationError:
    try:
        Amount.model_validate({"cents": "many"})
    except pydantic.ValidationError as error:
        return error
    raise AssertionError("expected a validation error")


def breaker(reset: float = 10.0, **kw: Unpack[BreakerOptions]) -> tuple[CircuitBreaker, FakeClock]:
    clock = FakeClock()
    made = CircuitBreaker(f"p-{uuid.uuid4().hex[:8]}", 1, reset, clock=clock, **kw)
    return made, clock


def rejection(b: CircuitBreaker) -> float:
    with pytest.raises(CircuitOpenError) as caught, b.guard():
        pass
    return caught.value.retry_after


def test_callers_rejected_while_half_open_come_back_spread_out() -> None:
    b, clock = breaker(reset=10.0)  # default jitter: a fifth of reset_timeout
    fail(b)
    clock.now += 10.0
    with b.guard():  # the probe is in flight: everyone else is turned away
        delays = [rejection(b) for _ in range(50)]
    assert all(10.0 <= d <= 12.0 for d in delays)
    assert len(set(delays)) == 50  # not all at once
    assert max(delays) - min(delays) > 0.5


def test_callers_rejected_while_open_come_back_after_the_half_open() -> None:
    b, clock = breaker(reset=10.0, jitter=3)
    fail(b)
    clock.now += 4.0
    delays = [rejection(b) for _ in range(50)]
    assert all(6.0 <= d <= 9.0 for d in delays)
    assert len(set(delays)) == 50
    assert b.jitter == 3.0


def test_zero_jitter_is_exact_and_negative_jitter_is_refused() -> None:
    b, clock = breaker(reset=10.0, jitter=0)
    fail(b)
    clock.now += 10.0
    with b.guard():
        assert {rejection(b) for _ in range(5)} == {10.0}
    with pytest.raises(DefinitionError, match="jitter must be >= 0"):
        breaker(jitter=-1)


@pytest.mark.parametrize(
    "error",
    [
        ApplicationError("card declined", type="Declined", non_retryable=True),
        ApplicationError("listed by type", type="CardDeclined"),
        validation_error(),
        CardDeclined("insufficient funds"),
        CardExpired("expired"),  # a subclass of a listed type
    ],
    ids=["non-retryable", "listed-type", "validation", "listed", "listed-base"],
)
def test_business_errors_are_answers_not_outages(error: Exception) -> None:
    b, clock = breaker()
    for _ in range(3):
        with pytest.raises(type(error)), b.guard(non_retryable=["CardDeclined"]):
            raise error
    assert b.state is CircuitState.CLOSED
    fail(b)  # an outage still opens it ...
    clock.now += 10.0
    with pytest.raises(type(error)), b.guard(non_retryable=["CardDeclined"]):
        raise error  # ... and a probe that gets an answer closes it
    assert b.state is CircuitState.CLOSED


def test_business_errors_count_when_configured() -> None:
    b, _ = breaker(count_non_retryable=True)
    assert b.count_non_retryable
    with pytest.raises(CardDeclined), b.guard(non_retryable=["CardDeclined"]):
        raise CardDeclined("no")
    assert b.state is CircuitState.OPEN


def test_retryable_application_errors_still_count() -> None:
    b, _ = breaker()
    fail(b, ApplicationError("gateway timeout", type="GatewayTimeout"))
    assert b.state is CircuitState.OPEN


def test_an_undeclared_breaker_is_a_configuration_error() -> None:
    name = f"never-declared-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ConfigurationError) as caught:
        get_circuit_breaker(name)
    assert isinstance(caught.value, CircuitBreakerNotDeclaredError)
    assert caught.value.breaker == name
    message = str(caught.value)
    assert f"circuit breaker '{name}' is not declared in this worker process" in message
    assert f"CircuitBreaker({name!r}, max_failures=" in message


def test_breaker_listeners_hear_every_breaker(caplog: pytest.LogCaptureFixture) -> None:
    heard: list[tuple[str, str, str]] = []

    def listener(name: str, previous: CircuitState, state: CircuitState) -> None:
        heard.append((name, previous.value, state.value))

    def broken(name: str, previous: CircuitState, state: CircuitState) -> None:
        raise RuntimeError("exporter down")

    first, second = breaker()[0], breaker()[0]
    add_breaker_listener(listener)
    add_breaker_listener(listener)  # once is enough
    add_breaker_listener(broken)
    try:
        with caplog.at_level(logging.ERROR, "beluga_temporal.resilience"):
            fail(first)  # a failing listener never fails the guarded call
            second.reset()  # no transition: closed already
            fail(second)
    finally:
        remove_breaker_listener(listener)
        remove_breaker_listener(broken)
    first.reset()
    assert heard == [(first.name, "closed", "open"), (second.name, "closed", "open")]
    failures = [r for r in caplog.records if r.getMessage().startswith("circuit breaker listener")]
    assert len(failures) == 2
    succeed(first)


def test_plain_guard_keeps_working_without_step_names() -> None:
    b, _ = breaker()
    with contextlib.suppress(CardDeclined), b.guard():
        raise CardDeclined("not listed here: counts as a failure")
    assert b.state is CircuitState.OPEN
