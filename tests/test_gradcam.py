"""Layerwise Grad-CAM: equal to a clip-by-clip oracle, padding-invariant, leaves the model alone."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from helpers.data.dataset import SkeletonDataset
from helpers.explain.gradcam import (
    ClassTarget,
    class_average,
    contrastivity,
    dataset_gradcam,
    gradcam_pass,
    joint_importance,
    layer_gradcam,
    layer_strides,
    upsample_time,
)
from helpers.nets.block_model import BlockModel
from helpers.nets.skeleton_graph import SkeletonGraph
from helpers.nets.stgcn import STGCN
from helpers.training.config import TrainConfig
from helpers.training.features import valid_lengths
from helpers.training.inputs import model_inputs

from builders import K, T, V, clips, make_dataset, no_hooks, small_model
from naive import naive_gradcam, naive_upsample_time

NATURAL = TrainConfig(clip_mode="natural", eval_mode="natural", center="first", epochs=1)
LAYERS = (1, 5, 8, 10)


@pytest.fixture(scope="module")
def model() -> STGCN:
    return small_model()


def predicted(model, x, lengths=None) -> np.ndarray:
    with torch.no_grad():
        logits = model(x) if lengths is None else model(x, lengths=torch.as_tensor(lengths))
    return logits.argmax(1).numpy()


def pick(model, layer, m, kind, lengths=None, n=3):
    """Inputs, a target of ``kind`` and the oracle's maps for them, which are not all zero.

    Where such inputs exist, ``'default'`` gives every clip a non-zero map, an
    ``'int'`` target differs from some clip's prediction, and an ``'array'`` target holds two
    different classes and differs from some prediction: then an implementation that ignored the
    target, or used one clip's target for all, could not pass.
    """
    fallback = None
    for seed in range(4):
        x = clips(seed, n, m, lengths=lengths)
        pred = predicted(model, x, lengths)
        # which maps are non-zero, found cheaply by the code under test: it only chooses inputs
        fast = [
            layer_gradcam(model, x, layer, c, lengths=lengths, upsample=False) for c in range(K)
        ]
        live = np.stack([mp.reshape(n, -1).any(axis=1) for mp in fast], axis=1)  # (n, K)
        if kind == "default":
            own = live[np.arange(n), pred]
            target, usable, strict = None, own.any(), own.all()
        elif kind == "int":
            classes = np.flatnonzero(live.any(axis=0))
            other = [c for c in classes if (pred != c).any()]
            target = int(other[0] if other else classes[0]) if len(classes) else None
            usable, strict = len(classes) > 0, bool(other)
        else:
            # per clip: a live class other than its prediction, else a live one, else any
            target = np.array(
                [
                    next(
                        (c for c in range(K) if row[c] and c != p),
                        next((c for c in range(K) if row[c]), i % K),
                    )
                    for i, (row, p) in enumerate(zip(live, pred))
                ]
            )
            usable = live.any()
            strict = len(set(target)) > 1 and (target != pred).any()
        if usable and (strict or fallback is None):
            found = (x, target, naive_gradcam(model, x, layer, target, lengths))
            if strict:
                return found
            fallback = found
    if fallback is None:
        raise AssertionError(f"no input gives non-zero maps for layer {layer}, M={m}, {kind}")
    return fallback


def assert_maps_close(actual, expected):
    expected = np.asarray(expected)
    assert actual.shape == expected.shape
    assert np.abs(expected).max() > 0, "the oracle's maps are all zero: a vacuous comparison"
    atol = 1e-6 * np.abs(expected).max()
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=atol)


# --------------------------------------------------------------------------- against the oracle
@pytest.mark.parametrize("kind", ["default", "int", "array"])
@pytest.mark.parametrize("m", [1, 2])
@pytest.mark.parametrize("layer", LAYERS)
def test_maps_equal_the_clip_by_clip_oracle(model, layer, m, kind):
    x, target, ref = pick(model, layer, m, kind)
    maps = layer_gradcam(model, x, layer, target, upsample=False)
    assert maps.dtype == np.float32
    assert_maps_close(maps, ref)
    if kind == "default":  # None means each clip's predicted class
        pred = predicted(model, x)
        assert_maps_close(layer_gradcam(model, x, layer, pred, upsample=False), ref)


def test_some_maps_are_cut_by_the_relu(model):
    # the oracle comparison only checks the ReLU if some weighted sums are negative
    x = clips(0, m=2)
    maps = layer_gradcam(model, x, "all", 0, upsample=False)
    partial = [
        (layer, n, b)
        for layer, mp in maps.items()
        for n in range(mp.shape[0])
        for b in range(mp.shape[1])
        if (mp[n, b] > 0).any() and (mp[n, b] == 0).any()
    ]
    assert partial
    for layer in {p[0] for p in partial}:
        assert_maps_close(maps[layer], naive_gradcam(model, x, layer, 0))


# --------------------------------------------------------------------------- natural lengths
@pytest.mark.parametrize("kind", ["default", "array"])
@pytest.mark.parametrize("layer", LAYERS)
def test_padded_batches_give_each_clip_its_own_map(model, layer, kind):
    lengths = np.array([T, 11, 6])
    x, target, ref = pick(model, layer, 2, kind, lengths=lengths)
    maps = layer_gradcam(model, x, layer, target, lengths=lengths, upsample=False)
    assert_maps_close(maps, ref)  # the oracle ran every clip alone, cropped to its length
    valid = model.temporal_lengths(lengths)[layer - 1]
    assert maps.shape[2] == model.temporal_lengths([T])[layer - 1][0]
    for n, length in enumerate(valid):
        assert (maps[n, :, length:] == 0).all()

    # lengths as a tensor or a list work the same
    again = layer_gradcam(model, x, layer, target, lengths=torch.as_tensor(lengths), upsample=False)
    np.testing.assert_array_equal(again, maps)

    up = layer_gradcam(model, x, layer, target, lengths=list(lengths), upsample=True)
    assert up.shape == (3, 2, T, V)
    stride = layer_strides(model)[layer]
    for n, length in enumerate(lengths):
        assert (up[n, :, length:] == 0).all()
        for b in range(2):
            expected = naive_upsample_time(ref[n, b, : valid[n]], int(length), stride)
            np.testing.assert_allclose(up[n, b, :length], expected, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- several layers
def test_all_and_lists_equal_one_layer_at_a_time(model):
    x = clips(3, m=2)
    target = np.array([0, 1, 2])
    for upsample in (False, True):
        every = layer_gradcam(model, x, "all", target, upsample=upsample)
        assert sorted(every) == list(range(1, 11))
        some = layer_gradcam(model, x, [8, 2], target, upsample=upsample)
        assert sorted(some) == [2, 8]
        nonzero = 0
        for layer in range(1, 11):
            alone = layer_gradcam(model, x, layer, target, upsample=upsample)
            np.testing.assert_allclose(every[layer], alone, rtol=1e-6, atol=1e-7)
            nonzero += bool(alone.any())
            if layer in some:
                np.testing.assert_allclose(some[layer], alone, rtol=1e-6, atol=1e-7)
        assert nonzero >= 3
    single = layer_gradcam(model, x, [5], target)  # a list of one is still a dict
    assert isinstance(single, dict) and list(single) == [5]


# --------------------------------------------------------------------------- shapes, upsampling
def test_shapes_follow_the_temporal_strides(model):
    t = 13  # odd: ceil(13/2) = 7, ceil(7/2) = 4
    x = clips(1, n=2, m=2, t=t)
    lengths = model.temporal_lengths([t])
    # indexed by layer number: the input (stride 1) first, then blocks 1..10
    assert layer_strides(model) == [1, 1, 1, 1, 1, 2, 2, 2, 4, 4, 4]
    for layer in LAYERS:
        t_l = int(lengths[layer - 1][0])
        assert layer_gradcam(model, x, layer, upsample=False).shape == (2, 2, t_l, V)
        up = layer_gradcam(model, x, layer)
        assert up.shape == (2, 2, t, V) and up.dtype == np.float32
        # a numpy input gives the same maps
        np.testing.assert_array_equal(layer_gradcam(model, x.numpy(), layer), up)
    assert [int(v[0]) for v in lengths] == [13] * 4 + [7] * 3 + [4] * 3


@pytest.mark.parametrize("layer", [5, 8, 10])
def test_upsampling_interpolates_the_layer_map_along_time(model, layer):
    x, target, _ = pick(model, layer, 2, "int")
    small = layer_gradcam(model, x, layer, target, upsample=False)
    up = layer_gradcam(model, x, layer, target, upsample=True)
    stride = layer_strides(model)[layer]
    assert up.any()
    for n in range(small.shape[0]):
        for b in range(small.shape[1]):
            expected = naive_upsample_time(small[n, b], T, stride)
            np.testing.assert_allclose(up[n, b], expected, rtol=1e-6, atol=1e-7)


def test_strides_and_valid_lengths_share_one_numbering(model, dataset):
    # one convention: lists indexed by layer number, the input at 0, in every helper
    lengths = np.array([13, 4])
    valid = valid_lengths(model, lengths)
    strides = layer_strides(model)
    assert len(valid) == len(strides) == model.num_blocks + 1
    np.testing.assert_array_equal(valid[0], lengths)
    for layer in range(1, model.num_blocks + 1):
        np.testing.assert_array_equal(valid[layer], model.temporal_lengths(lengths)[layer - 1])
        # a stride-S block keeps ceil(L / S) steps of L frames
        np.testing.assert_array_equal(valid[layer], -(-lengths // strides[layer]))
    res = dataset_gradcam(model, dataset, [5, 8], config=NATURAL, progress=False)
    assert res.strides == strides
    assert res.upsampled_map(8, 0).shape == (2, dataset.lengths[0], V)


class NoBlocks(torch.nn.Module):
    """A classifier without the block-model interface (no blocks, lengths or schedule)."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, K)

    def forward(self, x, return_features=False, lengths=None):
        return self.fc(x.mean(dim=(2, 3, 4)))


