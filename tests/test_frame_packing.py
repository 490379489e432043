"""Packed clips (helpers.nets.frame_packing) give the padded batch's results, exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.nets import STGCN
from helpers.nets.frame_packing import FrameLayout, pack_layouts


def test_layout_by_hand():
    # lengths 3 and 5, gap 4, offsets at multiples of 2: 0, then 3 + 4 = 7 rounded up to 8
    lay = FrameLayout.packed(np.array([3, 5]), gap=4, align=2)
    assert lay.offsets.tolist() == [0, 8] and lay.frames == 13
    assert lay.mask()[0].tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    # stride 2, kernel 9: clip 0 keeps frames 0, 1 (centres 0, 2); clip 1 starts at 4
    half = lay.strided(2, 9)
    assert half.offsets.tolist() == [0, 4] and half.lengths.tolist() == [2, 3]
    assert half.frames == 7
    # repacked with gap 4: clip 1 moves to 2 + 4 = 6
    again = FrameLayout.packed(half.lengths, gap=4, align=2)
    assert again.frame_index(half, fill=0).tolist() == [0, 1, 0, 0, 0, 0, 4, 5, 6]
    w = lay.pooling(joints=2)
    assert torch.allclose(w.sum(1), torch.tensor([1 / 2, 1 / 2]))


@pytest.mark.parametrize("kernel", [3, 9])
def test_every_block_sees_clips_at_least_a_gap_apart(kernel):
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 40, size=12)
    strides = [1, 2, 1, 2, 1]
    gap = (kernel - 1) // 2
    first, blocks = pack_layouts(lengths, strides, kernel)
    assert first.lengths.tolist() == lengths.tolist()
    expected = lengths.copy()
    for stride, (_, lay_in, lay_out) in zip(strides, blocks):
        gaps = lay_in.offsets[1:] - (lay_in.offsets[:-1] + lay_in.lengths[:-1])
        assert gaps.min() >= gap
        assert (lay_in.offsets % 2 == 0).all()
        expected = (expected + 2 * gap - kernel) // stride + 1
        assert lay_out.lengths.tolist() == expected.tolist()
        assert lay_out.offsets[-1] + lay_out.lengths[-1] <= lay_out.frames


def _pair(num_blocks, kernel, dropout=0.0):
    packed = STGCN(
        5,
        layout="hdm05",
        width=0.25,
        num_blocks=num_blocks,
        temporal_kernel=kernel,
        dropout=dropout,
        random_state=0,
    ).double()
    padded = STGCN.from_config(packed.config).double()
    padded.load_state_dict(packed.state_dict())
    padded.pack_frames = False
    return packed, padded


@pytest.mark.parametrize(
    "num_blocks, kernel, bodies", [(10, 9, 1), (5, 9, 1), (8, 3, 2), (7, 5, 1)]
)
def test_packed_forward_and_backward_equal_the_padded_batch(num_blocks, kernel, bodies):
    packed, padded = _pair(num_blocks, kernel)
    lengths = [5, 17, 1, 40, 23, 2, 9]
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(len(lengths), 3, max(lengths), 31, bodies, generator=gen, dtype=torch.float64)
    for i, n in enumerate(lengths):
        x[i, :, n:] = 0
    results = []
    for model in (packed, padded):
        model.train()
        out = model(x, lengths=lengths)
        (out.square().sum() + out.sum()).backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        stats = {n: b.clone() for n, b in model.named_buffers() if "running" in n}
        results.append((out.detach(), grads, stats))
    (out_a, grads_a, stats_a), (out_b, grads_b, stats_b) = results
    torch.testing.assert_close(out_a, out_b, rtol=1e-10, atol=1e-12)
    for name in grads_b:
        # conv biases before a batch norm have gradient 0 (up to rounding): absolute tolerance
        torch.testing.assert_close(grads_a[name], grads_b[name], rtol=1e-9, atol=1e-12)
    for name in stats_b:
        torch.testing.assert_close(stats_a[name], stats_b[name], rtol=1e-10, atol=1e-12)


def test_float32_packed_training_batch_matches_the_padded_one():
    packed, padded = _pair(10, 9)
    packed, padded = packed.float().train(), padded.float().train()
    lengths = [7, 20, 13, 1, 2]
    x = torch.randn(len(lengths), 3, max(lengths), 31, 1)
    for i, n in enumerate(lengths):
        x[i, :, n:] = 0
    torch.testing.assert_close(
        packed(x, lengths=lengths), padded(x, lengths=lengths), rtol=1e-4, atol=1e-5
    )


def test_evaluation_and_hooks_see_the_padded_layout():
    packed, _ = _pair(10, 9)
    seen = []
    handle = packed.st_gcn_networks[0].register_forward_hook(
        lambda mod, inp, out: seen.append(tuple(out.shape))
    )
    x = torch.randn(3, 3, 12, 31, 1, dtype=torch.float64)
    packed.eval()(x, lengths=[12, 5, 8])
    packed.train()(x, lengths=[12, 5, 8])
    handle.remove()
    assert seen[0] == (3, 16, 12, 31)  # evaluation: padded, what Grad-CAM's hooks expect
    assert seen[1][0] == 1  # training: packed


def test_features_still_come_padded():
    packed, padded = _pair(10, 9)
    x = torch.randn(3, 3, 12, 31, 1, dtype=torch.float64)
    logits, feats = packed.train()(x, return_features=True, lengths=[12, 5, 8])
    assert [f.shape[2] for f in feats] == [12, 12, 12, 12, 6, 6, 6, 3, 3, 3]
