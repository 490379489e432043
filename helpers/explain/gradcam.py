"""Layerwise spatio-temporal Grad-CAM for ST-GCN.

For block ``l`` with output ``A`` (C_l, T_l, V) for one body of one clip and the score ``y`` of a
target class (its logit), Grad-CAM (Selvaraju et al. 2017) as the paper applies it to ST-GCN is

    alpha_c = mean over (t, v) of dy / dA[c, t, v]          (one weight per channel)
    map[t, v] = ReLU( sum_c alpha_c A[c, t, v] )            (a time-by-joints heat map)

The pieces, in the manner of pytorch-grad-cam:

* :func:`block_outputs` is the one place that captures activations: forward hooks on the blocks,
  removed when the ``with`` block ends, whatever happens. Gradients come from
  :func:`torch.autograd.grad` with respect to the captured outputs, not from backward hooks: the
  blocks end in an in-place ReLU, which full backward hooks cannot handle, and ``autograd.grad``
  leaves no ``.grad`` on any parameter.
* targets: ``None`` (the predicted class), a class index, one index per clip, or a callable
  ``logits (N, K) -> scores (N,)`` (:class:`ClassTarget` is the plain one);
* :func:`channel_weights` (the alphas) and :func:`cam` (the weighted sum and ReLU);
* :func:`layer_gradcam` puts them together for a batch; :func:`dataset_gradcam` for every clip of
  a :class:`~helpers.data.dataset.SkeletonDataset`, each cropped to its valid length;
* summaries: :func:`joint_importance`, :func:`class_average`, :func:`contrastivity`,
  :func:`concentration`.

Natural-length batches. Clips of different lengths are zero-padded into one batch and the model
is given their ``lengths``. The mean over time in ``alpha`` runs over each clip's *valid* frames
of the layer (its gradient is zero on padded frames), so a clip gets the same map alone and in a
padded batch; the map is zero beyond the valid frames. That needs a model whose forward takes
``lengths``: one that does not (a :class:`~helpers.nets.block_model.BlockwiseModel` around such
a network) would take the padding for frames of the clip, and its map of a clip of L frames
padded to T would come out scaled (by L / T, for a mean over time), so padded clips are refused
for it with a ValueError; :func:`dataset_gradcam` gives it batches of clips of one length.

Where this differs from the authors' code (github.com/pratikdas/stg-gradcam). Their scripts
average the gradients over the bodies of a clip and weight the channels by their mean. Here each
body (NTU RGB+D has up to two people) gets its own weights and map: the bodies are different
people, and one weight per channel for both would let one person's gradient colour the other's
joints. The sum over channels is the Grad-CAM definition; a channel mean differs from it by the
factor 1 / C_l only, which changes the scale of a layer's maps but not their ranks or shape.

Time-only upsampling. Block ``l``'s output frame ``j`` is centred on input frame ``j * S_l``
(``S_l`` the product of the strides up to ``l``: 1, 2 or 4). Maps are brought back to the input's
frames by linear interpolation along time at those positions; joints are never mixed.

Bookkeeping. Per-layer values are numbered as the layers of
:func:`~helpers.training.features.layer_features`: layer 0 is the input, layer ``l`` (1-based) the
output of block ``l``. Lists of them are indexed by that number, the input included:
``valid_lengths(model, lengths)[l]`` (:func:`~helpers.training.features.valid_lengths`) are the
(N,) valid steps of layer ``l`` and ``layer_strides(model)[l]`` its total stride (1 for the
input), so ``upsample_time(maps[l], valid[l], valid[0], strides[l], T)`` reads the same everywhere.
Maps are dicts ``{l: ...}`` over the requested blocks only.

The model. Every entry point accepts any :class:`~helpers.nets.block_model.BlockModel` (an
:class:`~helpers.nets.stgcn.STGCN`, or any network wrapped in
:class:`~helpers.nets.block_model.BlockwiseModel`) and raises one ``TypeError`` for anything else.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from helpers.data.dataset import SkeletonDataset
from helpers.nets.block_model import BlockModel, forward_takes_lengths, require_block_model
from helpers.nets.validation import check_input, check_lengths
from helpers.runtime.arguments import check_flag, check_int
from helpers.runtime.device import resolve_device
from helpers.training.config import TrainConfig
from helpers.training.features import valid_lengths
from helpers.training.inputs import model_inputs, prepare_dataset

__all__ = [
    "CapturedOutputs",
    "ClassTarget",
    "DatasetGradCAM",
    "block_outputs",
    "cam",
    "channel_weights",
    "class_average",
    "concentration",
    "contrastivity",
    "dataset_gradcam",
    "gradcam_pass",
    "joint_importance",
    "layer_gradcam",
    "layer_strides",
    "mean_logit",
    "resolve_layers",
    "upsample_time",
]

Target = int | Sequence[int] | np.ndarray | Callable[[torch.Tensor], torch.Tensor] | None


# --------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class ClassTarget:
    """The logit of a given class per clip: ``ClassTarget(3)(logits)`` is ``logits[:, 3]``.

    ``classes`` is one class index for every clip, or an (N,) array of indices.
    """

    classes: int | Sequence[int] | np.ndarray

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        """(N,) scores from (N, K) logits."""
        idx = _class_indices(self.classes, logits.shape[0], logits.shape[1])
        return logits.gather(1, torch.as_tensor(idx, device=logits.device)[:, None])[:, 0]


def mean_logit(logits: torch.Tensor) -> torch.Tensor:
    """The class-independent target: each clip's mean logit over all K classes, (N,).

    Grad-CAM's channel weights are linear in the gradient, so the map of this score is the
    ReLU of the average of every class's map before its ReLU: one pass, and no class chosen
    for the clip (neither its label nor its prediction), so measures on these maps carry no
    label through the choice of target.
    """
    return logits.mean(dim=1)


def _class_indices(classes, n: int, k: int, name: str = "target") -> np.ndarray:
    arr = np.asarray(classes)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{name} must be a class index or (N,) = ({n},) integer class indices, got "
            f"{arr.dtype} {arr.shape}"
        )
    if n and (arr.min() < 0 or arr.max() >= k):
        raise ValueError(
            f"{name} holds classes {int(arr.min())}..{int(arr.max())}, but the model has {k} "
            f"classes (0..{k - 1})"
        )
    return arr.astype(np.int64)


def _scores(target: Target, logits: torch.Tensor) -> tuple[torch.Tensor, np.ndarray | None]:
    """(N,) scores to differentiate, and the class of each clip (None for a callable target)."""
    n, k = logits.shape
    if callable(target):
        scores = target(logits)
        if not isinstance(scores, torch.Tensor) or tuple(scores.shape) != (n,):
            raise ValueError(
                f"a callable target must map logits {tuple(logits.shape)} to (N,) = ({n},) "
                f"scores, got {getattr(scores, 'shape', type(scores).__name__)}"
            )
        return scores, None
    if target is None:
        classes = logits.detach().argmax(1).cpu().numpy()
    else:
        classes = _class_indices(target, n, k)
    return ClassTarget(classes)(logits), classes


# --------------------------------------------------------------------------- capturing
def _blocks(model: BlockModel, caller: str) -> Sequence[nn.Module]:
    """The model's blocks, after checking that it is a :class:`BlockModel` (TypeError if not)."""
    require_block_model(model, caller)
    return model.st_gcn_networks


