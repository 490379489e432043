"""Naive reference implementations: the oracles the tests check the fast code against.

Every fast path of ``helpers`` (numba kernels, vectorised numpy, torch) is tested against a
function here that spells the definition out as plainly as possible: Python loops, no shared
code with ``helpers``, nothing clever. As in STUMPY's ``tests/naive.py``, every variant of an
algorithm (numba DTW, torch DTW; the NNK solver; forward kinematics) is checked against the same
oracle, so the variants cannot drift apart.

Sections: resampling, windowed DTW, padded Euclidean distance, NNK and kNN graphs, label
smoothness, NTU RGB+D skeleton files, Acclaim forward kinematics, ST-GCN (a plain graph
convolution, and a stand-in for the original st-gcn code), training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy.linalg
import scipy.optimize
import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------------------------------------
# Resampling
# ---------------------------------------------------------------------------------------------
def naive_interp(seq: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """np.interp on every (joint, coordinate) column: the reference."""
    flat = seq.reshape(len(seq), -1).astype(np.float64)
    cols = [np.interp(positions, np.arange(len(seq)), flat[:, c]) for c in range(flat.shape[1])]
    return np.stack(cols, axis=1).reshape((len(positions),) + seq.shape[1:])


# ---------------------------------------------------------------------------------------------
# Windowed DTW
# ---------------------------------------------------------------------------------------------
def naive_radius(window, n, m):
    if window is None:
        return max(n, m)
    if isinstance(window, float):
        return math.floor(window * max(n, m) + 1e-9)
    return window


def _round_half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def naive_allowed(i, j, n, m, r, band="sakoe"):
    """Is cell (i, j) inside the band? Written from the definitions in the module docstring."""
    if band == "slanted" and n != m:
        if n > m:  # row i is centred on round(i (m-1)/(n-1))
            return abs(j - _round_half_up(Fraction(i * (m - 1), n - 1))) <= r
        return abs(i - _round_half_up(Fraction(j * (n - 1), m - 1))) <= r
    if n >= m:
        return -r <= i - j <= (n - m) + r
    return -r <= j - i <= (m - n) + r


def naive_dtw(a, b, window=None, band="sakoe", normalize=False):
    """Plain-Python DTW; returns (distance, path length)."""
    a = np.asarray(a, np.float64).reshape(len(a), -1)
    b = np.asarray(b, np.float64).reshape(len(b), -1)
    n, m = len(a), len(b)
    r = naive_radius(window, n, m)
    inf = (math.inf, 0)
    # R[i][j] = (least cost, shortest length among least-cost paths) ending at cell (i-1, j-1)
    R = [[inf] * (m + 1) for _ in range(n + 1)]
    R[0][0] = (0.0, 0)
    for i in range(n):
        for j in range(m):
            if not naive_allowed(i, j, n, m, r, band):
                continue
            c = sum((float(x) - float(y)) ** 2 for x, y in zip(a[i], b[j]))
            best = min(R[i][j], R[i][j + 1], R[i + 1][j])  # tuples: cost first, then length
            R[i + 1][j + 1] = (c + best[0], best[1] + 1)
    cost, length = R[n][m]
    return (math.sqrt(cost / length) if normalize else math.sqrt(cost)), length


# ---------------------------------------------------------------------------------------------
# Euclidean distance of clips brought to one length
# ---------------------------------------------------------------------------------------------
def naive_padded_euclidean(seqs, mode, length):
    """Pair-by-pair reference: explicit loops over frames and features."""
    mats = [np.asarray(s, dtype=np.float64).reshape(len(s), -1) for s in seqs]
    L = max(len(s) for s in mats) if length is None else length
    fixed = []
    for s in mats:
        t, d = s.shape
        out = np.zeros((L, d))
        if mode == "zero-pad":
            for k in range(min(t, L)):
                out[k] = s[k]
        else:
            for f in range(d):  # np.interp as the peer implementation of linear resampling
                out[:, f] = np.interp(np.linspace(0, t - 1, L), np.arange(t), s[:, f])
        fixed.append(out)
    n = len(fixed)
    D = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            total = 0.0
            for k in range(L):
                total += float(np.sum((fixed[i][k] - fixed[j][k]) ** 2))
            D[i, j] = np.sqrt(total)
    return D


# ---------------------------------------------------------------------------------------------
# NNK and kNN graphs
# ---------------------------------------------------------------------------------------------
def euclidean(X: np.ndarray) -> np.ndarray:
    return np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))


def naive_candidates(M: np.ndarray, k: int, largest: bool) -> np.ndarray:
    """k best other nodes per row by a plain Python sort (ties: lower index)."""
    n = M.shape[0]
    out = np.empty((n, k), dtype=int)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        others.sort(key=lambda j: (-M[i, j] if largest else M[i, j], j))
        out[i] = others[:k]
    return out


def clipped(Kss: np.ndarray, eig_floor: float = 1e-10) -> np.ndarray:
    """The documented rule: eigenvalues raised to eig_floor * largest eigenvalue."""
    lam, V = np.linalg.eigh(Kss)
    lam = np.maximum(lam, eig_floor * lam[-1])
    return (V * lam) @ V.T


def naive_nnk(K: np.ndarray, cand: np.ndarray, edge_tol: float = 1e-6, eig_floor: float = 1e-10):
    """Directed NNK weights (N, N) via scipy.optimize.nnls on the Cholesky factor.

    0.5 x'Qx - b'x = 0.5 ||L'x - L^{-1} b||^2 + const for Q = L L'.
    """
    n = K.shape[0]
    W = np.zeros((n, n))
    for i in range(n):
        S = cand[i]
        Q = clipped(K[np.ix_(S, S)], eig_floor)
        b = K[i, S]
        L = np.linalg.cholesky(Q)
        x, _ = scipy.optimize.nnls(
            L.T, scipy.linalg.solve_triangular(L, b, lower=True), maxiter=50 * len(S)
        )
        x[x <= edge_tol * x.max()] = 0.0
        W[i, S] = x
    return W


# ---------------------------------------------------------------------------------------------
# Label smoothness
# ---------------------------------------------------------------------------------------------
def naive_label_variation(W, y):
    n = len(y)
    classes = np.unique(y)
    num = sum(W[i, j] for i in range(n) for j in range(n) if i != j and y[i] != y[j])
    den = sum(W[i, j] for i in range(n) for j in range(n) if i != j)
    per = []
    for c in classes:
        cut = sum(W[i, j] for i in range(n) for j in range(n) if i != j and y[i] == c and y[j] != c)
        vol = sum(W[i, j] for i in range(n) for j in range(n) if i != j and y[i] == c)
        per.append(cut / vol if vol > 0 else np.nan)
    return num / den, np.array(per)


def naive_interpolation_error(W, y):
    n = len(y)
    errs = []
    for i in range(n):
        total = sum(W[i, j] for j in range(n) if j != i)
        if total == 0:
            errs.append(1.0)
            continue
        errs.append(1.0 - sum(W[i, j] / total for j in range(n) if j != i and y[j] == y[i]))
    errs = np.array(errs)
    return errs.mean(), np.array([errs[y == c].mean() for c in np.unique(y)])


# ---------------------------------------------------------------------------------------------
# NTU RGB+D skeleton files
# ---------------------------------------------------------------------------------------------
def naive_read_ntu_skeleton(path):
    """Reference reader: walk the whitespace-separated tokens in order, as the MATLAB reader does.

    Returns {body_id: {frame: (25, 3) float64 xyz}}.
    """
    tok = iter(Path(path).read_text().split())
    bodies: dict[int, dict[int, np.ndarray]] = {}
    for f in range(int(next(tok))):
        for _ in range(int(next(tok))):
            body_id = int(next(tok))
            for _ in range(9):
                next(tok)
            xyz = []
            for _ in range(int(next(tok))):
                vals = [float(next(tok)) for _ in range(12)]
                xyz.append(vals[:3])
            bodies.setdefault(body_id, {})[f] = np.array(xyz)
    return bodies


# ---------------------------------------------------------------------------------------------
# Acclaim forward kinematics
# ---------------------------------------------------------------------------------------------
def _rot(axis: str, radians: float) -> np.ndarray:
    c, s = math.cos(radians), math.sin(radians)
    if axis == "x":
        return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    if axis == "y":
        return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _euler(angles, order: str) -> np.ndarray:
    """R = R_last @ ... @ R_first: rotations about fixed axes, the first letter applied first."""
    R = np.eye(3)
    for angle, axis in zip(angles, order.lower()):
        R = _rot(axis, float(angle)) @ R
    return R


def naive_forward_kinematics(skeleton, motion, metres: bool = True) -> np.ndarray:
    """Joint positions (T, 1 + bones, 3), one frame and one bone at a time, parents by recursion.

    The Acclaim convention, written out: the root is placed at its translation channels and
    turned by ``C M C^-1`` (C its orientation frame, M its rotation channels); every bone is
    turned by its parent's rotation times ``C M C^-1`` of its own axis frame and dof angles, and
    its end point is its parent's end point plus that rotation applied to direction * length.
    """
    deg = motion.angle_unit == "deg"
    names = ["root"] + [b.name for b in skeleton.bones]
    bones = {b.name: b for b in skeleton.bones}
    out = np.zeros((motion.num_frames, len(names), 3))
    for f in range(motion.num_frames):
        chans = dict(zip(skeleton.root_order, motion.values["root"][f]))
        root_pos = np.array([chans.get(c, 0.0) for c in ("TX", "TY", "TZ")])
        rot_order = "".join(c[1] for c in skeleton.root_order if c.startswith("R"))
        rot_vals = [chans[c] for c in skeleton.root_order if c.startswith("R")]
        rot_vals = [math.radians(a) if deg else a for a in rot_vals]
        C = _euler(skeleton.root_orientation, skeleton.root_axis)
        root_rot = C @ _euler(rot_vals, rot_order) @ C.T
        memo = {"root": (root_pos, root_rot)}

        def place(name):
            if name not in memo:
                bone = bones[name]
                p_pos, p_rot = place(skeleton.parents[name])
                C = _euler(bone.axis, bone.axis_order)
                if bone.dof:
                    vals = motion.values[name][f]
                    vals = [math.radians(a) if deg else a for a in vals]
                    local = C @ _euler(vals, "".join(d[1] for d in bone.dof)) @ C.T
                else:
                    local = np.eye(3)
                rot = p_rot @ local
                memo[name] = (p_pos + rot @ (np.asarray(bone.direction) * bone.length), rot)
            return memo[name]

        for j, name in enumerate(names):
            out[f, j] = place(name)[0]
    return out * (0.0254 / skeleton.length_unit) if metres else out


# ---------------------------------------------------------------------------------------------
# Batch normalisation over the valid frames only
# ---------------------------------------------------------------------------------------------
def naive_masked_batch_norm(x, lengths, weight, bias, eps):
    """BatchNorm's training-mode output with statistics from the first lengths[n] frames of row n.

    x is (N, C, T) or (N, C, T, V). Plain autograd: each channel's valid entries are picked out
    one clip at a time, their mean and biased variance taken, and every entry (padded ones too)
    normalised with them.
    """
    out = []
    for c in range(x.shape[1]):
        valid = torch.cat([x[n, c, : int(t)].reshape(-1) for n, t in enumerate(lengths)])
        mean = valid.mean()
        var = ((valid - mean) ** 2).mean()
        out.append((x[:, c] - mean) / torch.sqrt(var + eps) * weight[c] + bias[c])
    return torch.stack(out, dim=1)


# ---------------------------------------------------------------------------------------------
# ST-GCN: a plain graph convolution, and a stand-in for the original code (yysijie/st-gcn)
# ---------------------------------------------------------------------------------------------
def naive_graph_conv(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, A: torch.Tensor
) -> torch.Tensor:
    """``sum_k (W_k x + b_k) @ A_k``: the spatial graph convolution of ST-GCN.

    For x (N, C_in, T, V), weight (K, C_out, C_in), bias (K, C_out) and A (K, V, V); one subset
    and one einsum at a time.
    """
    out = 0
    for k in range(A.shape[0]):
        mixed = torch.einsum("oc,nctv->notv", weight[k], x) + bias[k][None, :, None, None]
        out = out + torch.einsum("notv,vw->notw", mixed, A[k])
    return out


# The original code's network (``net/st_gcn.py``, ``net/utils/tgcn.py``, ``net/utils/graph.py``),
# written independently for this project to mirror its module tree, parameter names and order of
# operations (including its hop-distance matrix truncated at ``max_hop``, its ``einsum`` graph
# aggregation and its plain-function residuals), so tests can check that
# ``STGCN.from_reference_checkpoint`` reproduces the original network's logits.
# bones as listed by the original code (NTU 1-based) and by the project brief (HDM05 names)
NTU_BONES_1BASED = [
    (1, 2),
    (2, 21),
    (3, 21),
    (4, 3),
    (5, 21),
    (6, 5),
    (7, 6),
    (8, 7),
    (9, 21),
    (10, 9),
    (11, 10),
    (12, 11),
    (13, 1),
    (14, 13),
    (15, 14),
    (16, 15),
    (17, 1),
    (18, 17),
    (19, 18),
    (20, 19),
    (22, 23),
    (23, 8),
    (24, 25),
    (25, 12),
]
HDM05_NAMES = [
    "root",
    "lhipjoint",
    "lfemur",
    "ltibia",
    "lfoot",
    "ltoes",
    "rhipjoint",
    "rfemur",
    "rtibia",
    "rfoot",
    "rtoes",
    "lowerback",
    "upperback",
    "thorax",
    "lowerneck",
    "upperneck",
    "head",
    "lclavicle",
    "lhumerus",
    "lradius",
    "lwrist",
    "lhand",
    "lfingers",
    "lthumb",
    "rclavicle",
    "rhumerus",
    "rradius",
    "rwrist",
    "rhand",
    "rfingers",
    "rthumb",
]
HDM05_BONES = [
    ("root", "lhipjoint"),
    ("root", "rhipjoint"),
    ("root", "lowerback"),
    ("lhipjoint", "lfemur"),
    ("lfemur", "ltibia"),
    ("ltibia", "lfoot"),
    ("lfoot", "ltoes"),
    ("rhipjoint", "rfemur"),
    ("rfemur", "rtibia"),
    ("rtibia", "rfoot"),
    ("rfoot", "rtoes"),
    ("lowerback", "upperback"),
    ("upperback", "thorax"),
    ("thorax", "lowerneck"),
    ("thorax", "lclavicle"),
    ("thorax", "rclavicle"),
    ("lowerneck", "upperneck"),
    ("upperneck", "head"),
    ("lclavicle", "lhumerus"),
    ("lhumerus", "lradius"),
    ("lradius", "lwrist"),
    ("lwrist", "lhand"),
    ("lwrist", "lthumb"),
    ("lhand", "lfingers"),
    ("rclavicle", "rhumerus"),
    ("rhumerus", "rradius"),
    ("rradius", "rwrist"),
    ("rwrist", "rhand"),
    ("rwrist", "rthumb"),
    ("rhand", "rfingers"),
]


def truncated_hop_distance(num_node: int, edges, max_hop: int) -> np.ndarray:
    """Hop distance by matrix powers, inf beyond ``max_hop`` (the original code's definition)."""
    adj = np.zeros((num_node, num_node))
    for i, j in edges:
        adj[i, j] = adj[j, i] = 1
    reach = [np.linalg.matrix_power(adj, d) > 0 for d in range(max_hop + 1)]
    dist = np.full((num_node, num_node), np.inf)
    for d in reversed(range(max_hop + 1)):  # smaller hops overwrite larger ones
        dist[reach[d]] = d
    return dist


def column_normalize(adj: np.ndarray) -> np.ndarray:
    col = adj.sum(axis=0)
    scale = np.zeros_like(col)
    scale[col > 0] = 1.0 / col[col > 0]
    return adj @ np.diag(scale)


UTD_BONES_1BASED = (
    (1, 2), (2, 3), (3, 4),
    (2, 5), (5, 6), (6, 7), (7, 8),
    (2, 9), (9, 10), (10, 11), (11, 12),
    (4, 13), (13, 14), (14, 15), (15, 16),
    (4, 17), (17, 18), (18, 19), (19, 20),
)  # fmt: skip


class ReferenceGraph:
    """Adjacency stack of the original code for a layout name or an explicit custom skeleton.

    ``custom`` is ``(num_node, edges, center)``.
    """

    def __init__(self, layout="ntu-rgb+d", strategy="spatial", max_hop=1, dilation=1, custom=None):
        if custom is not None:
            self.num_node, bones, self.center = custom
        elif layout == "ntu-rgb+d":
            self.num_node, self.center = 25, 20
            bones = [(i - 1, j - 1) for i, j in NTU_BONES_1BASED]
        elif layout == "hdm05":
            self.num_node, self.center = 31, HDM05_NAMES.index("thorax")
            bones = [(HDM05_NAMES.index(a), HDM05_NAMES.index(b)) for a, b in HDM05_BONES]
        elif layout == "utd-mhad":
            # the Kinect v1 skeleton in the authors' 1-based joint numbers
            # (Skeleton_joint_order.txt), centred on joint 2, the shoulder centre
            self.num_node, self.center = 20, 1
            bones = [(i - 1, j - 1) for i, j in UTD_BONES_1BASED]
        else:
            raise ValueError(layout)
        self.edge = [(i, i) for i in range(self.num_node)] + list(bones)
        self.hop_dis = truncated_hop_distance(self.num_node, self.edge, max_hop)
        hops = range(0, max_hop + 1, dilation)
        adjacency = np.zeros((self.num_node, self.num_node))
        for h in hops:
            adjacency[self.hop_dis == h] = 1
        norm = column_normalize(adjacency)
        V, c = self.num_node, self.center
        if strategy == "uniform":
            self.A = norm[None]
        elif strategy == "distance":
            self.A = np.zeros((len(hops), V, V))
            for k, h in enumerate(hops):
                self.A[k][self.hop_dis == h] = norm[self.hop_dis == h]
        elif strategy == "spatial":
            stack = []
            for h in hops:
                root, close, far = (np.zeros((V, V)) for _ in range(3))
                for i in range(V):
                    for j in range(V):
                        if self.hop_dis[j, i] != h:
                            continue
                        if self.hop_dis[j, c] == self.hop_dis[i, c]:
                            root[j, i] = norm[j, i]
                        elif self.hop_dis[j, c] > self.hop_dis[i, c]:
                            close[j, i] = norm[j, i]
                        else:
                            far[j, i] = norm[j, i]
                if h == 0:
                    stack.append(root)
                else:
                    stack += [root + close, far]
            self.A = np.stack(stack)
        else:
            raise ValueError(strategy)


class ConvTemporalGraphical(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size):
        super().__init__()
        self.kernel_size = kernel_size
        self.conv = nn.Conv2d(in_channels, out_channels * kernel_size, kernel_size=(1, 1))

    def forward(self, x, A):
        x = self.conv(x)
        n, kc, t, v = x.size()
        x = x.view(n, self.kernel_size, kc // self.kernel_size, t, v)
        return torch.einsum("nkctv,kvw->nctw", x, A).contiguous(), A


def _zero(x):
    return 0


def _identity(x):
    return x


class st_gcn(nn.Module):  # noqa: N801 - the original class name, kept for the module tree
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, dropout=0, residual=True):
        super().__init__()
        pad = ((kernel_size[0] - 1) // 2, 0)
        self.gcn = ConvTemporalGraphical(in_channels, out_channels, kernel_size[1])
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, (kernel_size[0], 1), (stride, 1), pad),
            nn.BatchNorm2d(out_channels),
            nn.Dropout(dropout, inplace=True),
        )
        if not residual:
            self.residual = _zero
        elif in_channels == out_channels and stride == 1:
            self.residual = _identity
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=(stride, 1)),
                nn.BatchNorm2d(out_channels),
            )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x, A):
        res = self.residual(x)
        x, A = self.gcn(x, A)
        x = self.tcn(x) + res
        return self.relu(x), A


