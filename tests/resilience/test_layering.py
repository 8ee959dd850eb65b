"""Resilience sits below observability: it never imports it, not even inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import beluga_temporal.resilience


def test_resilience_never_imports_observability() -> None:
    # Imports inside functions count: observability subscribes through listeners.
    package = Path(beluga_temporal.resilience.__file__).parent
    imported = {
        (path.name, name) for path in package.glob("*.py") for name in _imported_modules(path)
    }
    upward = sorted(
        (file, name) for file, name in imported if name.startswith("beluga_temporal.observability")
    )
    assert upward == []


def _imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # relative imports resolved from beluga_temporal.resilience
            base = ["beluga_temporal", "resilience"][: max(2 - node.level + 1, 0)]
            parts = [*base, node.module] if node.level else [node.module]
            module = ".".join(p for p in parts if p)
            names.append(module)
            names += [f"{module}.{alias.name}" for alias in node.names]
    return names
