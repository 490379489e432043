"""Argument checks shared by the geometry modules.

Each check names the argument as the user wrote it, shows the value (or its shape) and says
what was expected; a wrong type raises :class:`~helpers.runtime.arguments.ArgumentTypeError` (a
TypeError that is also a ValueError, as these checks raised before), a wrong value ValueError.
Integer and flag checks are :func:`helpers.dtw.core.integer_argument` and
:func:`helpers.runtime.arguments.check_flag` (the DTW backends use them too); distance matrices are
checked by :func:`helpers.geometry.distances.dense_distances`.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from helpers.geometry.distances import dense_distances
from helpers.runtime import arguments
from helpers.runtime.arguments import ArgumentTypeError

__all__ = [
    "check_index_array",
    "check_layer_matrices",
    "check_layers",
    "real_argument",
    "unit_exponent",
]


def real_argument(name: str, value) -> float:
    """``value`` as a float, if it is a finite real number.

    The rule is :func:`helpers.runtime.arguments.check_number`'s; a wrong type (a ``bool``, a
    string: ``float("0.5")`` would quietly accept one) comes back as an
    :class:`~helpers.runtime.arguments.ArgumentTypeError`, which is also a ValueError, as these
    arguments' errors were before.

    Parameters
    ----------
    name : the argument's name, for the messages.
    value : an ``int``, ``float`` or NumPy real scalar (or a 0-d array of one).

    Returns
    -------
    ``float(value)``; range checks are the caller's.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()  # a 0-d array (np.asarray of a number) is that number
    try:
        return arguments.check_number(name, value)
    except TypeError:
        raise ArgumentTypeError(
            f"{name} must be a real number, got {value!r} ({type(value).__name__})"
        ) from None


def check_index_array(values, name: str, n: int | None = None) -> np.ndarray:
    """``values`` as an int64 array of indices (any shape), refusing floats rather than flooring.

    Parameters
    ----------
    values : integer indices (a list or an array).
    name : the argument's name, for the messages.
    n : when given, every index must lie in ``0..n - 1``.

    Returns
    -------
    int64 array of ``values``' shape.
    """
    arr = np.asarray(values)
    if arr.size and (arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer)):
        raise ArgumentTypeError(
            f"{name} has dtype {arr.dtype} (values {arr.reshape(-1)[:5].tolist()}...); "
            "expected integer indices"
        )
    arr = arr.astype(np.int64)
    if n is not None and arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{name} indices must lie in 0..{n - 1}, got {arr.reshape(-1).tolist()}")
    return arr


def check_layers(features: Sequence[Sequence[np.ndarray]], name: str = "features") -> int:
    """The number of sequences N that every layer of ``features`` holds.

    Parameters
    ----------
    features : a list over layers of lists over sequences (T_i, D_l)
        (:func:`helpers.training.features.layer_features`); sequence ``i`` of every layer is
        the same clip, so every layer must hold the same number of them.
    name : the argument's name, for the messages (``"features"``, ``"features['trained']"``).

    Returns
    -------
    N, the number of sequences of each layer (0 when there is no layer).

    Raises
    ------
    ValueError
        naming the first layer whose count differs from layer 0's, with both counts (a layer
        with more sequences would have its extra ones left out unseen, one with fewer would
        shift or lose clips).
    """
    try:
        counts = [len(layer) for layer in features]
    except TypeError:
        raise ArgumentTypeError(
            f"{name} is a {type(features).__name__} (or holds a layer without a length); "
            "expected a list over layers of lists over sequences (T_i, D_l)"
        ) from None
    for i, c in enumerate(counts):
        if c != counts[0]:
            raise ValueError(
                f"{name}[{i}] holds {c} sequences but {name}[0] holds {counts[0]}; every layer "
                "must hold the same sequences (the same clips, in the same order)"
            )
    return counts[0] if counts else 0


def check_layer_matrices(distances: Sequence, name: str = "distances") -> list[np.ndarray]:
    """One (S, S) float64 distance matrix per layer, all over the same S clips.

    Parameters
    ----------
    distances : a list over layers of (S, S) distance matrices.
    name : the argument's name, for the messages.

    Returns
    -------
    The matrices as float64 arrays (:func:`helpers.geometry.distances.dense_distances`).
    """
    mats = [dense_distances(D, f"{name}[{i}]") for i, D in enumerate(distances)]
    if not mats:
        raise ValueError(f"{name}: expected one matrix per layer, got none")
    s = mats[0].shape[0]
    bad = [i for i, D in enumerate(mats) if D.shape != (s, s)]
    if bad:
        raise ValueError(f"{name}[{bad[0]}] has shape {mats[bad[0]].shape}; expected ({s}, {s})")
    return mats


def unit_exponent(values: np.ndarray) -> int:
    """The ``e`` for which the largest ``|value|`` divided by ``2**e`` is in [0.5, 1) (0 for none).

    Distances divided by ``2**e`` are exact (a power of two), and results that depend only on
    ratios of distances (a Gaussian kernel with a bandwidth from the data, 1/d weights, the
    shape of an MDS embedding) are then computed without squares that overflow or underflow.

    Parameters
    ----------
    values : an array of finite numbers (any shape).
    """
    big = float(np.max(np.abs(values))) if np.size(values) else 0.0
    return math.frexp(big)[1] if big > 0 else 0