class ReferenceModel(nn.Module):
    """The original code's ST-GCN model, taking the original's constructor arguments.

    ``ReferenceModel(in_channels, num_class, graph_args, edge_importance_weighting, **kwargs)``
    as in the original. ``width`` (not in the original) multiplies every block's channels, as
    ``STGCN(width=...)`` does, for the quarter-width network of the quick profile.
    """

    def __init__(
        self, in_channels, num_class, graph_args, edge_importance_weighting, width=1.0, **kwargs
    ):
        super().__init__()
        c64, c128, c256 = (max(1, int(round(c * width))) for c in (64, 128, 256))
        self.graph = ReferenceGraph(**graph_args)
        self.register_buffer(
            "A", torch.tensor(self.graph.A, dtype=torch.float32, requires_grad=False)
        )
        kernel_size = (9, self.A.size(0))
        self.data_bn = nn.BatchNorm1d(in_channels * self.A.size(1))
        first = {k: v for k, v in kwargs.items() if k != "dropout"}
        self.st_gcn_networks = nn.ModuleList(
            (
                st_gcn(in_channels, c64, kernel_size, 1, residual=False, **first),
                st_gcn(c64, c64, kernel_size, 1, **kwargs),
                st_gcn(c64, c64, kernel_size, 1, **kwargs),
                st_gcn(c64, c64, kernel_size, 1, **kwargs),
                st_gcn(c64, c128, kernel_size, 2, **kwargs),
                st_gcn(c128, c128, kernel_size, 1, **kwargs),
                st_gcn(c128, c128, kernel_size, 1, **kwargs),
                st_gcn(c128, c256, kernel_size, 2, **kwargs),
                st_gcn(c256, c256, kernel_size, 1, **kwargs),
                st_gcn(c256, c256, kernel_size, 1, **kwargs),
            )
        )
        if edge_importance_weighting:
            self.edge_importance = nn.ParameterList(
                [nn.Parameter(torch.ones(self.A.size())) for _ in self.st_gcn_networks]
            )
        else:
            self.edge_importance = [1] * len(self.st_gcn_networks)
        self.fcn = nn.Conv2d(c256, num_class, kernel_size=1)

    def forward(self, x):
        N, C, T, V, M = x.size()
        x = x.permute(0, 4, 3, 1, 2).contiguous().view(N * M, V * C, T)
        x = self.data_bn(x)
        x = x.view(N, M, V, C, T).permute(0, 1, 3, 4, 2).contiguous().view(N * M, C, T, V)
        for gcn, importance in zip(self.st_gcn_networks, self.edge_importance):
            x, _ = gcn(x, self.A * importance)
        x = F.avg_pool2d(x, x.size()[2:])
        x = x.view(N, M, -1, 1, 1).mean(dim=1)
        x = self.fcn(x)
        return x.view(x.size(0), -1)


