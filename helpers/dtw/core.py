"""What the DTW backends share: input checks, the window and band rules, pair blocking.

:mod:`helpers.dtw.cpu` (numba, CPU) and :mod:`helpers.dtw.gpu` (PyTorch, GPU) both import this
module and never each other, so every rule that decides a result lives here once:

* the conventions for sequences and collections of sequences (:func:`as_sequence`,
  :func:`as_collection`, :func:`as_collections`);
* the window rule, turning ``window`` into a Sakoe-Chiba radius in frames for a pair of lengths
  (:func:`window_radius`, from the numba function :func:`radius`, vectorised by :func:`radii`);
* the band rule, turning lengths and a radius into the allowed cells of each row
  (:func:`fill_bounds`, for many pairs :func:`band_bounds`, as a picture :func:`band_mask`);
* how pairs are enumerated and how sequences are grouped into blocks of frames
  (:func:`pair_list`, :func:`blocks`, :func:`offsets`);
* the integer check in the DTW functions' wording, which :mod:`helpers.geometry` uses as
  well (:func:`integer_argument`, over :func:`helpers.runtime.arguments.check_int`), and the
  power-of-two rescaling that keeps squared frame costs inside the floating-point range
  (:func:`rescale`, :func:`unscale`).

The conventions themselves are documented in :mod:`helpers.dtw.cpu`.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numba import njit

from helpers.runtime import arguments
from helpers.runtime.arguments import ArgumentTypeError

__all__ = [
    "Band",
    "FLOOR_EPS",
    "SCALE_EXPONENT",
    "Window",
    "as_collection",
    "as_collections",
    "as_sequence",
    "band_bounds",
    "band_mask",
    "blocks",
    "check_block_frames",
    "integer_argument",
    "check_lengths",
    "fill_bounds",
    "mask_from_bounds",
    "offsets",
    "pair_list",
    "parse_band",
    "parse_window",
    "radii",
    "radius",
    "rescale",
    "unscale",
    "window_radius",
]

Band = Literal["sakoe", "slanted"]
Window = int | float | None

# A float window is turned into frames as floor(window * L + FLOOR_EPS): the tolerance makes
# products that are integers on paper (0.29 * 100 = 28.999999999999996) round as expected.
FLOOR_EPS = 1e-9

#: Sequences whose largest ``|value|`` lies in ``[2**-SCALE_EXPONENT, 2**SCALE_EXPONENT]`` go to the
#: DTW kernels as they are; others are first divided by a power of two (:func:`rescale`). 32
#: because the narrowest arithmetic in play is float32 (float32 frames keep float32 frame
#: costs, Gram tiles may be float32): with ``|values|`` <= 2**32 a frame cost is at most
#: 4 D 2**64, below float32's largest number 2**128 for any D < 2**62, and the float64 sums
#: along a path stay far below 2**1024; with ``|values|`` >= 2**-32 the smallest difference float32
#: resolves (2**-56) still squares to a normal number (>= 2**-126). Dividing by a power of two
#: is exact, so within the range nothing changes and outside it the result is the same.
SCALE_EXPONENT = 32


# --------------------------------------------------------------------------------------------
# Argument checks (shared with helpers.geometry)
# --------------------------------------------------------------------------------------------
def integer_argument(
    name: str,
    value,
    *,
    low: int | None = None,
    high: int | None = None,
    expected: str | None = None,
) -> int:
    """``value`` as an ``int``, if it is an integer in ``low..high``; raise otherwise.

    The rule is :func:`helpers.runtime.arguments.check_int`'s (the project's one integer
    check); this adapter keeps the error types and wordings that the DTW and geometry
    functions had: a wrong type is an :class:`ArgumentTypeError` (a ValueError too), and a
    value out of range can be described in the caller's terms (``expected``).

    Parameters
    ----------
    name : the argument's name as the user wrote it, e.g. ``"k"`` or ``"sizes[2]"``.
    value : what the user passed; an ``int`` or a NumPy integer, not a ``bool`` and not a
        float (``2.0`` is refused too: a float where a count is meant is a mistake somewhere,
        and flooring ``2.5`` would hide it).
    low, high : inclusive bounds, or None for none.
    expected : how the messages describe the allowed values, e.g.
        ``"an int in 1..N-1 = 1..9"`` (default: the shared check's wording).

    Returns
    -------
    ``int(value)``.

    Raises
    ------
    ArgumentTypeError
        (a TypeError) when ``value`` is not an integer; the message names ``name``.
    ValueError
        when it lies outside ``low..high``.
    """
    try:
        return arguments.check_int(name, value, low=low, high=high)
    except TypeError as err:
        what = f"; expected {expected}" if expected else f" ({err})"
        raise ArgumentTypeError(
            f"{name} must be an integer, got {value!r} ({type(value).__name__}){what}"
        ) from None
    except ValueError:
        if expected is None:
            raise
        raise ValueError(f"{name}={value!r}; expected {expected}") from None


# --------------------------------------------------------------------------------------------
# Sequences
# --------------------------------------------------------------------------------------------
def as_sequence(x, what: str) -> np.ndarray:
    """Validate one sequence and return it as a float32/float64 array shaped (T, D)."""
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{what} could not be read as an array of numbers ({exc}); "
                "expected an array shaped (T,) or (T, D)"
            ) from None
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(f"{what} has dtype {arr.dtype}; expected real numbers (integer or float)")
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    elif arr.ndim != 2:
        raise ValueError(
            f"{what} has shape {arr.shape}; expected (T,) or (T, D): T frames of D features"
        )
    if arr.shape[0] == 0:
        raise ValueError(
            f"{what} is empty (shape {arr.shape}); every sequence needs at least one frame"
        )
    if arr.shape[1] == 0:
        raise ValueError(f"{what} has D=0 features (shape {arr.shape}); expected at least one")
    if arr.dtype not in (np.float32, np.float64):
        # integers and float16 are widened; float32 is kept (it is widened later, block by block)
        wide = arr.dtype.itemsize > 2 or np.issubdtype(arr.dtype, np.integer)
        arr = arr.astype(np.float64 if wide else np.float32)
    if not np.isfinite(arr).all():
        t, d = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{what} contains NaN or inf (first at frame {t}, feature {d}); "
            "expected finite values (drop or interpolate missing frames first)"
        )
    return arr


def as_collection(X, name: str) -> list[np.ndarray]:
    """Validate a collection of sequences and return them as a list of (T_i, D) arrays.

    The collection is a list of (T_i, D) / (T_i,) arrays, or an array shaped (N, T) (N
    univariate sequences) or (N, T, D).
    """
    if isinstance(X, np.ndarray):
        if X.ndim not in (2, 3):
            raise ValueError(
                f"{name} is an array of shape {X.shape}; expected a list of "
                "sequences, an array (N, T) of univariate sequences or (N, T, D)"
            )
        items = list(X)
    else:
        try:
            items = list(X)
        except TypeError:
            raise TypeError(
                f"{name} is a {type(X).__name__}; expected a list of sequences "
                "shaped (T_i, D) or (T_i,)"
            ) from None
    if len(items) == 0:
        raise ValueError(f"{name} holds no sequences; expected at least one")
    seqs = [as_sequence(x, f"{name}[{i}]") for i, x in enumerate(items)]
    d0 = seqs[0].shape[1]
    for i, s in enumerate(seqs):
        if s.shape[1] != d0:
            raise ValueError(
                f"{name}[{i}] has D={s.shape[1]} features but {name}[0] has D={d0}; "
                "all sequences must have the same number of features"
            )
    return seqs


def as_collections(X, Y=None) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Validate ``X`` (and ``Y``) as collections of sequences that share D.

    Returns ``(xs, ys)``, with ``ys=None`` when ``Y`` is None (all pairs within ``X``).
    """
    xs = as_collection(X, "X")
    if Y is None:
        return xs, None
    ys = as_collection(Y, "Y")
    if ys[0].shape[1] != xs[0].shape[1]:
        raise ValueError(
            f"Y[0] has D={ys[0].shape[1]} features but X[0] has D={xs[0].shape[1]}; "
            "X and Y must have the same number of features"
        )
    return xs, ys


def check_block_frames(block_frames) -> None:
    """``block_frames`` must be None (the backend's default) or a positive int."""
    if block_frames is not None:
        integer_argument("block_frames", block_frames, low=1, expected="a positive int or None")


def _largest(seqs: list[np.ndarray]) -> float:
    """The largest ``|value|`` of all sequences (max and -min: no ``|x|`` copy of each)."""
    return max((max(float(s.max()), -float(s.min())) for s in seqs), default=0.0)


def rescale(seqs: list[np.ndarray]) -> tuple[list[np.ndarray], int]:
    """Sequences divided by ``2**e`` so that DTW's squared frame costs stay in range, and ``e``.

    Parameters
    ----------
    seqs : validated (T_i, D) sequences (:func:`as_collection`), all that one call compares.

    Returns
    -------
    ``(scaled, e)``: when the largest ``|value|`` lies in
    ``[2**-SCALE_EXPONENT, 2**SCALE_EXPONENT]`` (or is 0), ``seqs`` themselves and ``e = 0``;
    otherwise float64 copies divided by ``2**e``, whose largest ``|value|`` is in [0.5, 1), and
    that ``e``.

    Notes
    -----
    Squared-Euclidean DTW is homogeneous: the cost of ``c a, c b`` is ``c**2`` times that of
    ``a, b`` along every path, so the best path is the same and the distance is ``c`` times
    the distance. With ``c`` a power of two every floating-point step scales exactly (as long
    as nothing overflows or becomes subnormal), so the result on the scaled sequences times
    ``2**e`` (:func:`unscale`) is, for float64 input, to the bit what the same code computes
    on the original values wherever that does not overflow, and the correctly scaled result
    where it would: the squares of values above ~1e154 overflow float64 (~1e19 for float32
    frame costs), those below ~1e-154 underflow. The copies are float64 even for float32
    input (whose powers of two stop at 2**127), so such input then gets float64 frame costs,
    equal to its float32 ones to float32 rounding.
    """
    big = _largest(seqs)
    if big == 0.0 or 2.0**-SCALE_EXPONENT <= big <= 2.0**SCALE_EXPONENT:
        return seqs, 0
    e = math.frexp(big)[1]  # big = m 2**e with 0.5 <= m < 1
    return [np.ldexp(np.asarray(s, np.float64), -e) for s in seqs], e


def unscale(values, e: int, *, squared: bool, name: str, seqs: list[np.ndarray]):
    """Results computed on :func:`rescale`'d sequences, back in the original units.

    Parameters
    ----------
    values : a float or an array of distances (``squared=False``: times ``2**e``) or of
        squared costs (``squared=True``: times ``4**e``); ``inf`` entries (cells outside a
        band) stay ``inf``.
    e : the exponent :func:`rescale` returned.
    name : the arguments the sequences came from, for the message (e.g. ``"X"``, ``"a and b"``).
    seqs : the sequences as the user gave them (for the message: their largest value, D and
        length).

    Returns
    -------
    ``values`` in the original units (a float for a float).

    Raises
    ------
    ValueError
        naming ``name`` when a finite result does not fit in float64 (it would be ``inf``, or
        for squared costs of tiny values a number below float64's smallest normal 2.2e-308,
        rounded to 0 or to a few digits), with the range of values that works.
    """
    if e == 0:
        return values
    arr = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):  # checked just below, with a message
        out = np.ldexp(arr, 2 * e if squared else e)
    finite = np.isfinite(arr)
    over = finite & ~np.isfinite(out)
    under = squared & finite & (arr > 0) & (np.abs(out) < np.finfo(np.float64).tiny)
    if over.any() or under.any():
        raise ValueError(_range_message(name, seqs, squared, bool(over.any())))
    return float(out) if np.ndim(values) == 0 else out


