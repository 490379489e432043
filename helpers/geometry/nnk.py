"""Neighbourhood graphs from a precomputed kernel or distance matrix: kNN and NNK.

Both graphs look at the same ``k`` candidates per node (the ``k`` most similar
*other* nodes) and differ only in which candidates become edges:

* **kNN** keeps all ``k`` candidates, weighted by the kernel value ``K_ij``.
* **NNK** (non-negative kernel regression, Shekkizhar & Ortega 2020) solves, for
  each node ``i`` with candidate set ``S``, the non-negative quadratic programme::

      theta_i = argmin_{x >= 0}  0.5 x' K_SS x - K_Si' x

  i.e. the best non-negative reconstruction of ``phi_i`` (node ``i`` in the
  kernel's feature space) from ``{phi_j : j in S}``. Candidates with a zero
  coefficient are "shadowed" by a closer candidate in the same direction and are
  dropped; the non-zero coefficients are the candidate edge weights, and the edge
  rule below decides which of them become edges.

Conventions (the same for both graphs, so that they differ only in the selection):

Candidates
    The ``k`` nodes ``j != i`` with the largest kernel value (kernel input) or the
    smallest distance (distance input); ties are broken by the lower index. Self
    is excluded by index, so a duplicate of node ``i`` is a valid candidate.
Gaussian kernel from distances
    ``K_ij = exp(-d_ij^2 / (2 sigma^2))``. Default ``sigma="mean_kth"``: sigma is
    the mean, over nodes, of the distance to the k-th nearest neighbour (one
    global bandwidth, so the kernel is a proper Gaussian kernel of the distance).
    ``sigma="local"`` uses self-tuning local scaling (Zelnik-Manor & Perona 2004),
    ``K_ij = exp(-d_ij^2 / (2 sigma_i sigma_j))`` with ``sigma_i`` the distance from
    ``i`` to its k-th neighbour. A positive float is used as is. A bandwidth of 0
    (every node has ``k`` exact duplicates) is replaced by 1, and zero local
    ``sigma_i`` by the mean of the positive ones. Self-distances are taken as 0.
    The kernel is computed from the ratios ``d_ij / sigma``, never from ``d_ij^2``: the
    bandwidth rules are proportional to the distances, so distances multiplied by any
    factor (and a float ``sigma`` with them) give the same kernel and the same graphs, to
    rounding, from float64's smallest distances (~1e-308) to its largest (~1e308).
Indefinite kernels
    DTW is not a metric, so a Gaussian kernel of DTW distances need not be
    positive semi-definite and a block ``K_SS`` may have negative eigenvalues,
    which would make the QP unbounded. Each block is therefore replaced by its
    eigenvalue-clipped version ``V max(Lambda, eig_floor * lambda_max) V'``. The
    floor (default ``1e-10`` relative) also makes singular blocks (duplicate
    candidates) strictly convex, so the solution is unique: duplicates share the
    weight equally. For well-conditioned PSD blocks the change is at rounding level.
Solver
    An exact active-set (Lawson-Hanson) solver for the QP, in numba, iterated until
    the KKT conditions hold to ``~1e-12`` relative. Small coefficients are then set to
    zero (``edge_tol``, default ``1e-6``): under ``edge_rule="reference"`` the absolute
    rule of the reference code, ``theta_j < edge_tol``; under ``edge_rule="either"``
    the relative rule ``theta_j <= edge_tol * max(theta)``. Either way they are at the
    level of the solver's noise given the eigenvalue floor, and the reconstruction
    error below is that of the thresholded coefficients.
Reconstruction error
    ``err_i = ||phi_i - Phi_S theta_i||^2 = K_ii - 2 theta_i'K_Si + theta_i'Q theta_i``
    with ``Q`` the (clipped) block the QP used; for a PSD block this is exactly the
    reference code's ``G_ii - 2 x'g_i + x'G_i x``.
Edge rule (which directed coefficients become edges)
    ``edge_rule="reference"`` (default) is the rule of the NNK authors' code,
    ``nnk_graph`` in ``graph_construction.py`` of STAC-USC/PyNNK_graph_construction
    (Shekkizhar & Ortega, ICASSP 2020; the same lines are in shekkizh/GraphLearning)::

        error = sparse.coo_matrix((error_values, (rows, neighbors)))  # err_i at (i, j in S_i)
        adjacency = adjacency.multiply(error < error.T)
        adjacency = adjacency.maximum(adjacency.T)

    i.e. the coefficient ``theta_ij`` is kept when ``E_ij < E_ji``, with ``E_ij = err_i``
    for every candidate ``j`` of ``i`` (selected or not) and ``E_ij = 0`` otherwise.
    So a pair ``i, j`` that are each other's candidates (mutual kNN) gets the
    coefficient of the endpoint with the strictly smaller reconstruction error, and
    only that one: if that endpoint's coefficient is 0 there is no edge, even when
    the other endpoint selected it. Equal errors keep neither direction: exact
    duplicates, the interior of a regular grid, and every pair when ``k = 1`` with a
    unit diagonal (``err = 1 - K_ij^2`` at both ends, so that graph is empty). The
    comparison is exact, as in the reference, so errors that are equal in exact
    arithmetic but computed in a different order (candidates listed differently) are
    resolved by their rounding. A one-sided candidate ``j`` of ``i`` is compared
    with the absent entry 0, so it is kept only if ``err_i < 0`` (never, for a PSD
    kernel, except by rounding). The kept coefficients are symmetrised by
    ``symmetrize`` (see below). Every kept coefficient is non-zero, so (up to the two
    rules' different small-coefficient thresholds) the graph is a subgraph of the
    ``"either"`` graph. The authors' MATLAB ``nnk_inverse_kernel_graph.m``
    (STAC-USC/NNK_graph_construction), and this Python file before commit dd641ec
    (2020-02-12), zero the coefficients where ``error > error'`` instead, which keeps
    both directions of a tie; this module follows the current Python code. Only the
    rule is the reference's: the coefficients are this module's exact QP solutions.
    The reference solver (``non_neg_qpsolver.py``) drops negative coefficients and
    never re-admits them, which is not always optimal, and gives near-duplicates
    (``K_ij > 1 - 1e-6``) their kernel value, so on the same kernel and candidates its
    graph differs (two 2-D Gaussian clusters, N = 300, k = 10: 451 edges, 541 here).

    ``edge_rule="either"`` keeps every non-zero coefficient: an edge exists when
    either endpoint selects the other (this module's rule before the reference rule
    became the default).
Symmetrisation
    ``symmetrize="max"`` (default): ``W = max(W_kept, W_kept')``. For kNN both
    directions carry the same weight ``K_ij``, so kNN weights stay exactly the kernel
    values; under ``edge_rule="reference"`` at most one direction of a pair is kept
    (for a PSD kernel), so the weight is that endpoint's coefficient.
    ``"mean"`` gives ``(W_kept + W_kept') / 2`` (same edges, one-sided edges halved;
    under ``edge_rule="reference"`` that halves almost every weight).
Output
    ``scipy.sparse.csr_matrix``, float64, symmetric, non-negative, zero diagonal,
    sorted indices, no stored zeros. Negative kernel values never become edges
    (kNN weights are ``max(K_ij, 0)``).
"""