def randomize_reference(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every parameter and BN running statistic random values (so a mapping error shows)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("edge_importance"):
                p.copy_(torch.rand(p.shape, generator=gen) + 0.5)
            elif p.dim() == 1 and (
                "bn" in name or ".tcn.0." in name or ".tcn.3." in name or "residual.1" in name
            ):
                p.copy_(
                    torch.rand(p.shape, generator=gen) + 0.5
                    if name.endswith("weight")
                    else torch.randn(p.shape, generator=gen) * 0.1
                )
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * (1.0 / max(1, p[0].numel()) ** 0.5))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=gen) * 0.1)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=gen) + 0.5)
            elif name.endswith("num_batches_tracked"):
                b.fill_(int(torch.randint(1, 1000, (1,), generator=gen)))
    return model


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------
# Plain reference implementations of the training options, used as oracles by the tests.
#
# Every function here is written out directly, step by step, with no code shared with
# :mod:`helpers.training.loop`, so a test can compare :func:`helpers.training.loop.fit` with it:
# when ``fit``
# ignores an option or gets it wrong, the two give different numbers.
#
# The oracle classifier is the simplest one ``fit`` can train: a linear layer on per-clip features,
# ``logits = features @ weight.T + bias``. (The tests pair it with a torch model that averages its
# input over time, joints and bodies and then applies ``nn.Linear``, so ``features`` are the clips'
# per-channel means.) Everything is computed in float64.
#
# Notes
# -----
# What the oracles assume about ``fit`` (all of it read from its docstrings and :mod:`torch`):
#
# * SGD with momentum as :class:`torch.optim.SGD` defines it (no dampening): the first step's
#   momentum buffer is the gradient itself; Nesterov momentum steps along ``g + momentum * buf``;
#   Nesterov is off when ``momentum == 0``.
# * Weight decay (L2, added to the gradient) only on parameters with more than one dimension:
#   the linear layer's weight gets it, its bias does not.
# * The learning rate at optimisation step ``s`` (counted from 0): a linear warm-up over
#   ``round(warmup_epochs * steps_per_epoch)`` steps, ``lr * (s + 1) / warmup_steps``, then either a
#   cosine from ``lr`` down to ``min_lr`` over the remaining steps, or a step decay that multiplies
#   by ``gamma`` once for every milestone ``m`` with ``epoch >= m``, where ``epoch = s //
#   steps_per_epoch`` counts whole epochs (so milestone ``m`` takes effect at the start of the
#   ``(m + 1)``-th epoch).
# * Cross-entropy against label-smoothed targets ``(1 - eps) * onehot + eps / K``, with optional
#   per-class weights as :class:`torch.nn.CrossEntropyLoss` defines them.
# * Gradient clipping rescales all gradients together to a total L2 norm of at most ``max_norm``
#   (before weight decay is added), like :func:`torch.nn.utils.clip_grad_norm_`.


