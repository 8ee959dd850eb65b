"""Deterministic sample values for a JSON schema (used by the test model and fake server).

Covers what pydantic emits: `$ref`/`$defs`, `anyOf`/`oneOf`/`allOf`, `enum`, `const`,
objects, arrays, strings (with lengths and common formats), numbers with bounds,
booleans and null. The first choice always wins, so output is stable run to run.
"""

from __future__ import annotations

from typing import Any

__all__ = ["sample_from_schema"]

_STRING_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
}
_MAX_DEPTH = 12


def sample_from_schema(schema: dict[str, Any], *, text: str = "a") -> Any:
    """Return a value that validates against `schema`.

    Args:
        schema: A JSON schema, e.g. from `Model.model_json_schema()`.
        text: The string used for plain string fields (padded to `minLength`).

    Returns:
        A JSON-able value: the first enum choice for enums, every property for objects,
        `minItems` (at least one) items for arrays.
    """
    return _Sampler(schema, text).sample(schema, 0)


class _Sampler:
    def __init__(self, root: dict[str, Any], text: str) -> None:
        self._root = root
        self._text = text

    def sample(self, schema: dict[str, Any], depth: int) -> Any:
        if depth > _MAX_DEPTH:  # recursive models: stop at a null-ish leaf
            return None
        schema = self._resolve(schema)
        for key in ("const", "default"):
            if key in schema:
                return schema[key]
        if schema.get("enum"):
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self._first_choice(schema[key], depth)
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for sub in schema["allOf"]:
                merged.update(self._resolve(sub))
            return self.sample(merged, depth + 1)
        return self._by_type(schema, depth)

    def _first_choice(self, choices: list[dict[str, Any]], depth: int) -> Any:
        # Prefer a non-null branch: `Optional[X]` should yield an `X`, which tests more.
        non_null = [c for c in choices if self._resolve(c).get("type") != "null"]
        return self.sample((non_null or choices)[0], depth + 1)

    def _by_type(self, schema: dict[str, Any], depth: int) -> Any:
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "string"
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, depth)
        if kind == "string":
            return self._string(schema)
        if kind in ("integer", "number"):
            return self._number(schema, integer=kind == "integer")
        if kind == "boolean":
            return True
        return None

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties: dict[str, Any] = schema.get("properties", {})
        return {name: self.sample(sub, depth + 1) for name, sub in properties.items()}

    def _array(self, schema: dict[str, Any], depth: int) -> list[Any]:
        if "prefixItems" in schema:
            return [self.sample(sub, depth + 1) for sub in schema["prefixItems"]]
        count = max(int(schema.get("minItems", 1)), 1)
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        items = schema.get("items", {})
        return [self.sample(items, depth + 1) for _ in range(count)]

    def _string(self, schema: dict[str, Any]) -> str:
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _STRING_FORMATS:
            return _STRING_FORMATS[fmt]
        value = self._text
        min_length = int(schema.get("minLength", 0))
        if len(value) < min_length:
            value = value + "a" * (min_length - len(value))
        if "maxLength" in schema:
            value = value[: int(schema["maxLength"])]
        return value

    def _number(self, schema: dict[str, Any], *, integer: bool) -> int | float:
        step = 1 if integer else 0.5
        low = schema.get("minimum", _shift(schema.get("exclusiveMinimum"), step))
        high = schema.get("maximum", _shift(schema.get("exclusiveMaximum"), -step))
        if low is not None and high is not None and not integer:
            value = (low + high) / 2  # the midpoint also satisfies exclusive bounds
        elif low is not None:
            value = low
        elif high is not None and high < 0:
            value = high
        else:
            value = 0
        return int(value) if integer else float(value)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return schema
        target: Any = self._root
        for key in ref[2:].split("/"):
            target = target[key]
        # Sibling keys next to `$ref` (e.g. a description) are kept; the target wins.
        return {**{k: v for k, v in schema.items() if k != "$ref"}, **target}


def _shift(bound: float | None, by: float) -> float | None:
    return None if bound is None else bound + by
