"""Structure of the package: no import cycle anywhere in graphcl/, and graphcl.distributed uses only
the estimators' public hooks."""

import ast
from pathlib import Path
from typing import Dict, List, Set

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "graphcl"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: Set[str]) -> Set[str]:
    """The graphcl modules ``path`` imports anywhere in its body (module level, inside functions, in
    ``TYPE_CHECKING`` blocks): ``from a.b import c`` counts as an import of ``a.b.c`` when that is a
    module, else of ``a.b``."""
    name = module_name(path)
    is_pkg = path.name == "__init__.py"
    out: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("graphcl"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                src = ".".join(base + ([node.module] if node.module else []))
            else:
                src = node.module or ""
            if not src.startswith("graphcl"):
                continue
            for alias in node.names:
                full = f"{src}.{alias.name}"
                out.add(full if full in modules else src)
    return {m for m in out if m in modules and m != name}


def import_graph() -> Dict[str, Set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(f) for f in files}
    return {module_name(f): imports_of(f, modules) for f in files}


def find_cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """One cycle of ``graph`` as a list of modules (empty when there is none)."""
    state: Dict[str, int] = {}
    stack: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_the_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_the_import_walker_counts_imports_inside_functions(tmp_path):
    src = tmp_path / "graphcl" / "x.py"
    src.parent.mkdir()
    src.write_text("def f():\n    from graphcl.y import thing\n    import graphcl.z\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path / "graphcl"
    try:
        assert imports_of(src, {"graphcl.x", "graphcl.y", "graphcl.z"}) == {"graphcl.y", "graphcl.z"}
    finally:
        PACKAGE = saved


def test_no_import_cycle_in_the_package():
    graph = import_graph()
    assert len(graph) > 50 and "graphcl.models.base" in graph
    cycle = find_cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def _private_estimator_calls(path: Path) -> List[str]:
    """``estimator._name`` / ``est._name`` attribute uses (any name bound to an estimator in
    graphcl/distributed is called ``estimator`` or ``est``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in ("estimator", "est", "model", "self_estimator")
                and node.attr.startswith("_")):
            found.append(f"{path.name}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "distributed").glob("*.py")), ids=lambda p: p.name)
def test_distributed_calls_no_private_estimator_name(path):
    assert _private_estimator_calls(path) == []


def test_private_call_check_catches_one(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def g(estimator):\n    return estimator._step()\n")
    assert _private_estimator_calls(f) == ["m.py:2: estimator._step"]