def lr_at_step(
    step: int,
    *,
    lr: float,
    steps_per_epoch: int,
    epochs: int,
    schedule: str = "cosine",
    warmup_epochs: float = 0.0,
    milestones: Sequence[int] = (),
    gamma: float = 0.1,
    min_lr: float = 0.0,
) -> float:
    """The learning rate used by optimisation step ``step`` (0-based) of a run.

    Parameters
    ----------
    step : optimisation step, ``0 .. epochs * steps_per_epoch`` (the last value is the rate after
        the final step, which ``fit`` reports as the last epoch's ``lr``).
    lr : peak learning rate.
    steps_per_epoch, epochs : the run's length.
    schedule : ``'cosine'`` (half a cosine from ``lr`` to ``min_lr`` after the warm-up) or
        ``'step'`` (``lr * gamma ** k``, ``k`` the number of milestones reached).
    warmup_epochs : linear warm-up length in epochs (rounded to whole steps).
    milestones : epochs (counted from 0) at whose start the step schedule multiplies by ``gamma``.
    gamma : step-decay factor.
    min_lr : the cosine's final value.

    Returns
    -------
    float
    """
    warmup_steps = round(warmup_epochs * steps_per_epoch)
    total_steps = epochs * steps_per_epoch
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    if schedule == "step":
        epoch = step // steps_per_epoch  # whole epochs completed before this step
        decays = sum(1 for m in milestones if epoch >= m)
        return lr * gamma**decays
    if schedule != "cosine":
        raise ValueError(f"unknown schedule {schedule!r}")
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def inverse_frequency_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Per-class loss weights ``1 / count`` (0 for a class without clips), float64 (K,).

    Any positive multiple gives the same weighted mean loss (the weights appear in its numerator
    and its denominator), so no normalisation is applied.
    """
    counts = np.bincount(np.asarray(labels), minlength=num_classes).astype(np.float64)
    return np.where(counts > 0, 1.0 / np.maximum(counts, 1.0), 0.0)


def sampling_probabilities(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Probability of drawing each clip when clips are drawn inversely to their class size, (N,).

    Every class present gets the same total probability ``1 / (number of classes present)``.
    """
    w = inverse_frequency_weights(labels, num_classes)[np.asarray(labels)]
    return w / w.sum()


