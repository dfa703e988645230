"""The package's import graph has no cycle and points down.

The graph is read statically from the source (``ast``), so it sees every
``import`` statement, relative or absolute, at module level or inside a
function. Function-level imports COUNT: an import deferred into a function
hides a cycle from the import machinery but the two modules still depend on
each other, which is what this test guards against. Imports made by name
at run time (``importlib.import_module``, as the estimator and demo
registries do) are not statements and are not seen.

An edge goes to the module imported: ``from .x import name`` points to
``x`` (or to ``x.name`` when that is a submodule), ``from . import name`` in
a package points to the submodule ``name`` or else to the package's
``__init__``. The implicit import of a module's parent packages is not an
edge (every package ``__init__`` would otherwise close a cycle with its own
submodules).

Layers, from the bottom: ``_ext``, ``utils``, then ``optimize``, ``metrics``
and ``datasets``, then the fields (``linear_model``, ``causal``, ...), then
``demo`` and the command line. The shared layers must not import a field,
and nothing in the library imports the demo.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import sparseopt

PACKAGE = Path(sparseopt.__file__).resolve().parent
FIELDS = ("linear_model", "privacy", "bayes", "decomposition", "causal", "transport", "cluster",
          "semi_supervised")
SHARED = ("_ext", "utils", "metrics", "datasets")


def _module_name(path):
    parts = ("sparseopt",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1]) if parts[-1] == "__init__" else ".".join(parts)


def _modules():
    """``{module name: (path, is_package)}`` for every ``.py`` file of the package."""
    return {_module_name(p): (p, p.name == "__init__.py") for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name, modules):
    """The longest prefix of the dotted ``name`` that is a module of the package, or None."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _imports(module, path, is_package, modules):
    """``[(target module, line, kind)]`` for every import of ``sparseopt`` in one file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    function_lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function_lines.update(id(n) for n in ast.walk(node) if n is not node)
    package = module if is_package else module.rpartition(".")[0]
    edges = []
    for node in ast.walk(tree):
        kind = "function-level" if id(node) in function_lines else "module-level"
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[:len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module
            # ``from pkg import sub`` imports the submodule ``pkg.sub`` when there is one
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] != "sparseopt":
                continue
            target = _resolve(name, modules)
            if target is not None and target != module:
                edges.append((target, node.lineno, kind))
    return edges


def import_graph():
    """``{module: {target: (file, line, kind)}}`` over every module of ``sparseopt``."""
    modules = _modules()
    graph = {}
    for module, (path, is_package) in modules.items():
        graph[module] = {}
        for target, line, kind in _imports(module, path, is_package, modules):
            graph[module].setdefault(target, (path.relative_to(PACKAGE.parent), line, kind))
    return graph


def _strongly_connected(graph):
    """Tarjan's strongly connected components with more than one module."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def _cycle_in(component, graph):
    """One shortest cycle through the first module of a strongly connected component."""
    members, start = set(component), component[0]
    parents, frontier = {start: None}, [start]
    while frontier:  # breadth-first, until an edge leads back to start
        next_frontier = []
        for v in frontier:
            for w in graph[v]:
                if w == start:
                    path = [v]
                    while parents[path[-1]] is not None:
                        path.append(parents[path[-1]])
                    return path[::-1] + [start]
                if w in members and w not in parents:
                    parents[w] = v
                    next_frontier.append(w)
        frontier = next_frontier
    raise AssertionError(f"no cycle through {start} in {component}")


def _describe(cycle, graph):
    lines = []
    for a, b in zip(cycle, cycle[1:]):
        path, line, kind = graph[a][b]
        lines.append(f"    {a} -> {b}  ({path}:{line}, {kind})")
    return "\n".join(lines)


