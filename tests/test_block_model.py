"""BlockwiseModel: any block model through the feature, geometry and Grad-CAM tools.

Oracles: the tools on a wrapped STGCN must give exactly what they give on the STGCN itself;
on a wrapped CompactGCN, Grad-CAM must equal a clip-by-clip reference that hooks the block on
its own (tests/naive.py), and padded batches must give each clip what it gets alone.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helpers.explain.gradcam import dataset_gradcam, gradcam_pass, layer_gradcam, layer_strides
from helpers.nets.block_model import BlockModel, BlockwiseModel
from helpers.nets.compact_gcn import CompactGCN
from helpers.nets.stgcn import STGCN
from helpers.training.config import TrainConfig
from helpers.training.features import layer_features, valid_lengths

from builders import CHAIN, K, T, V, clips, make_dataset, no_hooks, small_model, trained
from naive import naive_block_gradcam

NATURAL = TrainConfig(clip_mode="natural", eval_mode="natural", center="first", epochs=1)


@pytest.fixture(scope="module")
def stgcn() -> STGCN:
    return small_model(seed=1, lr=0.05)


@pytest.fixture(scope="module")
def compact() -> CompactGCN:
    net = CompactGCN(3, K, V, CHAIN, channels=(8, 8, 16, 16), random_state=0)
    return trained(net)


@pytest.fixture(scope="module")
def wrapped(compact) -> BlockwiseModel:
    return BlockwiseModel(compact, compact.blocks, example_input=torch.zeros(1, 3, 16, V, 1))


# --------------------------------------------------------------------------- STGCN as oracle
@pytest.fixture(scope="module", params=["given", "probed"])
def stgcn_wrapped(request, stgcn) -> BlockwiseModel:
    if request.param == "given":
        return BlockwiseModel(
            stgcn,
            list(stgcn.st_gcn_networks),
            strides=[s for _, s in stgcn.schedule],
            channels=[c for c, _ in stgcn.schedule],
        )
    # by name of the ModuleList; T = 16 is a multiple of the total stride 4
    return BlockwiseModel(stgcn, "st_gcn_networks", example_input=torch.zeros(2, 3, 16, V, 1))


def test_stgcn_and_the_wrapper_are_block_models_and_compact_gcn_is_not(stgcn, compact, wrapped):
    # the Protocol is the tools' contract: STGCN and BlockwiseModel have it, a bare network not
    assert isinstance(stgcn, BlockModel) and isinstance(wrapped, BlockModel)
    assert not isinstance(compact, BlockModel)
    ds = make_dataset(n_per_class=1)
    for call in (
        lambda: layer_features(compact, ds, NATURAL, device="cpu", cache=False, progress=False),
        lambda: dataset_gradcam(compact, ds, config=NATURAL, progress=False),
    ):
        with pytest.raises(TypeError, match=r"model must be a block model.*CompactGCN.*Blockwise"):
            call()


def test_wrapped_stgcn_has_the_stgcn_interface(stgcn, stgcn_wrapped):
    bm = stgcn_wrapped
    assert bm.schedule == [tuple(b) for b in stgcn.schedule]
    assert bm.block_names == [f"st_gcn_networks.{i}" for i in range(stgcn.num_blocks)]
    assert len(bm.st_gcn_networks) == stgcn.num_blocks
    assert all(a is b for a, b in zip(bm.st_gcn_networks, stgcn.st_gcn_networks))
    assert bm.takes_lengths  # STGCN.forward has a keyword-only lengths
    for lengths in ([1], [17, 11, 6, 2], np.arange(1, 40)):
        for ours, ref in zip(bm.temporal_lengths(lengths), stgcn.temporal_lengths(lengths)):
            np.testing.assert_array_equal(ours, ref)
    assert [s[:3] for s in stgcn.block_output_shapes(21, 2, 3)] == bm.block_output_shapes(21, 2, 3)
    # one copy of every parameter, under the wrapped model's prefix
    own = bm.state_dict()
    assert list(own) == [f"model.{k}" for k in stgcn.state_dict()]
    assert sum(p.numel() for p in bm.parameters()) == stgcn.num_parameters()


def test_wrapped_stgcn_gives_the_same_features(stgcn, stgcn_wrapped):
    ds = make_dataset(n_per_class=2)
    ref = layer_features(
        stgcn, ds, NATURAL, device="cpu", batch_size=4, cache=False, progress=False
    )
    ours = layer_features(
        stgcn_wrapped, ds, NATURAL, device="cpu", batch_size=4, cache=False, progress=False
    )
    assert len(ours) == len(ref) == stgcn.num_blocks + 1
    for a_layer, b_layer in zip(ours, ref):
        for a, b in zip(a_layer, b_layer):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("m", [1, 2])
def test_wrapped_stgcn_gives_the_same_gradcam(stgcn, stgcn_wrapped, m):
    lengths = np.array([T, 11, 6])
    x = clips(4, m=m, lengths=lengths)
    layers = list(range(1, stgcn.num_blocks + 1))
    for target in (None, 1, np.array([0, 2, 1])):
        ref, ref_logits, ref_cls = gradcam_pass(stgcn, x, layers, target, lengths=lengths)
        ours, logits, cls = gradcam_pass(stgcn_wrapped, x, layers, target, lengths=lengths)
        np.testing.assert_allclose(logits, ref_logits, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(cls, ref_cls)
        assert any(np.abs(ref[layer]).max() > 0 for layer in layers)
        for layer in layers:
            np.testing.assert_allclose(ours[layer], ref[layer], rtol=1e-5, atol=1e-7)
    up_ref = layer_gradcam(stgcn, x, "all", 0, lengths=lengths)
    up = layer_gradcam(stgcn_wrapped, x, "all", 0, lengths=lengths)
    assert layer_strides(stgcn_wrapped) == layer_strides(stgcn)
    for layer in layers:
        np.testing.assert_allclose(up[layer], up_ref[layer], rtol=1e-5, atol=1e-7)
    assert no_hooks(stgcn)


def test_wrapped_stgcn_gives_the_same_dataset_gradcam(stgcn, stgcn_wrapped):
    ds = make_dataset(n_per_class=2)
    ref = dataset_gradcam(stgcn, ds, "all", config=NATURAL, batch_size=4, progress=False)
    ours = dataset_gradcam(stgcn_wrapped, ds, "all", config=NATURAL, batch_size=4, progress=False)
    np.testing.assert_allclose(ours.logits, ref.logits, rtol=1e-5, atol=1e-6)
    assert ours.strides == ref.strides
    for layer in ref.maps:
        for a, b in zip(ours.maps[layer], ref.maps[layer]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------- CompactGCN
def test_probe_measures_the_compact_schedule(compact, wrapped):
    assert wrapped.schedule == [(8, 1), (8, 1), (16, 2), (16, 1)]
    assert wrapped.block_names == ["blocks.0", "blocks.1", "blocks.2", "blocks.3"]
    assert wrapped.takes_lengths
    assert wrapped.num_classes == K and wrapped.num_blocks == 4
    assert compact.training is False and no_hooks(compact)
    # the probe restores every training flag
    compact.train()
    BlockwiseModel(compact, compact.blocks, example_input=torch.zeros(1, 3, 8, V, 2))
    assert all(m.training for m in compact.modules())
    compact.eval()


def test_the_wrapper_starts_in_the_wrapped_models_mode(compact, wrapped):
    # layer_features restores the mode it found: a wrapper left in nn.Module's default training
    # mode around an eval-mode network would put the network into training mode
    assert wrapped.training is False
    layer_features(wrapped, make_dataset(n_per_class=1), NATURAL, cache=False, progress=False)
    assert not any(m.training for m in compact.modules())


def test_compact_features_have_the_predicted_shapes(wrapped):
    ds = make_dataset(n_per_class=2)  # 20..40 frames: odd and even lengths
    feats = layer_features(
        wrapped, ds, NATURAL, device="cpu", batch_size=4, cache=False, progress=False
    )
    valid = valid_lengths(wrapped, ds.lengths)
    assert len(feats) == 5
    np.testing.assert_array_equal(valid[3], (ds.lengths - 1) // 2 + 1)
    widths = [3 * V] + [c * V for c, _ in wrapped.schedule]
    for layer, per_clip in enumerate(feats):
        for i, f in enumerate(per_clip):
            assert f.shape == (valid[layer][i], widths[layer])
            assert np.isfinite(f).all()
    # each clip's features are what the clip alone gives (plain forward, no lengths)
    prepared = ds.normalized(center="first")
    for i in (0, 4):
        x = torch.from_numpy(np.transpose(prepared.sequences[i], (2, 0, 1))[None, ..., None].copy())
        with torch.no_grad():
            _, blocks = wrapped(x, return_features=True)
        for layer, block in enumerate(blocks, start=1):
            ref = block[0].permute(1, 0, 2).reshape(block.shape[2], -1).numpy()
            np.testing.assert_allclose(feats[layer][i], ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("m", [1, 2])
def test_padded_batches_give_each_clip_what_it_gets_alone(wrapped, m):
    lengths = np.array([T, 12, 5, 1])
    x = clips(5, n=4, m=m, lengths=lengths)
    x[1, :, 12:] = 7.0  # whatever lies in the padding must not matter
    with torch.no_grad():
        logits, feats = wrapped(x, return_features=True, lengths=torch.as_tensor(lengths))
        valid = wrapped.temporal_lengths(lengths)
        for n, length in enumerate(lengths):
            alone, alone_feats = wrapped(x[n : n + 1, :, :length], return_features=True)
            np.testing.assert_allclose(logits[n], alone[0], rtol=1e-5, atol=1e-5)
            for layer, (f, g) in enumerate(zip(feats, alone_feats)):
                t_l = int(valid[layer][n])
                assert g.shape[2] == t_l
                np.testing.assert_allclose(f[n * m : (n + 1) * m, :, :t_l], g, rtol=1e-5, atol=1e-5)
                assert (f[n * m : (n + 1) * m, :, t_l:] == 0).all()  # padded steps are zero


@pytest.mark.parametrize("layer", [1, 3, 4])
@pytest.mark.parametrize("m", [1, 2])
def test_compact_gradcam_equals_the_generic_oracle(compact, wrapped, layer, m):
    lengths = np.array([T, 11, 6])
    x = clips(6, m=m, lengths=lengths)
    block = compact.blocks[layer - 1]
    live = 0
    for target in (None, np.array([2, 0, 1]), 0, 1, 2):
        ref = naive_block_gradcam(compact, block, x, target, lengths)
        maps = layer_gradcam(wrapped, x, layer, target, lengths=lengths, upsample=False)
        assert maps.shape == ref.shape
        scale = max(np.abs(ref).max(), 1e-12)
        np.testing.assert_allclose(maps, ref, rtol=1e-5, atol=1e-6 * scale)
        live += int(np.abs(ref).max() > 0)
    assert live >= 2, "the oracle's maps are mostly all zero: a vacuous comparison"
    assert no_hooks(compact) and all(p.grad is None for p in compact.parameters())


def test_hooks_are_removed_after_forward_and_after_an_error(compact, wrapped):
    x = clips(0)
    wrapped(x)
    wrapped(x, return_features=True, lengths=[T, 5, 3])
    assert no_hooks(compact)
    with pytest.raises(ValueError):
        wrapped(clips(0)[:, :, :, :4])  # 4 joints: CompactGCN refuses inside the forward
    assert no_hooks(compact)

    class Failing(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Conv2d(3, 4, 1), nn.Conv2d(4, 4, 1)])

        def forward(self, x):
            h = self.blocks[0](x[..., 0])
            h = self.blocks[1](h)
            raise RuntimeError("boom after the blocks ran")

    net = Failing()
    bm = BlockwiseModel(net, net.blocks, strides=[1, 1], channels=[4, 4])
    with pytest.raises(RuntimeError, match="boom"):
        bm(clips(0))
    assert no_hooks(net)


# --------------------------------------------------------------------------- errors
class Toy(nn.Module):
    """(N, C, T, V, M) with M = 1 -> blocks on (N, C, T, V); ``mode`` breaks it on purpose."""

    def __init__(self, mode: str = "ok"):
        super().__init__()
        self.mode = mode
        self.blocks = nn.Sequential(
            nn.Conv2d(3, 4, (3, 1), padding=(1, 0)),
            nn.Conv2d(4, 6, (3, 1), stride=(2, 1), padding=(1, 0)),
        )
        self.head = nn.Linear(6, 2)
        self.unused = nn.Conv2d(6, 6, 1)

    def forward(self, x):
        h = x[..., 0]
        h = self.blocks[0](h)
        if self.mode == "twice":
            h = self.blocks[0](h[:, :3])
        h = self.blocks[1](h)
        return self.head(h.mean(dim=(2, 3)))


class Flat(nn.Module):
    """A block that returns (N, C, T): not 4-D."""

    def __init__(self):
        super().__init__()
        self.body = nn.Conv1d(15, 4, 1)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        n, c, t, v, _ = x.shape
        h = self.body(x[..., 0].permute(0, 1, 3, 2).reshape(n, c * v, t))
        return self.head(h.mean(dim=2))


def test_a_model_without_lengths_works_and_warns_once():
    net = Toy()
    bm = BlockwiseModel(net, "blocks", example_input=torch.zeros(1, 3, 8, V, 1))
    assert bm.schedule == [(4, 1), (6, 2)] and not bm.takes_lengths
    with pytest.warns(RuntimeWarning, match="lengths"):
        bm(clips(0), lengths=[T, 4, 3])
    logits, feats = bm(clips(0), return_features=True)
    assert logits.shape == (3, 2) and [tuple(f.shape) for f in feats] == [
        (3, 4, T, V),
        (3, 6, 9, V),
    ]
    forced = BlockwiseModel(net, "blocks", strides=[1, 2], channels=[4, 6], takes_lengths=True)
    assert forced.takes_lengths and forced.schedule == bm.schedule
    # train_config: the wrapped model's unless set on the wrapper
    assert bm.train_config is None
    net.train_config = NATURAL
    assert bm.train_config is NATURAL
    other = TrainConfig(epochs=2)
    bm.train_config = other
    assert bm.train_config is other and net.train_config is NATURAL


def test_errors_name_the_block_and_say_what_was_expected(compact):
    probe = torch.zeros(1, 3, 16, V, 1)
    with pytest.raises(ValueError, match=r"'blocks\.9'.*blocks\.0"):
        BlockwiseModel(compact, ["blocks.0", "blocks.9"], example_input=probe)
    with pytest.raises(ValueError, match="not a submodule"):
        BlockwiseModel(compact, [nn.Conv2d(3, 3, 1)], example_input=probe)
    with pytest.raises(ValueError, match="given twice"):
        BlockwiseModel(compact, ["blocks.0", compact.blocks[0]], example_input=probe)
    with pytest.raises(ValueError, match="empty"):
        BlockwiseModel(compact, [], example_input=probe)
    with pytest.raises(ValueError, match="example_input.*strides and channels"):
        BlockwiseModel(compact, compact.blocks)
    with pytest.raises(ValueError, match="example_input.*channels="):
        BlockwiseModel(compact, compact.blocks, strides=[1, 1, 2, 1])
    with pytest.raises(ValueError, match="one value per block"):
        BlockwiseModel(compact, compact.blocks, strides=[1, 2], example_input=probe)
    # 13 frames: block 3 gives 7 steps, 13 / 7 is no stride
    with pytest.raises(ValueError, match=r"'blocks\.2'.*13/7.*not an integer"):
        BlockwiseModel(compact, compact.blocks, example_input=torch.zeros(1, 3, 13, V, 1))
    with pytest.raises(ValueError, match=r"'blocks\.2' has stride 1"):
        BlockwiseModel(compact, compact.blocks, strides=[1, 1, 1, 1], example_input=probe)
    with pytest.raises(ValueError, match="channels=.*given"):
        BlockwiseModel(compact, compact.blocks, channels=[8, 8, 8, 8], example_input=probe)
    # wrong explicit strides are caught at the first forward pass
    bm = BlockwiseModel(compact, compact.blocks, strides=[1] * 4, channels=[8, 8, 16, 16])
    with pytest.raises(ValueError, match=r"'blocks\.2' output has shape \(3, 16, 9, 5\); expected"):
        bm(clips(0))
    assert no_hooks(compact)

    with pytest.raises(ValueError, match=r"'body'.*\(1, 4, 8\).*4-D \(N\*M, C, T, V\)"):
        BlockwiseModel(Flat(), ["body"], example_input=torch.zeros(1, 3, 8, V, 1))
    twice = Toy("twice")
    with pytest.raises(ValueError, match=r"'blocks\.0' ran more than once"):
        BlockwiseModel(twice, twice.blocks, example_input=torch.zeros(1, 3, 8, V, 1))
    assert no_hooks(twice)
    with pytest.raises(ValueError, match=r"\(N\*M, C, T, V\) = \(4, C, T, 5\)"):
        # bodies are not folded into the batch by Toy: M = 2 gives N rows, not N*M
        BlockwiseModel(Toy(), "blocks", example_input=torch.zeros(2, 3, 8, V, 2))
    with pytest.raises(ValueError, match="did not run"):
        BlockwiseModel(Toy(), ["blocks.0", "unused"], example_input=torch.zeros(1, 3, 8, V, 1))
    with pytest.raises(ValueError, match="ModuleList or nn.Sequential"):
        BlockwiseModel(Toy(), "head", example_input=torch.zeros(1, 3, 8, V, 1))


# --------------------------------------------------------------------------- the study
def test_own_model_study_on_a_toy_dataset(tmp_path, monkeypatch):
    from helpers.studies import StudyContext, own_model, own_model_study
    from helpers.training.profiles import get_profile

    prof = get_profile("quick", train_epochs=1, train_batch_size=8)
    ctx = StudyContext.create(
        prof, make_dataset(n_per_class=6), "cpu", cache_dir=tmp_path, progress=False
    )
    kwargs = dict(epochs=2, k=4)
    out = own_model_study(ctx, **kwargs)
    net, model = out["network"], out["model"]
    assert isinstance(net, CompactGCN) and model.model is net
    assert model.schedule == [(32, 1), (32, 1), (64, 2), (64, 1)]
    assert 0.0 <= out["test_accuracy"] <= 1.0
    assert out["test_accuracy"] == out["result"].test.accuracy
    assert list(out["layers"]["layer"]) == [0, 1, 2, 3, 4]
    assert list(out["layers"]["numbers_per_step"]) == [15, 160, 160, 320, 320]
    assert sorted(out["geometry"]["layer"].unique()) == [0, 1, 2, 3, 4]
    assert list(out["gradcam"]["layer"]) == [1, 2, 3, 4]
    assert out["stgcn_geometry"] is None and out["stgcn_accuracy"] is None  # not cached: skipped
    assert set(out["comparison"]["model"]) == {"CompactGCN"}
    assert out["comparison"]["depth"].max() == 1.0

    # a rerun trains nothing and measures nothing (patched where the names are used)
    def boom(*args, **kwargs):
        raise AssertionError("should come from the cache")

    monkeypatch.setattr("helpers.studies.models.fit", boom)
    for name in ("layer_features", "layer_geometry", "dataset_gradcam"):
        monkeypatch.setattr(own_model, name, boom)
    again = own_model_study(ctx, **kwargs)
    assert again["geometry"].equals(out["geometry"]) and again["gradcam"].equals(out["gradcam"])
    assert again["test_accuracy"] == out["test_accuracy"]
    for a, b in zip(again["network"].state_dict().values(), net.state_dict().values()):
        assert torch.equal(a, b)
    monkeypatch.undo()

    # with the profile's ST-GCN (trained here for its one epoch): both models, depth 0..1
    both = own_model_study(ctx, compare=True, **kwargs)
    assert set(both["comparison"]["model"]) == {"CompactGCN", "ST-GCN"}
    st = both["comparison"][both["comparison"]["model"] == "ST-GCN"]
    assert sorted(st["layer"].unique()) == list(range(11)) and st["depth"].max() == 1.0
    assert 0.0 <= both["stgcn_accuracy"] <= 1.0
    # and once that model is cached, the default compares too
    assert set(own_model_study(ctx, **kwargs)["comparison"]["model"]) == {"CompactGCN", "ST-GCN"}


def test_cascading_randomization_on_a_wrapped_model(compact):
    from helpers.explain.checks import cascading_randomization, randomize_from

    example = torch.zeros(1, 3, 16, V, 1)
    bare = BlockwiseModel(compact, compact.blocks, example_input=example)
    with pytest.raises(TypeError, match="classifier="):
        randomize_from(bare, 1)
    with pytest.raises(ValueError, match="not be one of the blocks"):
        BlockwiseModel(compact, compact.blocks, example_input=example, classifier="blocks.1")
    model = BlockwiseModel(compact, compact.blocks, example_input=example, classifier="classifier")
    assert model.classifier is compact.classifier
    # step 1 re-initialises only the classifier: the blocks keep their weights
    only_head = randomize_from(model, model.num_blocks + 1, random_state=3)
    assert only_head is not model and only_head.classifier is only_head.model.classifier
    assert not torch.equal(only_head.classifier.weight, compact.classifier.weight)
    for a, b in zip(only_head.st_gcn_networks, compact.blocks):
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    # from block 3 on: blocks 1-2 kept, 3-4 re-initialised, and the copy's tuple points into it
    from_3 = randomize_from(model, 3, random_state=3)
    assert from_3.st_gcn_networks[2] is from_3.model.blocks[2]
    kept = [
        all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
        for a, b in zip(from_3.st_gcn_networks, compact.blocks)
    ]
    assert kept == [True, True, False, False]
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.normal(size=(3, 3, 16, V, 1)), dtype=torch.float32)
    table = cascading_randomization(model, x, lengths=[16, 12, 9])
    assert sorted(table["lowest_random_block"].unique()) == [1, 2, 3, 4, 5]
    assert set(table["layer"]) == {1, 2, 3, 4}