def smoothed_targets(labels: np.ndarray, num_classes: int, smoothing: float = 0.0) -> np.ndarray:
    """Label-smoothed target distributions ``(1 - eps) * onehot + eps / K``, float64 (N, K)."""
    labels = np.asarray(labels)
    q = np.full((len(labels), num_classes), smoothing / num_classes)
    q[np.arange(len(labels)), labels] += 1.0 - smoothing
    return q


def cross_entropy(
    logits: torch.Tensor,
    labels: np.ndarray,
    *,
    smoothing: float = 0.0,
    class_weights: np.ndarray | None = None,
) -> torch.Tensor:
    """Mean cross-entropy of ``logits`` (N, K) against smoothed targets, optionally class-weighted.

    Without weights: ``mean_i sum_c q_ic * (-log p_ic)``. With class weights ``w`` it is the
    weighted mean of :class:`torch.nn.CrossEntropyLoss`, ``sum_i sum_c q_ic w_c (-log p_ic) /
    sum_i w_{y_i}`` (each class term weighted by its own class, normalised by the weights of the
    true classes).
    """
    k = logits.shape[1]
    q = torch.as_tensor(smoothed_targets(labels, k, smoothing), dtype=logits.dtype)
    neg_log_p = -torch.log_softmax(logits, dim=1)
    if class_weights is None:
        return (q * neg_log_p).sum(dim=1).mean()
    w = torch.as_tensor(np.asarray(class_weights, np.float64), dtype=logits.dtype)
    return (q * w * neg_log_p).sum() / w[torch.as_tensor(np.asarray(labels))].sum()


