"""Test-only stand-in for the original ST-GCN code (yysijie/st-gcn, ``net/st_gcn.py``,
``net/utils/tgcn.py``, ``net/utils/graph.py``).

Written independently for this project to mirror the original's module tree, parameter names and
order of operations (including its hop-distance matrix truncated at ``max_hop``, its ``einsum``
graph aggregation and its plain-function residuals), so tests can check that
:meth:`helpers.model.STGCN.from_reference_checkpoint` reproduces the original network's logits.
Deliberately naive: loops and dense matrix powers, no shared code with ``helpers``.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# bones as listed by the original code (NTU 1-based) and by the project brief (HDM05 names)
NTU_BONES_1BASED = [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9),
                    (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18),
                    (20, 19), (22, 23), (23, 8), (24, 25), (25, 12)]
HDM05_NAMES = ["root", "lhipjoint", "lfemur", "ltibia", "lfoot", "ltoes", "rhipjoint", "rfemur", "rtibia",
               "rfoot", "rtoes", "lowerback", "upperback", "thorax", "lowerneck", "upperneck", "head",
               "lclavicle", "lhumerus", "lradius", "lwrist", "lhand", "lfingers", "lthumb", "rclavicle",
               "rhumerus", "rradius", "rwrist", "rhand", "rfingers", "rthumb"]
HDM05_BONES = [("root", "lhipjoint"), ("root", "rhipjoint"), ("root", "lowerback"), ("lhipjoint", "lfemur"),
               ("lfemur", "ltibia"), ("ltibia", "lfoot"), ("lfoot", "ltoes"), ("rhipjoint", "rfemur"),
               ("rfemur", "rtibia"), ("rtibia", "rfoot"), ("rfoot", "rtoes"), ("lowerback", "upperback"),
               ("upperback", "thorax"), ("thorax", "lowerneck"), ("thorax", "lclavicle"), ("thorax", "rclavicle"),
               ("lowerneck", "upperneck"), ("upperneck", "head"), ("lclavicle", "lhumerus"),
               ("lhumerus", "lradius"), ("lradius", "lwrist"), ("lwrist", "lhand"), ("lwrist", "lthumb"),
               ("lhand", "lfingers"), ("rclavicle", "rhumerus"), ("rhumerus", "rradius"), ("rradius", "rwrist"),
               ("rwrist", "rhand"), ("rwrist", "rthumb"), ("rhand", "rfingers")]


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


class Graph:
    """Adjacency stack of the original code for a layout name or an explicit (num_node, edges, center)."""

    def __init__(self, layout="ntu-rgb+d", strategy="spatial", max_hop=1, dilation=1, custom=None):
        if custom is not None:
            self.num_node, bones, self.center = custom
        elif layout == "ntu-rgb+d":
            self.num_node, self.center = 25, 20
            bones = [(i - 1, j - 1) for i, j in NTU_BONES_1BASED]
        elif layout == "hdm05":
            self.num_node, self.center = 31, HDM05_NAMES.index("thorax")
            bones = [(HDM05_NAMES.index(a), HDM05_NAMES.index(b)) for a, b in HDM05_BONES]
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
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, (kernel_size[0], 1), (stride, 1), pad),
            nn.BatchNorm2d(out_channels), nn.Dropout(dropout, inplace=True),
        )
        if not residual:
            self.residual = _zero
        elif in_channels == out_channels and stride == 1:
            self.residual = _identity
        else:
            self.residual = nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=(stride, 1)),
                                          nn.BatchNorm2d(out_channels))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x, A):
        res = self.residual(x)
        x, A = self.gcn(x, A)
        x = self.tcn(x) + res
        return self.relu(x), A


class Model(nn.Module):
    """``Model(in_channels, num_class, graph_args, edge_importance_weighting, **kwargs)`` as in the original."""

    def __init__(self, in_channels, num_class, graph_args, edge_importance_weighting, **kwargs):
        super().__init__()
        self.graph = Graph(**graph_args)
        self.register_buffer("A", torch.tensor(self.graph.A, dtype=torch.float32, requires_grad=False))
        kernel_size = (9, self.A.size(0))
        self.data_bn = nn.BatchNorm1d(in_channels * self.A.size(1))
        first = {k: v for k, v in kwargs.items() if k != "dropout"}
        self.st_gcn_networks = nn.ModuleList((
            st_gcn(in_channels, 64, kernel_size, 1, residual=False, **first),
            st_gcn(64, 64, kernel_size, 1, **kwargs),
            st_gcn(64, 64, kernel_size, 1, **kwargs),
            st_gcn(64, 64, kernel_size, 1, **kwargs),
            st_gcn(64, 128, kernel_size, 2, **kwargs),
            st_gcn(128, 128, kernel_size, 1, **kwargs),
            st_gcn(128, 128, kernel_size, 1, **kwargs),
            st_gcn(128, 256, kernel_size, 2, **kwargs),
            st_gcn(256, 256, kernel_size, 1, **kwargs),
            st_gcn(256, 256, kernel_size, 1, **kwargs),
        ))
        if edge_importance_weighting:
            self.edge_importance = nn.ParameterList([nn.Parameter(torch.ones(self.A.size()))
                                                     for _ in self.st_gcn_networks])
        else:
            self.edge_importance = [1] * len(self.st_gcn_networks)
        self.fcn = nn.Conv2d(256, num_class, kernel_size=1)

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


def randomize(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every parameter and BN running statistic random values (so a mapping error shows)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("edge_importance"):
                p.copy_(torch.rand(p.shape, generator=gen) + 0.5)
            elif p.dim() == 1 and ("bn" in name or ".tcn.0." in name or ".tcn.3." in name or "residual.1" in name):
                p.copy_(torch.rand(p.shape, generator=gen) + 0.5 if name.endswith("weight")
                        else torch.randn(p.shape, generator=gen) * 0.1)
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