def resolve_layers(
    model: BlockModel, layer: int | str | Sequence[int], name: str = "layer"
) -> list[int]:
    """The 1-based block numbers ``layer`` names: an int, a list of ints or ``'all'``.

    ``name`` is the caller's name for the argument, for the ValueError that a block number
    outside 1..num_blocks (or anything else) gets.
    """
    count = len(_blocks(model, "resolve_layers"))
    if isinstance(layer, str):
        if layer != "all":
            raise ValueError(f"{name} must be 1..{count}, a list of them or 'all', got {layer!r}")
        return list(range(1, count + 1))
    if np.ndim(layer) == 0:
        layers = [layer]
    elif isinstance(layer, (list, tuple)) and np.ndim(layer) == 1:
        layers = list(layer)  # as given: NumPy would make [1, 2.0] all floats
    else:
        layers = list(np.asarray(layer).reshape(-1))
    out = []
    for v in layers:
        if isinstance(v, (np.ndarray, np.generic)) and np.ndim(v) == 0:
            v = v.item()  # a NumPy scalar from the array above: shown as the number it is
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= count:
            raise ValueError(f"{name} must be a block number in 1..{count} or 'all', got {v!r}")
        out.append(int(v))
    if not out:
        raise ValueError(f"{name} names no block (an empty list)")
    return out