def clip_gradients(grads: list[torch.Tensor], max_norm: float) -> tuple[list[torch.Tensor], bool]:
    """Rescale ``grads`` together so their total L2 norm is at most ``max_norm``.

    The factor is ``min(1, max_norm / (norm + 1e-6))`` (the ``1e-6`` as in torch). Returns the new
    gradients and whether they were actually shrunk.
    """
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
    factor = min(1.0, max_norm / (norm + 1e-6))
    return [g * factor for g in grads], factor < 1.0


def sgd_step(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    buffers: list[torch.Tensor | None],
    *,
    lr: float,
    momentum: float,
    nesterov: bool,
    decays: list[float],
) -> None:
    """One SGD update in place, as :class:`torch.optim.SGD` defines it (no dampening).

    For each parameter: ``d = g + decay * p``; with momentum, ``buf = d`` on the first step and
    ``buf = momentum * buf + d`` afterwards, then ``d = d + momentum * buf`` (Nesterov) or
    ``d = buf``; finally ``p -= lr * d``. ``buffers`` holds the momentum buffers (``None`` before
    the first step) and is updated in place.
    """
    for i, (p, g) in enumerate(zip(params, grads)):
        d = g + decays[i] * p
        if momentum:
            buffers[i] = d.clone() if buffers[i] is None else momentum * buffers[i] + d
            d = d + momentum * buffers[i] if nesterov else buffers[i]
        p -= lr * d


def naive_full_batch_training(
    features: np.ndarray,
    labels: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    *,
    epochs: int,
    lr: float,
    steps_per_epoch: int = 1,
    momentum: float = 0.9,
    nesterov: bool = True,
    weight_decay: float = 0.0,
    decay_bias: bool = False,
    schedule: str = "cosine",
    warmup_epochs: float = 0.0,
    milestones: Sequence[int] = (),
    gamma: float = 0.1,
    min_lr: float = 0.0,
    label_smoothing: float = 0.0,
    class_weights: np.ndarray | None = None,
    grad_clip: float | None = None,
) -> dict:
    """Train ``logits = features @ weight.T + bias`` with full-batch SGD; return the final weights.

    Every optimisation step uses the whole batch ``(features, labels)``: with a single batch per
    epoch this is exactly mini-batch training, and with several steps per epoch it equals
    mini-batch training whenever every batch has the same content (e.g. identical clips).

    Parameters
    ----------
    features : (N, C) per-clip inputs of the linear layer.
    labels : (N,) ints in ``0 .. K - 1``.
    weight, bias : (K, C) and (K,) initial parameters (copied, not modified).
    epochs, steps_per_epoch : run length.
    lr, schedule, warmup_epochs, milestones, gamma, min_lr : see :func:`lr_at_step`.
    momentum, nesterov : SGD momentum (Nesterov is off when ``momentum == 0``).
    weight_decay : L2 decay of ``weight``; ``decay_bias=True`` also decays ``bias`` (a deliberately
        wrong variant, for checking that the tests tell the two apart).
    label_smoothing, class_weights : see :func:`cross_entropy`.
    grad_clip : max total gradient norm, or ``None`` (see :func:`clip_gradients`).

    Returns
    -------
    dict with ``weight`` (K, C) and ``bias`` (K,) float64 arrays, ``loss`` (epochs,) the mean loss
    of each epoch's steps (before each update), ``lr`` (epochs * steps_per_epoch,) the rate of each
    step and ``clipped`` (same length) whether clipping shrank that step's gradients.
    """
    x = torch.as_tensor(np.asarray(features, np.float64))
    w = torch.tensor(np.asarray(weight, np.float64))
    b = torch.tensor(np.asarray(bias, np.float64))
    params = [w, b]
    decays = [weight_decay, weight_decay if decay_bias else 0.0]
    buffers: list[torch.Tensor | None] = [None, None]
    use_nesterov = bool(nesterov and momentum > 0)
    losses, lrs, clipped = [], [], []
    for epoch in range(epochs):
        epoch_losses = []
        for s in range(steps_per_epoch):
            step = epoch * steps_per_epoch + s
            w_, b_ = w.clone().requires_grad_(True), b.clone().requires_grad_(True)
            loss = cross_entropy(
                x @ w_.T + b_, labels, smoothing=label_smoothing, class_weights=class_weights
            )
            gw, gb = torch.autograd.grad(loss, [w_, b_])
            grads = [gw, gb]
            was_clipped = False
            if grad_clip:
                grads, was_clipped = clip_gradients(grads, grad_clip)
            rate = lr_at_step(
                step,
                lr=lr,
                steps_per_epoch=steps_per_epoch,
                epochs=epochs,
                schedule=schedule,
                warmup_epochs=warmup_epochs,
                milestones=milestones,
                gamma=gamma,
                min_lr=min_lr,
            )
            with torch.no_grad():
                sgd_step(
                    params,
                    grads,
                    buffers,
                    lr=rate,
                    momentum=momentum,
                    nesterov=use_nesterov,
                    decays=decays,
                )
            epoch_losses.append(loss.item())
            lrs.append(rate)
            clipped.append(was_clipped)
        losses.append(float(np.mean(epoch_losses)))
    return {
        "weight": w.numpy(),
        "bias": b.numpy(),
        "loss": np.asarray(losses),
        "lr": np.asarray(lrs),
        "clipped": np.asarray(clipped),
    }