def _range_message(name: str, seqs: list[np.ndarray], squared: bool, over: bool) -> str:
    """Why the results of ``seqs`` do not fit in float64, and which ``|values|`` would."""
    fmax, tiny = np.finfo(np.float64).max, np.finfo(np.float64).tiny
    big = _largest(seqs)
    d = seqs[0].shape[1]
    t = max(s.shape[0] for s in seqs)
    cells = d * (2 * t - 1)  # terms of a path's sum: at most 2 T - 1 cells of D features
    # a term is at most (2 max|x|)^2, so the sum is at most 4 cells max|x|^2
    what = "squared costs" if squared else "distances"
    if over:
        limit = math.sqrt(fmax / (4.0 * cells)) if squared else fmax / (2.0 * math.sqrt(cells))
        return (
            f"{name}: the {what} of values this large do not fit in float64 (largest |value| "
            f"{big:.3g}, D = {d}, up to {t} frames); |values| up to {limit:.3g} work "
            "(divide the sequences by a constant first)"
        )
    return (
        f"{name}: the {what} of values this small fall below float64's smallest normal "
        f"number {tiny:.3g} and lose their digits (largest |value| {big:.3g}); |values| from "
        f"{math.sqrt(tiny):.3g} up work (multiply the sequences by a constant first)"
    )


