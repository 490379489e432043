"""ST-GCN (Yan, Xiong & Lin, AAAI 2018), true to the original code and able to load its checkpoints.

The module tree and parameter names follow ``net/st_gcn.py`` of yysijie/st-gcn, so a state dict
saved by the original ``Model`` loads into :class:`STGCN` unchanged::

    data_bn                          BatchNorm1d(V*C), applied per body to (N*M, V*C, T)
    st_gcn_networks.i.gcn.conv       1x1 Conv2d, C_in -> K*C_out (one slice per partition subset)
    st_gcn_networks.i.tcn.0..4       BN, ReLU, Conv2d(kernel (9, 1), stride (s, 1)), BN, Dropout
    st_gcn_networks.i.residual.0..1  1x1 Conv2d (stride s) + BN, only where the shape changes
    edge_importance.i                (K, V, V) learnable mask multiplied into A
    fcn                              1x1 Conv2d(256, num_classes), the classifier
    A                                (K, V, V) buffer, the partitioned adjacency

Input ``x`` is (N, C, T, V, M): batch, coordinates, frames, joints, bodies. ``model(x)`` gives
logits (N, num_classes); ``model(x, return_features=True)`` also gives every block's output
(N*M, C_l, T_l, V) from the same pass.

Differences from the original code (none of which changes the computed function):

* residuals are modules (no ``lambda``), so the model pickles;
* the spatial graph convolution sums the K partition subsets in one matrix product, and where a
  block widens the channels (the first block: 3 -> 64) it aggregates over joints before the 1x1
  convolution instead of after (the same linear map, with fewer operations);
* batches of clips of different lengths run packed end to end rather than padded (the same
  function, with a third of the work on HDM05; :mod:`~helpers.nets.frame_packing`), and batch
  normalisation over the valid frames has a hand-written gradient (:func:`masked_batch_norm`);
* the graph defaults to the paper's geodesic centre distance (``center_distance='geodesic'``);
  pass ``center_distance='truncated'`` for the original code's adjacency (see
  :mod:`~helpers.nets.skeleton_graph`). :meth:`STGCN.from_reference_checkpoint` picks whichever
  matches the checkpoint's ``A``.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from helpers.nets.frame_packing import FrameLayout, pack_layouts
from helpers.nets.skeleton_graph import SkeletonGraph
from helpers.nets.validation import (
    check_input,
    check_lengths,
    check_option,
    check_state_dict,
)
from helpers.runtime.arguments import check_flag, check_int, check_number

__all__ = [
    "INITS",
    "REFERENCE_DROPOUT",
    "REFERENCE_SCHEDULE",
    "STGCN",
    "STGCNBlock",
    "SpatialGraphConv",
    "masked_batch_norm",
    "time_mask",
]

#: (out_channels, temporal stride) of the ten blocks of the reference network.
REFERENCE_SCHEDULE: tuple[tuple[int, int], ...] = (
    (64, 1),
    (64, 1),
    (64, 1),
    (64, 1),
    (128, 2),
    (128, 1),
    (128, 1),
    (256, 2),
    (256, 1),
    (256, 1),
)
#: Dropout probability of the reference training configs (``config/st_gcn/ntu-*/train.yaml``).
REFERENCE_DROPOUT = 0.5

_WRAPPER_KEYS = ("state_dict", "model", "model_state_dict", "net", "network")
#: The weight initialisations :class:`STGCN` offers (its ``init`` argument).
INITS = ("reference", "pytorch")


# --------------------------------------------------------------------------- layers
class SpatialGraphConv(nn.Module):
    """Spatial graph convolution: a 1x1 conv to K*C_out channels, then aggregation over joints.

    ``out[n, c, t, w] = sum_k sum_v (W_k x + b_k)[n, c, t, v] * A[k, v, w]``.
    Input (N, C_in, T, V) and A (K, V, V); output (N, C_out, T, V).
    """

    def __init__(self, in_channels: int, out_channels: int, num_subsets: int):
        super().__init__()
        self.num_subsets = num_subsets
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.conv = nn.Conv2d(in_channels, out_channels * num_subsets, kernel_size=1)

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        """(N, C_out, T, V) graph convolution of x (N, C_in, T, V) with A (K, V, V)."""
        # Both orders compute the same linear map; aggregating over joints costs in proportion
        # to the channels it runs on, so aggregate the narrower side (C_in for the first block:
        # 3 vs 64).
        if self.in_channels < self.out_channels:
            return self._aggregate_then_mix(x, A)
        return self._mix_then_aggregate(x, A)

    def _mix_then_aggregate(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape
        k, c = self.num_subsets, self.out_channels
        y = self.conv(x).view(n, k, c, t, v)
        # the K subsets in one matmul over (subset, joint) pairs: (n, c, t, k*v) @ (k*v, w)
        y = y.permute(0, 2, 3, 1, 4).reshape(n, c, t, k * v)
        return torch.matmul(y, A.to(y.dtype).reshape(k * v, A.shape[-1]))

    def _aggregate_then_mix(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        n, c_in, t, v = x.shape
        k, c = self.num_subsets, self.out_channels
        w_count = A.shape[-1]
        A = A.to(x.dtype)
        # (n, c_in, t, v) @ (v, k*w) -> (n, k*c_in, t, w), the layout the mixing conv expects
        xa = torch.matmul(x, A.permute(1, 0, 2).reshape(v, k * w_count)).view(
            n, c_in, t, k, w_count
        )
        xa = xa.permute(0, 3, 1, 2, 4).reshape(n, k * c_in, t, w_count)
        weight = self.conv.weight.view(k, c, c_in).permute(1, 0, 2).reshape(c, k * c_in, 1, 1)
        y = F.conv2d(xa, weight.to(xa.dtype))
        if self.conv.bias is not None:
            # each subset's bias reaches output joint w with that subset's column sum of A
            bias = self.conv.bias.view(k, c).t().to(A.dtype) @ A.sum(dim=1)  # (c, w)
            y = y + bias.to(y.dtype)[None, :, None, :]
        return y


def time_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """(N, T) float mask, 1 for the first ``lengths[n]`` frames of row n and 0 after them."""
    return (torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]).float()


def masked_batch_norm(
    bn: nn.modules.batchnorm._BatchNorm, x: torch.Tensor, mask: torch.Tensor | None
) -> torch.Tensor:
    """``bn(x)`` with batch statistics taken over the valid frames only.

    Parameters
    ----------
    bn : a BatchNorm1d over (N, C, T) or BatchNorm2d over (N, C, T, V).
    x : (N, C, T) or (N, C, T, V).
    mask : (N, T) valid frames (:func:`time_mask`), or None for all of them.

    Returns
    -------
    The normalised x, shaped like x. In evaluation mode (or without a mask) this is ``bn(x)``: a
    per-channel affine map, which cannot mix frames. In training mode the mean and variance come
    from the valid frames of the batch, and the running statistics are updated with them as
    :class:`torch.nn.BatchNorm2d` does (unbiased variance, ``momentum``), so zero padding that
    makes clips of different lengths into one batch does not shift them.
    """
    if mask is None or (not bn.training and bn.track_running_stats):
        return bn(x)
    dtype = x.dtype
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()  # statistics in float32 under autocast (half sums overflow)
    m = mask.to(x.dtype).view(mask.shape[0], 1, mask.shape[1], *([1] * (x.dim() - 3)))
    # the same number of valid entries for every channel: frames x joints
    count = m.sum() * (x.shape[3] if x.dim() == 4 else 1)
    weight, bias = (bn.weight, bn.bias) if bn.affine else (None, None)
    y, mean, var = _MaskedNorm.apply(x, m, count, weight, bias, bn.eps)
    if bn.track_running_stats:
        with torch.no_grad():
            bn.num_batches_tracked += 1
            factor = 1.0 / float(bn.num_batches_tracked) if bn.momentum is None else bn.momentum
            unbiased = var * count / torch.clamp(count - 1, min=1)
            bn.running_mean.mul_(1 - factor).add_(factor * mean)
            bn.running_var.mul_(1 - factor).add_(factor * unbiased)
    return y.to(dtype)


class _MaskedNorm(torch.autograd.Function):
    """Batch normalisation with statistics over the masked entries, and its gradient by hand.

    The same function as normalising with ``mean`` and ``var`` computed from ``x * m`` by
    autograd, in about half the passes over the tensor: on small layers these passes, not the
    convolutions, are most of a training step. Forward: ``y = (x - mean) * invstd * w + b`` on
    every entry, with ``mean`` and ``var`` (biased) over the entries where ``m`` is 1. Backward,
    with ``xhat = (x - mean) * invstd``, ``s1 = sum(gy)`` and ``s2 = sum(gy * xhat)`` over all
    entries: ``dx = w * invstd * (gy - m * (s1 + xhat * s2) / count)``, ``dw = s2``, ``db = s1``
    (the mean's and the variance's paths reach only the masked entries; padded outputs, which
    do depend on x through the statistics, pass their gradient on through ``s1`` and ``s2``).
    """

    @staticmethod
    def forward(ctx, x, m, count, weight, bias, eps):  # noqa: D102 - see the class
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        xm = x * m
        mean = xm.sum(dim=dims) / count
        # E[x^2] - E[x]^2 over the valid entries: two reductions instead of a centred pass
        var = torch.clamp((xm * x).sum(dim=dims) / count - mean * mean, min=0.0)
        invstd = torch.rsqrt(var + eps)
        scale = invstd if weight is None else invstd * weight
        shift = -mean * scale if bias is None else bias - mean * scale
        y = torch.addcmul(shift.view(shape), x, scale.view(shape))
        ctx.save_for_backward(x, m, count, mean, invstd, weight)
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    def backward(ctx, gy, _gmean, _gvar):  # noqa: D102 - see the class
        x, m, count, mean, invstd, weight = ctx.saved_tensors
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        xhat = torch.addcmul((-mean * invstd).view(shape), x, invstd.view(shape))
        s1 = gy.sum(dim=dims)
        s2 = (gy * xhat).sum(dim=dims)
        scale = invstd if weight is None else invstd * weight
        t = torch.addcmul(s1.view(shape), xhat, s2.view(shape)) * (m / count)
        dx = (gy - t) * scale.view(shape)
        dw = s2 if weight is not None and ctx.needs_input_grad[3] else None
        db = s1 if ctx.needs_input_grad[4] else None
        return dx, None, None, dw, db, None


class NoResidual(nn.Module):
    """Stand-in for the first block's missing residual (the original's ``lambda x: 0``)."""

    def forward(self, x: torch.Tensor) -> None:
        """``None`` for any input, so that the block adds no residual."""
        return None


class STGCNBlock(nn.Module):
    """One ST-GCN unit: spatial graph conv, temporal conv unit, residual, ReLU.

    Input (N, C_in, T, V) and A (K, V, V); output (N, C_out, T_out, V) with
    ``T_out = floor((T - 1) / stride) + 1``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_subsets: int,
        temporal_kernel: int = 9,
        stride: int = 1,
        dropout: float = 0.0,
        residual: bool = True,
    ):
        super().__init__()
        if temporal_kernel % 2 != 1:
            raise ValueError(
                f"temporal_kernel must be odd (for symmetric padding), got {temporal_kernel}"
            )
        pad = (temporal_kernel - 1) // 2
        self.stride = stride
        self.gcn = SpatialGraphConv(in_channels, out_channels, num_subsets)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, (temporal_kernel, 1), (stride, 1), (pad, 0)),
            nn.BatchNorm2d(out_channels),
            nn.Dropout(dropout),
        )
        if not residual:
            self.residual: nn.Module = NoResidual()
            self.residual_kind = "none"
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
            self.residual_kind = "identity"
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=(stride, 1)),
                nn.BatchNorm2d(out_channels),
            )
            self.residual_kind = "conv"
        self.relu = nn.ReLU(inplace=True)

    def forward(
        self,
        x: torch.Tensor,
        A: torch.Tensor,
        mask_in: torch.Tensor | None = None,
        mask_out: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(N, C_out, T_out, V) block output for x (N, C_in, T, V) and A (K, V, V).

        With the valid-frame masks of the input (N, T) and of the output (N, T_out), padded
        frames never reach a valid output: they are zeroed before the temporal convolution (as
        its own zero padding would be for a clip on its own) and left out of the batch
        statistics in training.
        """
        if mask_in is None:
            res = self.residual(x)
            y = self.tcn(self.gcn(x, A))
        else:
            if isinstance(self.residual, nn.Sequential):  # 1x1 conv (stride s), then BN
                conv_r, bn_r = self.residual
                res = masked_batch_norm(bn_r, conv_r(x), mask_out)
            else:
                res = self.residual(x)
            bn1, relu, conv, bn2, drop = self.tcn
            h = relu(masked_batch_norm(bn1, self.gcn(x, A), mask_in))
            h = h * mask_in[:, None, :, None].to(h.dtype)
            y = drop(masked_batch_norm(bn2, conv(h), mask_out))
        if res is not None:
            y = y + res
        return self.relu(y)


# --------------------------------------------------------------------------- model
class STGCN(nn.Module):
    """Spatial-temporal graph convolution network for skeleton action recognition.

    It is a :class:`~helpers.nets.block_model.BlockModel` (``st_gcn_networks``, ``num_blocks``,
    ``schedule``, ``temporal_lengths``, ``forward(x, return_features, lengths=)``), the interface
    the feature and Grad-CAM tools use.

    Parameters
    ----------
    num_classes : number of output classes
    in_channels : coordinates per joint C (3 for x, y, z)
    layout : built-in skeleton name (``'ntu-rgb+d'``, ``'hdm05'``) or a :class:`SkeletonGraph`
    graph : a :class:`SkeletonGraph`; overrides ``layout``, ``strategy``, ``max_hop`` and
        ``center_distance``
    strategy : partition strategy (``'uniform'``, ``'distance'``, ``'spatial'``) for a named layout
    edge_importance : learn a (K, V, V) mask per block, multiplied into A
    dropout : dropout probability in the temporal unit of every block but the first; the
        reference training configs use 0.5 (``REFERENCE_DROPOUT``)
    width : channel multiplier (channels = max(1, round(c * width)))
    num_blocks : use the first ``num_blocks`` blocks of the reference schedule (stride 2 stays at
        blocks 5 and 8, 1-based, when they are kept)
    temporal_kernel : odd temporal kernel size (padding keeps ``(k-1)/2`` frames each side)
    max_hop, center_distance : graph options for a named layout (see
        :mod:`helpers.nets.skeleton_graph`)
    schedule : explicit (out_channels, stride) per block, overriding ``width`` and ``num_blocks``
        (e.g. the 7-block network of Das et al.'s code, the reference minus blocks 3, 6 and 9)
    init : ``'reference'`` (the original training script: conv weights N(0, 0.02), biases 0,
        BN weights N(1, 0.02)) or ``'pytorch'`` (PyTorch's default initialisation)
    random_state : seed for the initial weights (None: the global torch RNG)
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 3,
        layout: str | SkeletonGraph = "ntu-rgb+d",
        graph: SkeletonGraph | None = None,
        strategy: str = "spatial",
        edge_importance: bool = True,
        dropout: float = 0.0,
        width: float = 1.0,
        num_blocks: int = 10,
        temporal_kernel: int = 9,
        *,
        max_hop: int = 1,
        center_distance: str = "geodesic",
        schedule: Sequence[tuple[int, int]] | None = None,
        init: str = "reference",
        random_state: int | None = None,
    ):
        super().__init__()
        # every argument is checked before anything is built: one error, naming the argument
        num_classes = check_int("num_classes", num_classes, low=1)
        in_channels = check_int("in_channels", in_channels, low=1)
        temporal_kernel = check_int("temporal_kernel", temporal_kernel, low=1)
        if temporal_kernel % 2 != 1:
            raise ValueError(
                f"temporal_kernel must be odd (for symmetric padding), got {temporal_kernel}"
            )
        dropout = check_number("dropout", dropout, low=0.0, high=1.0, high_open=True)
        edge_importance = check_flag("edge_importance", edge_importance)
        init = check_option("init", init, INITS)
        if random_state is not None:
            random_state = check_int("random_state", random_state)
        blocks = self._resolve_schedule(schedule, width, num_blocks)
        if isinstance(layout, SkeletonGraph) and graph is None:
            graph = layout
        if graph is None:
            if not isinstance(layout, str):
                raise TypeError(
                    f"layout must be a built-in layout name (str) or a SkeletonGraph, got "
                    f"{layout!r} ({type(layout).__name__})"
                )
            graph = SkeletonGraph.from_layout(
                layout, strategy=strategy, max_hop=max_hop, center_distance=center_distance
            )
        elif not isinstance(graph, SkeletonGraph):
            raise TypeError(f"graph must be a SkeletonGraph, got {type(graph).__name__}")

        self.graph = graph
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.temporal_kernel = temporal_kernel
        self.schedule = blocks
        self.config: dict[str, Any] = {
            "num_classes": self.num_classes,
            "in_channels": self.in_channels,
            "graph": graph.to_config(),
            "edge_importance": edge_importance,
            "dropout": dropout,
            "width": float(width),
            "num_blocks": len(blocks),
            "temporal_kernel": self.temporal_kernel,
            "schedule": [list(b) for b in blocks],
            "init": init,
            "random_state": random_state,
        }

        seeded = torch.random.fork_rng(devices=[]) if random_state is not None else nullcontext()
        with seeded:
            if random_state is not None:
                torch.manual_seed(random_state)
            self.register_buffer("A", torch.tensor(graph.A, dtype=torch.float32))
            k, v = graph.A.shape[0], graph.num_nodes
            self.data_bn = nn.BatchNorm1d(self.in_channels * v)
            layers, c_in = [], self.in_channels
            for i, (c_out, stride) in enumerate(blocks):
                # the first block has no residual and no dropout, as in the original
                layers.append(
                    STGCNBlock(
                        c_in,
                        c_out,
                        k,
                        self.temporal_kernel,
                        stride,
                        dropout=0.0 if i == 0 else dropout,
                        residual=i > 0,
                    )
                )
                c_in = c_out
            self.st_gcn_networks = nn.ModuleList(layers)
            self.edge_importance = (
                nn.ParameterList([nn.Parameter(torch.ones(k, v, v)) for _ in layers])
                if edge_importance
                else None
            )
            self.fcn = nn.Conv2d(c_in, self.num_classes, kernel_size=1)
            if init == "reference":
                self.apply(_reference_init)

    # ------------------------------------------------------------------ construction helpers
    @staticmethod
    def _resolve_schedule(schedule, width: float, num_blocks: int) -> list[tuple[int, int]]:
        # width and num_blocks are checked even when schedule overrides them: from_config
        # passes them back as a record (and num_blocks may then exceed the reference's 10)
        width = check_number("width", width, low=0.0, low_open=True)
        num_blocks = check_int("num_blocks", num_blocks, low=1)
        if schedule is not None:
            if isinstance(schedule, (str, bytes, Mapping)) or not isinstance(schedule, Iterable):
                raise TypeError(
                    "schedule must be a sequence of (out_channels, stride) pairs, got "
                    f"{schedule!r} ({type(schedule).__name__})"
                )
            blocks = []
            for i, entry in enumerate(schedule):
                if (
                    isinstance(entry, (str, bytes))
                    or not hasattr(entry, "__len__")
                    or len(entry) != 2
                ):
                    raise ValueError(
                        f"schedule[{i}] must be a pair (out_channels, stride), got {entry!r}"
                    )
                out_channels = check_int(f"schedule[{i}][0] (out_channels)", entry[0], low=1)
                blocks.append(
                    (out_channels, check_int(f"schedule[{i}][1] (stride)", entry[1], low=1))
                )
            if not blocks:
                raise ValueError(
                    "schedule must be a non-empty sequence of (out_channels, stride) pairs, got "
                    f"{schedule!r}"
                )
            return blocks
        check_int("num_blocks", num_blocks, low=1, high=len(REFERENCE_SCHEDULE))
        return [(max(1, int(round(c * width))), s) for c, s in REFERENCE_SCHEDULE[:num_blocks]]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "STGCN":
        """Rebuild an (untrained) model from :attr:`config`; load a state dict for the weights."""
        cfg = dict(config)
        graph = SkeletonGraph.from_config(cfg.pop("graph"))
        return cls(
            graph=graph, **cfg
        )  # the stored schedule fixes the blocks; width is kept as a record

    # ------------------------------------------------------------------ transfer
    #: Number of leading blocks frozen by :meth:`freeze_blocks` (0: none).
    frozen_blocks: int = 0

    def freeze_blocks(self, count: int) -> "STGCN":
        """Freeze the input BatchNorm and the first ``count`` blocks; returns the model.

        Frozen parameters (convolutions, BatchNorm scales and shifts, edge importance) get
        ``requires_grad = False``, and frozen BatchNorm layers stay in evaluation mode even after
        ``model.train()``, so their running statistics keep the values they were trained with:
        a frozen block computes exactly the same function during fine-tuning as before it.
        ``count = 0`` unfreezes everything; ``count = num_blocks`` leaves only the classifier to
        train.
        """
        self.frozen_blocks = check_int("count", count, low=0, high=self.num_blocks)
        frozen = set(map(id, self._frozen_parameters()))
        for p in self.parameters():
            p.requires_grad_(id(p) not in frozen)
        return self.train(self.training)

    def _frozen_modules(self) -> list[nn.Module]:
        if self.frozen_blocks == 0:
            return []
        return [self.data_bn, *self.st_gcn_networks[: self.frozen_blocks]]

    def _frozen_parameters(self) -> list[nn.Parameter]:
        params = [p for m in self._frozen_modules() for p in m.parameters()]
        if self.edge_importance is not None:
            params += list(self.edge_importance[: self.frozen_blocks])
        return params

    def train(self, mode: bool = True) -> "STGCN":
        """Set training mode, keeping the frozen blocks (:meth:`freeze_blocks`) in eval mode."""
        super().train(mode)
        for m in self._frozen_modules():
            m.eval()
        return self

    def replace_classifier(self, num_classes: int, random_state: int | None = None) -> "STGCN":
        """A new, freshly initialised classifier for ``num_classes`` classes; returns the model.

        The classifier is initialised as the reference code does (weights N(0, 0.02), bias 0),
        seeded by ``random_state``; ``num_classes`` and :attr:`config` follow.
        """
        num_classes = check_int("num_classes", num_classes, low=1)
        if random_state is not None:
            random_state = check_int("random_state", random_state)
        old = self.fcn
        seeded = torch.random.fork_rng(devices=[]) if random_state is not None else nullcontext()
        with seeded:
            if random_state is not None:
                torch.manual_seed(random_state)
            fcn = nn.Conv2d(old.in_channels, num_classes, kernel_size=1)
            _reference_init(fcn)
        self.fcn = fcn.to(device=old.weight.device, dtype=old.weight.dtype)
        self.num_classes = num_classes
        self.config["num_classes"] = self.num_classes
        return self

    # ------------------------------------------------------------------ forward
    @property
    def num_blocks(self) -> int:
        """Number of ST-GCN blocks."""
        return len(self.st_gcn_networks)

    def adjacency(self, block: int) -> torch.Tensor:
        """(K, V, V) effective adjacency of ``block`` (A times its edge importance)."""
        if self.edge_importance is None:
            return self.A
        return self.A * self.edge_importance[block]

    def forward(
        self,
        x: torch.Tensor,
        return_features: bool = False,
        *,
        lengths: torch.Tensor | Sequence[int] | None = None,
    ):
        """Logits (N, num_classes) for x (N, C, T, V, M), and block outputs if ``return_features``.

        With ``return_features`` it returns ``(logits, features)``: the list of block outputs,
        each (N*M, C_l, T_l, V), sample-major (row ``n*M + m`` is body m of sample n).

        ``lengths`` (N,) are the clips' valid frame counts when ``x`` holds clips of different
        lengths, zero-padded to T. The padding then changes nothing: every clip gets the logits
        it would get on its own (in evaluation mode; in training, batch statistics are taken
        over the valid frames), pooling averages over valid frames only, and block ``l``'s output
        is valid for the first :meth:`temporal_lengths` frames (the rest is undefined).

        In training mode, with ``lengths`` and without ``return_features``, the batch runs
        packed (:mod:`helpers.nets.frame_packing`, switched off by ``pack_frames = False``): the
        clips laid end to end with zero gaps, so that the work is on valid frames only. The
        logits, gradients and running statistics are those of the padded batch (tested to
        1e-10 in float64); float32 sums come in another order. In evaluation mode the blocks'
        outputs keep the padded layout that hooks (Grad-CAM, features) expect.

        Inputs are checked first (:func:`~helpers.nets.validation.check_input`,
        :func:`~helpers.nets.validation.check_lengths`). A
        floating-point ``x`` of another precision than the model's (float64 from NumPy, say) is
        converted to the model's dtype (that of its parameters), so a float32 model gives the
        float32 logits of ``x.float()``; integer and bool tensors are refused (TypeError). So
        are (ValueError) an empty batch (N = 0) or no bodies (M = 0), other C or V than the
        model's, NaN or infinite values (see :attr:`check_finite`), and ``lengths`` that are
        not (N,) integers in 1..T. In training mode, a batch whose BatchNorm statistics would
        rest on one value per channel (one clip of one frame) is refused with a ValueError:
        one clip of several frames is a valid batch, since the statistics run over frames too.
        """
        x = check_input(
            "x",
            x,
            channels=self.in_channels,
            joints=self.graph.num_nodes,
            dtype=self.data_bn.weight.dtype,
            finite=self.check_finite,
        )
        n, c, t, v, m = x.shape
        valid = None if lengths is None else check_lengths("lengths", lengths, n, t)
        self._check_batch_statistics(n, m, t, v, valid)
        if valid is not None and self.pack_frames and self.training and not return_features:
            return self._forward_packed(x, valid)
        masks = self._masks(valid, n, m, t, x.device)
        # per-body BN over (joint, coordinate) pairs, in the original's (N*M, V*C, T) layout
        x = x.permute(0, 4, 3, 1, 2).reshape(n * m, v * c, t)
        x = masked_batch_norm(self.data_bn, x, masks[0] if masks else None)
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)

        features: list[torch.Tensor] = []
        for i, block in enumerate(self.st_gcn_networks):
            if masks:
                x = block(x, self.adjacency(i), masks[i], masks[i + 1])
            else:
                x = block(x, self.adjacency(i))
            if return_features:
                features.append(x)

        if masks:  # mean over the valid frames and all joints
            last = masks[-1][:, None, :, None].to(x.dtype)
            pooled = (x * last).sum(dim=(2, 3)) / (last.sum(dim=(2, 3)) * v)
            pooled = pooled.view(n, m, -1).mean(dim=1)
        else:
            pooled = x.mean(dim=(2, 3)).view(n, m, -1).mean(dim=1)  # over time and joints, bodies
        logits = self.fcn(pooled[:, :, None, None]).view(n, self.num_classes)
        return (logits, features) if return_features else logits

    #: Whether training batches with ``lengths`` run packed (:mod:`helpers.nets.frame_packing`):
    #: the same logits with only the valid frames' work. Evaluation, features
    #: (``return_features``) and hooked block outputs always come padded.
    pack_frames: bool = True
    #: Whether :meth:`forward` refuses NaN and infinite inputs. The check is one reduction over
    #: ``x``: on a GPU, one synchronisation with the host per batch, which a training loop
    #: whose data are known to be clean may save by setting this to False.
    check_finite: bool = True

    def _check_batch_statistics(
        self, n: int, m: int, t: int, v: int, valid: np.ndarray | None
    ) -> None:
        """Refuse a training batch on which some BatchNorm would see one value per channel.

        BatchNorm's own error for it ("Expected more than 1 value per channel") names neither
        the batch nor the remedy. Per channel, the input BN sees M x (valid frames, summed over
        the clips) values and a block's BNs M x V x (its valid steps, summed), so only N*M = 1
        can come to a single value; blocks frozen by :meth:`freeze_blocks` stay in eval mode
        and use their running statistics.
        """
        if not self.training or n * m > 1:
            return
        frames = np.full(n, t, np.int64) if valid is None else valid
        single = []
        if self.data_bn.training and m * int(frames.sum()) == 1:
            single.append("the input BatchNorm (data_bn)")
        for i, (block, steps) in enumerate(
            zip(self.st_gcn_networks, self.temporal_lengths(frames))
        ):
            if block.training and m * v * int(steps.sum()) == 1:
                single.append(f"block {i + 1}")
        if single:
            raise ValueError(
                f"a batch of one (N*M = 1 body, {int(frames.sum())} valid frame(s)) cannot be "
                f"trained with batch statistics: {single[0]} would normalise a single value per "
                "channel. Train on batches of at least two clips (or on clips of two or more "
                "frames), or call model.eval() to use the running statistics."
            )

    def _forward_packed(self, x: torch.Tensor, valid: np.ndarray) -> torch.Tensor:
        """Logits (N, num_classes) of a padded batch, computed on its clips packed end to end.

        ``valid`` are the (N,) checked lengths (:func:`~helpers.nets.validation.check_lengths`).
        """
        n, c, t, v, m = x.shape
        arr = np.repeat(valid, m)  # sample-major, as the padded path
        # the input normalisation runs on the padded layout (it is cheap: C x V channels)
        mask0 = time_mask(torch.as_tensor(arr, device=x.device), t)
        h = x.permute(0, 4, 3, 1, 2).reshape(n * m, v * c, t)
        h = masked_batch_norm(self.data_bn, h, mask0)
        first, blocks = pack_layouts(arr, [s for _, s in self.schedule], self.temporal_kernel)
        # (N*M, C*V, T) -> (C*V, N*M*T) -> the packed (1, C, F, V); gap frames read frame 0
        h = h.permute(1, 0, 2).reshape(v, c, n * m * t)
        index = first.frame_index(FrameLayout(np.arange(n * m) * t, first.lengths, n * m * t))
        h = h.index_select(2, torch.as_tensor(index, device=x.device))
        h = h.permute(1, 2, 0)[None]
        for i, (block, (gather, lay_in, lay_out)) in enumerate(zip(self.st_gcn_networks, blocks)):
            if gather is not None:
                h = h.index_select(2, torch.as_tensor(gather, device=x.device))
            mask_in = lay_in.mask(x.device)
            mask_out = mask_in if lay_out is lay_in else lay_out.mask(x.device)
            h = block(h, self.adjacency(i), mask_in, mask_out)
        last = blocks[-1][2]
        pooled = last.pooling(v, x.device, h.dtype) @ h[0].sum(dim=2).t()  # (N*M, C)
        pooled = pooled.view(n, m, -1).mean(dim=1)
        return self.fcn(pooled[:, :, None, None]).view(n, self.num_classes)

    def _masks(
        self, valid: np.ndarray | None, n: int, m: int, t: int, device
    ) -> list[torch.Tensor] | None:
        """Valid-frame masks (N*M, T_l) of the input and of every block's output, or None.

        ``valid`` are the (N,) checked lengths
        (:func:`~helpers.nets.validation.check_lengths`), or None.
        """
        if valid is None:
            return None
        per_block = [valid] + self.temporal_lengths(valid)
        # the padded tensor's own length after each block follows the same rule
        sizes = [t] + [int(v[0]) for v in self.temporal_lengths([t])]
        return [
            time_mask(torch.as_tensor(np.repeat(L, m), device=device), T)
            for L, T in zip(per_block, sizes)
        ]

    # ------------------------------------------------------------------ shapes and lengths
    def temporal_lengths(self, lengths) -> list[np.ndarray]:
        """Valid frame counts after each block, for input valid lengths (N,).

        A block with stride s, kernel k and padding (k-1)/2 maps length L to
        ``floor((L + 2*pad - k) / s) + 1 = floor((L - 1) / s) + 1`` (= ceil(L/2) for s=2): the
        output frames whose kernel centre lies on a valid input frame. Returns one (N,) int64 array
        per block.
        """
        arr = check_lengths("lengths", lengths)
        out = []
        pad = (self.temporal_kernel - 1) // 2
        for _, stride in self.schedule:
            arr = (arr + 2 * pad - self.temporal_kernel) // stride + 1
            out.append(arr.copy())
        return out

    def block_output_shapes(
        self, T: int, num_bodies: int = 1, batch: int = 1
    ) -> list[tuple[int, int, int, int]]:
        """Shape (N*M, C_l, T_l, V) of every block's output for an input with T frames."""
        T = check_int("T", T, low=1)
        num_bodies = check_int("num_bodies", num_bodies, low=1)
        batch = check_int("batch", batch, low=1)
        v = self.graph.num_nodes
        lengths = self.temporal_lengths([T])
        return [(batch * num_bodies, c, int(t[0]), v) for (c, _), t in zip(self.schedule, lengths)]

    def summary(self, T: int = 300) -> list[dict[str, Any]]:
        """One architecture-table row per block: channels, stride, residual, T_out, parameters."""
        rows, c_in = [], self.in_channels
        shapes = self.block_output_shapes(T)
        for i, (block, (c_out, stride), shape) in enumerate(
            zip(self.st_gcn_networks, self.schedule, shapes)
        ):
            params = sum(p.numel() for p in block.parameters())
            if self.edge_importance is not None:
                params += self.edge_importance[i].numel()
            rows.append(
                {
                    "block": i + 1,
                    "in_channels": c_in,
                    "out_channels": c_out,
                    "stride": stride,
                    "residual": block.residual_kind,
                    "T_out": shape[2],
                    "V": shape[3],
                    "parameters": params,
                }
            )
            c_in = c_out
        return rows

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of parameter values (only those with ``requires_grad`` if ``trainable_only``)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------------ weights
    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ):
        """:meth:`torch.nn.Module.load_state_dict`, after checking ``state_dict``.

        Raises a TypeError unless ``state_dict`` is a mapping (of names to tensors, as
        :meth:`state_dict` gives), and a ValueError naming every floating-point entry that holds
        NaN or infinite values: such weights (or BatchNorm statistics) make every logit NaN, so
        they are refused where they come in rather than noticed in the outputs.
        """
        check_state_dict("state_dict", state_dict)
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    # ------------------------------------------------------------------ reference checkpoints
    @classmethod
    def from_reference_checkpoint(
        cls,
        path_or_state_dict: str | os.PathLike | Mapping[str, Any],
        num_classes: int | None = None,
        layout: str = "ntu-rgb+d",
        strategy: str = "spatial",
        map_location: str | torch.device = "cpu",
        *,
        graph: SkeletonGraph | None = None,
        dropout: float = 0.0,
    ) -> "STGCN":
        """An :class:`STGCN` from a checkpoint of the original code (yysijie/st-gcn and its forks).

        Accepts a path (``torch.load``-able, loaded with ``weights_only=True``) or a state dict,
        also wrapped as ``{'state_dict': ...}`` / ``{'model': ...}`` and with DataParallel
        ``module.`` prefixes. Channel widths, block count, temporal kernel, input channels, number
        of classes and edge importance are read from the weights (strides: 2 wherever the channel
        count grows, as in the reference). The checkpoint's ``A`` decides between the geodesic and
        the original ("truncated") centre distance. Raises ValueError listing missing, unexpected
        and mis-shaped keys.
        """
        if num_classes is not None:
            num_classes = check_int("num_classes", num_classes, low=1)
        origin = (
            str(path_or_state_dict)
            if isinstance(path_or_state_dict, (str, os.PathLike))
            else "state dict"
        )
        loaded = _load_checkpoint(path_or_state_dict, map_location)
        state = _unwrap_state_dict(
            loaded,
            "path_or_state_dict" if loaded is path_or_state_dict else f"the checkpoint {origin}",
        )
        arch = _infer_architecture(state, origin)
        if num_classes is not None and arch["num_classes"] != num_classes:
            raise ValueError(
                f"{origin}: the classifier fcn.weight has {arch['num_classes']} outputs, "
                f"but num_classes={num_classes} was asked for"
            )
        graph = (
            graph if graph is not None else _graph_for_checkpoint(state, layout, strategy, origin)
        )
        model = cls(
            arch["num_classes"],
            arch["in_channels"],
            graph=graph,
            edge_importance=arch["edge_importance"],
            dropout=dropout,
            temporal_kernel=arch["temporal_kernel"],
            schedule=arch["schedule"],
            init="pytorch",
        )
        model.load_reference_state_dict(state, origin=origin)
        return model

    def load_reference_state_dict(
        self, state: Mapping[str, torch.Tensor], origin: str = "state dict"
    ) -> None:
        """Copy a (reference-layout) state dict into this model.

        Raises a ValueError naming every missing, unexpected and mis-shaped key. BN
        ``num_batches_tracked`` counters may be absent (checkpoints from PyTorch < 0.4.1).
        """
        state = _unwrap_state_dict(state, "state")
        own = self.state_dict()
        missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
        unexpected = [k for k in state if k not in own]
        mismatched = [
            f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
            for k in own
            if k in state and tuple(state[k].shape) != tuple(own[k].shape)
        ]
        if missing or unexpected or mismatched:
            parts = [
                f"{origin} does not fit this STGCN ({self.graph!r}, schedule {self.schedule})."
            ]
            if missing:
                parts.append(f"Missing keys ({len(missing)}): {', '.join(missing)}.")
            if unexpected:
                parts.append(f"Unexpected keys ({len(unexpected)}): {', '.join(unexpected)}.")
            if mismatched:
                parts.append(f"Shape mismatches ({len(mismatched)}): {'; '.join(mismatched)}.")
            raise ValueError(" ".join(parts))
        full = {k: state[k] if k in state else own[k] for k in own}
        self.load_state_dict(full, strict=True)


