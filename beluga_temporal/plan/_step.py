"""`StepDefinition`: a step as workers run it — its function, options and types.

`@step` (in `declare`) builds `Step` objects, which are step definitions; workers and
clients only need this base, so they never depend on the declaration layer.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from beluga_temporal.errors import DefinitionError
from beluga_temporal.plan._options import StepOptions


class StepDefinition:
    """A function that runs as a Temporal activity, with its options and types.

    Attributes:
        fn: The user's function.
        options: How it is scheduled (activity name, timeouts, retries, ...).
        input_type: The declared type of its one input (`Any` when undeclared).
        output_type: Its declared return type (`Any` when undeclared).
        is_async: Whether `fn` is a coroutine function (sync ones run in a thread pool).
        takes_input: Whether `fn` takes an argument at all.
    """

    def __init__(self, fn: Callable[..., Any], options: StepOptions) -> None:
        self.fn = fn
        self.options = options
        self.input_type, self.output_type = signature_types(fn, options.name)
        self.is_async = inspect.iscoroutinefunction(fn)
        self.takes_input = _takes_input(fn)

    @property
    def name(self) -> str:
        """The activity type name (wire format: renaming it breaks runs in flight)."""
        return self.options.name

    def reads(self) -> tuple[str, ...] | None:
        """The state keys the step reads: its input model's fields, else `None` (all)."""
        fields = getattr(self.input_type, "model_fields", None)
        if not isinstance(fields, dict):
            return None
        config = getattr(self.input_type, "model_config", {})
        if config.get("extra") == "allow":
            return None  # the model keeps unknown keys: it wants the whole state
        return tuple(field.alias or name for name, field in fields.items())


def _takes_input(fn: Callable[..., Any]) -> bool:
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        for p in inspect.signature(fn).parameters.values()
    )


def signature_types(fn: Callable[..., Any], name: str) -> tuple[Any, Any]:
    """Return a step function's (input type, output type), checking it takes one input."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception as error:  # unresolved forward references in user code
        raise DefinitionError(f"step '{name}': cannot resolve type hints: {error}") from error
    params = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if len(params) > 1:
        raise DefinitionError(
            f"step '{name}' takes {len(params)} arguments; a step takes one input "
            "(use a pydantic model or a dict to pass several values)"
        )
    input_type = hints.get(params[0].name, Any) if params else Any
    return input_type, hints.get("return", Any)