# --------------------------------------------------------------------------------------------
# Windows and bands
# --------------------------------------------------------------------------------------------
def parse_window(window: Window) -> tuple[int, float]:
    """Return (r_int, frac): a radius in frames (-1 = none) or a fraction of the longer length."""
    if window is None:
        return -1, 0.0
    if isinstance(window, (bool, np.bool_)):
        raise TypeError(
            f"window={window!r} is a bool; expected an int radius in frames, "
            "a float fraction in (0, 1], or None"
        )
    if isinstance(window, (int, np.integer)):
        if window < 0:
            raise ValueError(
                f"window={window} is negative; expected a radius >= 0 in frames "
                "(an int), a fraction in (0, 1] (a float), or None for no band"
            )
        return int(window), 0.0
    if isinstance(window, (float, np.floating)):
        w = float(window)
        if not (0.0 < w <= 1.0):
            hint = (
                f"; for a radius of {int(w)} frames pass the int {int(w)}"
                if w > 1 and w == int(w)
                else ""
            )
            raise ValueError(
                f"window={window!r}: a float window is a fraction of the longer "
                f"length and must lie in (0, 1]{hint}"
            )
        return -1, w
    raise TypeError(
        f"window={window!r} has type {type(window).__name__}; expected an int "
        "radius in frames, a float fraction in (0, 1], or None"
    )