def test_a_model_without_the_block_interface_gets_one_type_error(dataset):
    net = NoBlocks()
    assert not isinstance(net, BlockModel)
    x = clips(1)
    calls = [
        lambda: layer_gradcam(net, x, 1),
        lambda: gradcam_pass(net, x, [1]),
        lambda: dataset_gradcam(net, dataset, config=NATURAL, progress=False),
        lambda: layer_strides(net),
    ]
    for call in calls:
        with pytest.raises(
            TypeError,
            match=r"model must be a block model.*lacks "
            r"st_gcn_networks, num_blocks, schedule, temporal_lengths.*BlockwiseModel",
        ):
            call()


def test_upsample_time_hand_worked_cases():
    maps = np.array([0.0, 2.0, 4.0]).reshape(1, 1, 3, 1)
    out = upsample_time(maps, np.array([3]), np.array([5]), 2, 5)
    assert out.dtype == np.float32 and out.shape == (1, 1, 5, 1)
    np.testing.assert_allclose(out[0, 0, :, 0], [0, 1, 2, 3, 4])
    # stride 4; the last valid frame is held at the end; frames past the layer's valid length
    # (here 99) are never used; input frames past the clip's length are zero
    maps = np.array([0.0, 4.0, 99.0]).reshape(1, 1, 3, 1)
    out = upsample_time(maps, np.array([2]), np.array([6]), 4, 8)
    np.testing.assert_allclose(out[0, 0, :, 0], [0, 1, 2, 3, 4, 4, 0, 0])
    np.testing.assert_allclose(
        naive_upsample_time(np.array([[0.0], [4.0]]), 6, 4)[:, 0], [0, 1, 2, 3, 4, 4]
    )
    # stride 1 is the identity
    rng = np.random.default_rng(0)
    maps = rng.random((2, 2, 6, V))
    out = upsample_time(maps, np.array([6, 6]), np.array([6, 6]), 1, 6)
    np.testing.assert_allclose(out, maps, rtol=1e-6)