# ---------------------------------------------------------------------------------------------
# NNK edge rule of the reference code, and the kNN label error of Das, Shekkizhar & Ortega
# ---------------------------------------------------------------------------------------------
def naive_nnk_reference(K: np.ndarray, cand: np.ndarray, edge_tol: float = 1e-6, eig_floor=1e-10):
    """Symmetric (N, N) NNK graph under the edge rule of the authors' code, with plain loops.

    Written from ``nnk_graph`` in ``graph_construction.py`` of STAC-USC/PyNNK_graph_construction:
    1. theta_i by NNLS on the clipped block (as ``naive_nnk``), then every coefficient
       ``< edge_tol`` set to 0 (absolute, like ``x_opt[x_opt < x_tol] = 0``);
    2. err_i = K_ii - 2 theta_i'b + theta_i'Q theta_i with the thresholded theta_i;
    3. E[i][j] = err_i for each candidate j of i, 0 for every other pair (an absent entry);
    4. keep theta_ij iff E[i][j] < E[j][i]  (``adjacency.multiply(error < error.T)``);
    5. W = max(kept, kept').
    Returns (W, theta (N, N) before step 4, err (N,)).
    """
    n = K.shape[0]
    theta = np.zeros((n, n))
    err = [0.0] * n
    for i in range(n):
        S = [int(j) for j in cand[i]]
        Q = clipped(K[np.ix_(S, S)], eig_floor)
        b = K[i, S]
        L = np.linalg.cholesky(Q)
        x, _ = scipy.optimize.nnls(
            L.T, scipy.linalg.solve_triangular(L, b, lower=True), maxiter=50 * len(S)
        )
        x = [0.0 if v < edge_tol else float(v) for v in x]
        e = float(K[i, i])
        for r in range(len(S)):
            e -= 2.0 * x[r] * b[r]
            for c in range(len(S)):
                e += x[r] * Q[r, c] * x[c]
        err[i] = e
        for r, j in enumerate(S):
            theta[i, j] = x[r]
    E = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in cand[i]:
            E[i][int(j)] = err[i]
    kept = np.zeros((n, n))
    for i in range(n):
        for j in cand[i]:
            j = int(j)
            if E[i][j] < E[j][i]:
                kept[i, j] = theta[i, j]
    W = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            W[i, j] = max(kept[i, j], kept[j, i])
    return W, theta, np.array(err)


def naive_knn_label_error(D: np.ndarray, y: np.ndarray, k: int, groups=None):
    """(overall, per-class (C,), per-node (N,)) kNN label error with 1/d weights, plain loops.

    Node i's k nearest other nodes (ties: lower index; with ``groups``, only nodes of another
    group) get weights 1/d_ij normalised to sum 1;
    if some of them are at distance 0, those share the weight equally and the others get 0.
    Error_i = 1 - (weight on neighbours with label y_i).
    """
    n = len(y)
    errs = []
    for i in range(n):
        others = sorted(
            (j for j in range(n) if j != i and (groups is None or groups[j] != groups[i])),
            key=lambda j: (D[i, j], j),
        )[:k]
        zeros = [j for j in others if D[i, j] == 0]
        if zeros:
            w = {j: (1.0 / len(zeros) if j in zeros else 0.0) for j in others}
        else:
            total = sum(1.0 / D[i, j] for j in others)
            w = {j: (1.0 / D[i, j]) / total for j in others}
        errs.append(1.0 - sum(w[j] for j in others if y[j] == y[i]))
    errs = np.array(errs)
    return errs.mean(), np.array([errs[y == c].mean() for c in np.unique(y)]), errs


# ---------------------------------------------------------------------------------------------
# Grad-CAM of ST-GCN blocks
# ---------------------------------------------------------------------------------------------
def _naive_cams(model, x, target_class, lengths, forward) -> np.ndarray:
    """Grad-CAM per clip and body, each clip run on its own; ``forward(clip) -> (logits, A)``.

    For clip n (cropped to its ``lengths[n]`` frames, in evaluation mode), the block output
    ``A`` (M, C, T_l, V) and the logit ``y`` of the target class (``None``: the clip's predicted
    class; an int; or one int per clip): ``alpha[m, c] = mean over (t, v) of dy/dA[m, c, t, v]``
    and ``map[m, t, v] = max(0, sum_c alpha[m, c] * A[m, c, t, v])``. Returns (N, M, T_l_max, V)
    float64, zero beyond each clip's own T_l.
    """
    x = torch.as_tensor(np.asarray(x)) if not isinstance(x, torch.Tensor) else x
    n_clips, _, frames, _, _ = x.shape
    flags = [(mod, mod.training) for mod in model.modules()]
    model.eval()
    per_clip = []
    try:
        for n in range(n_clips):
            length = frames if lengths is None else int(lengths[n])
            xc = x[n : n + 1, :, :length].detach().clone().float().requires_grad_(True)
            with torch.enable_grad():
                logits, A = forward(xc)
                if target_class is None:
                    row = [float(v) for v in logits[0].detach()]
                    target = row.index(max(row))
                elif np.ndim(target_class) == 0:
                    target = int(target_class)
                else:
                    target = int(target_class[n])
                (grad,) = torch.autograd.grad(logits[0, target], A)
            a = A.detach().double().numpy()
            g = grad.detach().double().numpy()
            bodies, channels, t_l, joints = a.shape
            clip = np.zeros((bodies, t_l, joints))
            for m in range(bodies):
                alpha = []
                for c in range(channels):
                    total = 0.0
                    for t in range(t_l):
                        for v in range(joints):
                            total += g[m, c, t, v]
                    alpha.append(total / (t_l * joints))
                for t in range(t_l):
                    for v in range(joints):
                        s = 0.0
                        for c in range(channels):
                            s += alpha[c] * a[m, c, t, v]
                        clip[m, t, v] = max(s, 0.0)
            per_clip.append(clip)
    finally:
        for mod, flag in flags:
            mod.training = flag
    longest = max(c.shape[1] for c in per_clip)
    out = np.zeros((n_clips, per_clip[0].shape[0], longest, per_clip[0].shape[2]))
    for n, clip in enumerate(per_clip):
        out[n, :, : clip.shape[1]] = clip
    return out