def parse_band(band: str) -> bool:
    """Return True for the slanted band, False for the standard one."""
    if band == "sakoe":
        return False
    if band == "slanted":
        return True
    raise ValueError(
        f"band={band!r}; expected 'sakoe' (dtaidistance/tslearn convention) or 'slanted'"
    )


def window_radius(window: Window, n: int, m: int) -> int:
    """The band radius in frames that ``window`` gives for lengths ``n`` and ``m``.

    ``None`` gives ``max(n, m)`` (no constraint), an int is returned as is, a float ``w`` gives
    ``floor(w * max(n, m))``.
    """
    check_lengths(n, m)
    r_int, frac = parse_window(window)
    return radius(int(n), int(m), r_int, frac)


def check_lengths(n, m) -> None:
    """Check that lengths ``n`` and ``m`` are positive ints (not bools or floats).

    :class:`ArgumentTypeError` for another type, ValueError for a length below 1.
    """
    for name, v in (("n", n), ("m", m)):
        integer_argument(name, v, low=1, expected="a positive int length")


@njit(cache=True, nogil=True)
def radius(n: int, m: int, r_int: int, frac: float) -> int:
    """Radius in frames for one pair: THE window rule (see :func:`window_radius`)."""
    if frac > 0.0:
        return int(math.floor(frac * max(n, m) + FLOOR_EPS))
    if r_int < 0:
        return max(n, m)
    return r_int


@njit(cache=True, nogil=True)
def fill_bounds(n: int, m: int, r: int, slanted: bool, lo: np.ndarray, hi: np.ndarray) -> None:
    """Write the band as inclusive column bounds ``lo[i] <= j <= hi[i]`` for rows ``i < n``.

    Both bounds are non-decreasing in ``i`` and consecutive rows touch, so a warping path
    always exists; the DP kernels rely on the monotonicity to reuse its two row buffers.
    """
    if slanted and n != m:
        if n > m:
            # Row i is centred on round(i (m-1)/(n-1)); integer arithmetic rounds half up.
            for i in range(n):
                c = (2 * i * (m - 1) + (n - 1)) // (2 * (n - 1))
                lo[i] = max(0, c - r)
                hi[i] = min(m - 1, c + r)
        else:
            # Mirror image: column j is centred on row round(j (n-1)/(m-1)). That centre is
            # non-decreasing in j, so each row's columns form one run; scan the columns.
            for i in range(n):
                lo[i] = m
                hi[i] = -1
            for j in range(m):
                c = (2 * j * (n - 1) + (m - 1)) // (2 * (m - 1))
                for i in range(max(0, c - r), min(n - 1, c + r) + 1):
                    if j < lo[i]:
                        lo[i] = j
                    hi[i] = j
    else:
        below = max(0, n - m)  # how far i - j may go above r
        above = max(0, m - n)  # how far j - i may go above r
        for i in range(n):
            lo[i] = max(0, i - below - r)
            hi[i] = min(m - 1, i + above + r)


@njit(cache=True, nogil=True)
def radii(n: np.ndarray, m: np.ndarray, r_int: int, frac: float) -> np.ndarray:
    """(P,) int64 radius of each pair of lengths ``n[p]``, ``m[p]`` (the rule of :func:`radius`)."""
    out = np.empty(n.shape[0], np.int64)
    for p in range(n.shape[0]):
        out[p] = radius(n[p], m[p], r_int, frac)
    return out