from __future__ import annotations

import inspect
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numba import njit
from tqdm.auto import tqdm

from helpers.dtw.core import integer_argument
from helpers.geometry.distances import dense_distances
from helpers.geometry.neighbours import NeighbourSets, k_smallest
from helpers.geometry.validation import real_argument, unit_exponent

__all__ = [
    "gaussian_kernel",
    "kernel_bandwidth",
    "neighbor_candidates",
    "knn_graph",
    "nnk_graph",
    "knn_graph_from_distances",
    "nnk_graph_from_distances",
    "reconstruction_error",
    "NNKGraph",
    "KNNGraph",
]

SigmaRule = Literal["mean_kth", "local"]
Symmetrize = Literal["max", "mean"]
EdgeRule = Literal["reference", "either"]
Metric = Literal["precomputed_distance", "precomputed_kernel"]

# Nodes per numba call: small enough for a smooth progress bar, large enough that
# the Python overhead per call is negligible.
_CHUNK = 64


# --------------------------------------------------------------------------- #
# Input checks
# --------------------------------------------------------------------------- #
def _as_square(M, name: str) -> np.ndarray:
    """Validate a finite, symmetric (N, N) matrix and return it as C-contiguous float64.

    A sparse kernel is densified (an absent entry is similarity 0); sparse distances are refused
    before this, by :func:`helpers.geometry.distances.dense_distances`.
    """
    if sp.issparse(M):
        M = M.toarray()
    M = np.asarray(M)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} must be a square (N, N) matrix, got shape {M.shape}")
    if M.shape[0] < 2:
        raise ValueError(f"{name} must have at least 2 nodes, got shape {M.shape}")
    if not np.issubdtype(M.dtype, np.number) or np.iscomplexobj(M):
        raise ValueError(f"{name} must hold real numbers, got dtype {M.dtype}")
    M = np.ascontiguousarray(M, dtype=np.float64)
    if not np.all(np.isfinite(M)):
        bad = int(np.size(M) - np.count_nonzero(np.isfinite(M)))
        raise ValueError(f"{name} must be finite, found {bad} NaN/inf entries")
    scale = max(float(np.max(np.abs(M))), np.finfo(np.float64).tiny)
    asym = float(np.max(np.abs(M - M.T)))
    if asym > 1e-6 * scale:
        raise ValueError(
            f"{name} must be symmetric, max |M - M'| = {asym:.3g} (max |M| = {scale:.3g})"
        )
    # Remove rounding-level asymmetry (e.g. float32 DTW) so K_SS blocks are exactly symmetric.
    # Halves first: the same numbers as 0.5 * (M + M') (halving is exact), without M + M'
    # overflowing for entries above half the largest float.
    return np.ascontiguousarray(0.5 * M + 0.5 * M.T)


