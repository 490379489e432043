"""ST-GCN model: parameter count and logits against a re-implementation of the original code,
shapes, per-block features and valid lengths, checkpoints, pickling, seeding and variants."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch
import torch.nn as nn

from helpers.nets.skeleton_graph import SkeletonGraph
from helpers.nets.stgcn import REFERENCE_SCHEDULE, STGCN, SpatialGraphConv

import naive as ref


def _reference(layout: str, num_class: int = 60, seed: int = 0, **kwargs) -> ref.ReferenceModel:
    model = ref.ReferenceModel(
        3, num_class, {"layout": layout, "strategy": "spatial"}, True, dropout=0.5, **kwargs
    )
    return ref.randomize_reference(model, seed).eval()


def _input(n: int, t: int, v: int, m: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 3, t, v, m, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------- reference
# configuration
def test_reference_configuration_parameter_count():
    ours = STGCN(num_classes=60, layout="ntu-rgb+d", strategy="spatial")
    theirs = ref.ReferenceModel(3, 60, {"layout": "ntu-rgb+d", "strategy": "spatial"}, True)
    n_ref = sum(p.numel() for p in theirs.parameters())
    assert ours.num_parameters() == n_ref
    assert abs(n_ref - 3.1e6) < 0.05e6
    assert [tuple(p.shape) for p in ours.parameters()] == [
        tuple(p.shape) for p in theirs.parameters()
    ]
    assert list(ours.state_dict()) == list(theirs.state_dict())  # same names, same order
    assert ours.schedule == list(REFERENCE_SCHEDULE)
    rows = ours.summary(T=300)
    assert [r["T_out"] for r in rows] == [300] * 4 + [150] * 3 + [75] * 3
    head = sum(p.numel() for p in (*ours.data_bn.parameters(), *ours.fcn.parameters()))
    assert sum(r["parameters"] for r in rows) + head == n_ref


def test_reference_at_quarter_width_is_the_quick_network():
    # the training benchmark's peer: the original code with every block's channels x 0.25
    ours = STGCN(num_classes=11, layout="hdm05", width=0.25, center_distance="truncated")
    theirs = _reference("hdm05", num_class=11, width=0.25)
    assert [tuple(p.shape) for p in ours.parameters()] == [
        tuple(p.shape) for p in theirs.parameters()
    ]
    ours.load_state_dict(theirs.state_dict())
    x = _input(2, 20, 31, 1)
    torch.testing.assert_close(ours.eval()(x), theirs(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layout,v,m", [("ntu-rgb+d", 25, 2), ("hdm05", 31, 1)])
def test_reference_checkpoint_gives_same_logits(tmp_path, layout, v, m):
    theirs = _reference(layout, num_class=11, seed=1)
    # wrapped and DataParallel-prefixed, as the original training script and others save it
    path = tmp_path / "ref.pt"
    torch.save(
        {"state_dict": {"module." + k: t for k, t in theirs.state_dict().items()}, "epoch": 3}, path
    )
    ours = STGCN.from_reference_checkpoint(path, layout=layout).eval()
    assert ours.num_classes == 11 and ours.graph.center_distance == "truncated"
    x = _input(3, 40, v, m, seed=2)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-5, atol=1e-5)


def test_reference_checkpoint_without_bn_counters_and_as_model_wrapper():
    theirs = _reference("ntu-rgb+d", seed=3)
    state = {k: t for k, t in theirs.state_dict().items() if not k.endswith("num_batches_tracked")}
    ours = STGCN.from_reference_checkpoint({"model": state}, num_classes=60).eval()
    x = _input(2, 20, 25, 2, seed=4)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-5, atol=1e-5)


def test_mismatched_checkpoint_lists_keys():
    state = _reference("ntu-rgb+d").state_dict()
    state.pop("st_gcn_networks.3.tcn.2.bias")
    state["st_gcn_networks.3.extra.weight"] = torch.zeros(1)
    state["fcn.bias"] = torch.zeros(7)
    model = STGCN(60)
    with pytest.raises(ValueError) as err:
        model.load_reference_state_dict(state)
    msg = str(err.value)
    assert "Missing keys (1): st_gcn_networks.3.tcn.2.bias" in msg
    assert "Unexpected keys (1): st_gcn_networks.3.extra.weight" in msg
    assert "fcn.bias: checkpoint (7,) vs model (60,)" in msg
    # an NTU checkpoint is no HDM05 model: the adjacency says so
    with pytest.raises(ValueError, match=r"matches neither layout='hdm05'"):
        STGCN.from_reference_checkpoint(_reference("ntu-rgb+d").state_dict(), layout="hdm05")
    with pytest.raises(ValueError, match="num_classes=10"):
        STGCN.from_reference_checkpoint(_reference("ntu-rgb+d").state_dict(), num_classes=10)
    with pytest.raises(ValueError, match="not an ST-GCN checkpoint"):
        STGCN.from_reference_checkpoint({"weight": torch.zeros(3)})


@pytest.mark.parametrize("c_in,c_out", [(3, 8), (8, 8), (8, 4)])
def test_graph_conv_matches_naive_per_subset_sum(c_in, c_out):
    """Both evaluation orders equal sum_k (W_k x + b_k) @ A_k, computed naively in float64."""
    graph = SkeletonGraph.from_layout("hdm05")
    A = torch.tensor(graph.A, dtype=torch.float64) * torch.rand(3, 31, 31, dtype=torch.float64)
    gc = SpatialGraphConv(c_in, c_out, 3).double()
    torch.nn.init.normal_(gc.conv.bias)
    x = torch.randn(2, c_in, 5, 31, dtype=torch.float64)
    w, b = gc.conv.weight[:, :, 0, 0].view(3, c_out, c_in), gc.conv.bias.view(3, c_out)
    naive = ref.naive_graph_conv(x, w, b, A)
    with torch.no_grad():
        torch.testing.assert_close(gc(x, A), naive)
        torch.testing.assert_close(gc._aggregate_then_mix(x, A), naive)
        torch.testing.assert_close(gc._mix_then_aggregate(x, A), naive)


# --------------------------------------------------------------------------- shapes and features
@pytest.mark.parametrize("layout,v,m", [("ntu-rgb+d", 25, 2), ("hdm05", 31, 1)])
def test_output_and_feature_shapes(layout, v, m):
    model = STGCN(num_classes=7, layout=layout, random_state=0).eval()
    t = 37
    x = _input(2, t, v, m)
    with torch.no_grad():
        plain = model(x)
        logits, feats = model(x, return_features=True)
    assert plain.shape == (2, 7)
    torch.testing.assert_close(logits, plain, rtol=0, atol=0)
    assert len(feats) == 10
    assert [tuple(f.shape) for f in feats] == model.block_output_shapes(t, num_bodies=m, batch=2)
    # T = 37 -> ceil(37/2) = 19 after block 5 -> ceil(19/2) = 10 after block 8
    assert [f.shape[2] for f in feats] == [37] * 4 + [19] * 3 + [10] * 3
    assert [f.shape[1] for f in feats] == [c for c, _ in REFERENCE_SCHEDULE]


def test_features_are_the_blocks_outputs():
    """Replaying the blocks by hand from the input gives the returned features."""
    model = STGCN(num_classes=5, layout="hdm05", width=0.25, random_state=1).eval()
    x = _input(2, 16, 31, 2)
    with torch.no_grad():
        _, feats = model(x, return_features=True)
        n, c, t, v, m = x.shape
        h = model.data_bn(x.permute(0, 4, 3, 1, 2).reshape(n * m, v * c, t))
        h = h.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for i, block in enumerate(model.st_gcn_networks):
            h = block(h, model.A * model.edge_importance[i])
            torch.testing.assert_close(feats[i], h, rtol=0, atol=0)
        # the logits pool the last feature over time, joints and bodies
        pooled = feats[-1].mean(dim=(2, 3)).view(n, m, -1).mean(1)
        torch.testing.assert_close(
            model(x), pooled @ model.fcn.weight[:, :, 0, 0].T + model.fcn.bias
        )


def test_temporal_lengths_by_hand():
    model = STGCN(num_classes=3)
    lengths = model.temporal_lengths(np.array([1, 2, 7, 8, 37, 300]))
    assert len(lengths) == 10
    np.testing.assert_array_equal(lengths[3], [1, 2, 7, 8, 37, 300])
    np.testing.assert_array_equal(lengths[4], [1, 1, 4, 4, 19, 150])  # ceil(L / 2)
    np.testing.assert_array_equal(lengths[9], [1, 1, 2, 2, 10, 75])
    # the same formula as the convolutions' output length (floor((T + 2*4 - 9) / 2) + 1)
    for t in (1, 2, 9, 10, 33):
        shapes = model.block_output_shapes(t)
        assert [s[2] for s in shapes] == [int(lv[0]) for lv in model.temporal_lengths([t])]
    with pytest.raises(ValueError, match=">= 1"):
        model.temporal_lengths([0, 3])


# --------------------------------------------------------------------------- persistence
def test_checkpoint_round_trip_is_exact(tmp_path):
    graph = SkeletonGraph(
        5, [(0, 1), (1, 2), (2, 3), (2, 4)], center=2, strategy="distance", max_hop=2
    )
    model = STGCN(4, graph=graph, width=0.25, num_blocks=6, dropout=0.5, random_state=3)
    with torch.no_grad():  # make the BN statistics non-trivial
        model.train()(_input(4, 12, 5, 1, seed=5))
    model.eval()
    (tmp_path / "config.json").write_text(json.dumps(model.config))
    torch.save(model.state_dict(), tmp_path / "weights.pt")

    again = STGCN.from_config(json.loads((tmp_path / "config.json").read_text()))
    again.load_state_dict(torch.load(tmp_path / "weights.pt", weights_only=True))
    again.eval()
    x = _input(3, 21, 5, 1, seed=6)
    with torch.no_grad():
        torch.testing.assert_close(again(x), model(x), rtol=0, atol=0)
    assert again.config == model.config and again.graph == graph


def test_model_pickles():
    model = STGCN(11, layout="hdm05", width=0.25, random_state=0).eval()
    clone = pickle.loads(pickle.dumps(model))
    x = _input(1, 10, 31, 1)
    with torch.no_grad():
        torch.testing.assert_close(clone(x), model(x), rtol=0, atol=0)


def test_same_seed_same_model():
    a, b = STGCN(10, random_state=7), STGCN(10, random_state=7)
    c = STGCN(10, random_state=8)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name
    assert not torch.equal(a.fcn.weight, c.fcn.weight)
    # the global RNG also works, for code that seeds torch itself
    torch.manual_seed(1)
    d = STGCN(10, width=0.25)
    torch.manual_seed(1)
    e = STGCN(10, width=0.25)
    assert torch.equal(d.st_gcn_networks[3].tcn[2].weight, e.st_gcn_networks[3].tcn[2].weight)


def test_reference_initialisation():
    model = STGCN(60, random_state=0)
    w = model.st_gcn_networks[9].tcn[2].weight
    assert abs(w.std().item() - 0.02) < 0.001 and abs(w.mean().item()) < 0.001
    assert torch.all(model.st_gcn_networks[9].tcn[2].bias == 0)
    assert abs(model.data_bn.weight.mean().item() - 1.0) < 0.01


# --------------------------------------------------------------------------- variants and
# robustness
@pytest.mark.parametrize(
    "kwargs,channels,strides",
    [
        (dict(width=0.25), [16] * 4 + [32] * 3 + [64] * 3, [1, 1, 1, 1, 2, 1, 1, 2, 1, 1]),
        (dict(num_blocks=4), [64] * 4, [1] * 4),
        (dict(num_blocks=7, width=0.5), [32] * 4 + [64] * 3, [1, 1, 1, 1, 2, 1, 1]),
        (
            dict(schedule=[(64, 1), (64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1)]),
            [64, 64, 64, 128, 128, 256, 256],
            [1, 1, 1, 2, 1, 2, 1],
        ),
        (
            dict(strategy="uniform", edge_importance=False, width=0.25, num_blocks=5),
            [16] * 4 + [32],
            [1] * 4 + [2],
        ),
    ],
)
def test_variants_build_and_train(kwargs, channels, strides):
    model = STGCN(6, layout="hdm05", random_state=0, **kwargs)
    assert [c for c, _ in model.schedule] == channels and [s for _, s in model.schedule] == strides
    kinds = [b.residual_kind for b in model.st_gcn_networks]
    assert kinds[0] == "none" and all(
        k == ("conv" if (c != p or s != 1) else "identity")
        for k, c, p, s in zip(kinds[1:], channels[1:], channels, strides[1:])
    )
    x = _input(2, 12, 31, 1)
    logits, feats = model(x, return_features=True)
    assert logits.shape == (2, 6) and feats[-1].shape[1] == channels[-1]
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_dropout_only_after_the_first_block():
    model = STGCN(3, dropout=0.5)
    assert model.st_gcn_networks[0].tcn[4].p == 0.0
    assert all(b.tcn[4].p == 0.5 for b in model.st_gcn_networks[1:])


def test_autocast_tolerated():
    model = STGCN(5, layout="hdm05", width=0.25, random_state=0).eval()
    x = _input(2, 16, 31, 1)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        logits, feats = model(x, return_features=True)
    assert torch.isfinite(logits.float()).all()
    assert all(b.dtype == torch.float32 for b in model.buffers() if b.is_floating_point())


def test_bad_input_errors():
    model = STGCN(5, layout="hdm05", width=0.25)
    with pytest.raises(ValueError, match=r"\(N, C, T, V, M\).*bodies axis"):
        model(torch.zeros(1, 3, 10, 31))
    with pytest.raises(ValueError, match=r"V=25 joints.*V=31"):
        model(torch.zeros(1, 3, 10, 25, 1))
    with pytest.raises(ValueError, match="num_blocks"):
        STGCN(5, num_blocks=11)
    with pytest.raises(ValueError, match="unknown layout"):
        STGCN(5, layout="coco")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    model = STGCN(5, layout="hdm05", random_state=0).eval()
    x = _input(2, 32, 31, 1)
    with torch.no_grad():
        cpu = model(x)
        gpu = model.to("cuda")(x.to("cuda")).cpu()
    torch.testing.assert_close(gpu, cpu, rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------- natural-length batches
def _warm(model: STGCN) -> STGCN:
    """Non-trivial BatchNorm statistics, so that padding would show if it leaked."""
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(4, 3, 20, model.graph.num_nodes, 1))
    return model.eval()


def test_padded_batch_with_lengths_equals_each_clip_alone():
    model = _warm(STGCN(5, layout="hdm05", width=0.25, random_state=0))
    lengths = [7, 20, 13, 1, 2]
    clips = [torch.randn(1, 3, t, 31, 1) for t in lengths]
    x = torch.zeros(len(clips), 3, max(lengths), 31, 1)
    for i, c in enumerate(clips):
        x[i, :, : c.shape[2]] = c[0]
    with torch.no_grad():
        logits, feats = model(x, return_features=True, lengths=lengths)
        valid = model.temporal_lengths(lengths)
        for i, c in enumerate(clips):
            one, alone = model(c, return_features=True)
            torch.testing.assert_close(logits[i], one[0], rtol=1e-5, atol=1e-6)
            for layer in range(model.num_blocks):
                t = int(valid[layer][i])
                assert alone[layer].shape[2] == t
                torch.testing.assert_close(
                    feats[layer][i, :, :t], alone[layer][0], rtol=1e-5, atol=1e-6
                )
        # without the lengths the padding leaks into the clips' logits
        assert (model(x) - logits).abs().max() > 1e-3


@pytest.mark.parametrize("train", [False, True])
def test_full_lengths_change_nothing(train):
    model = _warm(STGCN(5, layout="hdm05", width=0.25, random_state=0)).train(train)
    x = torch.randn(3, 3, 16, 31, 1)
    torch.manual_seed(0)
    a = model(x, lengths=[16, 16, 16])
    torch.manual_seed(0)
    b = model(x)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dims", [3, 4])
def test_masked_batch_norm_uses_the_valid_entries_only(dims):
    from helpers.nets.stgcn import masked_batch_norm, time_mask

    torch.manual_seed(0)
    lengths = torch.tensor([5, 9, 2])
    shape = (3, 4, 9) if dims == 3 else (3, 4, 9, 6)
    x = torch.randn(*shape) * 3 + 1
    ours = (nn.BatchNorm1d if dims == 3 else nn.BatchNorm2d)(4, momentum=0.3)
    ref = (nn.BatchNorm1d if dims == 3 else nn.BatchNorm2d)(4, momentum=0.3)
    with torch.no_grad():
        ours.weight.uniform_(0.5, 2)
        ours.bias.uniform_(-1, 1)
        ref.load_state_dict(ours.state_dict())
    out = masked_batch_norm(ours, x, time_mask(lengths, 9))
    # the reference: plain BatchNorm on the valid frames only, laid end to end
    valid = torch.cat([x[i, :, : int(t)] for i, t in enumerate(lengths)], dim=1)[None]
    expected = ref(valid)[0]
    got = torch.cat([out[i, :, : int(t)] for i, t in enumerate(lengths)], dim=1)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours.running_mean, ref.running_mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours.running_var, ref.running_var, rtol=1e-5, atol=1e-6)
    ours.eval()
    torch.testing.assert_close(masked_batch_norm(ours, x, time_mask(lengths, 9)), ours(x))


@pytest.mark.parametrize("dims", [3, 4])
def test_masked_batch_norm_gradient_matches_plain_autograd(dims):
    # the hand-written backward against autograd through the plain definition, with gradient
    # arriving at padded entries too (their outputs depend on x through the statistics)
    from helpers.nets.stgcn import masked_batch_norm, time_mask

    gen = torch.Generator().manual_seed(0)
    lengths = [5, 9, 2]
    shape = (3, 4, 9) if dims == 3 else (3, 4, 9, 6)
    x = (torch.randn(*shape, generator=gen, dtype=torch.float64) * 3 + 1).requires_grad_()
    upstream = torch.randn(*shape, generator=gen, dtype=torch.float64)
    bn = (nn.BatchNorm1d if dims == 3 else nn.BatchNorm2d)(4).double()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2)
        bn.bias.uniform_(-1, 1)
    ours = masked_batch_norm(bn, x, time_mask(torch.tensor(lengths), 9))
    ref_out = ref.naive_masked_batch_norm(x, lengths, bn.weight, bn.bias, bn.eps)
    torch.testing.assert_close(ours, ref_out, rtol=1e-12, atol=1e-12)
    params = [x, bn.weight, bn.bias]
    got = torch.autograd.grad((ours * upstream).sum(), params)
    expected = torch.autograd.grad((ref_out * upstream).sum(), params)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)


def test_masked_batch_norm_passes_gradcheck():
    from helpers.nets.stgcn import masked_batch_norm, time_mask

    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 5, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    bn = nn.BatchNorm2d(3, affine=False, track_running_stats=False).double()
    mask = time_mask(torch.tensor([5, 3]), 5)
    assert torch.autograd.gradcheck(lambda t: masked_batch_norm(bn, t, mask), (x,))


def test_bad_lengths_are_named():
    model = STGCN(5, layout="hdm05", width=0.25)
    x = torch.zeros(2, 3, 10, 31, 1)
    with pytest.raises(ValueError, match=r"lengths must be \(N,\) = \(2,\)"):
        model(x, lengths=[10])
    with pytest.raises(ValueError, match=r"1\.\.T = 1\.\.10"):
        model(x, lengths=[11, 3])
    with pytest.raises(ValueError, match="integer"):
        model(x, lengths=[2.5, 3.0])
