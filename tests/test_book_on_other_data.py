"""Every chapter runs on any saved dataset, not only HDM05 (``dataset=path.npz``).

A minimal dataset (:func:`builders.minimal_dataset`: only the clips and labels that
``SkeletonDataset.from_arrays`` requires, plus the subjects and split that a held-out test
needs; no bones, joint names, class names or frame rate) is saved with
``SkeletonDataset.save``, and every chapter is executed on it with papermill, as
``make book PROFILE=smoke DATASET=...`` does, into a fresh cache. The ``smoke`` profile is the
smallest network and study sizes at which every table is still computed: this test checks that
the chapters run, not what they find.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from helpers.bookrun import chapter_parameters, execute_chapter, read_chapter

from builders import minimal_dataset

pytestmark = pytest.mark.slow

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(p.name for p in BOOK.glob("[0-9][0-9]_*.md"))
#: Chapter parameters set for this run where a chapter has them: no second dataset (the
#: minimal one is the only one), and chapter 9's own network trained for 2 epochs.
EXTRA = {"second_dataset": None, "epochs": 2}


def errors_in(nb) -> list[str]:
    return [
        f"{o.get('ename')}: {o.get('evalue')}"
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("other-data")
    return minimal_dataset().save(folder / "minimal.npz"), folder


def test_the_minimal_dataset_has_only_the_defaults(saved):
    from helpers.data import SkeletonDataset

    ds = SkeletonDataset.load(saved[0])
    assert len(ds.edges) == 0 and ds.fps != ds.fps  # no bones, frame rate NaN
    assert ds.class_names == ["0", "1", "2", "3"]
    assert set(ds.split) == {"train", "test"}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs_on_a_minimal_saved_dataset(saved, chapter):
    path, folder = saved
    defined = chapter_parameters(read_chapter(BOOK / chapter))
    params = {
        "profile": "smoke",
        "device": "cpu",
        "dataset": str(path),
        "cache_dir": str(folder / "cache"),
        **{name: value for name, value in EXTRA.items() if name in defined},
    }
    out = folder / chapter.replace(".md", ".ipynb")
    nb = execute_chapter(BOOK / chapter, out, params)
    assert errors_in(nb) == []
    assert nbformat.read(out, 4).cells  # written
