"""The package's layers (docs/architecture.md): imports flow one way, with no cycles.

Every import counts, including those inside functions. A subpackage may import only
from its own layer's subpackages or lower layers, never from a sibling in the same
layer unless that layer allows it, and only through another subpackage's public
`__init__` (never its private `_modules`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import beluga_temporal

ROOT = Path(beluga_temporal.__file__).parent

LAYERS: list[tuple[str, ...]] = [
    ("errors", "_sdk"),
    ("_otel_env",),
    ("settings",),
    ("plan",),
    ("resilience", "memory", "state", "security"),
    ("observability",),
    ("engine",),
    ("plugin",),
    ("worker", "client"),
    ("local", "replay"),
    ("declare",),
    ("llm",),
    ("testing", "cli"),
]
"""Bottom to top. Within a layer, units do not import each other."""

LAYER_OF = {unit: index for index, units in enumerate(LAYERS) for unit in units}


def _unit(module: str) -> str | None:
    """The top-level unit (subpackage or module) of a `beluga_temporal.*` name."""
    parts = module.split(".")
    if parts[0] != "beluga_temporal" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, relative ones resolved."""
    package = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _edges() -> list[tuple[str, str, str]]:
    """(importing unit, imported module, where) for imports between units."""
    edges = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts in (("__init__.py",), ("__main__.py",)):
            continue  # the public surface imports everything
        unit = relative.parts[0].removesuffix(".py")
        for line, module in _imports(path):
            target = _unit(module)
            if target is not None and target != unit:
                edges.append((unit, module, f"{relative}:{line}"))
    return edges


def test_every_unit_has_a_layer() -> None:
    units = {p.name.removesuffix(".py") for p in ROOT.iterdir() if p.name != "__init__.py"}
    units = {u for u in units if not u.startswith("__")}  # __init__, __main__, __pycache__
    assert units == set(LAYER_OF), "add new subpackages to LAYERS (docs/architecture.md too)"


def test_imports_flow_down_the_layers() -> None:
    wrong = [
        f"{where}: {unit} (layer {LAYER_OF[unit]}) imports {module}"
        for unit, module, where in _edges()
        if LAYER_OF.get(_unit(module) or "", -1) >= LAYER_OF[unit]
    ]
    assert wrong == []


def test_no_import_reaches_into_another_units_private_modules() -> None:
    wrong = [
        f"{where}: {module}"
        for _, module, where in _edges()
        if any(part.startswith("_") for part in module.split(".")[2:])
    ]
    assert wrong == []


def test_the_layer_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = ROOT / "plan" / "_layer_probe.py"
    sample.write_text("def f():\n    from beluga_temporal.cli import main\n")
    try:
        assert any(where.startswith("plan/_layer_probe.py") for _, _, where in _edges())
    finally:
        sample.unlink()


def _pictured_layers() -> list[tuple[str, ...]]:
    """The layers as docs/architecture.md draws them, bottom to top (first column)."""
    text = (ROOT.parent / "docs" / "architecture.md").read_text()
    picture = text.split("```text", 1)[1].split("```", 1)[0]
    layers: list[tuple[str, ...]] = []
    names: list[str] = []
    for line in picture.splitlines():
        if line.strip().startswith(("├", "└")):
            layers.append(tuple(names))
            names = []
        elif line.strip().startswith("│"):
            names += line.split("│")[1].split()
    return layers[::-1]


def test_the_architecture_picture_is_drawn_from_these_layers() -> None:
    assert _pictured_layers() == LAYERS