@dataclass
class CapturedOutputs:
    """What :func:`block_outputs` collects: ``outputs[layer]`` and its version when captured."""

    outputs: dict[int, torch.Tensor] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)

    def changed_in_place(self) -> list[int]:
        """Blocks whose captured output was modified in place after the block returned."""
        return [k for k, t in self.outputs.items() if t._version != self.versions[k]]


@contextlib.contextmanager
def block_outputs(model: BlockModel, layers: Sequence[int]) -> Iterator[CapturedOutputs]:
    """Capture the outputs of blocks ``layers`` (1-based) of the forward passes in the context.

    Yields a :class:`CapturedOutputs` filled by forward hooks, each output (N*M, C_l, T_l, V);
    the hooks are removed on leaving the context, also after an exception. An output changed in
    place after its block returned would make its gradient meaningless: :func:`gradcam_pass`
    checks :meth:`CapturedOutputs.changed_in_place`.
    """
    blocks = _blocks(model, "block_outputs")
    captured = CapturedOutputs()
    handles = []

    def hook_for(layer: int):
        def hook(module, inputs, output):
            captured.outputs[layer] = output
            captured.versions[layer] = output._version

        return hook

    try:
        for layer in layers:
            handles.append(blocks[layer - 1].register_forward_hook(hook_for(layer)))
        yield captured
    finally:
        for h in handles:
            h.remove()


@contextlib.contextmanager
def _eval_and_restored(model: nn.Module) -> Iterator[None]:
    """Eval mode inside; every submodule's own training flag restored on leaving."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, flag in flags:
            m.training = flag


# --------------------------------------------------------------------------- the pieces
def channel_weights(grads: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """Grad-CAM's alphas: the mean gradient of every channel over valid frames and all joints.

    Parameters
    ----------
    grads : (B, C, T, V) gradients of the score with respect to a block's output.
    valid : (B,) valid frame counts of the block's output (None: all T frames).

    Returns
    -------
    (B, C) weights.
    """
    b, _, t, v = grads.shape
    if valid is None:
        return grads.mean(dim=(2, 3))
    mask = (torch.arange(t, device=grads.device)[None, :] < valid[:, None]).to(grads.dtype)
    total = (grads * mask[:, None, :, None]).sum(dim=(2, 3))
    return total / (valid.to(grads.dtype)[:, None] * v)


def cam(activations: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``ReLU(sum_c weights[:, c] * activations[:, c])``: (B, T, V) from (B, C, T, V) and (B, C)."""
    return torch.relu(torch.einsum("bctv,bc->btv", activations, weights))


def layer_strides(model: BlockModel) -> list[int]:
    """Total temporal stride of every layer: the product of the strides up to it.

    Returns
    -------
    ``[1, S_1, ..., S_L]``: indexed by layer number, 0 the input (stride 1), ``l`` block ``l``
    (the module docstring's bookkeeping), so ``layer_strides(model)[l]`` is block ``l``'s.
    """
    _blocks(model, "layer_strides")
    out, total = [1], 1
    for _, stride in model.schedule:
        total *= int(stride)
        out.append(total)
    return out


