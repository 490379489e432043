"""The chapters' code cells fit the width of a code cell in the rendered book."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.bookrun import read_chapter

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.md"))

# characters of a code line that fit a code cell at the book theme's width (measured in a
# headless Chromium screenshot of the built book); longer lines run off the cell's right edge
CODE_WIDTH = 78


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_code_cell_lines_fit_the_page(path):
    nb = read_chapter(path)
    too_long = [
        f"cell {number}: {line!r} ({len(line)} characters)"
        for number, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if len(line) > CODE_WIDTH
    ]
    assert not too_long, f"{path.name}: lines longer than {CODE_WIDTH}:\n" + "\n".join(too_long)
