"""The Grad-CAM studies on a toy: the memorising control memorises, the tables fit together."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from helpers.studies import StudyContext
from helpers.studies.gradcam import (
    gradcam_checks_study,
    gradcam_smoothness_study,
    memorising_control,
)

from builders import make_dataset, tiny_profile


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    ds = make_dataset(n_per_class=10, classes=3)
    ds.subjects = np.tile(np.arange(10) % 5, 3)
    ds.split = np.where(ds.subjects >= 3, "test", "train")
    prof = tiny_profile().replace(model_schedule=[[8, 1], [8, 2]])
    return StudyContext.create(
        prof, ds, "cpu", cache_dir=tmp_path_factory.mktemp("c"), progress=False
    )


@pytest.mark.slow  # trains a memorising network for 300 epochs on 12 clips
def test_the_memorising_control_fits_its_shuffled_labels(ctx):
    model, info = memorising_control(ctx, seed=0, clips_per_class=4, epochs=300)
    assert info["clips"] == 12
    assert info["fit"] >= 0.95, info


def test_checks_tables_fit_together(ctx):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checks = gradcam_checks_study(ctx, seed=0)
    n = checks.settings["clips"]
    assert n == int((ctx.dataset.split == "test").sum())
    others = {"another seed", "shuffled labels", "every block random"}
    assert set(checks.agreement["other"]) == others
    assert len(checks.agreement) == 3 * 2 * n  # three others, two blocks, every clip
    # the every-block-random agreement is cascading randomisation's last step, clip by clip
    casc = checks.cascading
    last = casc[casc["step"] == casc["step"].max()].set_index("layer")["spearman"]
    agree = checks.agreement[checks.agreement["other"] == "every block random"]
    np.testing.assert_allclose(
        agree.groupby("layer")["spearman"].mean().reindex(last.index), last, atol=1e-6
    )
    iv = checks.agreement_intervals
    assert set(iv["other"]) == {
        "another seed",
        "shuffled labels",
        "every block random",
        "another seed - shuffled labels",
        "another seed - every block random",
    }
    assert set(checks.gains["unit"]) == {"cell", "joint", "frame"}
    assert set(checks.gains["against"]) == {"random", "motion"}
    assert (checks.gains["low"] <= checks.gains["high"]).all()
    assert list(checks.models["model"]) == ["real", "another seed", "memorising"]
    assert set(checks.deletion_areas["clip"]) == set(range(n))


def test_smoothness_compares_maps_and_features_per_block(ctx):
    table = gradcam_smoothness_study(ctx, seed=0, k=2)
    assert list(table["layer"]) == [1, 2]
    np.testing.assert_allclose(table["estimate"], table["map"] - table["features"])
    assert (table["low"] <= table["high"]).all()