def upsample_time(
    maps: np.ndarray,
    layer_lengths: np.ndarray,
    input_lengths: np.ndarray,
    stride: int,
    frames: int,
) -> np.ndarray:
    """Maps at a block's frames brought to the input's frames, along time only.

    Parameters
    ----------
    maps : (N, M, T_l, V) maps at the block's resolution.
    layer_lengths : (N,) valid frames of the block's output.
    input_lengths : (N,) valid input frames.
    stride : the block's total temporal stride S (its output frame j sits on input frame j*S).
    frames : T, the input's (padded) frame count.

    Returns
    -------
    (N, M, T, V) float32: at input frame t, linear interpolation between the block's frames
    ``floor(t / S)`` and the next one (the last valid one at the end); zero beyond each clip's
    ``input_lengths``.
    """
    n, m, _, v = maps.shape
    pos = np.arange(frames, dtype=np.float64) / float(stride)  # (T,)
    last = np.maximum(np.asarray(layer_lengths, np.int64) - 1, 0)[:, None]  # (N, 1)
    i0 = np.minimum(np.floor(pos)[None, :].astype(np.int64), last)  # (N, T)
    i1 = np.minimum(i0 + 1, last)
    w = np.clip(pos[None, :] - i0, 0.0, 1.0)
    w = np.where(i1 == i0, 0.0, w)
    g0 = np.take_along_axis(maps, i0[:, None, :, None], axis=2)
    g1 = np.take_along_axis(maps, i1[:, None, :, None], axis=2)
    out = (1.0 - w)[:, None, :, None] * g0 + w[:, None, :, None] * g1
    keep = np.arange(frames)[None, :] < np.asarray(input_lengths)[:, None]
    return (out * keep[:, None, :, None]).astype(np.float32)


# --------------------------------------------------------------------------- a batch
def gradcam_pass(
    model: BlockModel,
    x: torch.Tensor | np.ndarray,
    layers: int | str | Sequence[int],
    target: Target = None,
    *,
    lengths: Sequence[int] | np.ndarray | torch.Tensor | None = None,
) -> tuple[dict[int, np.ndarray], np.ndarray, np.ndarray | None]:
    """One forward and one backward pass: Grad-CAM of several blocks at their own resolution.

    Parameters
    ----------
    model : a :class:`~helpers.nets.block_model.BlockModel` such as an
        :class:`~helpers.nets.stgcn.STGCN` (any mode; it is used in eval mode and restored).
    x : (N, C, T, V, M) model inputs (already centred and scaled as the model expects), a
        floating-point tensor or array without NaN or infinite values.
    layers : 1-based block numbers (as :func:`resolve_layers` reads them).
    target : see the module docstring.
    lengths : (N,) valid frames of natural-length clips (None: all T). Clips shorter than T
        need a model whose forward takes ``lengths``
        (:func:`~helpers.nets.block_model.forward_takes_lengths`); for any other a ValueError
        says so, since the padding would enter its forward pass as frames of the clip.

    Returns
    -------
    ``(maps, logits, classes)``: ``maps[layer]`` (N, M, T_l, V) float32, zero beyond each clip's
    valid frames of that block; ``logits`` (N, K) float32; ``classes`` (N,) the target class of
    each clip (None for a callable target).
    """
    maps, logits, classes, _ = _gradcam(model, x, layers, target, lengths, "gradcam_pass")
    return maps, logits, classes


def _gradcam(
    model: BlockModel,
    x: torch.Tensor | np.ndarray,
    layers: int | str | Sequence[int],
    target: Target,
    lengths: Sequence[int] | np.ndarray | torch.Tensor | None,
    caller: str,
) -> tuple[dict[int, np.ndarray], np.ndarray, np.ndarray | None, np.ndarray]:
    """:func:`gradcam_pass` for ``caller``, also returning the checked (N,) input lengths."""
    require_block_model(model, caller)
    layers = resolve_layers(model, layers, name="layers")
    x = check_input("x", torch.from_numpy(x) if isinstance(x, np.ndarray) else x)
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    n, _, t, v, m = x.shape
    in_lengths = (
        np.full(n, t, np.int64) if lengths is None else check_lengths("lengths", lengths, n, t)
    )
    takes_lengths = forward_takes_lengths(model)
    if lengths is not None and not takes_lengths and bool((in_lengths < t).any()):
        raise ValueError(_untakeable_lengths(model, in_lengths, t))
    # inference_mode(False): callers inside torch.inference_mode() get maps too (gradients and
    # version counters need ordinary tensors)
    with (
        torch.inference_mode(False),
        _eval_and_restored(model),
        block_outputs(model, layers) as store,
        torch.enable_grad(),
    ):
        # a leaf that needs its gradient: the graph exists even if every parameter is frozen
        xb = x.detach().to(device=device, dtype=dtype).clone().requires_grad_(True)
        if lengths is None or not takes_lengths:  # no clip is padded (refused above otherwise)
            logits = model(xb)
        else:
            logits = model(xb, lengths=torch.as_tensor(in_lengths))
        scores, classes = _scores(target, logits)
        changed = store.changed_in_place()
        if changed:
            raise RuntimeError(
                f"the output of block(s) {changed} was changed in place after the block "
                "returned; their Grad-CAM would differentiate the changed tensor"
            )
        acts = [store.outputs[layer] for layer in layers]
        grads = torch.autograd.grad(scores.sum(), acts, allow_unused=True)
    valid = valid_lengths(model, in_lengths)  # valid[layer], the input at 0
    out = {}
    for layer, a, g in zip(layers, acts, grads):
        a = a.detach().float()
        g = torch.zeros_like(a) if g is None else g.detach().float()
        vl = torch.as_tensor(np.repeat(valid[layer], m), device=a.device)
        heat = cam(a, channel_weights(g, vl))  # (N*M, T_l, V)
        keep = torch.arange(heat.shape[1], device=a.device)[None, :] < vl[:, None]
        heat = (heat * keep[:, :, None]).cpu().numpy()
        out[layer] = heat.reshape(n, m, heat.shape[1], v).astype(np.float32)
    return out, logits.detach().float().cpu().numpy(), classes, in_lengths


