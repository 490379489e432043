"""Clips of different lengths packed end to end along time, with zero gaps instead of padding.

A padded batch ``(N, C, T, V)`` of clips of lengths ``L`` spends ``N * T`` frames of work on
``sum(L)`` valid ones; on HDM05 at 10 fps a random batch of 16 is about one third valid, so two
thirds of every convolution's work is on padding. Packing lays the clips one after the other in
a single sequence ``(1, C, F, V)``, each followed by ``gap`` frames:

* per-frame operations (the graph convolution, 1x1 convolutions, ReLU, masked batch
  normalisation) see the same valid frames as before, and nothing else that counts;
* a temporal convolution with kernel ``k`` and padding ``gap = (k - 1) / 2`` reads at most
  ``gap`` frames beyond a clip; these are the gap frames, zeroed by the mask before the
  convolution as padding is, so every valid output is what the clip alone would give;
* a convolution with stride ``s`` maps a clip starting at offset ``o`` to ``o / s`` when ``o``
  is a multiple of ``s``: offsets are kept at multiples of ``align``, and after a strided block
  the clips are gathered into a new packing at the coarser rate (:attr:`FrameLayout.gather`),
  so the gaps never shrink below ``gap``.

The result is the same function as the padded batch (up to the order of float sums), with
``sum(L + gap)`` frames of work instead of ``N * T``. :class:`~helpers.nets.stgcn.STGCN` uses it
for batches with ``lengths`` (see its ``pack_frames`` attribute).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

__all__ = ["QUANTUM", "FrameLayout", "pack_layouts"]

#: Packed sequences are rounded up to a multiple of this many frames. oneDNN builds its
#: convolution kernels once per input shape; without rounding every training batch has a new
#: length and pays for new kernels (about a quarter of a quick network's epoch on 2 cores),
#: with it the shapes repeat after the first few batches, for at most 15 extra gap frames.
QUANTUM = 16


@dataclass(frozen=True)
class FrameLayout:
    """Where each clip's valid frames sit in a packed sequence of ``frames`` frames.

    Attributes
    ----------
    offsets : (n,) int64, the first frame of each clip
    lengths : (n,) int64, each clip's valid frames
    frames : total length F of the packed sequence
    """

    offsets: np.ndarray
    lengths: np.ndarray
    frames: int

    @classmethod
    def packed(cls, lengths: np.ndarray, gap: int, align: int, quantum: int = 1) -> "FrameLayout":
        """Clips in order, at least ``gap`` frames apart, offsets multiples of ``align``.

        ``frames`` is rounded up to a multiple of ``quantum`` (the extra frames are gap).
        """
        lengths = np.asarray(lengths, dtype=np.int64)
        offsets = np.zeros(len(lengths), dtype=np.int64)
        pos = 0
        for i, n in enumerate(lengths):
            offsets[i] = pos
            pos = -(-(pos + int(n) + gap) // align) * align  # round up to a multiple of align
        frames = int(offsets[-1] + lengths[-1]) if len(lengths) else 0
        frames = -(-frames // quantum) * quantum
        return cls(offsets, lengths, frames)

    def strided(self, stride: int, kernel: int) -> "FrameLayout":
        """The layout a convolution with ``stride`` (and padding ``(kernel - 1) / 2``) produces."""
        pad = (kernel - 1) // 2
        return FrameLayout(
            offsets=self.offsets // stride,
            lengths=(self.lengths + 2 * pad - kernel) // stride + 1,
            frames=(self.frames + 2 * pad - kernel) // stride + 1,
        )

    def frame_index(self, source: "FrameLayout", fill: int = 0) -> np.ndarray:
        """(F,) for each frame of this layout, the frame of ``source`` that holds it.

        Both layouts hold the same clips with the same lengths; gap frames point at ``fill``.
        """
        index = np.full(self.frames, int(fill), dtype=np.int64)
        for o_new, o_old, n in zip(self.offsets, source.offsets, self.lengths):
            index[o_new : o_new + n] = np.arange(o_old, o_old + n)
        return index

    def mask(self, device: torch.device | str | None = None) -> torch.Tensor:
        """(1, F) float mask: 1 on valid frames, 0 on gaps."""
        m = np.zeros((1, self.frames), dtype=np.float32)
        for o, n in zip(self.offsets, self.lengths):
            m[0, o : o + n] = 1.0
        return torch.from_numpy(m).to(device)

    def pooling(
        self,
        joints: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """(n, F) weights: row i averages clip i's valid frames (and ``joints`` joints summed).

        Computed in float64 and rounded once to ``dtype``.
        """
        w = np.zeros((len(self.lengths), self.frames), dtype=np.float64)
        for i, (o, n) in enumerate(zip(self.offsets, self.lengths)):
            w[i, o : o + n] = 1.0 / (float(n) * joints)
        return torch.from_numpy(w).to(device=device, dtype=dtype)


def pack_layouts(
    lengths: np.ndarray, strides: Sequence[int], kernel: int, quantum: int = QUANTUM
) -> tuple[FrameLayout, list[tuple[np.ndarray | None, FrameLayout, FrameLayout]]]:
    """The packed input layout, and for every block its gather, input and output layouts.

    Parameters
    ----------
    lengths : (n,) valid frames of the input clips
    strides : temporal stride of each block
    kernel : odd temporal kernel size (its padding ``(kernel - 1) / 2`` is the gap)
    quantum : each packing's length is rounded up to a multiple of this (see :data:`QUANTUM`)

    Returns
    -------
    first : the input's layout
    blocks : per block ``(gather, layout_in, layout_out)``. ``gather`` is ``None`` when the block
        takes the previous output as it is, else the (F,) frame index
        (:meth:`FrameLayout.frame_index`) that repacks it first: after a strided block, whose
        output gaps are too narrow for the next convolution.
    """
    gap = (kernel - 1) // 2
    align = max([1, *[int(s) for s in strides]])
    first = current = FrameLayout.packed(lengths, gap, align, quantum)
    blocks = []
    for stride in strides:
        gather = None
        if (
            current.offsets.size
            and (np.diff(current.offsets) - current.lengths[:-1]).min(initial=gap) < gap
            or (current.offsets % align).any()
        ):
            packed = FrameLayout.packed(current.lengths, gap, align, quantum)
            gather = packed.frame_index(current)
            current = packed
        out = current.strided(int(stride), kernel) if int(stride) > 1 else current
        blocks.append((gather, current, out))
        current = out
    return first, blocks
