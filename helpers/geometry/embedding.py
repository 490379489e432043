"""Classical (Torgerson) multidimensional scaling: points in the plane from a distance matrix.

Given distances ``D`` (N, N), classical MDS double-centres the squared distances,

    B = -1/2 J D^2 J,      J = I - 11'/N,

which for Euclidean distances is the Gram matrix ``X X'`` of the centred points, and embeds
with the top eigenvectors scaled by the square roots of their eigenvalues:
``Y = V_n Lambda_n^{1/2}``. For distances that are exactly Euclidean in ``n`` dimensions this
recovers the points up to a rotation/reflection, so ``Y``'s pairwise distances equal ``D``.

DTW is not a metric (no triangle inequality) and far from Euclidean, so ``B`` then has
**negative eigenvalues**: directions along which no real point configuration can reproduce the
distances. :func:`classical_mds` keeps only positive ones and reports how much of the spectrum
is negative (:attr:`MDSResult.negative_share`) and how much of the positive part the kept
components carry (:attr:`MDSResult.explained`), so a plot can say how faithful it is.

Sign convention: eigenvectors are defined up to sign; each column of ``Y`` is flipped so that its
entry of largest absolute value is positive (the first such entry on ties), which makes the
embedding reproducible across LAPACK builds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from helpers.dtw.core import integer_argument
from helpers.geometry.distances import dense_distances
from helpers.geometry.validation import unit_exponent
from helpers.runtime.arguments import check_flag

__all__ = ["MDSResult", "classical_mds", "double_center"]


@dataclass(frozen=True)
class MDSResult:
    """Classical MDS of one distance matrix.

    Attributes
    ----------
    embedding : (N, n) coordinates.
    eigenvalues : (N,) all eigenvalues of ``B``, largest first (negative ones included).
    explained : (n,) each kept component's eigenvalue over the sum of the positive eigenvalues
        (0 for a component whose eigenvalue is not positive).
    negative_share : the sum of the negative eigenvalues' magnitudes over the sum of all
        eigenvalues' magnitudes; 0 for Euclidean
        distances, larger the further ``D`` is from any Euclidean configuration.
    """

    embedding: np.ndarray
    eigenvalues: np.ndarray
    explained: np.ndarray
    negative_share: float


def _check_distances(D) -> np.ndarray:
    D = dense_distances(D)
    if not np.isfinite(D).all():
        i, j = np.argwhere(~np.isfinite(D))[0]
        raise ValueError(f"D must be finite; found {D[i, j]} at row {i}, column {j}")
    if (D < 0).any():
        i, j = np.argwhere(D < 0)[0]
        raise ValueError(f"D must be non-negative; found {D[i, j]:.6g} at row {i}, column {j}")
    scale = max(float(D.max()), np.finfo(np.float64).tiny) if D.size else 1.0
    asym = float(np.max(np.abs(D - D.T))) if D.size else 0.0
    if asym > 1e-8 * scale:
        raise ValueError(f"D must be symmetric; max |D - D'| = {asym:.3g} (max D = {scale:.3g})")
    if D.size and float(np.max(np.abs(np.diag(D)))) > 1e-8 * scale:
        raise ValueError(
            "D must have a zero diagonal; found max |D_ii| = "
            f"{float(np.max(np.abs(np.diag(D)))):.3g}"
        )
    return 0.5 * (D + D.T)


def double_center(D2: np.ndarray) -> np.ndarray:
    """``-1/2 J D2 J`` for squared distances ``D2`` (N, N), without forming ``J``."""
    row = D2.mean(axis=1, keepdims=True)
    col = D2.mean(axis=0, keepdims=True)
    return -0.5 * (D2 - row - col + D2.mean())


def _fix_signs(V: np.ndarray) -> np.ndarray:
    idx = np.argmax(np.abs(V), axis=0)  # first index among ties
    signs = np.sign(V[idx, np.arange(V.shape[1])])
    signs[signs == 0] = 1.0
    return V * signs


def classical_mds(
    D, n_components: int = 2, *, return_result: bool = False
) -> np.ndarray | MDSResult:
    """Classical (Torgerson) MDS of a distance matrix.

    Parameters
    ----------
    D : (N, N) symmetric, non-negative distances with a zero diagonal (e.g. DTW distances).
    n_components : dimensions of the embedding, 1 <= n_components <= N.
    return_result : return an :class:`MDSResult` (embedding, eigenvalues, explained share,
        negative share) instead of the bare embedding.

    Returns
    -------
    (N, n_components) float64 embedding, columns ordered by decreasing eigenvalue and signed by the
    module's convention. A component whose eigenvalue is not positive (fewer than
    ``n_components`` positive directions) is all zeros, with a warning.

    Notes
    -----
    The embedding of ``c D`` is ``c`` times that of ``D``: it is computed on ``D`` divided by a
    power of two (exact), so that ``D * D`` neither overflows (distances above ~1e154) nor
    underflows (below ~1e-154), and multiplied back. ``explained`` and ``negative_share`` are
    ratios; ``eigenvalues`` are in squared units of ``D`` and, for such distances, outside
    float64's range: they come back as ``inf`` (or 0, or a few digits, below 2.2e-308).
    """
    D = _check_distances(D)
    n = D.shape[0]
    return_result = check_flag("return_result", return_result)
    k = integer_argument(
        "n_components", n_components, low=1, high=max(n, 1), expected=f"an int in 1..N = {n}"
    )
    if n == 0:
        raise ValueError("D is empty; classical MDS needs at least one point")
    e = unit_exponent(D)
    D = np.ldexp(D, -e)
    B = double_center(D * D)
    vals, vecs = np.linalg.eigh(B)  # ascending
    vals, vecs = vals[::-1], vecs[:, ::-1]  # largest first
    top = vals[:k]
    # eigenvalues at rounding level of the spectrum count as zero
    tol = max(abs(vals[0]), abs(vals[-1]), np.finfo(np.float64).tiny) * n * np.finfo(np.float64).eps
    keep = top > tol
    if not keep.all():
        warnings.warn(
            f"classical_mds: only {int(keep.sum())} of the {k} requested components have a "
            "positive "
            "eigenvalue; the others are set to 0",
            RuntimeWarning,
            stacklevel=2,
        )
    Y = np.ldexp(_fix_signs(vecs[:, :k]) * np.sqrt(np.where(keep, top, 0.0)), e)
    if not return_result:
        return Y
    pos = vals[vals > tol].sum()
    total = np.abs(vals).sum()
    explained = np.where(keep, top, 0.0) / pos if pos > 0 else np.zeros(k)
    neg = float(-vals[vals < -tol].sum() / total) if total > 0 else 0.0
    return MDSResult(
        embedding=Y, eigenvalues=np.ldexp(vals, 2 * e), explained=explained, negative_share=neg
    )
