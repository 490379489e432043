"""The book runner: notebooks need a parameters cell, failures are reported, strip removes outputs."""
import json
from pathlib import Path

import nbformat
import pytest

from helpers.bookrun import execute_chapters, has_parameters_cell, strip_outputs

BOOK = Path(__file__).resolve().parents[1] / "book"


def _nb(code_cells, tag_first=True):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = [nbformat.v4.new_code_cell(src) for src in code_cells]
    if tag_first:
        cells[0].metadata["tags"] = ["parameters"]
    nb.cells = cells
    return nb


def test_committed_chapters_have_parameters_and_no_outputs():
    chapters = sorted(BOOK.glob("[0-9]*.ipynb"))
    assert chapters, "the book has no chapters"
    for path in chapters:
        nb = nbformat.read(path, as_version=4)
        assert has_parameters_cell(nb), f"{path.name} has no cell tagged 'parameters'"
        src = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        for name in ("profile", "device", "data_dir"):
            assert f"{name} =" in src, f"{path.name}: parameters cell lacks {name!r}"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} is committed with outputs"


def test_strip_outputs(tmp_path):
    nb = _nb(["x = 1", "print(x)"])
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells[1].execution_count = 3
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, path)
    assert strip_outputs(path) is True
    again = json.loads(path.read_text())
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in again["cells"])
    assert strip_outputs(path) is False


@pytest.mark.slow
def test_execute_injects_parameters_and_reports_failure(tmp_path, capsys):
    good = tmp_path / "01_good.ipynb"
    nbformat.write(_nb(["profile = 'paper'\ndevice = 'cpu'", "assert profile == 'quick', profile"]), good)
    bad = tmp_path / "02_bad.ipynb"
    nbformat.write(_nb(["profile = 'quick'", "raise RuntimeError('chapter broke')"]), bad)
    untagged = tmp_path / "03_untagged.ipynb"
    nbformat.write(_nb(["profile = 'quick'"], tag_first=False), untagged)
    out = tmp_path / "out"
    assert execute_chapters([good], out, {"profile": "quick", "device": "cpu"}) == 0
    assert (out / "01_good.ipynb").exists()
    assert execute_chapters([bad, untagged], out, {"profile": "quick", "device": "cpu"}) == 1
    err = capsys.readouterr().err
    assert "chapter broke" in err and "03_untagged" in err and "parameters" in err


def test_committed_notebooks_match_their_generators():
    import importlib.util
    import sys

    sys.path.insert(0, str(BOOK))
    try:
        for gen in sorted(BOOK.glob("_make_*.py")):
            spec = importlib.util.spec_from_file_location(gen.stem, gen)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            built = module.build()
            target = next(BOOK.glob(f"{gen.stem.removeprefix('_make_')}_*.ipynb"))
            committed = nbformat.read(target, as_version=4)
            assert [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in built.cells] == \
                   [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in committed.cells], \
                   f"{target.name} differs from what {gen.name} builds; rerun the generator"
    finally:
        sys.path.remove(str(BOOK))
