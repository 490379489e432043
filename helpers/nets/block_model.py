"""Any PyTorch classifier made of spatio-temporal blocks, as the book's tools see an ST-GCN.

The layer features (:func:`helpers.training.features.layer_features`), the per-layer geometry
(:func:`~helpers.geometry.layer_tables.layer_geometry`) and the layerwise Grad-CAM
(:mod:`~helpers.explain.gradcam`, :mod:`~helpers.explain.checks`) were written for
:class:`~helpers.nets.stgcn.STGCN`, but they only use the small part of it that the protocol
:class:`BlockModel` names (see there for shapes):

* ``model(x, return_features=True, lengths=...)`` returns ``(logits, features)``, the features
  being the outputs of the blocks, each (N*M, C_l, T_l, V);
* ``model.st_gcn_networks``: the blocks, in order (Grad-CAM hooks them);
* ``model.num_blocks``: how many there are;
* ``model.temporal_lengths(lengths)``: how many valid time steps each block keeps;
* ``model.schedule``: (channels, temporal stride) per block.

:class:`~helpers.nets.stgcn.STGCN` and :class:`BlockwiseModel` satisfy it
(``isinstance(model, BlockModel)``); :class:`~helpers.nets.compact_gcn.CompactGCN` does not (it
knows nothing of the tools) and is used through :class:`BlockwiseModel`. The tools call
:func:`require_block_model` at their entry points, so a model without the interface gets one
``TypeError`` that names what it lacks.

:class:`BlockwiseModel` gives any other network that interface. Use it when you have a model
that maps a batch (N, C, T, V, M) of skeleton clips (coordinates, frames, joints, bodies) to
(N, K) class logits and whose blocks each produce a (N*M, C_l, T_l, V) tensor: bodies folded
into the batch, sample-major (row ``n*M + m`` is body ``m`` of clip ``n``), the joints kept as
the last axis. The wrapper captures the blocks' outputs with forward hooks, so the model itself
needs no ``return_features`` option and is not changed::

    net = MyModel(...)                                   # any nn.Module with blocks
    x = torch.zeros(1, 3, 64, 31, 1)                     # an example input (N, C, T, V, M)
    model = BlockwiseModel(net, net.blocks, example_input=x)
    feats = layer_features(model, dataset, config)       # or dataset_gradcam(model, ...)

Strides and valid lengths. The temporal stride of every block is measured by one forward pass
on ``example_input`` (or given as ``strides=``); the valid steps of a clip of ``L`` frames after
a block of stride ``s`` are then ``floor((L - 1) / s) + 1``, chained over the blocks, as in
:meth:`helpers.nets.stgcn.STGCN.temporal_lengths`. This assumes 'same'-padded temporal convolutions
(kernel ``k``, padding ``(k - 1) / 2``, so that output step ``j`` is centred on input frame
``j * s``); every forward pass checks that each block's output has the number of steps this
rule predicts for the padded input, so a model that crops or pads differently raises instead of
giving misaligned features. For clips of different lengths batched with zero padding to be
treated exactly as on their own, the wrapped model must take a ``lengths=`` argument and keep
padded frames out of valid ones (as :class:`helpers.nets.compact_gcn.CompactGCN` does); otherwise
the features near a clip's end see the padding (the Grad-CAM tools refuse padded clips for such a
model, :func:`forward_takes_lengths`).
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, Iterable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np
import torch
from torch import nn

from helpers.nets.validation import check_input, check_lengths
from helpers.runtime.arguments import check_flag, check_int

__all__ = ["BlockModel", "BlockwiseModel", "forward_takes_lengths", "require_block_model"]


@runtime_checkable
class BlockModel(Protocol):
    """What the feature, geometry and Grad-CAM tools need of a network made of blocks.

    Shapes: N clips, C coordinates, T frames, V joints, M bodies, K classes; block ``l``
    (1-based) outputs C_l channels and T_l time steps. Satisfied by
    :class:`~helpers.nets.stgcn.STGCN` and :class:`BlockwiseModel` (which gives any other
    network the interface). ``isinstance(model, BlockModel)`` checks that the members exist, not
    their signatures; :func:`require_block_model` says which are missing.

    Attributes
    ----------
    st_gcn_networks : the blocks, in order (a sequence of ``nn.Module``); Grad-CAM hooks them
        and cascading randomisation re-initialises them. Each runs once per forward pass and
        returns (N*M, C_l, T_l, V), bodies folded into the batch sample-major (row ``n*M + m``
        is body m of clip n).
    schedule : one ``(C_l, s_l)`` per block: output channels and temporal stride (1: as many
        steps as the block's input; 2: half).
    """

    st_gcn_networks: Sequence[nn.Module]
    schedule: Sequence[tuple[int, int]]

    @property
    def num_blocks(self) -> int:
        """Number of blocks: ``len(st_gcn_networks)``."""
        ...

    def temporal_lengths(
        self, lengths: Sequence[int] | np.ndarray | torch.Tensor
    ) -> list[np.ndarray]:
        """Valid time steps after each block for (N,) valid input frames.

        Returns one (N,) int64 array per block (block ``l`` at position ``l - 1``); with
        'same'-padded temporal convolutions a block of stride ``s`` keeps
        ``floor((L - 1) / s) + 1`` of ``L`` valid steps.
        """
        ...

    def forward(
        self,
        x: torch.Tensor,
        return_features: bool = False,
        *,
        lengths: Sequence[int] | np.ndarray | torch.Tensor | None = None,
    ) -> Any:
        """Logits (N, K) for x (N, C, T, V, M); with ``return_features``, ``(logits, features)``.

        ``features`` is a list over blocks of (N*M, C_l, T_l, V) tensors; ``lengths`` (N,) are
        the valid frames of clips zero-padded to T (None: all T), and block ``l``'s output is
        valid for its first ``temporal_lengths(lengths)[l - 1]`` steps.
        """
        ...


#: The members of :class:`BlockModel`, in the order :func:`require_block_model` reports them.
BLOCK_MODEL_MEMBERS = ("forward", "st_gcn_networks", "num_blocks", "schedule", "temporal_lengths")


def require_block_model(model: Any, caller: str, name: str = "model") -> None:
    """Raise one ``TypeError`` unless ``model`` has the :class:`BlockModel` interface.

    Parameters
    ----------
    model : the network a tool was given.
    caller : the tool's name, for the message (e.g. ``'layer_features'``).
    name : the tool's name for the argument (``'model'``, or e.g. ``'other'`` for a second
        network).

    Raises
    ------
    TypeError
        Naming the argument ``name``, the members it lacks and :class:`BlockwiseModel`, which
        gives any block-structured network the interface.
    """
    # hasattr, not isinstance alone: the message lists what is missing, and hasattr sees
    # nn.Module's submodules (kept in _modules) on every Python version
    missing = [name for name in BLOCK_MODEL_MEMBERS if not hasattr(model, name)]
    missing += [
        name
        for name in ("forward", "temporal_lengths")
        if name not in missing and not callable(getattr(model, name))
    ]
    if missing:
        raise TypeError(
            f"{caller}: {name} must be a block model (helpers.nets.block_model.BlockModel), but "
            f"the {type(model).__name__} given lacks {', '.join(missing)}. Wrap a network made "
            "of blocks in helpers.nets.block_model.BlockwiseModel(net, net.blocks, "
            "example_input=...) to give it the interface."
        )


def forward_takes_lengths(model: nn.Module) -> bool:
    """Whether ``model(x, lengths=...)`` hands the valid frames of a padded batch to the network.

    A :class:`BlockwiseModel` says so itself (``takes_lengths``: whether the wrapped network's
    forward accepts them); for any other module, whether its ``forward`` has a parameter called
    ``lengths`` (by keyword). A model that does not take them sees a padded clip's zero frames
    as frames of the clip, so its outputs (and their gradients) are not those of the clip alone.
    """
    flag = getattr(model, "takes_lengths", None)
    if isinstance(flag, bool):
        return flag
    try:
        params = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False
    p = params.get("lengths")
    return p is not None and p.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )


def _positive_ints(values: Sequence[int], name: str, count: int) -> list[int]:
    vals = list(values)
    if len(vals) != count:
        raise ValueError(f"{name} must give one value per block ({count}), got {len(vals)}")
    return [check_int(f"{name}[{i}]", v, low=1) for i, v in enumerate(vals)]


class BlockwiseModel(nn.Module):
    """A classifier and its blocks, as a :class:`BlockModel` (the interface of an ST-GCN).

    Parameters
    ----------
    model : the network: ``model(x)`` maps x (N, C, T, V, M) to logits (N, K). It is
        registered as the submodule ``model`` (so the state dict's keys start with ``model.``);
        nothing else is registered, so each parameter appears once.
    blocks : the blocks whose outputs are the layers, in order: submodules of ``model``, or
        their dotted names in ``model.named_modules()`` (e.g. ``'blocks.0'``), or one name of an
        ``nn.ModuleList`` / ``nn.Sequential`` whose children are the blocks (e.g. ``'blocks'``).
        Each must run exactly once per forward pass and return a tensor (N*M, C_l, T_l, V).
    strides : the temporal stride of every block (1: as many steps as its input; 2: half).
        Default: measured on ``example_input``.
    channels : the output channels C_l of every block. Default: measured on ``example_input``.
    example_input : (N, C, T, V, M) tensor or array for one probing forward pass (eval mode, no
        gradient, every submodule's training flag restored after it). Needed unless both
        ``strides`` and ``channels`` are given. Its T must be divisible by the product of the
        strides (e.g. 64), because a stride is measured as ``T_in / T_out``. Zeros will do.
    takes_lengths : whether ``model.forward`` accepts ``lengths=`` (the valid frames of a
        zero-padded batch); ``None``: whether its signature has a parameter called ``lengths``.
    classifier : the module (or its dotted name) after the blocks that maps their features to
        logits; needed only by :func:`helpers.explain.checks.cascading_randomization`, which
        re-initialises it before the blocks.

    Attributes
    ----------
    model : the wrapped network.
    block_names : the blocks' dotted names in ``model``.

    Notes
    -----
    Forward hooks capture the outputs; they are added for each forward pass and removed after
    it, also when it raises. A block's output is checked against (N*M, C_l, T_l, V), with T_l
    the number of steps the strides predict for the padded input: a mismatch, a block that does
    not run, or a block that runs twice in one pass raises a ValueError naming the block.
    """

    def __init__(
        self,
        model: nn.Module,
        blocks: Iterable[nn.Module | str] | str,
        *,
        strides: Sequence[int] | None = None,
        channels: Sequence[int] | None = None,
        example_input: torch.Tensor | np.ndarray | None = None,
        takes_lengths: bool | None = None,
        classifier: nn.Module | str | None = None,
    ):
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        # the wrapper starts in the wrapped model's mode (nn.Module starts in training mode), so
        # that tools which restore "the model's mode" afterwards restore the wrapped one's
        self.training = model.training
        names, modules = self._resolve_blocks(model, blocks)
        # a tuple is not registered as a submodule: the parameters stay under ``model.`` only
        self._blocks: tuple[nn.Module, ...] = tuple(modules)
        self.block_names: list[str] = names
        # the final layer(s) after the blocks, for the cascading randomisation check (not
        # registered again either); None when not given
        self._classifier: tuple[nn.Module, ...] = ()
        if classifier is not None:
            _, (head,) = self._resolve_blocks(model, [classifier])
            if any(head is b or head in set(b.modules()) for b in modules):
                raise ValueError("classifier must not be one of the blocks or inside one")
            self._classifier = (head,)
        if takes_lengths is None:
            takes_lengths = forward_takes_lengths(model)
        self.takes_lengths = check_flag("takes_lengths", takes_lengths)
        self._warned_lengths = False
        self._train_config: Any = None

        count = len(modules)
        given_strides = None if strides is None else _positive_ints(strides, "strides", count)
        given_channels = None if channels is None else _positive_ints(channels, "channels", count)
        if example_input is None:
            if given_strides is None or given_channels is None:
                missing = [
                    n
                    for n, v in (("strides", given_strides), ("channels", given_channels))
                    if v is None
                ]
                raise ValueError(
                    f"BlockwiseModel needs example_input (an (N, C, T, V, M) batch, zeros will "
                    f"do) to measure the blocks' {' and '.join(missing)}, or pass "
                    f"{' and '.join(f'{n}=' for n in missing)} explicitly"
                )
            self._strides, self._channels = given_strides, given_channels
        else:
            probed_strides, probed_channels = self._probe(example_input, given_strides)
            if given_channels is not None and given_channels != probed_channels:
                raise ValueError(
                    f"channels={given_channels} were given, but the blocks' outputs have "
                    f"{probed_channels} channels on example_input"
                )
            self._strides = given_strides if given_strides is not None else probed_strides
            self._channels = probed_channels

    # ------------------------------------------------------------------ construction helpers
    @staticmethod
    def _resolve_blocks(
        model: nn.Module, blocks: Iterable[nn.Module | str] | str
    ) -> tuple[list[str], list[nn.Module]]:
        named = dict(model.named_modules())
        by_id = {}
        for name, mod in model.named_modules():
            by_id.setdefault(id(mod), name)

        def unknown(name: str) -> ValueError:
            shown = [n for n in named if n]
            more = f" (and {len(shown) - 40} more)" if len(shown) > 40 else ""
            return ValueError(
                f"block {name!r} is not a submodule of {type(model).__name__}; its submodules "
                f"are: {', '.join(shown[:40])}{more}"
            )

        if isinstance(blocks, str):
            if blocks not in named or blocks == "":
                raise unknown(blocks)
            container = named[blocks]
            if not isinstance(container, (nn.ModuleList, nn.Sequential)):
                raise ValueError(
                    f"blocks={blocks!r} names a {type(container).__name__}; one name must be an "
                    "nn.ModuleList or nn.Sequential of blocks (or pass a list of blocks)"
                )
            items: list[nn.Module | str] = list(container)
        elif isinstance(blocks, nn.Module) and not isinstance(
            blocks, (nn.ModuleList, nn.Sequential)
        ):
            raise TypeError(
                f"blocks must be a list of blocks (or an nn.ModuleList), got one "
                f"{type(blocks).__name__}; wrap it in a list for a single block"
            )
        else:
            items = list(blocks)
        if not items:
            raise ValueError("blocks is empty: give at least one block")
        names, modules = [], []
        for i, item in enumerate(items):
            if isinstance(item, str):
                if item not in named or item == "":
                    raise unknown(item)
                name, mod = item, named[item]
            elif isinstance(item, nn.Module):
                if id(item) not in by_id:
                    raise ValueError(
                        f"block {i} ({type(item).__name__}) is not a submodule of the wrapped "
                        f"{type(model).__name__}"
                    )
                name, mod = by_id[id(item)], item
                if name == "":
                    raise ValueError(
                        f"block {i} is the wrapped model itself, not one of its blocks"
                    )
            else:
                raise TypeError(
                    f"block {i} must be an nn.Module or a dotted name, got {type(item).__name__}"
                )
            if any(m is mod for m in modules):
                raise ValueError(f"block {name!r} is given twice")
            names.append(name)
            modules.append(mod)
        return names, modules

    def _device_dtype(self) -> tuple[torch.device, torch.dtype]:
        for p in self.model.parameters():
            dtype = p.dtype if p.is_floating_point() else torch.float32
            return p.device, dtype
        return torch.device("cpu"), torch.float32

    def _probe(
        self, example_input: torch.Tensor | np.ndarray, strides: list[int] | None
    ) -> tuple[list[int], list[int]]:
        """Measure (strides, channels) with one forward pass on ``example_input``."""
        x = torch.as_tensor(example_input)
        if x.dim() != 5:
            raise ValueError(f"example_input must be shaped (N, C, T, V, M), got {tuple(x.shape)}")
        device, dtype = self._device_dtype()
        x = x.to(device=device, dtype=dtype)
        flags = [(m, m.training) for m in self.model.modules()]
        self.model.eval()
        try:
            with torch.no_grad():
                outputs = self._run(x, None, expected=None)[1]
        finally:
            for m, flag in flags:
                m.training = flag
        t_in = int(x.shape[2])
        measured, channels = [], []
        for i, (name, out) in enumerate(zip(self.block_names, outputs)):
            t_out = int(out.shape[2])
            channels.append(int(out.shape[1]))
            if strides is not None:
                s = strides[i]
                if t_out != (t_in - 1) // s + 1:
                    raise ValueError(
                        f"block {name!r} has stride {s} (strides=), so {t_in} input steps should "
                        f"give {(t_in - 1) // s + 1}, but it outputs {t_out} steps on "
                        "example_input; the tools assume 'same'-padded temporal convolutions"
                    )
            else:
                if t_out < 1 or t_out > t_in or t_in % t_out:
                    raise ValueError(
                        f"block {name!r} maps {t_in} steps to {t_out}: the stride T_in / T_out = "
                        f"{t_in}/{t_out} is not an integer. Use an example_input whose T is a "
                        "multiple of the total stride (e.g. 64 frames), or pass strides="
                    )
                s = t_in // t_out
            measured.append(s)
            t_in = t_out
        return measured, channels

    # ------------------------------------------------------------------ the tools' interface
    @property
    def st_gcn_networks(self) -> tuple[nn.Module, ...]:
        """The blocks, in order (the modules of the wrapped model, not copies)."""
        return self._blocks

    @property
    def classifier(self) -> nn.Module | None:
        """The module after the blocks that ``classifier=`` named, or None.

        It is a module of the wrapped model;
        :func:`helpers.explain.checks.cascading_randomization` re-initialises it first.
        """
        return self._classifier[0] if self._classifier else None

    @property
    def num_blocks(self) -> int:
        """Number of blocks."""
        return len(self._blocks)

    @property
    def strides(self) -> list[int]:
        """The temporal stride of every block."""
        return list(self._strides)

    @property
    def channels(self) -> list[int]:
        """The output channels C_l of every block."""
        return list(self._channels)

    @property
    def schedule(self) -> list[tuple[int, int]]:
        """(channels, stride) per block, as :attr:`helpers.nets.stgcn.STGCN.schedule`."""
        return list(zip(self._channels, self._strides))

    @property
    def train_config(self) -> Any:
        """The :class:`~helpers.training.config.TrainConfig` the tools prepare inputs with.

        Set on the wrapper, else the wrapped model's own ``train_config`` (which
        :func:`helpers.training.loop.fit` and :func:`helpers.training.checkpoints.load_checkpoint`
        set), or None.
        """
        if self._train_config is not None:
            return self._train_config
        return getattr(self.model, "train_config", None)

    @train_config.setter
    def train_config(self, value: Any) -> None:
        self._train_config = value

    @property
    def num_classes(self) -> int:
        """The wrapped model's ``num_classes`` (AttributeError when it has none)."""
        if not hasattr(self.model, "num_classes"):
            raise AttributeError(f"{type(self.model).__name__} has no num_classes")
        return int(self.model.num_classes)

    @property
    def config(self) -> dict[str, Any]:
        """A plain description (class, the wrapped model's ``config`` if any, blocks, schedule).

        Part of :func:`helpers.training.features.model_fingerprint` and of saved checkpoints.
        """
        inner = getattr(self.model, "config", None)
        return {
            "model_class": type(self.model).__name__,
            "model": dict(inner) if isinstance(inner, Mapping) else None,
            "blocks": list(self.block_names),
            "schedule": [list(b) for b in self.schedule],
        }

    def temporal_lengths(
        self, lengths: Sequence[int] | np.ndarray | torch.Tensor
    ) -> list[np.ndarray]:
        """Valid time steps after each block for input valid lengths (N,).

        A block of stride ``s`` keeps ``floor((L - 1) / s) + 1`` of ``L`` valid steps (the
        steps whose kernel centre lies on a valid frame of a 'same'-padded convolution).

        Returns
        -------
        One (N,) int64 array per block.
        """
        arr = check_lengths("lengths", lengths)
        out = []
        for s in self._strides:
            arr = (arr - 1) // s + 1
            out.append(arr.copy())
        return out

    def block_output_shapes(
        self, T: int, num_bodies: int = 1, batch: int = 1, num_joints: int | None = None
    ) -> list[tuple[int, ...]]:
        """Shape (N*M, C_l, T_l, V) of every block's output for an input of T frames.

        ``num_joints`` is V (omitted from the tuples when None).
        """
        lengths = self.temporal_lengths([check_int("T", T, low=1)])
        rows = []
        for c, t in zip(self._channels, lengths):
            shape = (batch * num_bodies, c, int(t[0]))
            rows.append(shape + ((int(num_joints),) if num_joints is not None else ()))
        return rows

    # ------------------------------------------------------------------ forward
    def _run(
        self,
        x: torch.Tensor,
        lengths: Any,
        expected: list[tuple[int, int, int, int]] | None,
    ) -> tuple[Any, list[torch.Tensor]]:
        """The wrapped forward pass with the blocks' outputs captured (and checked)."""
        n, _, t, v, m = x.shape
        outputs: list[torch.Tensor | None] = [None] * len(self._blocks)

        def hook_for(i: int):
            name = self.block_names[i]

            def hook(module, inputs, output):
                if outputs[i] is not None:
                    raise ValueError(
                        f"block {name!r} ran more than once in one forward pass; each block "
                        "must run exactly once (give the blocks that run once each)"
                    )
                if not isinstance(output, torch.Tensor):
                    raise ValueError(
                        f"block {name!r} returned a {type(output).__name__}; expected a tensor "
                        f"(N*M, C, T, V) = ({n * m}, C, T, {v})"
                    )
                shape = tuple(output.shape)
                if output.dim() != 4 or shape[0] != n * m or shape[3] != v:
                    raise ValueError(
                        f"block {name!r} output has shape {shape}; expected 4-D (N*M, C, T, V) = "
                        f"({n * m}, C, T, {v}) for an input (N, C, T, V, M) = {tuple(x.shape)} "
                        "(bodies folded into the batch, joints last)"
                    )
                if expected is not None and shape != expected[i]:
                    raise ValueError(
                        f"block {name!r} output has shape {shape}; expected {expected[i]} from "
                        f"the schedule (channels, stride) = {self.schedule[i]} for T = {t} input "
                        "frames ('same'-padded temporal convolutions)"
                    )
                outputs[i] = output

            return hook

        handles = []
        try:
            for i, block in enumerate(self._blocks):
                handles.append(block.register_forward_hook(hook_for(i)))
            if lengths is not None and self.takes_lengths:
                logits = self.model(x, lengths=lengths)
            else:
                logits = self.model(x)
        finally:
            for h in handles:
                h.remove()
        silent = [name for name, out in zip(self.block_names, outputs) if out is None]
        if silent:
            raise ValueError(
                f"block(s) {silent} did not run in the forward pass of {type(self.model).__name__}"
            )
        return logits, outputs  # type: ignore[return-value]

    def forward(
        self,
        x: torch.Tensor,
        return_features: bool = False,
        lengths: Sequence[int] | np.ndarray | torch.Tensor | None = None,
    ):
        """Logits (N, K) for x (N, C, T, V, M), and the blocks' outputs if ``return_features``.

        Parameters
        ----------
        x : (N, C, T, V, M) batch (coordinates, frames, joints, bodies).
        return_features : also return the blocks' outputs.
        lengths : (N,) valid frames of zero-padded clips (integers in 1..T), passed on as
            ``lengths=`` when the wrapped model takes it (a warning, once, when it does not).

        Returns
        -------
        ``logits``, or ``(logits, features)`` with ``features`` a list over blocks of tensors
        (N*M, C_l, T_l, V), sample-major (row ``n*M + m`` is body m of clip n).

        ``x`` is checked as :class:`~helpers.nets.stgcn.STGCN` checks it
        (:func:`~helpers.nets.validation.check_input`: a floating-point tensor with no empty
        axis and no NaN or infinite value; one of another precision is converted to the wrapped
        model's dtype), and ``lengths`` by :func:`~helpers.nets.validation.check_lengths`.
        """
        x = check_input("x", x, dtype=self._device_dtype()[1])
        if lengths is not None:  # checked here, passed on as given (the model's own type)
            check_lengths("lengths", lengths, int(x.shape[0]), int(x.shape[2]))
        if lengths is not None and not self.takes_lengths and not self._warned_lengths:
            self._warned_lengths = True
            warnings.warn(
                f"{type(self.model).__name__}.forward takes no lengths=, so zero-padded frames "
                "of shorter clips in a batch reach its blocks; the valid part of their features "
                "is then not what the clip gives alone",
                RuntimeWarning,
                stacklevel=2,
            )
        n, _, t, v, m = x.shape
        expected = [
            (n * m, c, int(tl[0]), v)
            for c, tl in zip(self._channels, self.temporal_lengths([int(t)]))
        ]
        logits, outputs = self._run(x, lengths, expected)
        return (logits, list(outputs)) if return_features else logits

    def extra_repr(self) -> str:
        """The blocks and their (channels, stride)."""
        return (
            "blocks=["
            + ", ".join(
                f"{name}: {c}ch/{s}" for name, (c, s) in zip(self.block_names, self.schedule)
            )
            + "]"
        )