def test_upsampling_never_mixes_joints():
    rng = np.random.default_rng(1)
    maps = np.zeros((2, 2, 4, V))
    maps[:, :, :, 2] = rng.random((2, 2, 4)) + 0.1
    out = upsample_time(maps, np.array([4, 3]), np.array([15, 10]), 4, 15)
    assert (out[..., 2] > 0)[0].all() and (out[1, :, :10, 2] > 0).all()
    assert (np.delete(out, 2, axis=3) == 0).all()
    for n, (t_l, length) in enumerate([(4, 15), (3, 10)]):
        for b in range(2):
            expected = naive_upsample_time(maps[n, b, :t_l], length, 4)
            np.testing.assert_allclose(out[n, b, :length], expected, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------ the model is left alone
def test_the_model_comes_back_unchanged(model):
    x, target, ref = pick(model, 5, 2, "int")
    net = copy.deepcopy(model)
    net.train()
    net.data_bn.eval()  # one submodule with its own flag
    flags = [mod.training for mod in net.modules()]
    state = {k: v.clone() for k, v in net.state_dict().items()}
    maps = layer_gradcam(net, x, [1, 5, 10], target, upsample=False)
    assert_maps_close(maps[5], ref)  # computed in eval mode, as the oracle's
    assert [mod.training for mod in net.modules()] == flags
    after = net.state_dict()
    assert list(after) == list(state)
    for k, v in state.items():
        assert torch.equal(after[k], v), k  # BN running statistics included
    assert all(p.grad is None for p in net.parameters())
    assert no_hooks(net)
    assert all(p.requires_grad for p in net.parameters())


def test_hooks_and_flags_are_restored_after_an_error(model):
    net = copy.deepcopy(model).train()
    x = clips(0)
    with pytest.raises(ValueError, match="target"):
        layer_gradcam(net, x, "all", K)
    assert no_hooks(net) and all(mod.training for mod in net.modules())

    def broken(logits):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        layer_gradcam(net, x, [1, 10], broken)
    assert no_hooks(net) and all(mod.training for mod in net.modules())
    assert all(p.grad is None for p in net.parameters())


def test_outputs_changed_in_place_are_refused(model):
    # a later module changing block 1's output in place would make its gradient meaningless
    net = copy.deepcopy(model)

    def scale_input(module, args):
        args[0].mul_(1.0)  # returns None: the block's arguments stay as they are

    handle = net.st_gcn_networks[1].register_forward_pre_hook(scale_input)
    try:
        with pytest.raises(RuntimeError, match=r"block\(s\) \[1\]"):
            layer_gradcam(net, clips(0), [1, 5])
        assert no_hooks(net.st_gcn_networks[0])
        layer_gradcam(net, clips(0), 5)  # block 5's own output is untouched
    finally:
        handle.remove()
    assert no_hooks(net)


def test_frozen_parameters_give_the_same_maps(model):
    x, target, ref = pick(model, 8, 2, "array")
    net = copy.deepcopy(model)
    for p in net.parameters():
        p.requires_grad_(False)
    maps = layer_gradcam(net, x, "all", target, upsample=False)
    assert_maps_close(maps[8], ref)
    normal = layer_gradcam(model, x, "all", target, upsample=False)
    for layer in normal:
        np.testing.assert_allclose(maps[layer], normal[layer], rtol=1e-6, atol=1e-7)
    assert all(not p.requires_grad and p.grad is None for p in net.parameters())


# --------------------------------------------------------------------------- targets and errors
def test_callable_targets(model):
    x, target, ref = pick(model, 10, 1, "int")
    by_int = layer_gradcam(model, x, 10, target, upsample=False)
    by_call = layer_gradcam(model, x, 10, ClassTarget(target), upsample=False)
    np.testing.assert_array_equal(by_call, by_int)
    assert_maps_close(by_call, ref)
    classes = np.array([2, 0, 1])
    np.testing.assert_array_equal(
        layer_gradcam(model, x, "all", ClassTarget(classes))[10],
        layer_gradcam(model, x, "all", classes)[10],
    )
    logits = torch.arange(6.0).view(2, 3)
    np.testing.assert_array_equal(ClassTarget(1)(logits).numpy(), [1.0, 4.0])
    np.testing.assert_array_equal(ClassTarget([2, 0])(logits).numpy(), [2.0, 3.0])
    for wrong in (lambda z: z, lambda z: z.sum(), lambda z: z[:1, 0], lambda z: 1.0):
        with pytest.raises(ValueError, match="callable target"):
            layer_gradcam(model, x, 10, wrong)


@pytest.mark.parametrize("layer", [0, 11, -1, "first", True, 2.0, [], [1, 0]])
def test_bad_layers_are_refused(model, layer):
    with pytest.raises(ValueError, match="layer"):
        layer_gradcam(model, clips(0), layer)


@pytest.mark.parametrize("target", [K, -1, [0, 1], [0, 1, 2, 0], 1.0, [0.0, 1.0, 2.0], "0"])
def test_bad_targets_are_refused(model, target):
    with pytest.raises(ValueError, match="target"):
        layer_gradcam(model, clips(0), 5, target)


def test_bad_inputs_are_refused(model):
    x = clips(0)
    with pytest.raises(ValueError, match="x must be"):
        layer_gradcam(model, x[..., 0], 5)
    with pytest.raises(ValueError, match="x must be"):
        layer_gradcam(model, x[None], 5)
    with pytest.raises(TypeError, match="x must be"):
        layer_gradcam(model, x.tolist(), 5)
    with pytest.raises(ValueError, match="lengths"):
        layer_gradcam(model, x, 5, lengths=[T, T])
    with pytest.raises(ValueError, match="lengths"):
        layer_gradcam(model, x, 5, lengths=[T + 1, T, T])


# --------------------------------------------------------------------------- summaries
def test_joint_importance_is_the_mean_over_valid_frames():
    rng = np.random.default_rng(2)
    maps = rng.random((3, 2, 6, V))
    lengths = [6, 4, 1]
    out = joint_importance(maps, lengths)
    assert out.shape == (3, 2, V)
    for n, length in enumerate(lengths):
        for b in range(2):
            for v in range(V):
                expected = sum(maps[n, b, t, v] for t in range(length)) / length
                assert out[n, b, v] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(joint_importance(maps), maps.mean(axis=2), rtol=1e-12)
    ragged = [maps[n, :, :length] for n, length in enumerate(lengths)]
    np.testing.assert_allclose(joint_importance(ragged), out, rtol=1e-12)
    with pytest.raises(ValueError, match="lengths"):
        joint_importance(maps, [6, 7, 1])
    with pytest.raises(ValueError, match="lengths"):
        joint_importance(maps, [6, 0, 1])
    with pytest.raises(ValueError, match="maps"):
        joint_importance([maps[0, 0]])


def test_class_average_and_contrastivity():
    rng = np.random.default_rng(3)
    values = rng.random((5, V))
    labels = np.array([0, 2, 0, 2, 2])
    avg = class_average(values, labels, 4)
    assert avg.shape == (4, V)
    np.testing.assert_allclose(avg[0], (values[0] + values[2]) / 2)
    np.testing.assert_allclose(avg[2], (values[1] + values[3] + values[4]) / 3)
    assert np.isnan(avg[1]).all() and np.isnan(avg[3]).all()
    with pytest.raises(ValueError, match="labels"):
        class_average(values, labels[:4], 4)

    imp = rng.random((3, V))
    np.testing.assert_allclose(contrastivity(imp), np.corrcoef(imp), rtol=1e-10, atol=1e-12)
    imp[1] = 0.5  # a constant row has no correlation
    corr = contrastivity(imp)
    assert np.isnan(corr[1]).all() and np.isnan(corr[:, 1]).all()
    np.testing.assert_allclose(corr[[0, 2]][:, [0, 2]], np.corrcoef(imp[[0, 2]]), rtol=1e-10)
    assert np.isnan(contrastivity(avg)[1]).all()  # a class without clips
    with pytest.raises(ValueError, match="class_importance"):
        contrastivity(imp[0])


# --------------------------------------------------------------------------- a dataset
def two_body_dataset() -> SkeletonDataset:
    base = make_dataset(n_per_class=2)  # 6 clips of 20..40 frames
    seqs = [np.stack([s, s[::-1] + 0.1], axis=1) for s in base.sequences]  # (T, 2, V, 3)
    return SkeletonDataset.from_arrays(
        seqs, base.labels, base.class_names, edges=[(0, 1), (1, 2), (2, 3), (3, 4)], center=0
    )


@pytest.fixture(scope="module")
def dataset() -> SkeletonDataset:
    return two_body_dataset()


@pytest.mark.parametrize("target", [None, "label"])
def test_dataset_maps_equal_each_clip_alone(model, dataset, target):
    layers = [1, 5, 8, 10]
    res = dataset_gradcam(
        model, dataset, layers, target, config=NATURAL, batch_size=4, progress=False
    )
    n, m = len(dataset), dataset.num_bodies
    assert m == 2 and sorted(res.maps) == layers and not res.upsampled
    np.testing.assert_array_equal(res.labels, dataset.labels)
    np.testing.assert_array_equal(res.lengths, dataset.lengths)
    assert res.logits.shape == (n, K)
    if target == "label":
        np.testing.assert_array_equal(res.targets, dataset.labels)
    else:
        np.testing.assert_array_equal(res.targets, res.predictions)
    nonzero = {layer: 0 for layer in layers}
    for i in range(n):
        x, lengths = model_inputs(dataset, NATURAL, index=[i])
        assert x.shape[2] == lengths[0] == dataset.lengths[i]
        with torch.no_grad():
            logits = model(torch.from_numpy(x), lengths=torch.as_tensor(lengths))
        np.testing.assert_allclose(res.logits[i], logits[0].numpy(), rtol=1e-5, atol=1e-6)
        tgt = None if target is None else int(dataset.labels[i])
        alone = layer_gradcam(model, x, layers, tgt, lengths=lengths, upsample=False)
        valid = model.temporal_lengths(lengths)
        for layer in layers:
            mp = res.maps[layer][i]
            assert mp.shape == (m, valid[layer - 1][0], V) and mp.dtype == np.float32
            np.testing.assert_allclose(mp, alone[layer][0], rtol=1e-5, atol=1e-6)
            nonzero[layer] += bool(mp.any())
        ref = naive_gradcam(model, x, 10, int(res.targets[i]))
        np.testing.assert_allclose(res.maps[10][i], ref[0], rtol=1e-5, atol=1e-6)
    assert sum(v > 0 for v in nonzero.values()) >= 2, nonzero

    for layer in layers:
        imp = res.importance(layer)
        assert imp.shape == (n, V)
        for i in range(n):
            np.testing.assert_allclose(imp[i], res.maps[layer][i].mean(axis=(0, 1)), rtol=1e-6)
        flat = res.flattened(layer)
        for i, (f, mp) in enumerate(zip(flat, res.maps[layer])):
            assert f.shape == (mp.shape[1], m * V)
            for b in range(m):
                np.testing.assert_array_equal(f[:, b * V : (b + 1) * V], mp[b])


def test_dataset_maps_upsampled_and_with_fixed_targets(model, dataset):
    res = dataset_gradcam(
        model, dataset, 8, 1, config=NATURAL, upsample=True, batch_size=4, progress=False
    )
    assert res.upsampled and list(res.maps) == [8] and (res.targets == 1).all()
    assert any(mp.any() for mp in res.maps[8])
    for i in range(len(dataset)):
        x, lengths = model_inputs(dataset, NATURAL, index=[i])
        alone = layer_gradcam(model, x, 8, 1, lengths=lengths, upsample=True)
        assert res.maps[8][i].shape == (2, dataset.lengths[i], V)
        np.testing.assert_allclose(res.maps[8][i], alone[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="target"):
        dataset_gradcam(model, dataset, 8, "labels", config=NATURAL, progress=False)
    with pytest.raises(ValueError, match="training configuration"):
        dataset_gradcam(model, dataset, 8, progress=False)


# --------------------------------------------------------------------------- CUDA
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_maps_equal_cpu_maps(model, monkeypatch):
    # full float32 on the GPU, so that the comparison can be tight
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    lengths = np.array([T, 11, 6])
    x = clips(5, m=2, lengths=lengths)
    target = np.array([0, 1, 2])
    cpu = layer_gradcam(model, x, "all", target, lengths=lengths, upsample=False)
    gpu_model = copy.deepcopy(model).cuda()
    gpu = layer_gradcam(gpu_model, x, "all", target, lengths=lengths, upsample=False)
    gpu_x = layer_gradcam(gpu_model, x.cuda(), "all", target, lengths=lengths, upsample=False)
    assert any(mp.any() for mp in cpu.values())
    for layer in cpu:
        scale = max(float(np.abs(cpu[layer]).max()), 1e-12)
        np.testing.assert_allclose(gpu[layer], cpu[layer], rtol=1e-4, atol=1e-5 * scale)
        np.testing.assert_array_equal(gpu_x[layer], gpu[layer])


def test_inside_inference_mode_the_maps_are_the_same(model):
    x = torch.randn(2, 3, 12, 5, 1)
    plain = layer_gradcam(model, x, 10)
    with torch.inference_mode():
        inside = layer_gradcam(model, x, 10)
    np.testing.assert_array_equal(plain, inside)


def test_dataset_targets_are_checked_against_the_model_classes(dataset):
    wide = STGCN(
        5,
        graph=SkeletonGraph(5, [(0, 1), (1, 2), (2, 3), (3, 4)], center=0),
        width=0.125,
        random_state=0,
    ).eval()
    out = dataset_gradcam(wide, dataset, 10, 4, config=NATURAL, progress=False)
    assert (out.targets == 4).all()
    with pytest.raises(ValueError, match="5 classes"):
        dataset_gradcam(wide, dataset, 10, 5, config=NATURAL, progress=False)


def test_joint_importance_refuses_lengths_for_cropped_clips():
    with pytest.raises(ValueError, match="lengths"):
        joint_importance([np.ones((1, 3, 5))], lengths=[3])


def test_concentration_hand_cases():
    from helpers.explain.gradcam import concentration

    uniform = np.ones((1, 10, 10))
    one_joint = np.zeros((1, 10, 10))
    one_joint[0, :, 3] = 1.0
    one_frame = np.zeros((1, 10, 10))
    one_frame[0, 4] = 1.0
    j, t = concentration([uniform, one_joint, one_frame, np.zeros((1, 4, 10))], 5, 0.2)
    np.testing.assert_allclose(j[:3], [0.5, 1.0, 0.5])
    np.testing.assert_allclose(t[:3], [0.2, 0.2, 1.0])
    assert np.isnan(j[3]) and np.isnan(t[3])