def _untakeable_lengths(model: nn.Module, lengths: np.ndarray, frames: int) -> str:
    """The refusal of padded clips for a model whose forward takes no ``lengths``."""
    inner = getattr(model, "model", None)
    which = (
        f"{type(model).__name__} around {type(inner).__name__} (takes_lengths=False)"
        if isinstance(inner, nn.Module)
        else type(model).__name__
    )
    short = int((lengths < frames).sum())
    return (
        f"the model's forward takes no lengths ({which}), so the {short} clip(s) padded beyond "
        f"their lengths (down to {int(lengths.min())} of T = {frames} frames) cannot be "
        "explained correctly: the padded frames would enter the model as frames of the clip "
        "(a mean over time, say, would divide by T instead of the clip's length, scaling its "
        "map). Pass each clip unpadded (x[i:i+1, :, :lengths[i]], without lengths), or a model "
        "whose forward accepts lengths="
    )


def layer_gradcam(
    model: BlockModel,
    x: torch.Tensor | np.ndarray,
    layer: int | str | Sequence[int],
    target: Target = None,
    *,
    lengths: Sequence[int] | np.ndarray | torch.Tensor | None = None,
    upsample: bool = True,
) -> np.ndarray | dict[int, np.ndarray]:
    """Grad-CAM heat maps of block ``layer`` for a batch, per clip and body.

    Parameters
    ----------
    model : a :class:`~helpers.nets.block_model.BlockModel` such as an
        :class:`~helpers.nets.stgcn.STGCN`. It comes back as it was: its training flags,
        parameters and ``.grad`` fields are untouched and no hook is left on it.
    x : (N, C, T, V, M) model inputs (e.g. :func:`helpers.training.inputs.model_inputs`).
    layer : a block number 1..10, a list of them, or ``'all'`` (every block, from one backward
        pass).
    target : the class whose logit is explained: None (each clip's predicted class), an int, (N,)
        ints, or a callable ``logits (N, K) -> (N,)``.
    lengths : (N,) valid frames of zero-padded natural-length clips (None: all T frames). Clips
        shorter than T need a model whose forward takes ``lengths`` (see :func:`gradcam_pass`).
    upsample : bring the maps to the input's T frames (along time only).

    Returns
    -------
    For one layer, a float32 array (N, M, T, V) (``upsample=True``) or (N, M, T_l, V), zero
    beyond each clip's valid frames. For a list or ``'all'``, a dict ``{layer: array}``.
    """
    upsample = check_flag("upsample", upsample)
    require_block_model(model, "layer_gradcam")
    layers = resolve_layers(model, layer)
    maps, _, _, in_lengths = _gradcam(model, x, layers, target, lengths, "layer_gradcam")
    if upsample:
        t = int(x.shape[2])
        valid = valid_lengths(model, in_lengths)
        strides = layer_strides(model)
        maps = {
            layer: upsample_time(maps[layer], valid[layer], valid[0], strides[layer], t)
            for layer in layers
        }
    single = np.ndim(layer) == 0 and not isinstance(layer, str)
    return maps[layers[0]] if single else maps


