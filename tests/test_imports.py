"""The package's import graph: no cycles (imports inside functions count), light to import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "helpers"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its source (functions included).

    ``from .a import b`` counts as importing ``a.b`` when that is a module, else ``a``. Package
    ``__init__`` files are left out as targets: they only gather names for users, and counting
    them would make every submodule import its own package.
    """
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                candidates = [f"{target}.{a.name}" for a in node.names] + [target]
            elif isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            else:
                continue
            for c in candidates:
                while c and c not in files and "." in c:
                    c = c.rsplit(".", 1)[0]
                if c in files and c != mod and files[c].name != "__init__.py":
                    graph[mod].add(c)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_cycle_finder_on_hand_made_graphs():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_helpers_has_no_import_cycles():
    graph = import_graph()
    assert "helpers.dtw.cpu" in graph and "helpers.studies.models" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


#: The pipeline, bottom to top: a subpackage may import only from those before it (and itself).
LAYERS = [
    "runtime",
    "data",
    "nets",
    "training",
    "dtw",
    "geometry",
    "explain",
    "plots",
    "studies",
    "report",
    "bookrun",
]


def _subpackage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def subpackage_edges() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(importer's subpackage, imported subpackage) -> the module pairs, package imports included.

    Unlike :func:`import_graph`, ``from helpers import studies`` counts here as an import of
    ``studies``: the layering is about what a module may reach, whether through a package or not.
    """
    edges: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for path in PACKAGE.rglob("*.py"):
        mod = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                if node.module == "helpers":
                    targets = [f"helpers.{a.name}" for a in node.names]
                elif node.module.startswith("helpers."):
                    targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("helpers.")]
            for target in targets:
                pair = (_subpackage(mod), _subpackage(target))
                if pair[0] and pair[1] and pair[0] != pair[1]:
                    edges.setdefault(pair, []).append((mod, target))
    return edges


def test_every_module_lives_in_a_layer():
    subs = {_subpackage(m) for m in import_graph()} - {""}
    assert subs == set(LAYERS), f"subpackages not in LAYERS: {subs - set(LAYERS)}"


def test_subpackages_import_only_the_layers_below():
    """data -> nets -> training -> dtw -> geometry -> explain -> plots -> studies -> report."""
    up = {
        pair: mods
        for pair, mods in subpackage_edges().items()
        if LAYERS.index(pair[1]) > LAYERS.index(pair[0])
    }
    assert not up, "imports that go up the pipeline: " + "; ".join(
        f"{a} -> {b} ({mods[0][0]} imports {mods[0][1]})" for (a, b), mods in up.items()
    )


def test_the_layering_check_can_fail(tmp_path, monkeypatch):
    """A hand-made package whose data module imports a study is caught."""
    pkg = tmp_path / "helpers"
    (pkg / "data").mkdir(parents=True)
    (pkg / "studies").mkdir()
    for f in ("__init__.py", "data/__init__.py", "studies/__init__.py", "studies/models.py"):
        (pkg / f).write_text("")
    (pkg / "data" / "dataset.py").write_text("from helpers.studies.models import x\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    edges = subpackage_edges()
    assert edges == {("data", "studies"): [("helpers.data.dataset", "helpers.studies.models")]}


def test_no_module_imports_a_private_name_of_another():
    crossing = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (
                node.level or "helpers" in (node.module or "")
            ):
                crossing += [
                    f"{_module_name(path)}: {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and a.name != "__version__"
                ]
    assert not crossing, f"private names imported across modules: {crossing}"


def _all_of(path: Path) -> list[str] | None:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    return None


@pytest.mark.parametrize("sub", LAYERS[:-1])
def test_each_subpackage_exports_its_modules_public_names(sub):
    """Every module declares ``__all__``; its package's ``__all__`` is their union, importable."""
    import importlib

    folder = PACKAGE / sub
    union: set[str] = set()
    for path in sorted(folder.glob("*.py")):
        if path.name == "__init__.py":
            continue
        names = _all_of(path)
        assert names is not None, f"{_module_name(path)} has no __all__"
        union |= set(names)
    package = importlib.import_module(f"helpers.{sub}")
    assert set(package.__all__) == union
    missing = [n for n in union if getattr(package, n, None) is None]
    assert not missing, f"helpers.{sub} cannot give {missing}"


def test_dtw_backends_share_the_core_and_never_import_each_other():
    graph = import_graph()
    for twin in ("helpers.dtw.cpu", "helpers.dtw.gpu"):
        assert "helpers.dtw.core" in graph[twin]
    assert "helpers.dtw.gpu" not in graph["helpers.dtw.cpu"]
    assert "helpers.dtw.cpu" not in graph["helpers.dtw.gpu"]


@pytest.mark.parametrize(
    "module",
    [
        "helpers",
        "helpers.dtw",
        "helpers.geometry",
        "helpers.runtime",
        "helpers.data",
        "helpers.dtw.cpu",
        "helpers.geometry.distances",
        "helpers.geometry.layer_tables",
        "helpers.geometry.knn_search",
        "helpers.dtw.distributed",
        "helpers.geometry.neighbours",
    ],
)
def test_light_modules_do_not_import_heavy_ones(module):
    code = (
        f"import sys, {module}; "
        "print(','.join(m for m in ('torch', 'nbformat', 'papermill', 'jupytext', 'distributed', "
        "'faiss') if m in "
        "sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import {module} loads {out.stdout.strip()}"


def test_dtw_and_studies_import():
    subprocess.run([sys.executable, "-c", "import helpers.dtw, helpers.studies"], check=True)
