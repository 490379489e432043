"""The chapters are MyST notebooks with a parameters cell; the runner executes, hides, reports."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from helpers.bookrun import (
    HIDDEN_TAG,
    INJECTED_TAG,
    chapter_parameters,
    execute_chapters,
    execution_key,
    has_parameters_cell,
    main,
    parse_parameter,
    read_chapter,
)

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.md"))

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def chapter(tmp_path: Path, name: str, *cells: tuple[str, str]) -> Path:
    """A MyST chapter from (tags, source) code cells, with a markdown heading first."""
    body = [HEADER, f"# {name}\n"]
    for tags, source in cells:
        tag_line = f":tags: [{tags}]\n\n" if tags else ""
        body.append(f"```{{code-cell}}\n{tag_line}{source}\n```\n")
    path = tmp_path / f"{name}.md"
    path.write_text("\n".join(body))
    return path


# ------------------------------------------------------------------------------ the chapters
def test_chapters_are_myst_notebooks_and_nothing_else():
    assert CHAPTERS, "the book has no chapters"
    assert not list(BOOK.glob("*.ipynb")), "chapters are committed as .md only"
    assert not list(BOOK.glob("_make_*.py")) and not (BOOK / "_nbgen.py").exists()
    toc = (ROOT / "_toc.yml").read_text()
    for path in CHAPTERS:
        assert f"book/{path.stem}" in toc, f"{path.name} is not in _toc.yml"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_has_one_parameters_cell_with_the_settings(path):
    text = path.read_text()
    assert text.startswith("---\njupytext:"), f"{path.name} lacks the jupytext header"
    nb = read_chapter(path)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, f"{path.name} has {len(params)} cells tagged 'parameters'"
    assert params[0].cell_type == "code"
    for name in ("profile", "device", "data_dir"):
        assert re.search(rf"^{name} = ", params[0].source, re.M), (
            f"{path.name}: no {name!r} parameter"
        )
    assert 'profile = "quick"' in params[0].source and 'device = "auto"' in params[0].source


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_text_has_no_escaped_newlines_or_doubled_backslashes(path):
    """Leftovers of the old Python-string generators would show up as literal \\\\ or \\\\n."""
    nb = read_chapter(path)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert "\\\\" not in cell.source, (
                f"{path.name}: doubled backslash in {cell.source[:60]!r}"
            )
            assert "\\n" not in cell.source, f"{path.name}: escaped newline in {cell.source[:60]!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_collapses_figure_code(path):
    nb = read_chapter(path)
    hidden = [c for c in nb.cells if "hide-input" in c.metadata.get("tags", [])]
    assert hidden, f"{path.name} shows every cell's code; collapse those that only draw or set up"


# ------------------------------------------------------------------------------ the runner
def test_has_parameters_cell():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert not has_parameters_cell(nb)
    nb.cells[0].metadata["tags"] = ["parameters"]
    assert has_parameters_cell(nb)


@pytest.mark.slow
def test_execute_injects_hides_and_reports_failures(tmp_path, capsys):
    good = chapter(
        tmp_path,
        "01_good",
        ("parameters", "profile = 'paper'\ndevice = 'cpu'"),
        ("", "assert profile == 'quick', profile\nprint('ran', device)"),
    )
    bad = chapter(
        tmp_path,
        "02_bad",
        ("parameters", "profile = 'quick'"),
        ("", "raise RuntimeError('chapter broke')"),
    )
    untagged = chapter(tmp_path, "03_untagged", ("", "profile = 'quick'"))
    out = tmp_path / "out"
    assert execute_chapters([good], out, {"profile": "quick", "device": "cpu"}) == 0
    executed = nbformat.read(out / "01_good.ipynb", as_version=4)
    injected = [c for c in executed.cells if INJECTED_TAG in c.metadata.get("tags", [])]
    assert len(injected) == 1 and HIDDEN_TAG in injected[0].metadata["tags"]
    assert 'profile = "quick"' in injected[0].source
    shown = [c for c in executed.cells if c.cell_type == "code" and "print" in c.source]
    assert shown[0].outputs[0]["text"] == "ran cpu\n"
    assert executed.metadata["kernelspec"]["name"] == "python3"

    assert execute_chapters([bad, untagged], out, {"profile": "quick", "device": "cpu"}) == 1
    err = capsys.readouterr().err
    assert "chapter broke" in err and "02_bad" in err
    assert "03_untagged" in err and "parameters" in err


@pytest.mark.slow
def test_unchanged_chapters_are_reused_and_changed_ones_run(tmp_path, capsys):
    # the chapter counts its runs in a file: a reused chapter must not run at all
    runs = tmp_path / "runs.txt"
    one = chapter(
        tmp_path,
        "01_count",
        ("parameters", "k = 1"),
        ("", f"open({str(runs)!r}, 'a').write('x')\nprint('k is', k)"),
    )
    out, reuse = tmp_path / "out", tmp_path / "executed"
    params = {"profile": "quick"}
    assert execute_chapters([one], out, params, reuse_dir=reuse) == 0
    first = nbformat.read(out / "01_count.ipynb", as_version=4)
    assert execute_chapters([one], out, params, reuse_dir=reuse) == 0
    assert runs.read_text() == "x"  # ran once
    assert "unchanged: reused" in capsys.readouterr().out
    assert nbformat.read(out / "01_count.ipynb", as_version=4) == first
    # a changed parameter runs it again, and so does --fresh (no reuse folder)
    assert execute_chapters([one], out, params, {"k": 2}, reuse_dir=reuse) == 0
    assert execute_chapters([one], out, params, {"k": 2}) == 0
    assert runs.read_text() == "xxx"


def test_execution_key_follows_chapter_parameters_and_data(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.amc").write_text("1")
    monkeypatch.setenv("STGCN_DATA_DIR", str(data))
    one = chapter(tmp_path, "01_key", ("parameters", "k = 1"))
    key = execution_key(one, {"profile": "quick"})
    assert key == execution_key(one, {"profile": "quick"})
    assert key != execution_key(one, {"profile": "paper"})
    (data / "b.amc").write_text("2")  # the data changed
    key2 = execution_key(one, {"profile": "quick"})
    assert key2 != key
    one.write_text(one.read_text() + "\n")  # the chapter changed
    assert execution_key(one, {"profile": "quick"}) != key2
    npz = tmp_path / "d.npz"
    npz.write_bytes(b"abc")
    other = execution_key(one, {"profile": "quick", "dataset": str(npz)})
    npz.write_bytes(b"abd")
    assert execution_key(one, {"profile": "quick", "dataset": str(npz)}) != other


def test_parse_parameter():
    assert parse_parameter("k=12") == ("k", 12)
    assert parse_parameter(" window = 0.25") == ("window", 0.25)
    assert parse_parameter("seeds=[0, 1]") == ("seeds", [0, 1])
    assert parse_parameter("tasks=None") == ("tasks", None)
    assert parse_parameter("name=my data.npz") == ("name", "my data.npz")  # not a literal
    assert parse_parameter("expr=a=b") == ("expr", "a=b")
    for bad in ("k", "=3", "2k=1", "k-1=2"):
        with pytest.raises(ValueError, match="NAME=VALUE"):
            parse_parameter(bad)


def test_chapter_parameters_reads_the_tagged_cell(tmp_path):
    path = chapter(
        tmp_path,
        "01_x",
        ("", "k = 99"),
        ("parameters", "profile = 'quick'\nk = 10  # neighbours\nseeds = None"),
    )
    assert chapter_parameters(read_chapter(path)) == {
        "profile": "'quick'",
        "k": "10",
        "seeds": "None",
    }


def test_every_chapter_parameter_is_known_to_the_runner():
    for path in CHAPTERS:
        names = chapter_parameters(read_chapter(path))
        assert {"profile", "device", "dataset"} <= set(names), path.name


def test_unknown_override_is_refused_before_anything_runs(tmp_path, capsys):
    one = chapter(tmp_path, "01_one", ("parameters", "profile = 'quick'\nk = 10"))
    with pytest.raises(ValueError, match=r"\['kk'\].*none of the chapters.*k, profile"):
        execute_chapters([one], tmp_path / "out", {"profile": "quick"}, {"kk": 3})
    assert not (tmp_path / "out" / "01_one.ipynb").exists()
    with pytest.raises(SystemExit):
        main([str(one), "--out", str(tmp_path / "out"), "--param", "profile=paper"])
    assert "use --profile" in capsys.readouterr().err


@pytest.mark.slow
def test_override_goes_only_to_chapters_that_define_it(tmp_path):
    with_k = chapter(
        tmp_path,
        "01_with_k",
        ("parameters", "profile = 'quick'\nk = 10"),
        ("", "print('k is', k)"),
    )
    without_k = chapter(
        tmp_path,
        "02_without_k",
        ("parameters", "profile = 'quick'"),
        ("", "print('k defined:', 'k' in globals())"),
    )
    out = tmp_path / "out"
    assert execute_chapters([with_k, without_k], out, {"profile": "quick"}, {"k": 12}) == 0

    def printed(name):
        nb = nbformat.read(out / f"{name}.ipynb", as_version=4)
        return [c.outputs[0]["text"] for c in nb.cells if c.cell_type == "code" and c.outputs]

    assert printed("01_with_k") == ["k is 12\n"]
    assert printed("02_without_k") == ["k defined: False\n"]


def test_long_output_lines_wrap_in_the_built_pages():
    css = (ROOT / "_static" / "custom.css").read_text()
    assert "div.cell_output pre" in css and "pre-wrap" in css
    # the style sheet travels into the staged book that Jupyter Book builds
    assert "_static _ext $(STAGE)" in (ROOT / "Makefile").read_text()


# ------------------------------------------------------------------ usage errors (exit 2)
#: A parameters cell with a default of every kind the runner checks an override against.
TYPED_PARAMETERS = (
    "profile = 'quick'\nk = 10\nwindow = 0.1\nkinds = ['gaussian']\n"
    "second_dataset = 'utd-mhad'\nseeds = None"
)


def _usage_error(capsys, argv) -> str:
    """Run the command line, expect argparse's usage error (exit 2); return what it said."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    "param, said",
    [
        ("k=ten", r"--param k='ten': 01_one.md expects an integer like its default 10"),
        ("k=2.5", r"k=2.5.*expects an integer"),
        ("k=True", r"k=True.*expects an integer.*got a boolean"),
        ("window=fast", r"window='fast'.*expects a number like its default 0.1"),
        ("kinds=gaussian", r"kinds='gaussian'.*expects a list"),
        ("kinds=[1, 2]", r"kinds=\[1, 2\].*expects a list"),
        ("second_dataset=3", r"second_dataset=3.*expects a string"),
    ],
)
def test_a_value_of_the_wrong_kind_is_a_usage_error_before_anything_runs(
    tmp_path, capsys, param, said
):
    one = chapter(tmp_path, "01_one", ("parameters", TYPED_PARAMETERS))
    err = _usage_error(capsys, [str(one), "--out", str(tmp_path / "out"), "--param", param])
    assert re.search(said, err), err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    "param",
    ["k=12", "window=1", "window=0.2", "kinds=['dropout', 'gaussian']", "second_dataset=None",
     "seeds=[0, 1]", "seeds=None"],
)  # fmt: skip
def test_values_of_the_defaults_kind_pass_the_check(tmp_path, param):
    from helpers.bookrun import check_overrides

    one = chapter(tmp_path, "01_one", ("parameters", TYPED_PARAMETERS))
    check_overrides(dict([parse_parameter(param)]), {one: chapter_parameters(read_chapter(one))})


