"""The chapters run on any saved dataset, not only HDM05 (``dataset=path.npz``).

A small synthetic dataset (a 6-joint chain, 4 classes of different motions, 2 actors) is saved
with ``SkeletonDataset.save``; chapters 1, 2 and 4 are executed on it with papermill, as
``make book DATASET=...`` does, into a fresh cache.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from helpers.bookrun import execute_chapter

from builders import synthetic_dataset

pytestmark = pytest.mark.slow

BOOK = Path(__file__).resolve().parents[1] / "book"


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
    return synthetic_dataset().save(folder / "synthetic.npz"), folder


@pytest.mark.parametrize(
    "chapter, extra",
    [
        ("01_data.md", {}),
        ("02_training.md", {}),
        ("04_embedding_geometry.md", {"seeds": [0], "k": 5, "second_dataset": None}),
        ("09_own_model.md", {"k": 5}),
    ],
)
def test_chapter_runs_on_a_saved_dataset(saved, chapter, extra):
    path, folder = saved
    params = {
        "profile": "quick",
        "device": "cpu",
        "dataset": str(path),
        "cache_dir": str(folder / "cache"),
        **extra,
    }
    out = folder / chapter.replace(".md", ".ipynb")
    nb = execute_chapter(BOOK / chapter, out, params)
    assert errors_in(nb) == []
    text = "\n".join(
        o.get("text", "")
        for cell in nb.cells
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream"
    )
    assert "'synthetic'" in text  # the dataset's repr: the chapter worked on these data
    assert nbformat.read(out, 4).cells  # written
