"""Docstrings render: every inline literal opens and closes on one line.

Sphinx (with napoleon) rejoins a numpydoc section's lines in ways that can split a literal that
runs over a line break ("Inline literal start-string without end-string"), and the book's build
treats warnings as errors, so this is checked here, in seconds, rather than at the end of the
book build.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "helpers").rglob("*.py"))
DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def unclosed_literals(path: Path) -> list[str]:
    """``name: line`` for each docstring line of ``path`` with an odd number of ``````."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, DOCUMENTED) and (doc := ast.get_docstring(node, clean=False)):
            name = getattr(node, "name", "<module>")
            lines = doc.splitlines()
            found += [f"{name}: {line.strip()}" for line in lines if line.count("``") % 2]
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_inline_literals_close_on_their_line(path):
    assert unclosed_literals(path) == []


def test_the_check_finds_a_broken_literal(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text('def f():\n    """Returns ``a,\n    b``."""\n')
    assert unclosed_literals(broken) == ["f: Returns ``a,", "f: b``."]
