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
    assert "helpers.dtw" in graph and "helpers.experiments" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_dtw_backends_share_the_core_and_never_import_each_other():
    graph = import_graph()
    assert "helpers.dtw_core" in graph["helpers.dtw"]
    assert "helpers.dtw_core" in graph["helpers.dtw_torch"]
    assert "helpers.dtw_torch" not in graph["helpers.dtw"]
    assert "helpers.dtw" not in graph["helpers.dtw_torch"]


def test_layers_flow_one_way():
    """data -> graph/model -> training -> geometry/gradcam/transfer -> experiments, never back."""
    graph = import_graph()

    def reaches(a: str, b: str) -> bool:
        seen, todo = set(), [a]
        while todo:
            m = todo.pop()
            if m == b:
                return True
            if m not in seen:
                seen.add(m)
                todo.extend(graph.get(m, ()))
        return False

    lower_to_higher = [
        ("helpers.data.dataset", "helpers.graph"),
        ("helpers.graph", "helpers.model"),
        ("helpers.model", "helpers.training"),
        ("helpers.training", "helpers.experiments"),
        ("helpers.nnk", "helpers.geometry"),
        ("helpers.geometry", "helpers.experiments"),
        ("helpers.training", "helpers.gradcam"),
        ("helpers.model", "helpers.transfer"),
        ("helpers.transfer", "helpers.experiments"),
        ("helpers.gradcam", "helpers.gradcam_checks"),
        ("helpers.gradcam_checks", "helpers.experiments"),
        ("helpers.gradcam", "helpers.experiments"),
        ("helpers.neighbours", "helpers.nnk"),
        ("helpers.dtw_distributed", "helpers.knn_dtw"),
        ("helpers.knn_dtw", "helpers.geometry"),
    ]
    for low, high in lower_to_higher:
        assert not reaches(low, high), f"{low} imports (through others) {high}, a layer above it"


@pytest.mark.parametrize(
    "module",
    [
        "helpers",
        "helpers.dtw",
        "helpers.distances",
        "helpers.geometry",
        "helpers.knn_dtw",
        "helpers.dtw_distributed",
        "helpers.neighbours",
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


def test_dtw_and_experiments_import():
    subprocess.run([sys.executable, "-c", "import helpers.dtw, helpers.experiments"], check=True)
