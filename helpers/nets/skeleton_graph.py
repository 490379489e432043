"""Skeleton graphs and the partition strategies of ST-GCN (Yan, Xiong & Lin, AAAI 2018).

A :class:`SkeletonGraph` turns a list of bones into the stack of normalised adjacency matrices
``A`` (K, V, V) that an ST-GCN layer aggregates with::

    out[..., w] = sum_k sum_v (W_k x)[..., v] * A[k, v, w]

so ``A[k, v, w]`` is the weight with which input joint ``v`` feeds output joint ``w`` in subset
``k``. Every matrix keeps the convention of the original code (``net/utils/graph.py`` of
yysijie/st-gcn), so adjacency stacks and checkpoints are interchangeable with it:

* the neighbourhood of ``w`` is every joint at most ``max_hop`` hops away (in steps of
  ``dilation``), including ``w`` itself;
* the binary neighbourhood matrix is normalised by its column sums, ``A_norm = A Λ^-1`` with
  ``Λ_ww = sum_v A[v, w]``, so the weights feeding each output joint sum to 1 over all subsets;
* the partition strategies split that normalised matrix into subsets:

  - ``'uniform'``: K = 1, the whole neighbourhood.
  - ``'distance'``: K = number of valid hops; subset ``i`` holds the joints at hop
    ``0, d, 2d, ...``.
  - ``'spatial'``: K = 1 + 2 * (number of non-zero valid hops); subset 0 is the joint itself;
    for each hop h > 0 one subset of neighbours at least as far from the centre joint as ``w``
    (centrifugal, "farther") then one of neighbours closer to it (centripetal, "closer"). This
    is the order of the original code; the paper lists the closer subset first, which only
    renames the learned kernels.

Distance to the centre joint
----------------------------
The paper partitions by the distance to the skeleton's centre. The original code measures it with
the hop-distance matrix it truncated at ``max_hop``, so every joint farther than ``max_hop`` from
the centre is "infinitely" far and all bones between two such joints land in the farther subset
(reported in open-mmlab/mmskeleton issue #367). ``center_distance='geodesic'`` (the default) uses
the true hop distance over the whole skeleton, as the paper describes; ``'truncated'`` reproduces
the original code's matrices bit for bit, which is what checkpoints trained with it carry.
"""

from __future__ import annotations

import warnings
from collections import deque
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from helpers.data.skeletons import get_layout
from helpers.nets.validation import check_option
from helpers.runtime.arguments import check_int

__all__ = ["CENTER_DISTANCES", "STRATEGIES", "SkeletonGraph"]

STRATEGIES = ("uniform", "distance", "spatial")
CENTER_DISTANCES = ("geodesic", "truncated")


