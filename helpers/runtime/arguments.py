"""Checks of a user's arguments that name the argument, the value and what was expected.

The public functions of every subpackage call these at their door, so that a mistake gets one
error a user can act on (``k=2.5: expected an integer >= 1``), not a bare ``IndexError`` from
deep inside numpy or torch, and never a silently floored or clipped value.

>>> check_int("k", 3, low=1)
3

``check_int("k", 2.5, low=1)`` raises :class:`ArgumentTypeError` with the message
``k=2.5: expected an integer >= 1``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Collection

import numpy as np

__all__ = ["ArgumentTypeError", "check_choice", "check_flag", "check_int", "check_number"]


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type.

    A :class:`TypeError`, and a :class:`ValueError` too: many of these checks raised
    ValueError before they were shared, and code that catches that still catches them (as
    ``numpy.exceptions.AxisError`` is both a ValueError and an IndexError).
    """


def _bounds_text(kind: str, low, high, low_open: bool = False, high_open: bool = False) -> str:
    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{kind} {'<' if high_open else '<='} {high}"
    return kind


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an ``int`` when it is an integer within ``[low, high]``.

    Integers of numpy and floats are not the same thing here: ``2.0`` and ``2.5`` are refused
    (a float where a count is needed is usually a mistake, and flooring it would hide one);
    ``True`` is refused too.

    Raises
    ------
    ArgumentTypeError
        ``value`` is not an integer (``bool`` included).
    ValueError
        It lies outside ``[low, high]``.
    """
    expected = _bounds_text("an integer", low, high)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name}={value!r}: expected {expected}")
    out = int(value)
    if (low is not None and out < low) or (high is not None and out > high):
        raise ValueError(f"{name}={out}: expected {expected}")
    return out


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite ``float`` within its bounds (open ends where asked).

    Raises
    ------
    ArgumentTypeError
        ``value`` is not a real number (``bool`` and strings included).
    ValueError
        It is NaN, infinite or out of bounds.
    """
    expected = _bounds_text("a finite number", low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name}={value!r}: expected {expected}")
    out = float(value)
    bad = not math.isfinite(out)
    if low is not None:
        bad |= out <= low if low_open else out < low
    if high is not None:
        bad |= out >= high if high_open else out > high
    if bad:
        raise ValueError(f"{name}={out!r}: expected {expected}")
    return out


def check_flag(name: str, value: Any) -> bool:
    """``value`` as a ``bool``: :class:`ArgumentTypeError` naming ``name`` unless it is one.

    ``True`` or ``False`` (or a NumPy bool); anything else is refused, since a string such as
    ``"no"`` is truthy and would silently mean yes.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(
            f"{name} must be True or False, got {value!r} ({type(value).__name__})"
        )
    return bool(value)


def check_choice(name: str, value: Any, choices: Collection[Any]) -> Any:
    """``value`` when it is one of ``choices``; a ValueError listing them otherwise."""
    try:
        known = value in choices
    except TypeError:  # an unhashable value asked of a set
        known = False
    if not known:
        raise ValueError(f"{name}={value!r}: expected one of {sorted(map(repr, choices))}")
    return value
