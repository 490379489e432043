"""A second spatio-temporal graph network, written from scratch, for "use it on your own model".

:class:`CompactGCN` is smaller than the book's ST-GCN and wired differently: each block first
convolves along time, then aggregates over the skeleton with one learnable (V, V) adjacency
(initialised from the skeleton's normalised adjacency with self loops; no partition into
subsets, no edge-importance mask), then batch-normalises, adds a residual and applies a ReLU.
It knows nothing of the book's tools (it is not a
:class:`~helpers.nets.block_model.BlockModel`); :class:`~helpers.nets.block_model.BlockwiseModel`
wraps it::

    net = CompactGCN.from_dataset(ds)
    model = BlockwiseModel(net, net.blocks, example_input=torch.zeros(1, 3, 64, 31, 1))

Natural-length batches. ``forward(x, lengths=...)`` takes the clips' valid frame counts: padded
frames are zeroed after the input normalisation and after every block, batch statistics (in
training) use the valid frames only, and the pooling averages over valid frames, so a clip
padded into a batch gets the same valid block outputs and logits as on its own (eval mode).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from helpers.nets.skeleton_graph import SkeletonGraph
from helpers.nets.stgcn import masked_batch_norm, time_mask
from helpers.nets.validation import check_input, check_lengths
from helpers.runtime.arguments import check_int, check_number

__all__ = ["CompactBlock", "CompactGCN"]


class CompactBlock(nn.Module):
    """Temporal conv -> graph conv (one learnable adjacency) -> BN -> + residual -> ReLU.

    Parameters
    ----------
    in_channels, out_channels : C_in and C_out.
    adjacency : (V, V) initial adjacency; ``A[v, w]`` is the weight of joint v for joint w.
    temporal_kernel : odd kernel size along time ('same' padding, ``(k - 1) / 2`` each side).
    stride : temporal stride; T frames give ``floor((T - 1) / stride) + 1`` steps.

    Input (N, C_in, T, V), output (N, C_out, T_out, V).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        adjacency: np.ndarray,
        temporal_kernel: int = 5,
        stride: int = 1,
    ):
        super().__init__()
        if temporal_kernel % 2 != 1:
            raise ValueError(f"temporal_kernel must be odd, got {temporal_kernel}")
        pad = (temporal_kernel - 1) // 2
        self.stride = int(stride)
        self.temporal = nn.Conv2d(
            in_channels, out_channels, (temporal_kernel, 1), (stride, 1), (pad, 0)
        )
        self.mix = nn.Conv2d(out_channels, out_channels, kernel_size=1, bias=False)
        self.adjacency = nn.Parameter(torch.as_tensor(np.asarray(adjacency), dtype=torch.float32))
        self.bn = nn.BatchNorm2d(out_channels)
        if in_channels == out_channels and stride == 1:
            self.residual: nn.Module | None = None  # identity
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=(stride, 1)),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(N, C_out, T_out, V) for x (N, C_in, T, V), zero on frames where ``mask`` is 0.

        ``mask`` (N, T_out) marks the valid output steps (None: all); the input must already be
        zero on its padded frames, so that they enter the temporal convolution as its own zero
        padding would.
        """
        h = self.mix(self.temporal(x))
        h = torch.einsum("nctv,vw->nctw", h, self.adjacency.to(h.dtype))
        h = masked_batch_norm(self.bn, h, mask)
        if self.residual is None:
            res = x
        else:
            conv, bn = self.residual
            res = masked_batch_norm(bn, conv(x), mask)
        y = torch.relu(h + res)
        if mask is not None:
            y = y * mask[:, None, :, None].to(y.dtype)
        return y


class CompactGCN(nn.Module):
    """A compact spatio-temporal GCN classifier for skeleton clips.

    Parameters
    ----------
    in_channels : coordinates per joint C.
    num_classes : number of classes K.
    num_joints : V.
    edges : (E, 2) 0-based bones; with self loops they give the initial adjacency
        (normalised by column sums, as :class:`helpers.nets.skeleton_graph.SkeletonGraph` with the
        ``'uniform'`` strategy; the skeleton must be connected).
    center : any joint (the graph helper needs one; it does not change the uniform adjacency).
    channels : output channels of the blocks.
    strides : temporal stride of every block (default: 2 in the third block).
    temporal_kernel : odd temporal kernel of every block.
    dropout : dropout before the classifier.
    random_state : seed of the initial weights (None: the global torch RNG).

    Attributes
    ----------
    blocks : ``nn.ModuleList`` of :class:`CompactBlock`; what
        :class:`~helpers.nets.block_model.BlockwiseModel` wraps.
    config : the constructor's arguments (plain values), for checkpoints.

    Input (N, C, T, V, M); bodies are folded into the batch as in ST-GCN, so block outputs are
    (N*M, C_l, T_l, V), sample-major. The logits (N, K) come from the mean over valid frames,
    joints and bodies of the last block, through one linear layer.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        num_joints: int,
        edges: Sequence[Sequence[int]] | np.ndarray,
        *,
        center: int = 0,
        channels: Sequence[int] = (32, 32, 64, 64),
        strides: Sequence[int] | None = None,
        temporal_kernel: int = 5,
        dropout: float = 0.0,
        random_state: int | None = None,
    ):
        super().__init__()
        channels = [check_int(f"channels[{i}]", c, low=1) for i, c in enumerate(channels)]
        if not channels:
            raise ValueError("channels must be a non-empty list of integers >= 1, got []")
        if strides is None:  # stride 2 in the third block (if there is one)
            strides = [2 if i == 2 else 1 for i in range(len(channels))]
        strides = [check_int(f"strides[{i}]", s, low=1) for i, s in enumerate(strides)]
        if len(strides) != len(channels):
            raise ValueError(
                f"strides must give one integer >= 1 per block ({len(channels)}), got {strides}"
            )
        in_channels = check_int("in_channels", in_channels, low=1)
        num_classes = check_int("num_classes", num_classes, low=1)
        temporal_kernel = check_int("temporal_kernel", temporal_kernel, low=1)
        dropout = check_number("dropout", dropout, low=0.0, high=1.0, high_open=True)
        if random_state is not None:
            random_state = check_int("random_state", random_state)
        graph = SkeletonGraph(num_joints, edges, center, strategy="uniform")
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.num_joints = graph.num_nodes
        self.strides = strides
        self.config: dict[str, Any] = {
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
            "num_joints": self.num_joints,
            "edges": graph.edges.tolist(),
            "center": graph.center,
            "channels": channels,
            "strides": strides,
            "temporal_kernel": temporal_kernel,
            "dropout": float(dropout),
            "random_state": random_state,
        }
        seeded = torch.random.fork_rng(devices=[]) if random_state is not None else nullcontext()
        with seeded:
            if random_state is not None:
                torch.manual_seed(random_state)
            self.data_bn = nn.BatchNorm1d(self.in_channels * self.num_joints)
            blocks, c_in = [], self.in_channels
            for c_out, s in zip(channels, strides):
                blocks.append(CompactBlock(c_in, c_out, graph.A[0], temporal_kernel, s))
                c_in = c_out
            self.blocks = nn.ModuleList(blocks)
            self.dropout = nn.Dropout(float(dropout))
            self.classifier = nn.Linear(c_in, self.num_classes)

    @classmethod
    def from_dataset(cls, dataset, **kwargs: Any) -> "CompactGCN":
        """A CompactGCN for the skeleton and classes of a SkeletonDataset.

        The bones are :meth:`SkeletonGraph.from_dataset`'s: the dataset's own, or for a dataset
        saved without bones every joint linked to its centre joint (with a warning).
        """
        graph = SkeletonGraph.from_dataset(dataset, strategy="uniform")
        return cls(
            dataset.num_channels,
            dataset.num_classes,
            dataset.num_joints,
            graph.edges,
            center=int(dataset.center),
            **kwargs,
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "CompactGCN":
        """An (untrained) model from :attr:`config`."""
        cfg = dict(config)
        return cls(
            cfg.pop("in_channels"),
            cfg.pop("num_classes"),
            cfg.pop("num_joints"),
            cfg.pop("edges"),
            **cfg,
        )

    def _valid(self, lengths: Any, n: int, t: int) -> list[np.ndarray]:
        """Valid steps of the input and after each block, (N,) each."""
        out = [check_lengths("lengths", lengths, n, t)]
        for s in self.strides:
            out.append((out[-1] - 1) // s + 1)
        return out

    def forward(
        self, x: torch.Tensor, lengths: Sequence[int] | np.ndarray | torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits (N, K) for x (N, C, T, V, M); ``lengths`` (N,) valid frames of padded clips.

        The inputs are checked as :meth:`helpers.nets.stgcn.STGCN.forward` checks them
        (:func:`~helpers.nets.validation.check_input`; a float64 ``x`` is converted to the
        model's dtype).
        """
        x = check_input(
            "x",
            x,
            channels=self.in_channels,
            joints=self.num_joints,
            dtype=self.data_bn.weight.dtype,
        )
        n, c, t, v, m = x.shape
        masks = None
        if lengths is not None:
            sizes = [t]
            for s in self.strides:
                sizes.append((sizes[-1] - 1) // s + 1)
            masks = [
                time_mask(torch.as_tensor(np.repeat(L, m), device=x.device), T)
                for L, T in zip(self._valid(lengths, n, t), sizes)
            ]
        # bodies into the batch; one normalisation per (coordinate, joint) pair
        h = x.permute(0, 4, 1, 3, 2).reshape(n * m, c * v, t)
        h = masked_batch_norm(self.data_bn, h, masks[0] if masks else None)
        h = h.reshape(n * m, c, v, t).permute(0, 1, 3, 2)  # (N*M, C, T, V)
        if masks:
            h = h * masks[0][:, None, :, None].to(h.dtype)
        for i, block in enumerate(self.blocks):
            h = block(h, masks[i + 1] if masks else None)
        if masks:
            last = masks[-1][:, None, :, None].to(h.dtype)
            pooled = (h * last).sum(dim=(2, 3)) / (last.sum(dim=(2, 3)) * v)
        else:
            pooled = h.mean(dim=(2, 3))
        pooled = pooled.view(n, m, -1).mean(dim=1)
        return self.classifier(self.dropout(pooled))