def _check_distances(D) -> np.ndarray:
    D = _as_square(dense_distances(D, "distances"), "distances")
    if np.any(D < 0):
        raise ValueError(f"distances must be non-negative, found minimum {float(D.min()):.6g}")
    # d(i, i) = 0 by definition; whatever is stored there is ignored.
    np.fill_diagonal(D, 0.0)
    return D


def _check_kernel(K) -> np.ndarray:
    K = _as_square(K, "kernel")
    diag = np.diag(K)
    if np.any(diag <= 0):
        raise ValueError(
            "kernel diagonal (self-similarity) must be positive, "
            f"found minimum {float(diag.min()):.6g}"
        )
    return K


def _check_k(k, n: int) -> int:
    k = integer_argument("k", k, expected=f"an int in 1..N-1 = 1..{n - 1}")
    if not 1 <= k <= n - 1:
        raise ValueError(
            f"k must satisfy 1 <= k <= N - 1 = {n - 1} (candidates are other nodes), got k={k}"
        )
    return k


def _check_symmetrize(symmetrize: str) -> str:
    if symmetrize not in ("max", "mean"):
        raise ValueError(f"symmetrize must be 'max' or 'mean', got {symmetrize!r}")
    return symmetrize


def _check_edge_rule(edge_rule: str) -> str:
    if edge_rule not in ("reference", "either"):
        raise ValueError(f"edge_rule must be 'reference' or 'either', got {edge_rule!r}")
    return edge_rule


