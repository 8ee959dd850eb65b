"""Offline, deterministic chat models for demos and tests (provider `"test"`)."""

from __future__ import annotations

import collections
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from beluga_temporal.llm._config import ProviderConfig
from beluga_temporal.llm._messages import Message, Response, Usage
from beluga_temporal.llm._schema import sample_from_schema

__all__ = ["CallInfo", "FunctionModel", "TestModel"]

DEFAULT_TEST_TEXT = "This is a reply from the test model."


@dataclass(frozen=True)
class CallInfo:
    """What a `FunctionModel` function is told about the call besides the messages."""

    output_schema: dict[str, Any] | None
    """The JSON schema the reply must follow, or `None` for free text."""
    temperature: float | None
    """The requested temperature."""
    call_index: int
    """0 for the first call on this model instance, then 1, 2, ..."""


def _word_count(text: str) -> int:
    return len(text.split())


def _usage(messages: Sequence[Message], reply: str) -> Usage:
    # Word counts stand in for tokens: deterministic, and non-zero so accounting is testable.
    return Usage(
        input_tokens=sum(_word_count(m.text) for m in messages),
        output_tokens=_word_count(reply),
    )


MAX_RECORDED = 256
"""Conversations a test model keeps for inspection (bounded: workers run for long)."""


class _Recorder:
    """What both test models share: a model name and a bounded record of calls."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._calls: collections.deque[list[Message]] = collections.deque(maxlen=MAX_RECORDED)
        self._count = 0

    @property
    def model_name(self) -> str:
        """The model name given at construction."""
        return self._model

    @property
    def calls(self) -> list[list[Message]]:
        """The most recent conversations this model received (up to `MAX_RECORDED`)."""
        return list(self._calls)

    def _record(self, messages: Sequence[Message]) -> None:
        self._calls.append(list(messages))
        self._count += 1


class TestModel(_Recorder):
    """A deterministic model: schema-valid JSON when a schema is asked, fixed text otherwise.

    Structured replies come from `sample_from_schema` (the first enum choice, every
    property filled), with `output` merged over them, so `TestModel(output={"choice":
    "expedite"})` scripts a decision. Registered as provider `"test"`, which reads `text`
    and `output` from `ProviderConfig.extra`.

    Args:
        text: The reply when no schema is asked.
        output: A JSON object merged over (or, if not an object, replacing) the sampled
            structured reply.
        model: The model name reported in responses.
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(
        self, *, text: str = DEFAULT_TEST_TEXT, output: Any = None, model: str = "test"
    ) -> None:
        super().__init__(model)
        self._text = text
        self._output = output

    @property
    def provider(self) -> str:
        """Always `"test"`."""
        return "test"

    async def generate(
        self,
        messages: Sequence[Message],
        *,
        output_schema: dict[str, Any] | None = None,
        temperature: float | None = None,
    ) -> Response:
        """Reply deterministically; see the class docstring."""
        self._record(messages)
        reply = self._text if output_schema is None else json.dumps(self._structured(output_schema))
        return Response(
            text=reply, finish_reason="stop", usage=_usage(messages, reply), model=self._model
        )

    def _structured(self, schema: dict[str, Any]) -> Any:
        sample = sample_from_schema(schema)
        if isinstance(self._output, dict) and isinstance(sample, dict):
            return {**sample, **self._output}
        return sample if self._output is None else self._output


FunctionResult = str | dict[str, Any] | list[Any] | Response
"""What a `FunctionModel` function may return: text, a JSON value (dumped), or a `Response`."""
ModelFunction = Callable[[list[Message], CallInfo], FunctionResult | Awaitable[FunctionResult]]
"""The signature of a `FunctionModel` function (sync or async)."""


class FunctionModel(_Recorder):
    """A model whose replies come from your function — scripted conversations in tests.

    Example:
        ```python
        replies = iter(['{"choice": "maybe"}', '{"choice": "expedite"}'])
        model = FunctionModel(lambda messages, info: next(replies))
        llm.register("scripted", lambda config: model, replace=True)
        ```

    Args:
        fn: Called with the messages and a `CallInfo`; returns text, a JSON value (sent
            as its JSON text) or a whole `Response`; may be async and may raise (e.g. a
            `temporalio.exceptions.ApplicationError` to simulate provider failures).
        model: The model name reported in responses.
    """

    def __init__(self, fn: ModelFunction, *, model: str = "function") -> None:
        super().__init__(model)
        self._fn = fn

    @property
    def provider(self) -> str:
        """Always `"function"`."""
        return "function"

    async def generate(
        self,
        messages: Sequence[Message],
        *,
        output_schema: dict[str, Any] | None = None,
        temperature: float | None = None,
    ) -> Response:
        """Call the function and wrap what it returns in a `Response`."""
        info = CallInfo(output_schema, temperature, self._count)
        self._record(messages)
        result = self._fn(list(messages), info)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, Response):
            return result
        reply = result if isinstance(result, str) else json.dumps(result)
        return Response(
            text=reply, finish_reason="stop", usage=_usage(messages, reply), model=self._model
        )


def build_test_model(config: ProviderConfig) -> TestModel:
    """Build the `"test"` provider's model; `config.extra` may set `text` and `output`."""
    text = config.extra.get("text", DEFAULT_TEST_TEXT)
    return TestModel(
        text=str(text), output=config.extra.get("output"), model=config.model or "test"
    )
