"""The house rules of the package's imports, read from its source with ``ast``:

- no module imports another module's private name (``from ._x import _name``): what two
  modules share lives in a shared module under a public name (``_args``, ``_types``,
  ``_units``, ``_records``, ...);
- no import circle between modules, counting imports inside functions (a lazy import only
  hides a circle) but not those under ``if TYPE_CHECKING:`` (never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import fastentropy

ROOT = Path(fastentropy.__file__).resolve().parent
PACKAGE = "fastentropy"

#: Private names still shared; nothing may be added here.
PENDING: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(name: str) -> bool:
    return (ROOT.parent / name.replace(".", "/") / "__init__.py").exists()


def _is_module(name: str) -> bool:
    path = ROOT.parent / name.replace(".", "/")
    return (
        _is_package(name)
        or path.with_suffix(".py").exists()
        or any(path.parent.glob(path.name + ".*.so"))
        or path.with_suffix(".pyi").exists()
    )


def _resolve(module: str, node: ast.ImportFrom) -> str | None:
    """The absolute name ``from ... import`` reads from, or None outside the package."""
    if node.level == 0:
        name = node.module or ""
        return name if name == PACKAGE or name.startswith(PACKAGE + ".") else None
    base = module.split(".") if _is_package(module) else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _runtime_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node that can run: all but the bodies of ``if TYPE_CHECKING:``."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)
    return out


def _sources() -> dict[str, ast.Module]:
    return {
        _module_name(p): ast.parse(p.read_text(encoding="utf-8"), str(p))
        for p in sorted(ROOT.rglob("*.py"))
    }


def _edges(module: str, tree: ast.Module) -> tuple[set[str], list[str]]:
    """The package modules ``module`` imports at run time, and the private names it imports
    from other modules."""
    targets: set[str] = set()
    private: list[str] = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names if a.name.startswith(PACKAGE + "."))
        if not isinstance(node, ast.ImportFrom):
            continue
        source = _resolve(module, node)
        if source is None:
            continue
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            if _is_module(sub):
                targets.add(sub)  # a submodule, not a name defined in ``source``
                continue
            targets.add(source)
            name = alias.name
            if name.startswith("_") and not name.startswith("__") and source != module:
                if (source, name) not in PENDING:
                    private.append(f"{module}: from {source} import {name} (line {node.lineno})")
    return targets, private


def test_the_walk_sees_the_package():
    modules = _sources()
    assert "fastentropy._ngram" in modules and "fastentropy.rate" in modules
    assert len(modules) >= 20


def test_no_module_imports_another_modules_private_name():
    found = []
    for module, tree in _sources().items():
        found += _edges(module, tree)[1]
    assert not found, "private names imported across modules:\n" + "\n".join(found)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first search (one per back edge)."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_no_import_circle():
    graph = {m: _edges(m, t)[0] for m, t in _sources().items()}
    cycles = _cycles(graph)
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_checks_can_fail():
    # The same walk on a made-up pair of modules: a private import and a circle are found.
    a = ast.parse("from ._b import _helper\n")
    b = ast.parse("def f():\n    from ._a import thing\n")
    _, private = _edges("fastentropy._a", a)
    assert private == ["fastentropy._a: from fastentropy._b import _helper (line 1)"]
    graph = {"fastentropy._a": _edges("fastentropy._a", a)[0]}
    graph["fastentropy._b"] = _edges("fastentropy._b", b)[0]
    assert _cycles(graph) == [["fastentropy._a", "fastentropy._b", "fastentropy._a"]]
    # Imports only a type checker runs are no edge.
    typed = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ._a import X\n"
    )
    assert _edges("fastentropy._b", typed)[0] == set()