def test_a_missing_chapter_or_a_folder_is_a_usage_error(tmp_path, capsys):
    err = _usage_error(capsys, [str(tmp_path / "99_nothing.md"), "--out", str(tmp_path / "o")])
    assert "99_nothing.md: no such chapter" in err
    err = _usage_error(capsys, [str(tmp_path), "--out", str(tmp_path / "o")])
    assert "is a folder" in err
    assert not (tmp_path / "o").exists()


def test_a_dataset_that_is_not_a_saved_dataset_is_a_usage_error(tmp_path, capsys):
    import numpy as np

    one = chapter(tmp_path, "01_one", ("parameters", "profile = 'quick'"))
    out = str(tmp_path / "out")
    err = _usage_error(capsys, [str(one), "--out", out, "--dataset", str(tmp_path / "no.npz")])
    assert "no such file" in err and "SkeletonDataset.save" in err
    np.save(tmp_path / "frames.npy", np.zeros((3, 4)))
    err = _usage_error(capsys, [str(one), "--out", out, "--dataset", str(tmp_path / "frames.npy")])
    assert "frames.npy" in err and "saved SkeletonDataset" in err
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    err = _usage_error(capsys, [str(one), "--out", out, "--dataset", str(tmp_path / "other.npz")])
    assert "other.npz" in err and "not a saved SkeletonDataset" in err
    assert not (tmp_path / "out").exists()