# --------------------------------------------------------------------------- a dataset
@dataclass
class DatasetGradCAM:
    """Grad-CAM maps of every clip of a dataset.

    Attributes
    ----------
    maps : ``{layer: [ (M, T_l_i, V) float32 per clip ]}`` at each block's resolution, cropped to
        the clip's valid frames (``upsampled`` False), or at the input's frames (T_i).
    logits : (N, K) float32 logits of the clips.
    targets : (N,) the class each clip's maps explain (-1 for the class-independent
        ``'mean logit'`` target).
    labels : (N,) the clips' true classes.
    lengths : (N,) valid input frames of the clips (as the model saw them).
    upsampled : whether ``maps`` are at the input's frames.
    class_names : the dataset's class names.
    strides : total temporal stride of every layer, indexed by layer number (0 the input):
        ``strides[layer]`` (:func:`layer_strides`).
    """

    maps: dict[int, list[np.ndarray]]
    logits: np.ndarray
    targets: np.ndarray
    labels: np.ndarray
    lengths: np.ndarray
    upsampled: bool = False
    class_names: list[str] = field(default_factory=list)
    strides: list[int] = field(default_factory=list)

    @property
    def predictions(self) -> np.ndarray:
        """(N,) predicted classes."""
        return self.logits.argmax(1)

    def importance(self, layer: int) -> np.ndarray:
        """(N, V) joint importance of ``layer``: each clip's map averaged over time and bodies."""
        return np.stack([mp.mean(axis=(0, 1)) for mp in self.maps[layer]])

    def upsampled_map(self, layer: int, clip: int) -> np.ndarray:
        """(M, T_i, V) map of one clip at its input frames (along time only)."""
        mp = self.maps[layer][clip]
        if self.upsampled:
            return mp
        length = int(self.lengths[clip])
        out = upsample_time(mp[None], [mp.shape[1]], [length], self.strides[layer], length)
        return out[0]

    def flattened(self, layer: int) -> list[np.ndarray]:
        """``layer``'s maps as sequences (T_i, M*V), one per clip, e.g. for DTW."""
        return [
            np.ascontiguousarray(mp.transpose(1, 0, 2).reshape(mp.shape[1], -1))
            for mp in self.maps[layer]
        ]


