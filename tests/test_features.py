"""Layer features: valid lengths for strides and odd lengths, equal to a plain forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.training.config import TrainConfig
from helpers.training.features import layer_features, model_fingerprint, valid_lengths

from builders import make_dataset, small_model

NATURAL = TrainConfig(clip_mode="natural", eval_mode="natural", center="first", epochs=1)


@pytest.mark.parametrize(
    "T, expected",
    [
        (1, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
        (10, [10] * 5 + [5] * 3 + [3] * 3),
        (11, [11] * 5 + [6] * 3 + [3] * 3),
        (13, [13] * 5 + [7] * 3 + [4] * 3),
    ],
)
def test_valid_lengths_follow_the_strides(T, expected):
    model = small_model()
    assert [int(v[0]) for v in valid_lengths(model, [T])] == expected
    # the rule: T, ceil(T/2), ceil(T/4) after blocks 1-4, 5-7, 8-10
    assert expected[4] == T and expected[5] == -(-T // 2) and expected[8] == -(-T // 4)


def test_features_equal_a_plain_forward_pass_of_each_clip(tmp_path):
    ds = make_dataset(n_per_class=2)  # lengths 20..40 frames
    model = small_model()
    feats = layer_features(
        model, ds, NATURAL, device="cpu", batch_size=4, cache_dir=tmp_path, progress=False
    )
    assert len(feats) == model.num_blocks + 1
    prepared = ds.normalized(center="first")
    for i in (0, 3, 5):
        clip = prepared.sequences[i]  # (T, V, C)
        x = torch.from_numpy(np.transpose(clip, (2, 0, 1))[None, :, :, :, None].copy())
        with torch.no_grad():
            _, blocks = model(x, return_features=True)
        np.testing.assert_array_equal(feats[0][i], clip.reshape(len(clip), -1))
        for layer, block in enumerate(blocks, start=1):
            ref = block[0].permute(1, 0, 2).reshape(block.shape[2], -1).numpy()  # (T_l, C_l*V)
            assert feats[layer][i].shape == ref.shape and feats[layer][i].dtype == np.float32
            np.testing.assert_allclose(feats[layer][i], ref, rtol=1e-5, atol=1e-6)


def test_features_are_cached_per_layer(tmp_path, monkeypatch):
    from helpers.training import features as module

    ds = make_dataset(n_per_class=1)
    model = small_model()
    first = layer_features(
        model, ds, NATURAL, device="cpu", cache_dir=tmp_path, progress=False, layers=[0, 3]
    )
    assert len(list((tmp_path / "layer-features").glob("*.npz"))) == 2

    def boom(*args, **kwargs):
        raise AssertionError("the model should not run again")

    monkeypatch.setattr(module, "_compute", boom)
    again = layer_features(
        model, ds, NATURAL, device="cpu", cache_dir=tmp_path, progress=False, layers=[3, 0]
    )
    for a, b in zip(first, again[::-1]):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    other = small_model(seed=2)
    assert model_fingerprint(other) != model_fingerprint(model)
    with pytest.raises(AssertionError, match="should not run"):  # another model: computed anew
        layer_features(other, ds, NATURAL, device="cpu", cache_dir=tmp_path, progress=False)


def test_resampled_models_give_equal_lengths_and_config_is_required(tmp_path):
    ds = make_dataset(n_per_class=1)
    model = small_model()
    cfg = TrainConfig(length=12)
    feats = layer_features(model, ds, cfg, device="cpu", cache=False, progress=False)
    assert {f.shape[0] for f in feats[1]} == {12} and {f.shape[0] for f in feats[-1]} == {3}
    with pytest.raises(ValueError, match="training configuration"):
        layer_features(model, ds, device="cpu", cache=False, progress=False)
    with pytest.raises(ValueError, match="do not exist"):
        layer_features(model, ds, cfg, layers=[12], cache=False, progress=False)


def test_a_model_without_the_block_interface_gets_one_type_error():
    # once silently zero blocks (only the input came back); now one error naming what is missing
    ds = make_dataset(n_per_class=1)
    net = torch.nn.Linear(3, 3)
    message = r"model must be a block model.*lacks st_gcn_networks, .*temporal_lengths.*Blockwise"
    with pytest.raises(TypeError, match=message):
        layer_features(net, ds, NATURAL, device="cpu", cache=False, progress=False)
    with pytest.raises(TypeError, match=message):
        valid_lengths(net, [10])