def _layer_of(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_graph_reads_the_package_imports():
    graph = import_graph()
    # module-level relative import of a submodule
    assert "sparseopt.transport.sns" in graph["sparseopt.transport.sinkhorn"]
    # ``from ..datasets import name`` points to the package's __init__
    assert "sparseopt.datasets" in graph["sparseopt.demo.causal"]
    # imports of other libraries are not edges
    assert all(t.startswith("sparseopt") for edges in graph.values() for t in edges)


def test_no_import_cycle_inside_the_package():
    graph = import_graph()
    cycles = [_cycle_in(c, graph) for c in _strongly_connected(graph)]
    assert not cycles, "import cycles (move what both sides need one level down):\n" + "\n\n".join(
        _describe(c, graph) for c in cycles)


def test_shared_layers_do_not_import_a_field_or_the_demo():
    graph = import_graph()
    upward = [(a, b) for a, edges in graph.items() for b in edges
              if _layer_of(a) in SHARED and _layer_of(b) in FIELDS + ("demo",)]
    assert not upward, "imports that point up:\n" + "\n".join(
        _describe([a, b], graph) for a, b in upward)


def test_only_the_command_line_imports_the_demo():
    graph = import_graph()
    into_demo = [(a, b) for a, edges in graph.items() for b in edges
                 if _layer_of(b) == "demo" and _layer_of(a) not in ("demo", "__main__")]
    assert not into_demo, "\n".join(_describe([a, b], graph) for a, b in into_demo)


def _plant(root, files):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@pytest.mark.parametrize("cycle_kind", ["module-level", "function-level"])
def test_a_planted_cycle_is_reported(cycle_kind, tmp_path, monkeypatch):
    """The check can fail: two modules importing each other are found, with file and line."""
    b_text = ("from .a import f\n" if cycle_kind == "module-level"
              else "def g():\n    from .a import f\n\n    return f\n")
    _plant(tmp_path / "sparseopt", {"__init__.py": "", "field/__init__.py": "",
                                    "field/a.py": "from .b import g\n", "field/b.py": b_text})
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "sparseopt")
    graph = import_graph()
    components = _strongly_connected(graph)
    assert components == [["sparseopt.field.a", "sparseopt.field.b"]]
    text = _describe(_cycle_in(components[0], graph), graph)
    assert "sparseopt.field.a -> sparseopt.field.b  (sparseopt/field/a.py:1, module-level)" in text
    assert f"sparseopt.field.b -> sparseopt.field.a  (sparseopt/field/b.py:" in text
    assert cycle_kind in text.splitlines()[1]


def test_planted_imports_resolve_to_modules(tmp_path, monkeypatch):
    """Absolute, relative, ``from . import`` of a submodule or of a package name."""
    _plant(tmp_path / "sparseopt", {
        "__init__.py": "",
        "utils/__init__.py": "from .tools import helper\n",
        "utils/tools.py": "def helper():\n    pass\n",
        "datasets/__init__.py": "",
        "datasets/make.py": ("import sparseopt.utils.tools\n"
                             "from sparseopt import utils\n"
                             "from .. import utils as u\n"
                             "from ..utils import helper\n"
                             "from . import other\n"
                             "import numpy\n"),
        "datasets/other.py": "def f():\n    from ..field import thing\n",
        "field/__init__.py": "thing = 1\n",
    })
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "sparseopt")
    graph = import_graph()
    assert set(graph["sparseopt.datasets.make"]) == {
        "sparseopt.utils.tools", "sparseopt.utils", "sparseopt.datasets.other"}
    assert graph["sparseopt.utils"] == {
        "sparseopt.utils.tools": (Path("sparseopt/utils/__init__.py"), 1, "module-level")}
    # the shared-layer rule sees the function-level import of a field
    assert graph["sparseopt.datasets.other"]["sparseopt.field"][2] == "function-level"
    monkeypatch.setattr(sys.modules[__name__], "FIELDS", ("field",))
    with pytest.raises(AssertionError, match="sparseopt.datasets.other -> sparseopt.field"):
        test_shared_layers_do_not_import_a_field_or_the_demo()