def dataset_gradcam(
    model: BlockModel,
    dataset: SkeletonDataset,
    layer: int | str | Sequence[int] = "all",
    target: str | int | Sequence[int] | np.ndarray | None = None,
    *,
    config: TrainConfig | Mapping | None = None,
    upsample: bool = False,
    batch_size: int = 16,
    device: str | torch.device | None = None,
    progress: bool = True,
) -> DatasetGradCAM:
    """Grad-CAM of the blocks ``layer`` for every clip of ``dataset``.

    Parameters
    ----------
    model : a trained :class:`~helpers.nets.block_model.BlockModel` (an
        :class:`~helpers.nets.stgcn.STGCN`, or a network wrapped in
        :class:`~helpers.nets.block_model.BlockwiseModel`).
    dataset : raw clips; they are prepared as the model was trained (``config``, default
        ``model.train_config``; see :func:`helpers.training.inputs.model_inputs`).
    layer : block numbers or ``'all'``.
    target : None (predicted class), ``'label'`` (each clip's true class), ``'mean logit'``
        (the class-independent :func:`mean_logit`), a class index or (N,) indices.
    upsample : maps at the input's frames instead of each block's own.
    batch_size : clips per pass (clips of similar length share a batch; for a model whose
        forward takes no ``lengths``, natural-length clips share a batch only with clips of the
        same length, so that none is padded).
    device : where to run (default: where the model is; it is moved there and left there).
    progress : a progress bar over batches.

    Returns
    -------
    A :class:`DatasetGradCAM`.
    """
    require_block_model(model, "dataset_gradcam")
    batch_size = check_int("batch_size", batch_size, low=1)
    cfg = config if config is not None else getattr(model, "train_config", None)
    if cfg is None:
        raise ValueError(
            "dataset_gradcam needs the model's training configuration (how clips are centred, "
            "scaled and cut): pass config=..., or use a model from get_trained_model or "
            "load_checkpoint, which carry it as model.train_config"
        )
    cfg = TrainConfig.from_dict(cfg)
    layers = resolve_layers(model, layer)
    n = len(dataset)
    if isinstance(target, str):
        if target not in ("label", "mean logit"):
            raise ValueError(
                f"target must be None, 'label', 'mean logit', a class or (N,) classes, got "
                f"{target!r}"
            )
        wanted = mean_logit if target == "mean logit" else np.asarray(dataset.labels, np.int64)
    elif target is None:
        wanted = None
    else:
        wanted = _class_indices(target, n, int(getattr(model, "num_classes", dataset.num_classes)))
    if device is not None:
        model.to(resolve_device(device))
    natural = cfg.eval_mode == "natural"
    order = np.argsort(dataset.lengths, kind="stable") if natural else np.arange(n)
    # centre and scale once; the batches then only cut and pad
    prepared = prepare_dataset(dataset, cfg)
    batch_cfg = replace(cfg, center=None, scale=None)
    maps: dict[int, list] = {layer: [None] * n for layer in layers}
    logits = targets = None
    lengths_all = np.zeros(n, np.int64)
    strides = layer_strides(model)
    # a model without lengths would take a padded clip's zeros for frames of it: batches of
    # one length then (natural clips are padded to the longest of their batch, nothing more)
    same_length = natural and not forward_takes_lengths(model)
    batches = _batches(order, np.asarray(dataset.lengths) if same_length else None, batch_size)
    for idx in tqdm(batches, desc="Grad-CAM", unit="batch", disable=not progress):
        x, lengths = model_inputs(prepared, batch_cfg, index=idx)
        if not natural:
            lengths = np.full(len(idx), x.shape[2], np.int64)
        tgt = wanted if wanted is None or callable(wanted) else wanted[idx]
        batch_maps, batch_logits, classes = gradcam_pass(
            model, x, layers, tgt, lengths=lengths if natural else None
        )
        if logits is None:
            logits = np.zeros((n, batch_logits.shape[1]), np.float32)
            targets = np.zeros(n, np.int64)
        # -1: no class (the class-independent target)
        logits[idx], lengths_all[idx] = batch_logits, lengths
        targets[idx] = -1 if classes is None else classes
        valid = valid_lengths(model, lengths)
        for layer in layers:
            mp = batch_maps[layer]
            if upsample:
                mp = upsample_time(mp, valid[layer], valid[0], strides[layer], x.shape[2])
                keep = valid[0]
            else:
                keep = valid[layer]
            for r, j in enumerate(idx):
                maps[layer][j] = np.ascontiguousarray(mp[r, :, : int(keep[r])])
    return DatasetGradCAM(
        maps=maps,
        logits=logits,
        targets=targets,
        labels=np.asarray(dataset.labels, np.int64),
        lengths=lengths_all,
        upsampled=upsample,
        class_names=list(dataset.class_names),
        strides=strides,
    )


def _batches(order: np.ndarray, lengths: np.ndarray | None, size: int) -> list[np.ndarray]:
    """``order`` cut into batches of at most ``size`` clips; of equal ``lengths`` if given."""
    if lengths is None:
        return [order[i : i + size] for i in range(0, len(order), size)]
    out = []
    for length in dict.fromkeys(lengths[order].tolist()):  # in order of first appearance
        run = order[lengths[order] == length]
        out += [run[i : i + size] for i in range(0, len(run), size)]
    return out


