"""Argument checks at the networks' door, so that every model words its errors alike.

The general checks of integers, numbers and choices live in :mod:`helpers.runtime.arguments`
(``check_int``, ``check_number``, ``check_choice``); this module adds what the networks need:
flags, named options, the clips' valid ``lengths``, the input batch ``x`` (N, C, T, V, M) and
state dicts. Each check takes the argument's name first, as :mod:`helpers.runtime.arguments`
does, names the argument as the caller wrote it, says what was expected, and returns the value
in the type the code goes on with. Wrong types raise :class:`TypeError` (a float where a count
is needed is refused, never floored), bad values and shapes :class:`ValueError`.

Used by :class:`~helpers.nets.stgcn.STGCN`, :class:`~helpers.nets.compact_gcn.CompactGCN`,
:class:`~helpers.nets.block_model.BlockwiseModel` and the Grad-CAM tools
(:mod:`helpers.explain`).

>>> check_lengths("lengths", [3, 5], n=2, t=5)
array([3, 5])

``check_lengths("lengths", [3, 6], n=2, t=5)`` raises a ValueError, whose message says that
lengths must lie in 1..T = 1..5 (the padded input's frames) and that they were 3..6.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

from helpers.runtime.arguments import check_choice

__all__ = ["check_input", "check_lengths", "check_option", "check_state_dict"]


def check_option(name: str, value: Any, options: Sequence[str]) -> str:
    """``value`` when it is one of the strings ``options``.

    Raises a TypeError naming ``name`` when ``value`` is not a string (``strategy=1``), else
    :func:`helpers.runtime.arguments.check_choice`'s ValueError when it is not among them.
    """
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be a str, one of {tuple(options)}, got {value!r} ({type(value).__name__})"
        )
    return check_choice(name, value, options)


def check_lengths(
    name: str, lengths: Any, n: int | None = None, t: int | None = None
) -> np.ndarray:
    """``lengths`` as (N,) int64 valid frame counts of clips zero-padded to T frames.

    Parameters
    ----------
    name : the argument's name, for the messages.
    lengths : a sequence, array or tensor of frame counts, one per clip.
    n : the number of clips N it must give (None: any).
    t : the padded input's frames T, the largest count allowed (None: no upper bound).

    Returns
    -------
    (N,) int64 copy of ``lengths``.

    Raises
    ------
    TypeError
        For anything that is not numbers (strings, None, objects).
    ValueError
        For another shape than (N,), counts that are not integers (a float array, 2.5 or 2.0)
        and counts outside ``1..t``.
    """
    if isinstance(lengths, torch.Tensor):
        lengths = lengths.detach().cpu().numpy()
    try:
        arr = np.asarray(lengths)
    except ValueError as err:  # ragged nesting: NumPy cannot make an array of it
        raise ValueError(f"{name} must be (N,) integer frame counts, got {lengths!r}") from err
    if arr.size == 0 and arr.ndim == 1:
        arr = arr.astype(np.int64)  # [] has NumPy's default float dtype
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(
            f"{name} must be a sequence, array or tensor of integer frame counts, got "
            f"{type(lengths).__name__} of {arr.dtype}"
        )
    if arr.ndim != 1 or (n is not None and arr.shape != (n,)) or arr.dtype.kind not in "iu":
        expected = "(N,)" if n is None else f"(N,) = ({n},)"
        raise ValueError(
            f"{name} must be {expected} integer frame counts, got {arr.dtype} {arr.shape}"
        )
    if arr.size and (arr.min() < 1 or (t is not None and arr.max() > t)):
        if t is None:
            raise ValueError(f"{name} must be >= 1 (valid frame counts), got minimum {arr.min()}")
        raise ValueError(
            f"{name} must lie in 1..T = 1..{t} (the padded input's frames), got "
            f"{int(arr.min())}..{int(arr.max())}"
        )
    return arr.astype(np.int64)


def check_input(
    name: str,
    x: Any,
    *,
    channels: int | None = None,
    joints: int | None = None,
    dtype: torch.dtype | None = None,
    finite: bool = True,
) -> torch.Tensor:
    """A batch of skeleton clips (N, C, T, V, M), checked at a model's door.

    Parameters
    ----------
    name : the argument's name, for the messages.
    x : N clips of T frames, C coordinates of V joints of M bodies.
    channels, joints : the C and V the model expects (None: any).
    dtype : the model's floating-point dtype. A floating-point ``x`` of another precision (say
        float64 from NumPy) is converted to it, as ``x.to(dtype)``; None keeps ``x``'s dtype.
    finite : refuse NaN and infinite values. This is one reduction over ``x`` (on a GPU, one
        synchronisation with the host per call); the count in the message is taken only when
        there is something to report.

    Returns
    -------
    ``x`` in ``dtype``: the very tensor given when it already has that dtype, so the checks
    change no number of a valid input.

    Raises
    ------
    TypeError
        Unless ``x`` is a tensor of floating-point numbers (integers, bools and complex
        numbers are refused rather than guessed at).
    ValueError
        When ``x`` is not 5-D, has no clips, bodies or frames, has other C or V than expected, or
        holds NaN or infinite values.
    """
    if not isinstance(x, torch.Tensor):
        hint = "; convert an array with torch.from_numpy" if isinstance(x, np.ndarray) else ""
        raise TypeError(
            f"{name} must be a torch.Tensor shaped (N, C, T, V, M), got {type(x).__name__}{hint}"
        )
    if x.dim() != 5:
        raise ValueError(
            f"{name} must be shaped (N, C, T, V, M), got {tuple(x.shape)}"
            + (f"; add a bodies axis with {name}[..., None]" if x.dim() == 4 else "")
        )
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must hold floating-point coordinates, got {x.dtype}; convert it with "
            f"{name}.float()"
        )
    n, c, t, v, m = x.shape
    for size, what, axis in ((n, "clips", "N"), (m, "bodies", "M"), (t, "frames", "T")):
        if size == 0:
            raise ValueError(
                f"{name} has no {what} ({axis} = 0): (N, C, T, V, M) = {tuple(x.shape)}"
            )
    if (channels is not None and c != channels) or (joints is not None and v != joints):
        raise ValueError(
            f"{name} has C={c} coordinates and V={v} joints, but the model expects "
            f"C={channels if channels is not None else c} and "
            f"V={joints if joints is not None else v} ((N, C, T, V, M) = {tuple(x.shape)})"
        )
    if finite and not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(
            f"{name} holds {bad} NaN or infinite value(s); fill missing joints (e.g. with the "
            "previous frame or zeros) before the model"
        )
    return x if dtype is None or x.dtype == dtype else x.to(dtype)


def check_state_dict(name: str, state: Any) -> Mapping[str, Any]:
    """``state`` if it is a mapping of names to values whose floating-point tensors are finite.

    Raises a TypeError naming ``name`` unless ``state`` is a mapping (as ``model.state_dict()``
    gives), and a ValueError naming every floating-point tensor that holds NaN or infinite
    values: such weights (or BatchNorm statistics) make every output NaN, so they are refused
    where they come in rather than noticed in the outputs. One reduction per tensor.
    """
    if not isinstance(state, Mapping):
        raise TypeError(
            f"{name} must be a mapping of names to tensors (as model.state_dict() gives), got "
            f"{type(state).__name__}"
        )
    bad = [
        key
        for key, value in state.items()
        if isinstance(value, torch.Tensor)
        and value.is_floating_point()
        and not bool(torch.isfinite(value).all())
    ]
    if bad:
        raise ValueError(
            f"{name} holds NaN or infinite values in {', '.join(map(str, bad))}; load the weights "
            "of an earlier, finite checkpoint"
        )
    return state