def _check_positive_float(value, name: str) -> float:
    value = real_argument(name, value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


# --------------------------------------------------------------------------- #
# Kernel, bandwidth, candidates
# --------------------------------------------------------------------------- #
def neighbor_candidates(
    matrix, k: int, *, kind: Literal["distance", "kernel"] = "distance"
) -> np.ndarray:
    """Indices of the ``k`` candidate neighbours of every node.

    ``matrix`` is an (N, N) distance (``kind="distance"``: smallest first) or
    kernel (``kind="kernel"``: largest first). Self is excluded; ties go to the
    lower index. Returns an (N, k) int64 array, closest candidate first.
    """
    if kind not in ("distance", "kernel"):
        raise ValueError(f"kind must be 'distance' or 'kernel', got {kind!r}")
    M = _check_distances(matrix) if kind == "distance" else _check_kernel(matrix)
    k = _check_k(k, M.shape[0])
    return _candidates(M, k, kind)


def _candidates(M: np.ndarray, k: int, kind: str) -> np.ndarray:
    key = M.copy() if kind == "distance" else -M
    np.fill_diagonal(key, np.inf)
    # the k smallest per row with the lower index first among ties, as a stable full sort
    # would give, without sorting whole rows
    return k_smallest(key, k)


def kernel_bandwidth(distances, k: int, rule: SigmaRule = "mean_kth") -> float | np.ndarray:
    """Gaussian bandwidth from the k-th nearest-neighbour distances.

    ``rule="mean_kth"``: a float, the mean over nodes of the distance to the k-th
    nearest other node (1.0 if that is 0). ``rule="local"``: an (N,) array of
    those distances, zeros replaced by the mean of the positive ones (or 1.0).
    """
    D = _check_distances(distances)
    k = _check_k(k, D.shape[0])
    return _bandwidth(D, _candidates(D, k, "distance"), rule)


def _mean(values: np.ndarray) -> float:
    """The mean of non-negative ``values``, also where their sum would overflow.

    Taken on the values divided by a power of two (exact) and multiplied back: for values
    near float64's largest (1.8e308) the plain sum is inf.
    """
    e = unit_exponent(values)
    return float(np.ldexp(np.mean(np.ldexp(values, -e)), e))


def _bandwidth(D: np.ndarray, cand: np.ndarray, rule: str) -> float | np.ndarray:
    kth = D[np.arange(D.shape[0]), cand[:, -1]]
    if rule == "mean_kth":
        s = _mean(kth)
        return s if s > 0 else 1.0
    if rule == "local":
        pos = kth[kth > 0]
        fill = _mean(pos) if pos.size else 1.0
        return np.where(kth > 0, kth, fill)
    raise ValueError(f"sigma must be a positive number, 'mean_kth' or 'local', got {rule!r}")


def gaussian_kernel(distances, sigma: float | np.ndarray) -> np.ndarray:
    """Gaussian kernel of a distance matrix, an (N, N) float64 array.

    ``sigma`` a float: ``exp(-d_ij^2 / (2 sigma^2))``. ``sigma`` an (N,) array
    (local scaling): ``exp(-d_ij^2 / (2 sigma_i sigma_j))``. The diagonal is 1.
    Computed from the ratios ``d_ij / sigma``, so distances and bandwidths multiplied by one
    factor give the same kernel, whatever their size (no ``d^2`` to overflow or underflow).
    """
    D = _check_distances(distances)
    if isinstance(sigma, np.ndarray) and sigma.ndim > 0:
        s = np.asarray(sigma, dtype=np.float64)
        if s.shape != (D.shape[0],):
            raise ValueError(
                f"an array sigma must have shape (N,) = ({D.shape[0]},), got {s.shape}"
            )
        if not np.all(np.isfinite(s)) or np.any(s <= 0):
            raise ValueError("an array sigma must be positive and finite")
        return _gaussian(D, s[:, None], s[None, :])
    if np.ndim(sigma) > 0:  # a list: the (N,) rule above, as an array
        return gaussian_kernel(D, np.asarray(sigma, dtype=np.float64))
    s = _check_positive_float(sigma.item() if isinstance(sigma, np.ndarray) else sigma, "sigma")
    return _gaussian(D, s, s)


def _gaussian(d: np.ndarray, s_row, s_col) -> np.ndarray:
    """``exp(-d^2 / (2 s_row s_col))`` as ``exp(-(d / s_row) (d / s_col) / 2)``.

    In ratios: ``d^2`` and ``s^2`` overflow for distances above ~1e154 and underflow (to 0,
    or to a few digits) below ~1e-154, where the ratios are exact to rounding; a ratio too
    large to square gives ``exp(-inf) = 0``, the kernel's limit.
    """
    with np.errstate(over="ignore"):  # inf is the intended limit here, not an accident
        return np.exp(-0.5 * ((d / s_row) * (d / s_col)))


def _check_k_sets(k, sets: NeighbourSets) -> int:
    return integer_argument(
        "k", k, low=1, high=sets.k, expected=f"1..{sets.k} (the neighbour sets' k per node)"
    )


def _sets_sigma(sets: NeighbourSets, sigma) -> float | np.ndarray:
    """The bandwidth rule on neighbour sets: the k-th distance is their last column."""
    if not isinstance(sigma, str):
        return _check_positive_float(sigma, "sigma")
    rows = np.arange(sets.n)
    full = np.zeros((sets.n, sets.n))  # only the entries _bandwidth reads: (i, cand[i, -1])
    full[rows, sets.indices[:, -1]] = sets.distances[:, -1]
    return _bandwidth(full, sets.indices, sigma)


def _local_kernel(sets: NeighbourSets, sigma, local: bool):
    """Gaussian kernel blocks of neighbour sets: K_iS (N, k) and K_SS (N, k, k) or None."""
    s = np.asarray(sigma, dtype=np.float64)
    if s.ndim == 0:
        kb = _gaussian(sets.distances, float(s), float(s))
    else:
        kb = _gaussian(sets.distances, s[:, None], s[sets.indices])
    if not local:
        return kb, None
    if s.ndim == 0:
        kss = _gaussian(sets.among, float(s), float(s))
    else:
        sj = s[sets.indices]
        kss = _gaussian(sets.among, sj[:, :, None], sj[:, None, :])
    return kb, kss


def _resolve_sigma(D: np.ndarray, cand: np.ndarray, sigma) -> float | np.ndarray:
    if isinstance(sigma, str):
        return _bandwidth(D, cand, sigma)
    return _check_positive_float(sigma, "sigma")


# --------------------------------------------------------------------------- #
# NNK solver (numba)
# --------------------------------------------------------------------------- #
@njit(cache=True)
def _chol_solve(A, rhs, idx, p, L, z):
    """Solve A[idx, idx] z = rhs[idx] for the first ``p`` entries of ``idx`` by Cholesky.

    ``L`` is (k, k) scratch space. Returns False if the block is not positive definite.
    """
    for r in range(p):
        for c in range(r + 1):
            s = A[idx[r], idx[c]]
            for m in range(c):
                s -= L[r, m] * L[c, m]
            if r == c:
                if s <= 0.0:
                    return False
                L[r, r] = np.sqrt(s)
            else:
                L[r, c] = s / L[c, c]
    # forward then backward substitution
    for r in range(p):
        s = rhs[idx[r]]
        for m in range(r):
            s -= L[r, m] * z[m]
        z[r] = s / L[r, r]
    for r in range(p - 1, -1, -1):
        s = z[r]
        for m in range(r + 1, p):
            s -= L[m, r] * z[m]
        z[r] = s / L[r, r]
    return True


@njit(cache=True)
def _nnqp(Q, b, lam_max):
    """Exact solution of min_{x >= 0} 0.5 x'Qx - b'x for positive definite Q (k, k).

    Lawson-Hanson active set: grow the passive (positive) set by the coordinate
    with the most negative gradient; when the unconstrained solution on the
    passive set has non-positive entries, step back to the boundary and drop them.
    """
    k = b.shape[0]
    x = np.zeros(k)
    passive = np.zeros(k, dtype=np.bool_)
    idx = np.empty(k, dtype=np.int64)
    z = np.empty(k)
    L = np.empty((k, k))
    w = b.copy()  # negative gradient b - Qx
    bmax = 0.0
    for j in range(k):
        bmax = max(bmax, abs(b[j]))
    # KKT tolerance on the gradient: a few ulps of the problem's scale.
    tol = 10.0 * k * 2.220446049250313e-16 * max(lam_max, bmax)
    max_iter = 10 * k + 10
    it = 0
    while it < max_iter:
        j_new = -1
        best = tol
        for j in range(k):
            if not passive[j] and w[j] > best:
                best = w[j]
                j_new = j
        if j_new < 0:
            break  # KKT conditions hold: optimal
        passive[j_new] = True
        while it < max_iter:
            it += 1
            p = 0
            for j in range(k):
                if passive[j]:
                    idx[p] = j
                    p += 1
            if p > 0 and not _chol_solve(Q, b, idx, p, L, z):
                return x  # cannot happen for positive definite Q; keep the last feasible point
            feasible = True
            for r in range(p):
                if z[r] <= 0.0:
                    feasible = False
                    break
            if feasible:
                for r in range(p):
                    x[idx[r]] = z[r]
                break
            # Move from x towards z until the first passive coordinate hits zero.
            alpha = np.inf
            r_hit = -1
            for r in range(p):
                if z[r] <= 0.0:
                    xr = x[idx[r]]
                    denom = xr - z[r]
                    # denom == 0 only when x_r = z_r = 0: that coordinate blocks any step.
                    a = xr / denom if denom > 0.0 else 0.0
                    if a < alpha:
                        alpha = a
                        r_hit = r
            for r in range(p):
                j = idx[r]
                x[j] += alpha * (z[r] - x[j])
            x[idx[r_hit]] = 0.0
            for r in range(p):
                j = idx[r]
                if x[j] <= 0.0:
                    x[j] = 0.0
                    passive[j] = False
        for j in range(k):
            s = b[j]
            for m in range(k):
                s -= Q[j, m] * x[m]
            w[j] = s
    return x


@njit(cache=True)
def _nnk_node(Kss, b, kii, eig_floor, edge_tol, relative_tol, theta_row):
    """One node's NNK coefficients (into ``theta_row``) and its reconstruction error.

    Kss: (k, k) kernel among the candidates; b: (k,) kernel of the node to them; kii: its
    own kernel value. Coefficients ``<= edge_tol * max`` (``relative_tol``) or
    ``< edge_tol`` (absolute) are set to zero before the error, which is
    ``kii - 2 theta'b + theta'Q theta`` with Q the eigenvalue-clipped block that the QP used.
    """
    k = b.shape[0]
    # Eigenvalue clipping: PSD (indefinite kernels) and strictly convex (duplicates).
    lam, V = np.linalg.eigh(Kss)
    lam_max = lam[k - 1]
    floor = eig_floor * lam_max
    clip = False
    for r in range(k):
        if lam[r] < floor:
            lam[r] = floor
            clip = True
    if clip:
        Q = (V * lam) @ V.T
        Q = 0.5 * (Q + Q.T)
    else:
        Q = Kss.copy()
    x = _nnqp(Q, b, lam_max)
    if relative_tol:
        xmax = 0.0
        for r in range(k):
            xmax = max(xmax, x[r])
        for r in range(k):
            if x[r] <= edge_tol * xmax:
                x[r] = 0.0
    else:
        for r in range(k):
            if x[r] < edge_tol:
                x[r] = 0.0
    e = kii
    for r in range(k):
        if x[r] != 0.0:
            e -= 2.0 * x[r] * b[r]
            for c in range(k):
                e += x[r] * Q[r, c] * x[c]
    theta_row[:] = x
    return e


@njit(cache=True)
def _nnk_rows(K, cand, rows, eig_floor, edge_tol, relative_tol, theta, err):
    """NNK coefficients for the nodes in ``rows`` of a full (N, N) kernel ``K``.

    cand: (N, k) candidate indices; writes theta[i] (k,) aligned with cand[i] and err[i]
    (see :func:`_nnk_node`).
    """
    k = cand.shape[1]
    Kss = np.empty((k, k))
    b = np.empty(k)
    for t in range(rows.shape[0]):
        i = rows[t]
        S = cand[i]
        for r in range(k):
            b[r] = K[i, S[r]]
            for c in range(k):
                Kss[r, c] = K[S[r], S[c]]
        err[i] = _nnk_node(Kss, b, K[i, i], eig_floor, edge_tol, relative_tol, theta[i])


@njit(cache=True)
def _nnk_rows_local(Kb, Kss_all, rows, eig_floor, edge_tol, relative_tol, theta, err):
    """Like :func:`_nnk_rows`, from local blocks: Kb (N, k) and Kss_all (N, k, k), K_ii = 1."""
    for t in range(rows.shape[0]):
        i = rows[t]
        err[i] = _nnk_node(
            Kss_all[i].copy(), Kb[i].copy(), 1.0, eig_floor, edge_tol, relative_tol, theta[i]
        )


def _solve_nnk(
    K,
    cand: np.ndarray,
    eig_floor: float,
    edge_tol: float,
    progress: bool,
    relative_tol: bool = True,
):
    """Coefficients (N, k) and errors (N,).

    ``K`` is (N, N), or a pair of local blocks ``(Kb (N, k), Kss (N, k, k))`` (neighbour sets).
    """
    n, k = cand.shape
    theta = np.zeros((n, k))
    err = np.zeros(n)
    with tqdm(total=n, desc="NNK", unit="node", disable=not progress, leave=False) as bar:
        for start in range(0, n, _CHUNK):
            rows = np.arange(start, min(start + _CHUNK, n), dtype=np.int64)
            if isinstance(K, tuple):
                _nnk_rows_local(K[0], K[1], rows, eig_floor, edge_tol, relative_tol, theta, err)
            else:
                _nnk_rows(K, cand, rows, eig_floor, edge_tol, relative_tol, theta, err)
            bar.update(rows.size)
    return theta, err


def _reference_kept(cand: np.ndarray, theta: np.ndarray, err: np.ndarray) -> np.ndarray:
    """The reference edge rule: (N, k) coefficients kept, aligned with ``cand``.

    ``theta_ij`` (j = cand[i, r]) is kept iff ``E_ij < E_ji``, where ``E_ij = err_i`` for the
    candidates j of i and 0 elsewhere (the absent entries of the reference's sparse matrix).
    """
    n, k = cand.shape
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    cols = cand.ravel().astype(np.int64)
    # Is i a candidate of j? Look the reversed pair (j, i) up among the sorted pairs (i, j).
    keys = np.sort(rows * n + cols)
    reverse = cols * n + rows
    pos = np.minimum(np.searchsorted(keys, reverse), keys.size - 1)
    mutual = (keys[pos] == reverse).reshape(n, k)
    e_ji = np.where(mutual, err[cand], 0.0)  # E_ji
    keep = err[:, None] < e_ji  # E_ij < E_ji
    return np.where(keep, theta, 0.0)


# --------------------------------------------------------------------------- #
# Assembly
# --------------------------------------------------------------------------- #
def _directed(cand: np.ndarray, weights: np.ndarray) -> sp.csr_matrix:
    n, k = cand.shape
    # Copies: eliminate_zeros() below works in place and must not touch the caller's arrays.
    data, indices = weights.ravel().copy(), cand.ravel().copy()
    W = sp.csr_matrix((data, indices, np.arange(0, n * k + 1, k)), shape=(n, n), dtype=np.float64)
    W.eliminate_zeros()
    W.sort_indices()
    return W


def _symmetrized(W: sp.csr_matrix, how: str) -> sp.csr_matrix:
    S = W.maximum(W.T) if how == "max" else (W + W.T) * 0.5
    S = sp.csr_matrix(S, dtype=np.float64)
    S.setdiag(0.0)  # never set, but make the zero diagonal a guarantee
    S.eliminate_zeros()
    S.sort_indices()
    return S


def _check_solver_params(eig_floor, edge_tol) -> tuple[float, float]:
    eig_floor = real_argument("eig_floor", eig_floor)
    edge_tol = real_argument("edge_tol", edge_tol)
    if not (0 < eig_floor < 1):
        raise ValueError(f"eig_floor must be in (0, 1), got {eig_floor!r}")
    if not (0 <= edge_tol < 1):
        raise ValueError(f"edge_tol must be in [0, 1), got {edge_tol!r}")
    return eig_floor, edge_tol


# --------------------------------------------------------------------------- #
# Estimators
# --------------------------------------------------------------------------- #
class _NeighborhoodGraph:
    """Shared parameters and input handling for :class:`NNKGraph` and :class:`KNNGraph`."""

    def __init__(
        self,
        k: int = 10,
        *,
        metric: Metric = "precomputed_distance",
        sigma: float | SigmaRule = "mean_kth",
        symmetrize: Symmetrize = "max",
    ):
        self.k = k
        self.metric = metric
        self.sigma = sigma
        self.symmetrize = symmetrize

    def get_params(self, deep: bool = True) -> dict:
        """Constructor parameters, as in scikit-learn."""
        names = [n for n in inspect.signature(type(self).__init__).parameters if n != "self"]
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params):
        """Set constructor parameters, as in scikit-learn; returns self."""
        for name, value in params.items():
            if name not in self.get_params():
                raise ValueError(f"unknown parameter {name!r} for {type(self).__name__}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _store(self, cand: np.ndarray, weights: np.ndarray, sigma, kept: np.ndarray | None = None):
        """Set the fitted attributes shared by both graphs from (N, k) candidates and weights.

        ``kept`` (N, k): the weights that the edge rule turns into edges (default: all of
        ``weights``). Returns the (N, N) csr_matrix of those kept directed weights.
        """
        self.candidates_ = cand
        self.n_neighbors_ = np.count_nonzero(weights, axis=1)
        self.sigma_ = sigma
        self.directed_adjacency_ = _directed(cand, weights)
        kept_adjacency = self.directed_adjacency_ if kept is None else _directed(cand, kept)
        self.adjacency_ = _symmetrized(kept_adjacency, self.symmetrize)
        return kept_adjacency

    def fit_transform(self, X, y=None) -> sp.csr_matrix:
        """``fit(X)`` and return ``adjacency_``."""
        return self.fit(X).adjacency_

    def _prepare(self, X, local: bool = False):
        """Kernel, candidates (N, k) and sigma_ for the input.

        The kernel is (N, N), or for :class:`~helpers.geometry.neighbours.NeighbourSets` the local
        blocks ``(K_iS (N, k), K_SS (N, k, k) or None)`` (``local``: K_SS is needed).
        """
        _check_symmetrize(self.symmetrize)
        if isinstance(X, NeighbourSets):
            if self.metric != "precomputed_distance":
                raise ValueError("neighbour sets hold distances: use metric='precomputed_distance'")
            sets = X.truncate(_check_k_sets(self.k, X))
            if local and sets.among is None:
                raise ValueError(
                    "NNK needs the distances among each node's neighbours (NeighbourSets."
                    "among); compute them, e.g. "
                    "helpers.geometry.knn_search.neighbour_sets(..., among=True)"
                )
            sigma = _sets_sigma(sets, self.sigma)
            return _local_kernel(sets, sigma, local), sets.indices, sigma
        if self.metric == "precomputed_distance":
            D = _check_distances(X)
            k = _check_k(self.k, D.shape[0])
            cand = _candidates(D, k, "distance")
            sigma = _resolve_sigma(D, cand, self.sigma)
            K = gaussian_kernel(D, sigma)
            return K, cand, sigma
        if self.metric == "precomputed_kernel":
            K = _check_kernel(X)
            k = _check_k(self.k, K.shape[0])
            return K, _candidates(K, k, "kernel"), None
        raise ValueError(
            f"metric must be 'precomputed_distance' or 'precomputed_kernel', got {self.metric!r}"
        )


class NNKGraph(_NeighborhoodGraph):
    """NNK neighbourhood graph of a precomputed distance or kernel matrix.

    Parameters
    ----------
    k : number of candidates per node (the k nearest other nodes).
    metric : ``"precomputed_distance"`` (fit takes an (N, N) distance matrix and
        builds a Gaussian kernel) or ``"precomputed_kernel"`` (an (N, N) similarity).
    sigma : Gaussian bandwidth for distance input: ``"mean_kth"`` (default),
        ``"local"`` or a positive float; see the module docstring. Ignored for kernel input.
    symmetrize : ``"max"`` (default) or ``"mean"``.
    edge_rule : ``"reference"`` (default; the NNK authors' code: of two mutual candidates
        the one with the smaller reconstruction error decides the edge) or ``"either"``
        (an edge wherever either endpoint has a non-zero coefficient); see the module docstring.
    edge_tol : small coefficients count as zero: ``theta_ij < edge_tol`` under
        ``edge_rule="reference"`` (absolute, as the reference code),
        ``theta_ij <= edge_tol * max_j theta_ij`` under ``edge_rule="either"`` (relative).
    eig_floor : eigenvalues of each ``K_SS`` are raised to ``eig_floor * lambda_max``.
    progress : show a tqdm progress bar over nodes.

    Attributes (after ``fit``)
    --------------------------
    adjacency_ : (N, N) csr_matrix, the symmetrised weighted graph: ``symmetrize`` applied
        to ``kept_adjacency_``.
    directed_adjacency_ : (N, N) csr_matrix, row i holds node i's NNK coefficients theta_i
        (after ``edge_tol``, before the edge rule), whichever the edge rule.
    kept_adjacency_ : (N, N) csr_matrix, the coefficients that the edge rule keeps (row i:
        theta_ij for the edges that node i decides). Equal to ``directed_adjacency_`` under
        ``edge_rule="either"``.
    candidates_ : (N, k) int array of candidate indices, closest first.
    coefficients_ : (N, k) float array, theta aligned with ``candidates_`` (before the edge rule).
    n_neighbors_ : (N,) int, non-zero coefficients per node: the neighbours node i selects,
        before the edge rule and before symmetrisation (the row counts of
        ``directed_adjacency_``; those of ``kept_adjacency_`` are the edges it keeps).
    reconstruction_error_ : (N,) float,
        ``||phi_i - Phi_S theta_i||^2 = K_ii - 2 theta'K_Si + theta'K_SS theta``
        (with the clipped block; may be slightly negative only when the kernel is
        indefinite around node i). The reference edge rule compares these values.
    sigma_ : the bandwidth used (float, or (N,) array for ``"local"``); None for kernel input.
    """

    def __init__(
        self,
        k: int = 10,
        *,
        metric: Metric = "precomputed_distance",
        sigma: float | SigmaRule = "mean_kth",
        symmetrize: Symmetrize = "max",
        edge_rule: EdgeRule = "reference",
        edge_tol: float = 1e-6,
        eig_floor: float = 1e-10,
        progress: bool = False,
    ):
        super().__init__(k, metric=metric, sigma=sigma, symmetrize=symmetrize)
        self.edge_rule = edge_rule
        self.edge_tol = edge_tol
        self.eig_floor = eig_floor
        self.progress = progress

    def fit(self, X, y=None) -> "NNKGraph":
        """Build the graph from ``X``; ``y`` is ignored.

        ``X``: an (N, N) distance or kernel matrix (see ``metric``), or
        :class:`~helpers.geometry.neighbours.NeighbourSets` (distances; at least ``k`` per node).
        """
        eig_floor, edge_tol = _check_solver_params(self.eig_floor, self.edge_tol)
        reference = _check_edge_rule(self.edge_rule) == "reference"
        K, cand, sigma = self._prepare(X, local=True)
        theta, err = _solve_nnk(
            K, cand, eig_floor, edge_tol, bool(self.progress), relative_tol=not reference
        )
        self.coefficients_ = theta
        self.reconstruction_error_ = err
        kept = _reference_kept(cand, theta, err) if reference else None
        self.kept_adjacency_ = self._store(cand, theta, sigma, kept)
        return self


class KNNGraph(_NeighborhoodGraph):
    """kNN graph with Gaussian/kernel weights, the baseline for :class:`NNKGraph`.

    Same parameters and candidate rule as :class:`NNKGraph` (without the solver
    options); every candidate becomes an edge with weight ``max(K_ij, 0)``.

    Attributes: ``adjacency_``, ``directed_adjacency_``, ``candidates_``,
    ``n_neighbors_`` (edges with positive weight per node before symmetrisation,
    normally k), ``sigma_``.
    """

    def fit(self, X, y=None) -> "KNNGraph":
        """Build the graph from ``X``; ``y`` is ignored.

        ``X``: an (N, N) distance or kernel matrix (see ``metric``), or
        :class:`~helpers.geometry.neighbours.NeighbourSets` (distances; at least ``k`` per node).
        """
        K, cand, sigma = self._prepare(X)
        kb = K[0] if isinstance(K, tuple) else np.take_along_axis(K, cand, axis=1)
        weights = np.maximum(kb, 0.0)
        self._store(cand, weights, sigma)
        return self


# --------------------------------------------------------------------------- #
# Plain functions
# --------------------------------------------------------------------------- #
def nnk_graph(
    kernel,
    k: int,
    *,
    symmetrize: Symmetrize = "max",
    edge_rule: EdgeRule = "reference",
    edge_tol: float = 1e-6,
    eig_floor: float = 1e-10,
    progress: bool = False,
) -> sp.csr_matrix:
    """NNK graph of an (N, N) kernel (similarity) matrix; (N, N) symmetric csr_matrix.

    Parameters as :class:`NNKGraph` (default ``edge_rule="reference"``).
    """
    return NNKGraph(
        k,
        metric="precomputed_kernel",
        symmetrize=symmetrize,
        edge_rule=edge_rule,
        edge_tol=edge_tol,
        eig_floor=eig_floor,
        progress=progress,
    ).fit_transform(kernel)


def knn_graph(kernel, k: int, *, symmetrize: Symmetrize = "max") -> sp.csr_matrix:
    """Symmetric (N, N) csr_matrix KNN graph of an (N, N) kernel, weights ``max(K_ij, 0)``."""
    return KNNGraph(k, metric="precomputed_kernel", symmetrize=symmetrize).fit_transform(kernel)


def nnk_graph_from_distances(
    distances,
    k: int,
    *,
    sigma: float | SigmaRule = "mean_kth",
    symmetrize: Symmetrize = "max",
    edge_rule: EdgeRule = "reference",
    edge_tol: float = 1e-6,
    eig_floor: float = 1e-10,
    progress: bool = False,
) -> sp.csr_matrix:
    """Symmetric (N, N) csr_matrix NNK graph of an (N, N) distance matrix, Gaussian kernel.

    Parameters as :class:`NNKGraph` (default ``edge_rule="reference"``).
    """
    return NNKGraph(
        k,
        metric="precomputed_distance",
        sigma=sigma,
        symmetrize=symmetrize,
        edge_rule=edge_rule,
        edge_tol=edge_tol,
        eig_floor=eig_floor,
        progress=progress,
    ).fit_transform(distances)


def knn_graph_from_distances(
    distances,
    k: int,
    *,
    sigma: float | SigmaRule = "mean_kth",
    symmetrize: Symmetrize = "max",
) -> sp.csr_matrix:
    """KNN graph of an (N, N) distance matrix with Gaussian weights; (N, N) symmetric csr_matrix."""
    return KNNGraph(
        k, metric="precomputed_distance", sigma=sigma, symmetrize=symmetrize
    ).fit_transform(distances)


def reconstruction_error(kernel, weights) -> np.ndarray:
    """Per-node kernel reconstruction error of arbitrary non-negative weights.

    ``err_i = ||phi_i - sum_j w_ij phi_j||^2 = K_ii - 2 w_i'K_i + w_i'K w_i`` for
    row ``i`` of ``weights`` (an (N, N) dense or sparse matrix of directed weights,
    e.g. ``directed_adjacency_`` or equal kNN weights ``1/k``), using the kernel
    as given (no eigenvalue clipping). Returns an (N,) float64 array.
    """
    K = _check_kernel(kernel)
    W = sp.csr_matrix(weights, dtype=np.float64)
    if W.shape != K.shape:
        raise ValueError(f"weights must have the kernel's shape {K.shape}, got {W.shape}")
    WK = np.asarray(W @ K)  # row i: sum_j w_ij K_j.
    cross = np.asarray(W.multiply(K).sum(axis=1)).ravel()  # w_i'K_i
    quad = np.asarray(W.multiply(WK).sum(axis=1)).ravel()  # w_i'K w_i
    return np.diag(K) - 2.0 * cross + quad