def naive_gradcam(model, x, layer, target_class, lengths=None) -> np.ndarray:
    """Grad-CAM of ST-GCN block ``layer`` (1-based), read from ``return_features=True``.

    Each clip runs on its own without a ``lengths`` argument; see :func:`_naive_cams` for the
    formula. Returns (N, M, T_l_max, V) float64, zero beyond each clip's own T_l.
    """

    def forward(xc):
        logits, features = model(xc, return_features=True)
        return logits, features[layer - 1]

    return _naive_cams(model, x, target_class, lengths, forward)


def naive_block_gradcam(model, block, x, target_class, lengths=None) -> np.ndarray:
    """Grad-CAM of one block of any model, read by a forward hook on that module alone.

    ``block`` is a submodule of ``model`` whose output is (M, C, T_l, V) for one clip of M
    bodies; each clip goes through ``model(clip)`` (no lengths argument, evaluation mode); see
    :func:`_naive_cams` for the formula. Returns (N, M, T_l_max, V) float64.
    """
    seen = []

    def forward(xc):
        seen.clear()
        logits = model(xc)
        assert len(seen) == 1, "the block must run once per forward pass"
        return logits, seen[0]

    handle = block.register_forward_hook(lambda mod, inp, out: seen.append(out))
    try:
        return _naive_cams(model, x, target_class, lengths, forward)
    finally:
        handle.remove()


def naive_upsample_time(map_tv: np.ndarray, L_in: int, stride: int) -> np.ndarray:
    """A (T_l, V) map at a block's frames linearly interpolated to ``L_in`` input frames.

    Input frame t sits at position ``p = t / stride`` among the block's frames: it gets
    ``(1 - w) * map[i0] + w * map[i1]`` with ``i0 = min(floor(p), T_l - 1)``, ``i1 = min(i0 + 1,
    T_l - 1)`` and ``w = p - i0`` clipped to [0, 1] (0 when ``i1 == i0``). Returns (L_in, V).
    """
    map_tv = np.asarray(map_tv, np.float64)
    t_l, joints = map_tv.shape
    out = np.zeros((L_in, joints))
    for t in range(L_in):
        p = t / stride
        i0 = min(math.floor(p), t_l - 1)
        i1 = min(i0 + 1, t_l - 1)
        w = 0.0 if i1 == i0 else min(max(p - i0, 0.0), 1.0)
        for v in range(joints):
            out[t, v] = (1.0 - w) * map_tv[i0, v] + w * map_tv[i1, v]
    return out


# ---------------------------------------------------------------------------------------------
# Linear CKA
# ---------------------------------------------------------------------------------------------
def naive_linear_cka(X: np.ndarray, Y: np.ndarray) -> float:
    """HSIC form of linear CKA: tr(KHLH) / sqrt(tr(KHKH) tr(LHLH)), K = XX', L = YY'."""
    n = X.shape[0]
    H = np.eye(n) - np.ones((n, n)) / n
    K, L = X @ X.T, Y @ Y.T

    def hsic(A, B):
        return np.trace(A @ H @ B @ H)

    return hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L))


# ---------------------------------------------------------------------------------------------
# Deletion and insertion
# ---------------------------------------------------------------------------------------------
def naive_motion(clip: np.ndarray, length: int) -> np.ndarray:
    """(T, V) speed of each joint of one (C, T, V, M) clip: |x[t] - x[t-1]| summed over bodies,
    frame 0 copying frame 1, zero beyond ``length``."""
    c, t, v, m = clip.shape
    out = np.zeros((t, v))
    for f in range(1, length):
        for j in range(v):
            for b in range(m):
                out[f, j] += math.sqrt(sum((clip[k, f, j, b] - clip[k, f - 1, j, b]) ** 2
                                           for k in range(c)))  # fmt: skip
    if length > 1:
        out[0] = out[1]
    return out


def naive_deletion_area(
    probability,
    clip: np.ndarray,
    length: int,
    scores: np.ndarray,
    unit: str,
    steps: int,
    curve: str = "deletion",
) -> float:
    """Area under one clip's deletion (or insertion) curve, unit by unit, in plain loops.

    ``probability(clip) -> float`` scores a (C, T, V, M) clip; ``scores`` (T, V) rank the cells
    (no ties); a removed cell takes its joint's mean position over the valid frames.
    """
    c, t, v, m = clip.shape
    if unit == "cell":
        units = [[(f, j)] for f in range(length) for j in range(v)]
        value = [scores[f, j] for f in range(length) for j in range(v)]
    elif unit == "joint":
        units = [[(f, j) for f in range(length)] for j in range(v)]
        value = [sum(scores[f, j] for f in range(length)) / length for j in range(v)]
    else:
        units = [[(f, j) for j in range(v)] for f in range(length)]
        value = [sum(scores[f, j] for j in range(v)) for f in range(length)]
    order = sorted(range(len(units)), key=lambda u: -value[u])
    mean = clip[:, :length].mean(axis=1)  # (C, V, M)
    points = []
    for s in range(steps + 1):
        top = set(order[: int(round(s / steps * len(units)))])
        removed = top if curve == "deletion" else set(range(len(units))) - top
        x = clip.copy()
        for u in removed:
            for f, j in units[u]:
                x[:, f, j, :] = mean[:, j, :]
        points.append(probability(x))
    return sum((points[s] + points[s + 1]) / 2 / steps for s in range(steps))