# --------------------------------------------------------------------------- helpers
def _reference_init(module: nn.Module) -> None:
    """The weight initialisation of the original training script (processor/recognition.py)."""
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.modules.batchnorm._BatchNorm):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def _load_checkpoint(source, map_location) -> Mapping[str, Any]:
    if isinstance(source, Mapping):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            "path_or_state_dict must be a path or a state dict (a mapping of names to tensors), "
            f"got {type(source).__name__}"
        )
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint file at {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # unpickling refused or corrupt file: say which and what to do
        raise ValueError(
            f"could not read {path} as a weights-only checkpoint ({type(err).__name__}: {err}). If "
            "you "
            "trust the file, load it yourself with torch.load(path, weights_only=False) and pass "
            "the "
            "state dict to STGCN.from_reference_checkpoint"
        ) from err


def _unwrap_state_dict(obj: Mapping[str, Any], name: str) -> dict[str, torch.Tensor]:
    """Strip ``{'state_dict': ...}``-style wrappers and DataParallel ``module.`` prefixes.

    ``name`` is what the caller calls ``obj``, for the TypeError when it is not a mapping.
    """
    if not isinstance(obj, Mapping):
        raise TypeError(
            f"{name} must be a state dict (a mapping of names to tensors), got {type(obj).__name__}"
        )
    for _ in range(3):  # nested wrappers, e.g. {'model': {'state_dict': ...}}
        inner = next(
            (obj[k] for k in _WRAPPER_KEYS if k in obj and isinstance(obj[k], Mapping)), None
        )
        if inner is None or any(isinstance(v, torch.Tensor) for v in obj.values()):
            break
        obj = inner
    out = {}
    for k, val in obj.items():
        while k.startswith("module."):
            k = k[len("module.") :]
        out[k] = val
    return out


def _infer_architecture(state: Mapping[str, torch.Tensor], origin: str) -> dict[str, Any]:
    need = [
        "data_bn.weight",
        "fcn.weight",
        "st_gcn_networks.0.gcn.conv.weight",
        "st_gcn_networks.0.tcn.2.weight",
    ]
    absent = [k for k in need if k not in state]
    if absent:
        raise ValueError(
            f"{origin} is not an ST-GCN checkpoint in the original layout: missing "
            f"{', '.join(absent)} (found keys such as {', '.join(list(state)[:6])})"
        )
    idx = sorted({int(k.split(".")[1]) for k in state if k.startswith("st_gcn_networks.")})
    if idx != list(range(len(idx))):
        raise ValueError(f"{origin}: st_gcn_networks indices {idx} are not consecutive from 0")
    channels = [int(state[f"st_gcn_networks.{i}.tcn.2.weight"].shape[0]) for i in idx]
    schedule = [(c, 2 if i > 0 and c > channels[i - 1] else 1) for i, c in enumerate(channels)]
    k_times_c = int(state["st_gcn_networks.0.gcn.conv.weight"].shape[0])
    if k_times_c % channels[0]:
        raise ValueError(
            f"{origin}: st_gcn_networks.0.gcn.conv has {k_times_c} outputs, not a multiple of "
            f"the block's {channels[0]} channels"
        )
    in_channels = int(state["st_gcn_networks.0.gcn.conv.weight"].shape[1])
    return {
        "num_classes": int(state["fcn.weight"].shape[0]),
        "in_channels": in_channels,
        "schedule": schedule,
        "temporal_kernel": int(state["st_gcn_networks.0.tcn.2.weight"].shape[2]),
        "edge_importance": any(k.startswith("edge_importance.") for k in state),
        "num_subsets": k_times_c // channels[0],
    }


def _graph_for_checkpoint(
    state: Mapping[str, torch.Tensor], layout: str, strategy: str, origin: str
) -> SkeletonGraph:
    """The layout's graph whose adjacency equals the checkpoint's ``A`` (geodesic or truncated)."""
    candidates = [
        SkeletonGraph.from_layout(layout, strategy=strategy, center_distance=cd)
        for cd in ("geodesic", "truncated")
    ]
    if "A" not in state:
        return candidates[0]
    A = state["A"].detach().float().cpu().numpy()
    for g in candidates:
        if A.shape == g.A.shape and np.allclose(A, g.A, atol=1e-6):
            return g
    # max_hop > 1 checkpoints: try the hop counts their K implies
    for hop in range(2, 5):
        for cd in ("geodesic", "truncated"):
            g = SkeletonGraph.from_layout(
                layout, strategy=strategy, max_hop=hop, center_distance=cd
            )
            if A.shape == g.A.shape and np.allclose(A, g.A, atol=1e-6):
                return g
    raise ValueError(
        f"{origin}: its adjacency buffer A {tuple(A.shape)} matches neither layout={layout!r} with "
        f"strategy={strategy!r} (A {tuple(candidates[0].A.shape)}) nor its original-code variant; "
        "pass "
        "the right layout/strategy, or graph=SkeletonGraph(...) for a custom skeleton"
    )