# --------------------------------------------------------------------------- summaries
def joint_importance(
    maps: np.ndarray | Sequence[np.ndarray], lengths: Sequence[int] | np.ndarray | None = None
) -> np.ndarray:
    """Each joint's importance: the map averaged over the valid frames.

    Parameters
    ----------
    maps : (N, M, T, V) maps (:func:`layer_gradcam`), or a list of (M, T_i, V) per clip
        (:attr:`DatasetGradCAM.maps`).
    lengths : (N,) valid frames of an (N, M, T, V) array at its own resolution (None: all T).

    Returns
    -------
    (N, M, V) float64.
    """
    if isinstance(maps, np.ndarray) and maps.ndim == 4:
        n, _, t, _ = maps.shape
        L = np.full(n, t) if lengths is None else np.asarray(lengths).reshape(-1)
        if L.shape != (n,) or L.min(initial=1) < 1 or L.max(initial=1) > t:
            raise ValueError(f"lengths must be (N,) = ({n},) frame counts in 1..{t}")
        keep = (np.arange(t)[None, :] < L[:, None]).astype(np.float64)
        return np.einsum("nmtv,nt->nmv", maps, keep) / L[:, None, None]
    if lengths is not None:
        raise ValueError(
            "lengths apply to an (N, M, T, V) array only; a list of per-clip maps is already "
            "cropped to each clip's frames"
        )
    clips = list(maps)
    if any(np.ndim(c) != 3 for c in clips):
        raise ValueError("maps must be (N, M, T, V) or a list of (M, T_i, V) arrays")
    return np.stack([np.asarray(c, np.float64).mean(axis=1) for c in clips])


def class_average(values: np.ndarray, labels: Sequence[int], num_classes: int) -> np.ndarray:
    """Per-class mean of per-clip values: (K, ...) from (N, ...) and (N,) labels; NaN if empty."""
    values = np.asarray(values, np.float64)
    y = np.asarray(labels).reshape(-1)
    if y.shape[0] != values.shape[0]:
        raise ValueError(f"{values.shape[0]} values but {y.shape[0]} labels")
    out = np.full((int(num_classes),) + values.shape[1:], np.nan)
    for c in range(int(num_classes)):
        if (y == c).any():
            out[c] = values[y == c].mean(axis=0)
    return out


def contrastivity(class_importance: np.ndarray) -> np.ndarray:
    """Correlation between the classes' joint-importance vectors (the authors' measure).

    Parameters
    ----------
    class_importance : (K, V) joint importance per class (:func:`class_average`).

    Returns
    -------
    (K, K) Pearson correlations. Das & Ortega (ICASSP 2022) call explanations contrastive when
    different classes get different joints: low off-diagonal correlation. A class whose
    importance is constant (or missing) gets NaN.
    """
    imp = np.asarray(class_importance, np.float64)
    if imp.ndim != 2:
        raise ValueError(f"class_importance must be (K, V), got {imp.shape}")
    centred = imp - imp.mean(axis=1, keepdims=True)
    norm = np.sqrt((centred**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (centred @ centred.T) / np.outer(norm, norm)
    corr[~np.isfinite(corr)] = np.nan
    return corr


def concentration(
    maps: Sequence[np.ndarray], top_joints: int = 5, top_frames: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """How concentrated each clip's map is over joints and over time.

    Parameters
    ----------
    maps : one (M, T_i, V) map per clip (:attr:`DatasetGradCAM.maps` of one layer).
    top_joints : the joints counted in the joint share.
    top_frames : the share of frames counted in the time share.

    Returns
    -------
    ``(joint_share, time_share)``, each (N,): the share of the map's total in its
    ``top_joints`` joints (summed over time) and in its ``top_frames`` share of frames (summed
    over joints); NaN for an all-zero map. A uniform map gives ``top_joints / V`` and about
    ``top_frames``.
    """
    joint_share, time_share = [], []
    for mp in maps:
        mp = np.asarray(mp, np.float64)
        if mp.ndim != 3:
            raise ValueError(f"each map must be (M, T_i, V), got {mp.shape}")
        total = mp.sum()
        if total <= 0:
            joint_share.append(np.nan)
            time_share.append(np.nan)
            continue
        per_joint = np.sort(mp.sum(axis=(0, 1)))[::-1]
        per_frame = np.sort(mp.sum(axis=(0, 2)))[::-1]
        n_frames = max(1, int(round(top_frames * len(per_frame))))
        joint_share.append(per_joint[:top_joints].sum() / total)
        time_share.append(per_frame[:n_frames].sum() / total)
    return np.asarray(joint_share), np.asarray(time_share)
