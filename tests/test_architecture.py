"""The layout keeps its promises: no import cycles, kinds are plug-ins, a kind reloads cleanly.

These read the source (``ast``), not the running program, so a cycle hidden in a
function-level import or a kind's name slipped into generic code fails here first.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import symderiv
from symderiv.kinds import kinds, registry

PACKAGE = Path(symderiv.__file__).parent
KINDS_DIR = PACKAGE / "kinds"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The longest prefix of a dotted name that is one of our modules."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _typing_only(tree: ast.AST) -> set[int]:
    """ids of the import statements under ``if TYPE_CHECKING:`` (never run)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            out |= {id(inner) for inner in ast.walk(node)}
    return out


def imports_of(module: str) -> set[str]:
    """Every symderiv module ``module`` imports when it runs, at the top or inside a function."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _typing_only(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {_resolve(a.name) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else _resolve(base))
    return {m for m in found if m and m != module}


def import_graph() -> dict[str, set[str]]:
    """Static imports, plus what ``symderiv.kinds`` imports by scanning its package: every kind."""
    graph = {m: imports_of(m) for m in MODULES}
    graph["symderiv.kinds"] |= {m for m in MODULES if m.count(".") == 2 and m.startswith("symderiv.kinds.")
                                and m != "symderiv.kinds.registry"}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_import_graph_has_no_cycles():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    """The test above must be able to fail."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (prose may say "network")."""
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            out.add(id(body[0].value))
    return out


def kind_names_in(path: Path, names: set[str]) -> list[str]:
    """Names (variables, functions, classes) and string literals (not docstrings) that are, or
    contain as a word, a kind's name. Attribute names are left out: ``re.search`` is fine."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        words: list[str] = []
        if isinstance(node, ast.Name):
            words = [node.id]
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            words = [node.name]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            words = [node.value]
        for word in words:
            tokens = set(word.replace("-", "_").replace(".", "_").replace(" ", "_").split("_"))
            found += [f"line {node.lineno}: {word!r}" for name in names if name in tokens or name == word]
    return found


def generic_modules() -> list[Path]:
    return [p for p in MODULES.values() if KINDS_DIR not in p.parents]


def test_generic_code_never_names_a_kind():
    names = set(kinds())
    assert {"network", "conv", "search", "optimizers", "gradflow"} <= names
    offenders = {str(p.relative_to(PACKAGE)): hits for p in generic_modules() if (hits := kind_names_in(p, names))}
    assert offenders == {}


def test_the_kind_name_finder_finds_one(tmp_path):
    source = tmp_path / "x.py"
    source.write_text('"""A network of layers."""\nif problem.kind == "network":\n    pass\n')
    assert kind_names_in(source, {"network"}) == ["line 2: 'network'"]


def test_generic_code_never_reads_a_problems_private_data():
    offenders = []
    for path in generic_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "data" and isinstance(node.value, ast.Name) \
                    and "problem" in node.value.id.lower():
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize("module", ["symderiv.kinds.search", "symderiv.kinds.network"])
def test_a_kind_module_reloads_without_error(module):
    """Jupyter's autoreload runs a kind's ``register`` again: that replaces the entry."""
    before = kinds()
    reloaded = importlib.reload(importlib.import_module(module))
    after = kinds()
    assert set(after) == set(before)
    assert after[reloaded.KIND.name] is reloaded.KIND


def test_two_modules_cannot_register_one_name(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    def derive(spec, number, title):  # defined here: a module other than the real kind's
        raise AssertionError

    with pytest.raises(ValueError, match="registered twice"):
        registry.register(registry.Kind("search", "Impostor", lambda f: f, derive))
