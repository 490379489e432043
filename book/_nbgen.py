"""Shared by the chapter generators ``book/_make_NN.py``.

Each chapter's cells are written as Python strings in its generator, which builds the committed
``book/NN_*.ipynb`` (without outputs) with :func:`write_notebook`. ``tests/test_bookrun.py`` checks
that every committed notebook is what its generator builds, so edit the generator and rerun it
(``.venv/bin/python book/_make_NN.py``) rather than editing the notebook's JSON.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip("\n"))


def code(text: str, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell = new_code_cell(text.strip("\n"))
    if tags:
        cell.metadata["tags"] = tags
    return cell


def notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):       # stable ids keep regenerated notebooks diff-free
        cell["id"] = f"cell-{i:03d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write_notebook(cells: list[nbformat.NotebookNode], target: Path) -> None:
    nbformat.write(notebook(cells), target)
    print(f"wrote {target}")
