"""Argument checks of the data subpackage, so that its functions word their errors alike.

The general checks of integers and numbers live in :mod:`helpers.runtime.arguments`
(``check_int``, ``check_number``); this module adds the ones that only skeleton data needs:
frame rates, coordinate axes, ``(low, high)`` ranges, random generators, sequences shaped
(T, V, C) or (T, M, V, C) and lists of names. Each check takes the argument's name first, as
:mod:`helpers.runtime.arguments` does, names the argument as the caller wrote it, shows the
value it got (or an array's shape and dtype), says what was expected, and returns the value in
the type the code goes on with. Wrong types raise :class:`TypeError` (a float where a count is
needed is refused, never floored), bad values and shapes :class:`ValueError`.

>>> check_axis("up_axis", 1)
1

``check_axis("up_axis", 1.0)`` raises a TypeError (a float is refused, not floored):
``up_axis=1.0: expected an integer in [0, 2]``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np

from helpers.runtime.arguments import check_int, check_number

__all__ = [
    "check_axis",
    "check_fps",
    "check_pair",
    "check_rng",
    "check_sequence",
    "check_strings",
    "describe",
]

#: Characters of a value's ``repr`` quoted in a message: enough to recognise the value, short
#: enough to keep the message on one line when a whole list or array was passed by mistake.
MAX_SHOWN = 60

#: The coordinate axes a vertical axis can be: x, y or z of 3-D joint positions.
NUM_AXES = 3


def describe(value: Any) -> str:
    """A short description of ``value`` for error messages: its repr, or an array's shape.

    >>> describe(np.zeros((2, 3)))
    'an array of shape (2, 3), dtype float64'
    >>> describe("walk")
    "'walk'"
    """
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return f"an array of shape {value.shape}, dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def _type_name(value: Any) -> str:
    return type(value).__name__


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_fps(
    name: str, value: Any, *, allow_none: bool = False, allow_nan: bool = False
) -> float | None:
    """A frame rate: a positive finite number (frames per second).

    ``allow_none`` lets ``None`` through (a loader's "keep the recording's rate"); ``allow_nan``
    lets NaN through (a dataset's "rate unknown").
    """
    if value is None and allow_none:
        return None
    if _is_real(value) and math.isnan(float(value)) and allow_nan:
        return float("nan")
    try:
        return check_number(name, value, low=0.0, low_open=True)
    except (TypeError, ValueError) as err:
        also = " or None" if allow_none else ""
        also += " or NaN (unknown)" if allow_nan else ""
        raise type(err)(
            f"{name} must be a positive number of frames per second{also}, got "
            f"{describe(value)} ({_type_name(value)})"
        ) from None


def check_axis(name: str, value: Any, num_axes: int = NUM_AXES) -> int:
    """A coordinate axis index, ``0 .. num_axes - 1`` (an integer, e.g. 1 for y)."""
    return check_int(name, value, low=0, high=min(num_axes, NUM_AXES) - 1)


def check_pair(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
) -> tuple[float, float]:
    """A ``(low, high)`` range of numbers with ``low <= high``, each within the bounds.

    Raises TypeError unless ``value`` is a list or tuple of two numbers (a bare number is
    refused: ``crop=0.8`` is not ``crop=(0.8, 0.8)``), ValueError when the bounds or the order
    are broken.
    """
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(
            f"{name} must be a (low, high) pair of numbers, got {describe(value)} "
            f"({_type_name(value)})"
        )
    low, high = (
        check_number(
            f"{name}[{k}]", v, low=0.0 if positive else minimum, high=maximum, low_open=positive
        )
        for k, v in enumerate(value)
    )
    if low > high:
        raise ValueError(f"{name}={describe(value)} has low > high; expected low <= high")
    return low, high


def check_rng(name: str, rng: Any) -> np.random.Generator:
    """A :class:`numpy.random.Generator` (e.g. ``np.random.default_rng(0)``); else TypeError."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)), got "
            f"{describe(rng)} ({_type_name(rng)})"
        )
    return rng


def check_sequence(name: str, seq: Any) -> np.ndarray:
    """One skeleton sequence: an array (T, V, C) or (T, M, V, C) of real numbers, T >= 1.

    Returns it as an array (not copied when it is one). Raises TypeError for values that are
    not real numbers (text, objects, booleans) and ValueError for ragged nesting, another number
    of dimensions or zero frames.
    """
    if isinstance(seq, (str, bytes)) or seq is None:
        raise TypeError(
            f"{name} must be an array (T, V, C) or (T, M, V, C) of numbers, got {describe(seq)}"
        )
    try:
        arr = np.asarray(seq)
    except ValueError as err:  # ragged nesting: numpy refuses to build the array
        raise ValueError(
            f"{name} is not a rectangular array (rows of different lengths?); expected (T, V, C) "
            f"or (T, M, V, C): {err}"
        ) from None
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise TypeError(f"{name} has dtype {arr.dtype}; expected real numbers (joint positions)")
    if arr.ndim not in (3, 4):
        raise ValueError(f"{name} has shape {arr.shape}; expected (T, V, C) or (T, M, V, C)")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has zero frames (shape {arr.shape}); expected at least one")
    return arr


def check_strings(name: str, values: Any, length: int | None = None) -> list[str]:
    """A list of strings (any sequence of ``str``), with ``length`` entries when given.

    A bare string is refused (``class_names='ab'`` would otherwise be the two names ``'a'`` and
    ``'b'``), and so is an entry that is not a string (``7`` is not the name ``'7'``).
    """
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a list of strings, got the single string {values!r}")
    if not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a list of strings, got {describe(values)}")
    out = list(values)
    for i, v in enumerate(out):
        if not isinstance(v, str):
            raise TypeError(f"{name}[{i}] is {describe(v)} ({_type_name(v)}); expected a string")
    if length is not None and len(out) != length:
        raise ValueError(f"{name} has {len(out)} entries; expected {length}")
    return [str(v) for v in out]