@njit(cache=True, nogil=True)
def band_bounds(n: np.ndarray, m: np.ndarray, r: np.ndarray, slanted: bool, rows: int):
    """Band bounds of many pairs at once: ``lo``, ``hi`` int64 arrays (P, rows).

    Row ``i`` of pair ``p`` allows columns ``lo[p, i] <= j <= hi[p, i]`` (:func:`fill_bounds`);
    rows past the pair's length ``n[p]`` allow none (``lo = m[p]``, ``hi = -1``).
    """
    P = n.shape[0]
    lo = np.empty((P, rows), np.int64)
    hi = np.empty((P, rows), np.int64)
    for p in range(P):
        fill_bounds(n[p], m[p], r[p], slanted, lo[p], hi[p])
        for i in range(n[p], rows):
            lo[p, i] = m[p]
            hi[p, i] = -1
    return lo, hi


def mask_from_bounds(lo: np.ndarray, hi: np.ndarray, m: int) -> np.ndarray:
    """Boolean (n, m) mask of the cells ``lo[i] <= j <= hi[i]``."""
    j = np.arange(m)
    return (j[None, :] >= lo[:, None]) & (j[None, :] <= hi[:, None])


def band_mask(n: int, m: int, window: Window = None, *, band: Band = "sakoe") -> np.ndarray:
    """Boolean (n, m) mask of the cells the band allows for lengths ``n`` and ``m``."""
    check_lengths(n, m)
    r_int, frac = parse_window(window)
    slanted = parse_band(band)
    lo, hi = np.empty(n, np.int64), np.empty(n, np.int64)
    fill_bounds(int(n), int(m), radius(int(n), int(m), r_int, frac), slanted, lo, hi)
    return mask_from_bounds(lo, hi, int(m))


# --------------------------------------------------------------------------------------------
# Pairs and blocks
# --------------------------------------------------------------------------------------------
def pair_list(
    na: int,
    nb: int,
    symmetric: bool,
    a0: int = 0,
    a1: int | None = None,
    b0: int = 0,
    b1: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (a, b) with a0 <= a < a1, b0 <= b < b1 (and a < b when symmetric).

    Returns two (P,) int64 arrays, the ``a`` and the ``b`` of each pair.
    """
    for name, v in (("na", na), ("nb", nb), ("a0", a0), ("b0", b0)):
        integer_argument(name, v, low=0)
    a1 = na if a1 is None else integer_argument("a1", a1, low=0)
    b1 = nb if b1 is None else integer_argument("b1", b1, low=0)
    ia, ib = np.meshgrid(np.arange(a0, a1), np.arange(b0, b1), indexing="ij")
    ia, ib = ia.ravel(), ib.ravel()
    if symmetric:
        keep = ia < ib
        ia, ib = ia[keep], ib[keep]
    return ia.astype(np.int64), ib.astype(np.int64)


def _integer_lengths(lengths) -> np.ndarray:
    """``lengths`` as an (N,) integer array; :class:`ArgumentTypeError` for another dtype."""
    arr = np.asarray(lengths)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ArgumentTypeError(
            f"lengths has dtype {arr.dtype} and shape {arr.shape}; expected (N,) integer "
            "lengths of sequences"
        )
    return arr


def offsets(lengths: np.ndarray) -> np.ndarray:
    """(N,) int64 start of each sequence in the stacked frames of all of them.

    ``lengths`` : (N,) integer lengths; :class:`ArgumentTypeError` for another dtype (a float
    length would be cut to an int by the cumulative sum).
    """
    lengths = _integer_lengths(lengths)
    off = np.zeros(lengths.size, np.int64)
    np.cumsum(lengths[:-1], out=off[1:])
    return off


def blocks(lengths: np.ndarray, max_frames: int) -> list[tuple[int, int]]:
    """Group consecutive sequences into blocks of at most ``max_frames`` frames.

    A longer sequence gets a block of its own. ``lengths`` : (N,) ints; returns
    ``[(start, stop), ...]``, half-open ranges of sequence indices.
    """
    lengths = _integer_lengths(lengths)
    integer_argument("max_frames", max_frames, low=1)
    out, start, total = [], 0, 0
    for i, t in enumerate(lengths):
        if total and total + t > max_frames:
            out.append((start, i))
            start, total = i, 0
        total += int(t)
    out.append((start, lengths.size))
    return out
