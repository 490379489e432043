"""Docstrings render: every inline literal opens and closes on one line.

Sphinx (with napoleon) rejoins a numpydoc section's lines in ways that can split a literal that
runs over a line break ("Inline literal start-string without end-string"), and the book's build
treats warnings as errors, so this is checked here, in seconds, rather than at the end of the
book build.
"""

from __future__ import annotations

import ast
import re
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


def rendering_traps(path: Path) -> list[str]:
    """``name: line`` for docstring lines that would break the rendered API page.

    ``|word|`` outside a literal is a reST substitution that Sphinx cannot resolve (an error
    in the ``-W`` book build), and a doctest's ``Traceback (most recent call last)`` shows on
    the page as if it had failed (the browser test refuses it). Attribute comments (``#:``)
    are docstrings to autodoc too.
    """
    found = []
    text = path.read_text()
    docs = [
        (getattr(node, "name", "<module>"), ast.get_docstring(node, clean=False) or "")
        for node in ast.walk(ast.parse(text))
        if isinstance(node, DOCUMENTED)
    ]
    docs.append(
        (
            "attribute comment",
            "\n".join(ln.split("#:", 1)[1] for ln in text.splitlines() if "#:" in ln),
        )
    )
    for name, doc in docs:
        for line in doc.splitlines():
            bare = "".join(line.split("``")[0::2])  # the parts outside inline literals
            if re.search(r"(?<![|\w])\|[A-Za-z_]\w*\|(?![|\w])", bare) or "Traceback (most" in line:
                found.append(f"{name}: {line.strip()}")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_docstrings_hold_no_substitutions_or_tracebacks(path):
    assert rendering_traps(path) == []


def test_the_trap_check_finds_both(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        '"""Doc.\n\n>>> f()\nTraceback (most recent call last):\n"""\n'
        "#: the largest |value| here\nX = 1\n"
        'def g():\n    """Keep ``|value|`` as a literal."""\n'
    )
    assert rendering_traps(bad) == [
        "<module>: Traceback (most recent call last):",
        "attribute comment: the largest |value| here",
    ]