# --------------------------------------------------------------------------- graph
class SkeletonGraph:
    """A skeleton as a graph, with the partitioned, normalised adjacency stack of ST-GCN.

    Parameters
    ----------
    num_nodes : number of joints V
    edges : iterable of (i, j) 0-based joint pairs (undirected bones); self-loops are ignored
        (every joint is its own neighbour anyway) and duplicates are merged
    center : the centre joint used by the ``'spatial'`` strategy
    strategy : ``'uniform'``, ``'distance'`` or ``'spatial'``
    max_hop : neighbourhood radius in hops
    dilation : keep only hops ``0, dilation, 2*dilation, ... <= max_hop``
    center_distance : ``'geodesic'`` (paper) or ``'truncated'`` (original code); see module doc
    joint_names : optional list of V names, used by plots
    layout : name of the built-in layout this graph came from, or None

    Attributes
    ----------
    A : (K, V, V) float32, ``A[k, v, w]`` = weight of input joint v for output joint w in subset k
    hop_distance : (V, V) int64, geodesic hop distance between joints over the whole skeleton
    edges : (E, 2) int64, the undirected bones with i < j, sorted
    subset_names : K short names of the subsets, for legends
    """

    def __init__(
        self,
        num_nodes: int,
        edges: Iterable[Sequence[int]],
        center: int,
        strategy: str = "spatial",
        max_hop: int = 1,
        dilation: int = 1,
        *,
        center_distance: str = "geodesic",
        joint_names: Sequence[str] | None = None,
        layout: str | None = None,
    ):
        self.num_nodes = check_int("num_nodes", num_nodes, low=1)
        self.edges = _check_edges(edges, self.num_nodes)
        self.center = check_int("center", center)
        if not 0 <= self.center < self.num_nodes:
            raise ValueError(f"center joint {center} is outside 0..{self.num_nodes - 1}")
        self.strategy = check_option("strategy", strategy, STRATEGIES)
        center_distance = check_option("center_distance", center_distance, CENTER_DISTANCES)
        self.max_hop = check_int("max_hop", max_hop, low=1)
        self.dilation = check_int("dilation", dilation, low=1)
        if self.dilation > self.max_hop:
            raise ValueError(
                f"dilation={dilation} exceeds max_hop={max_hop}: no neighbour hop would be kept"
            )
        self.center_distance = center_distance
        if joint_names is not None:
            joint_names = [str(n) for n in joint_names]
            if len(joint_names) != self.num_nodes:
                raise ValueError(
                    f"{len(joint_names)} joint names given for {self.num_nodes} joints"
                )
        self.joint_names = list(joint_names) if joint_names is not None else []
        self.layout = layout

        self.hop_distance = _hop_distances(self.num_nodes, self.edges)
        unreachable = np.flatnonzero(self.hop_distance[self.center] < 0)
        if unreachable.size:
            names = ", ".join(self._label(int(j)) for j in unreachable[:10])
            more = "" if unreachable.size <= 10 else f" (and {unreachable.size - 10} more)"
            raise ValueError(
                f"the skeleton graph is not connected: joint(s) {names}{more} cannot be reached "
                "from "
                f"the centre joint {self._label(self.center)}; every joint needs a path of bones "
                "to it"
            )
        self.A, self.subset_names = _partition(
            self.hop_distance, self.center, strategy, self.max_hop, self.dilation, center_distance
        )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_layout(
        cls,
        layout: str,
        strategy: str = "spatial",
        max_hop: int = 1,
        dilation: int = 1,
        *,
        center_distance: str = "geodesic",
    ) -> "SkeletonGraph":
        """A built-in skeleton (:mod:`helpers.data.skeletons`), partitioned around its centre joint.

        ``layout`` is ``'ntu-rgb+d'`` (25 Kinect v2 joints), ``'hdm05'`` (31 ASF joints) or
        ``'utd-mhad'`` (20 Kinect v1 joints).
        """
        spec = get_layout(layout)
        return cls(
            spec.num_joints,
            spec.edges,
            spec.center,
            strategy,
            max_hop,
            dilation,
            center_distance=center_distance,
            joint_names=spec.joint_names,
            layout=layout,
        )

    @classmethod
    def from_dataset(
        cls,
        dataset,
        strategy: str = "spatial",
        max_hop: int = 1,
        dilation: int = 1,
        *,
        center: int | None = None,
        center_distance: str = "geodesic",
    ) -> "SkeletonGraph":
        """The skeleton (edges, centre) of a :class:`~helpers.data.dataset.SkeletonDataset`.

        ``center`` overrides ``dataset.center`` (which may be chosen for normalisation, e.g. the
        root).
        """
        v = int(dataset.num_joints)
        names = list(getattr(dataset, "joint_names", []) or []) or None
        edges = np.asarray(dataset.edges).reshape(-1, 2)
        root = int(dataset.center if center is None else center)
        if len(edges) == 0 and v > 1:
            # A dataset saved without bones (from_arrays' default) still gets a network: every
            # joint linked to the centre joint, the one graph that assumes nothing about which
            # joints are neighbours beyond "all belong to one body".
            warnings.warn(
                f"{getattr(dataset, 'name', 'the dataset')!r} names no bones: the graph links "
                f"every joint to the centre joint {root} (a star); give edges= to "
                "SkeletonDataset.from_arrays for the real skeleton",
                stacklevel=2,
            )
            edges = np.asarray([(root, j) for j in range(v) if j != root], np.int64)
        return cls(
            v,
            edges,
            dataset.center if center is None else center,
            strategy,
            max_hop,
            dilation,
            center_distance=center_distance,
            joint_names=names,
            layout=None,
        )

    # ------------------------------------------------------------------ config round trip
    def to_config(self) -> dict[str, Any]:
        """A plain dict (JSON-able) that :meth:`from_config` turns back into an equal graph."""
        cfg: dict[str, Any] = {
            "strategy": self.strategy,
            "max_hop": self.max_hop,
            "dilation": self.dilation,
            "center_distance": self.center_distance,
        }
        if self.layout is not None:
            cfg["layout"] = self.layout
        else:
            cfg.update(
                num_nodes=self.num_nodes,
                edges=self.edges.tolist(),
                center=self.center,
                joint_names=list(self.joint_names),
            )
        return cfg

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> "SkeletonGraph":
        """Inverse of :meth:`to_config`."""
        cfg = dict(cfg)
        opts = {k: cfg[k] for k in ("strategy", "max_hop", "dilation") if k in cfg}
        cd = cfg.get("center_distance", "geodesic")
        if cfg.get("layout") is not None:
            return cls.from_layout(cfg["layout"], center_distance=cd, **opts)
        return cls(
            cfg["num_nodes"],
            cfg["edges"],
            cfg["center"],
            center_distance=cd,
            joint_names=cfg.get("joint_names") or None,
            **opts,
        )

    # ------------------------------------------------------------------ facts
    @property
    def num_subsets(self) -> int:
        """K, the number of adjacency matrices (spatial kernel size)."""
        return int(self.A.shape[0])

    @property
    def adjacency(self) -> np.ndarray:
        """(V, V) float32 binary neighbourhood (valid hops and self-loops), before normalisation."""
        return (self.A.sum(axis=0) > 0).astype(np.float32)

    def neighbor_subsets(self, node: int) -> dict[int, list[int]]:
        """For output joint ``node``: ``{subset k: [input joints v with A[k, v, node] > 0]}``."""
        node = check_int("node", node)
        if not 0 <= node < self.num_nodes:
            raise ValueError(f"node {node} is outside 0..{self.num_nodes - 1}")
        return {k: np.flatnonzero(self.A[k, :, node] > 0).tolist() for k in range(self.num_subsets)}

    def _label(self, j: int) -> str:
        return f"{j} ({self.joint_names[j]})" if self.joint_names else str(j)

    def __repr__(self) -> str:
        src = (
            f"layout={self.layout!r}" if self.layout else f"V={self.num_nodes}, E={len(self.edges)}"
        )
        return (
            f"SkeletonGraph({src}, center={self.center}, strategy={self.strategy!r}, "
            f"max_hop={self.max_hop}, dilation={self.dilation}, K={self.num_subsets})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SkeletonGraph):
            return NotImplemented
        return (
            self.num_nodes == other.num_nodes
            and self.center == other.center
            and np.array_equal(self.edges, other.edges)
            and self.strategy == other.strategy
            and self.max_hop == other.max_hop
            and self.dilation == other.dilation
            and self.center_distance == other.center_distance
        )

    __hash__ = None  # type: ignore[assignment]  # mutable numpy attributes


# --------------------------------------------------------------------------- building blocks
def _check_edges(edges: Iterable[Sequence[int]], num_nodes: int) -> np.ndarray:
    """Validate bones; return (E, 2) int64 with i < j, unique and sorted, self-loops dropped."""
    raw = edges if isinstance(edges, np.ndarray) else list(edges)
    arr = np.asarray(raw)
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(
            f"edges must be (i, j) joint pairs, i.e. shape (E, 2); got shape {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.all(np.mod(arr, 1) == 0)):
            raise TypeError(f"edges must hold integer joint indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    bad = np.flatnonzero((arr < 0).any(axis=1) | (arr >= num_nodes).any(axis=1))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"edge {i} = ({arr[i, 0]}, {arr[i, 1]}) refers to a joint outside 0..{num_nodes - 1} "
            f"({bad.size} such edge(s)); edges are 0-based"
        )
    arr = arr[arr[:, 0] != arr[:, 1]]
    arr = np.sort(arr, axis=1)
    return np.unique(arr, axis=0) if len(arr) else np.zeros((0, 2), dtype=np.int64)


def _hop_distances(num_nodes: int, edges: np.ndarray) -> np.ndarray:
    """(V, V) int64 geodesic hop distance by breadth-first search; -1 where unreachable."""
    nbrs: list[list[int]] = [[] for _ in range(num_nodes)]
    for i, j in edges.tolist():
        nbrs[i].append(j)
        nbrs[j].append(i)
    dist = np.full((num_nodes, num_nodes), -1, dtype=np.int64)
    for s in range(num_nodes):
        dist[s, s] = 0
        queue = deque([s])
        while queue:
            u = queue.popleft()
            for w in nbrs[u]:
                if dist[s, w] < 0:
                    dist[s, w] = dist[s, u] + 1
                    queue.append(w)
    return dist


def _partition(
    hop: np.ndarray, center: int, strategy: str, max_hop: int, dilation: int, center_distance: str
) -> tuple[np.ndarray, list[str]]:
    """The (K, V, V) float32 adjacency stack and subset names; see the module docstring."""
    valid_hops = list(range(0, max_hop + 1, dilation))
    # Float copy with inf beyond max_hop: the original code's truncated distance matrix.
    within = hop.astype(np.float64)
    within[(hop < 0) | (hop > max_hop)] = np.inf
    neighborhood = np.isin(within, valid_hops).astype(np.float64)
    col = neighborhood.sum(axis=0)
    norm = neighborhood / np.where(col > 0, col, 1.0)[None, :]  # A Λ^-1: each column sums to 1

    if strategy == "uniform":
        return norm[None].astype(np.float32), ["neighbours"]
    if strategy == "distance":
        A = np.stack([np.where(within == h, norm, 0.0) for h in valid_hops])
        return A.astype(np.float32), [f"hop {h}" for h in valid_hops]

    # spatial: compare each input joint's distance to the centre with the output joint's
    r = within[:, center] if center_distance == "truncated" else hop[:, center].astype(np.float64)
    farther_or_equal = r[:, None] >= r[None, :]  # [v, w]: input v at least as far out as output w
    subsets, names = [], []
    for h in valid_hops:
        at_h = within == h
        if h == 0:
            subsets.append(np.where(at_h, norm, 0.0))
            names.append("root")
        else:
            subsets.append(np.where(at_h & farther_or_equal, norm, 0.0))
            subsets.append(np.where(at_h & ~farther_or_equal, norm, 0.0))
            suffix = "" if max_hop == 1 else f" (hop {h})"
            names += [f"farther{suffix}", f"closer{suffix}"]
    # inf == inf counts as "equal" in the truncated variant, exactly as in the original code
    return np.stack(subsets).astype(np.float32), names
