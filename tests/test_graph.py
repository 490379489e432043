"""Skeleton graphs: partition strategies checked by hand, against the original code's construction
(test re-implementation in ``naive.py``), layouts, validation and the partition plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from helpers.data.dataset import SkeletonDataset
from helpers.data.skeletons import HDM05, LAYOUTS, NTU_RGBD
from helpers.nets.skeleton_graph import SkeletonGraph
from helpers.plots.skeletons import plot_partition

from naive import ReferenceGraph

CHAIN = [(0, 1), (1, 2), (2, 3)]  # 0 - 1 - 2 - 3, centre at the end (joint 0)


def _matrix(entries: dict[tuple[int, int], float], v: int = 4) -> np.ndarray:
    out = np.zeros((v, v), dtype=np.float32)
    for (i, j), val in entries.items():
        out[i, j] = val
    return out


# --------------------------------------------------------------------------- hand-worked chain
def test_chain_uniform_is_column_normalised_neighbourhood():
    g = SkeletonGraph(4, CHAIN, center=0, strategy="uniform")
    # column w holds 1/deg(w) (self-loop included) on w's closed neighbourhood; degrees 2, 3, 3, 2
    expected = _matrix(
        {
            (0, 0): 1 / 2,
            (1, 0): 1 / 2,
            (0, 1): 1 / 3,
            (1, 1): 1 / 3,
            (2, 1): 1 / 3,
            (1, 2): 1 / 3,
            (2, 2): 1 / 3,
            (3, 2): 1 / 3,
            (2, 3): 1 / 2,
            (3, 3): 1 / 2,
        }
    )
    assert g.A.shape == (1, 4, 4) and g.A.dtype == np.float32
    np.testing.assert_allclose(g.A[0], expected, rtol=1e-6)


def test_chain_spatial_geodesic_by_hand():
    g = SkeletonGraph(4, CHAIN, center=0, strategy="spatial")
    root = _matrix({(0, 0): 1 / 2, (1, 1): 1 / 3, (2, 2): 1 / 3, (3, 3): 1 / 2})
    # A[k, v, w]: input v feeds output w. "farther": v at least as far from joint 0 as w
    farther = _matrix({(1, 0): 1 / 2, (2, 1): 1 / 3, (3, 2): 1 / 3})
    closer = _matrix({(0, 1): 1 / 3, (1, 2): 1 / 3, (2, 3): 1 / 2})
    assert g.A.shape == (3, 4, 4)
    assert g.subset_names == ["root", "farther", "closer"]
    for k, want in enumerate([root, farther, closer]):
        np.testing.assert_allclose(g.A[k], want, rtol=1e-6, err_msg=f"subset {k}")
    assert g.neighbor_subsets(2) == {0: [2], 1: [3], 2: [1]}


def test_chain_spatial_truncated_reproduces_original_quirk():
    # with max_hop=1 the original code sees joints 2 and 3 as "infinitely" far from the centre, so
    # the bone 2-3 counts as "farther" in both directions
    g = SkeletonGraph(4, CHAIN, center=0, strategy="spatial", center_distance="truncated")
    farther = _matrix({(1, 0): 1 / 2, (2, 1): 1 / 3, (3, 2): 1 / 3, (2, 3): 1 / 2})
    closer = _matrix({(0, 1): 1 / 3, (1, 2): 1 / 3})
    np.testing.assert_allclose(g.A[1], farther, rtol=1e-6)
    np.testing.assert_allclose(g.A[2], closer, rtol=1e-6)
    np.testing.assert_allclose(
        g.A, ReferenceGraph(custom=(4, CHAIN, 0), strategy="spatial").A, atol=1e-7
    )


def test_chain_distance_max_hop_2_by_hand():
    g = SkeletonGraph(4, CHAIN, center=0, strategy="distance", max_hop=2)
    # closed 2-hop neighbourhoods have sizes 3, 4, 4, 3
    hop0 = _matrix({(0, 0): 1 / 3, (1, 1): 1 / 4, (2, 2): 1 / 4, (3, 3): 1 / 3})
    hop1 = _matrix(
        {(1, 0): 1 / 3, (0, 1): 1 / 4, (2, 1): 1 / 4, (1, 2): 1 / 4, (3, 2): 1 / 4, (2, 3): 1 / 3}
    )
    hop2 = _matrix({(2, 0): 1 / 3, (3, 1): 1 / 4, (0, 2): 1 / 4, (1, 3): 1 / 3})
    assert g.subset_names == ["hop 0", "hop 1", "hop 2"]
    for k, want in enumerate([hop0, hop1, hop2]):
        np.testing.assert_allclose(g.A[k], want, rtol=1e-6, err_msg=f"hop {k}")


def test_chain_dilation_keeps_only_even_hops():
    g = SkeletonGraph(4, CHAIN, center=0, strategy="distance", max_hop=2, dilation=2)
    np.testing.assert_allclose(g.A[0], np.eye(4) / 2, rtol=1e-6)
    np.testing.assert_allclose(
        g.A[1], _matrix({(2, 0): 0.5, (3, 1): 0.5, (0, 2): 0.5, (1, 3): 0.5}), rtol=1e-6
    )


def test_hop_distance_is_geodesic():
    g = SkeletonGraph(4, CHAIN, center=0)
    np.testing.assert_array_equal(
        g.hop_distance, np.abs(np.arange(4)[:, None] - np.arange(4)[None, :])
    )


def test_equal_distance_neighbours_go_with_farther_subset():
    # triangle 0-1-2 plus tail 2-3; joints 1 and 2 are both one hop from the centre 0
    edges = [(0, 1), (0, 2), (1, 2), (2, 3)]
    g = SkeletonGraph(4, edges, center=0, strategy="spatial")
    assert g.A[1, 2, 1] > 0 and g.A[1, 1, 2] > 0 and g.A[2, 2, 1] == 0
    ref = ReferenceGraph(custom=(4, edges, 0), strategy="spatial", max_hop=2)
    np.testing.assert_allclose(SkeletonGraph(4, edges, 0, "spatial", max_hop=2).A, ref.A, atol=1e-7)


# --------------------------------------------------------------------------- general properties
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize(
    "strategy,max_hop",
    [("uniform", 1), ("distance", 1), ("spatial", 1), ("distance", 2), ("spatial", 2)],
)
@pytest.mark.parametrize("center_distance", ["geodesic", "truncated"])
def test_columns_sum_to_one_and_subsets_are_disjoint(layout, strategy, max_hop, center_distance):
    g = SkeletonGraph.from_layout(
        layout, strategy=strategy, max_hop=max_hop, center_distance=center_distance
    )
    np.testing.assert_allclose(g.A.sum(axis=(0, 1)), 1.0, rtol=1e-6)
    assert ((g.A > 0).sum(axis=0) <= 1).all(), "a joint pair sits in two subsets"
    support = g.adjacency
    np.testing.assert_array_equal(support, support.T)
    np.testing.assert_array_equal(support, (g.hop_distance <= max_hop).astype(np.float32))
    expected_k = {"uniform": 1, "distance": max_hop + 1, "spatial": 1 + 2 * max_hop}[strategy]
    assert g.num_subsets == expected_k == len(g.subset_names)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize(
    "strategy,max_hop", [("uniform", 1), ("distance", 1), ("spatial", 1), ("spatial", 2)]
)
def test_truncated_variant_matches_original_construction(layout, strategy, max_hop):
    ours = SkeletonGraph.from_layout(
        layout, strategy=strategy, max_hop=max_hop, center_distance="truncated"
    )
    ref = ReferenceGraph(layout, strategy, max_hop=max_hop)
    np.testing.assert_allclose(ours.A, ref.A, atol=1e-7)


def test_geodesic_and_truncated_agree_when_max_hop_covers_the_skeleton():
    ecc = 3  # eccentricity of joint 0 in the chain
    a = SkeletonGraph(4, CHAIN, 0, "spatial", max_hop=ecc)
    b = SkeletonGraph(4, CHAIN, 0, "spatial", max_hop=ecc, center_distance="truncated")
    np.testing.assert_array_equal(a.A, b.A)


def test_geodesic_spatial_subsets_follow_distance_to_centre():
    g = SkeletonGraph.from_layout("ntu-rgb+d")
    r = g.hop_distance[:, g.center]
    v, w = np.nonzero(g.A[1])
    assert (r[v] > r[w]).all()  # a tree has no equal-distance neighbours
    v, w = np.nonzero(g.A[2])
    assert (r[v] < r[w]).all()
    # every bone appears once in each direction, split over the two subsets
    assert (g.A[1] > 0).sum() == (g.A[2] > 0).sum() == len(g.edges)


# --------------------------------------------------------------------------- layouts
@pytest.mark.parametrize(
    "layout,v,center,center_name",
    [("ntu-rgb+d", 25, 20, "spine shoulder"), ("hdm05", 31, 13, "thorax")],
)
def test_layouts(layout, v, center, center_name):
    g = SkeletonGraph.from_layout(layout)
    assert g.num_nodes == v and len(g.joint_names) == v
    assert len(g.edges) == v - 1  # both skeletons are trees
    assert (g.hop_distance >= 0).all()  # connected
    assert g.center == center and g.joint_names[center] == center_name


def test_hdm05_bones_follow_asf_hierarchy():
    g = SkeletonGraph.from_layout("hdm05")
    names = g.joint_names
    bones = {frozenset((names[i], names[j])) for i, j in g.edges}
    for a, b in [
        ("root", "lowerback"),
        ("thorax", "lclavicle"),
        ("lwrist", "lthumb"),
        ("rhand", "rfingers"),
        ("upperneck", "head"),
        ("rfoot", "rtoes"),
    ]:
        assert frozenset((a, b)) in bones
    assert names[0] == "root" and names[1] == "lhipjoint" and names[-1] == "rthumb"
    assert g.hop_distance[names.index("head"), names.index("thorax")] == 3


def test_from_dataset_and_config_round_trip():
    seqs = [np.zeros((5, 4, 3), np.float32), np.ones((6, 4, 3), np.float32)]
    ds = SkeletonDataset.from_arrays(seqs, [0, 1], edges=CHAIN, center=0)
    g = SkeletonGraph.from_dataset(ds, strategy="spatial")
    np.testing.assert_array_equal(g.A, SkeletonGraph(4, CHAIN, 0).A)
    assert SkeletonGraph.from_dataset(ds, center=3).center == 3
    for graph in (g, SkeletonGraph.from_layout("hdm05", "distance", max_hop=2)):
        again = SkeletonGraph.from_config(graph.to_config())
        assert again == graph
        np.testing.assert_array_equal(again.A, graph.A)


def test_edges_are_normalised():
    g = SkeletonGraph(3, [(1, 0), (0, 1), (2, 2), (1, 2)], center=0)
    np.testing.assert_array_equal(g.edges, [[0, 1], [1, 2]])


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(num_nodes=4, edges=[(0, 1), (1, 2)], center=0), ValueError, r"not connected.*3"),
        (
            dict(num_nodes=4, edges=[(0, 1), (1, 2), (2, 4)], center=0),
            ValueError,
            r"edge 2 = \(2, 4\).*0\.\.3",
        ),
        (dict(num_nodes=4, edges=[(0, 1), (1, 2), (-1, 3)], center=0), ValueError, r"outside"),
        (dict(num_nodes=4, edges=[(0, 1, 2)], center=0), ValueError, r"shape \(E, 2\)"),
        (dict(num_nodes=4, edges=[(0, 1.5)], center=0), TypeError, r"integer"),
        (dict(num_nodes=4, edges=CHAIN, center=4), ValueError, r"center joint 4"),
        (dict(num_nodes=4, edges=CHAIN, center=0, strategy="spectral"), ValueError, r"strategy"),
        (dict(num_nodes=4, edges=CHAIN, center=0, max_hop=0), ValueError, r"max_hop"),
        (dict(num_nodes=4, edges=CHAIN, center=0, dilation=2), ValueError, r"dilation"),
        (dict(num_nodes=0, edges=[], center=0), ValueError, r"num_nodes"),
    ],
)
def test_validation_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        SkeletonGraph(**kwargs)


def test_unknown_layout_and_named_disconnected_joint():
    with pytest.raises(ValueError, match="unknown layout"):
        SkeletonGraph.from_layout("kinetics")
    with pytest.raises(ValueError, match=r"2 \(c\)"):
        SkeletonGraph(3, [(0, 1)], center=0, joint_names=["a", "b", "c"])


# --------------------------------------------------------------------------- plot
def test_plot_partition_colours_each_subset():
    import matplotlib.pyplot as plt

    g = SkeletonGraph.from_layout("ntu-rgb+d")
    pos = np.random.default_rng(0).normal(size=(25, 3))
    fig, ax = plt.subplots()
    out = plot_partition(
        g, pos, node=4, ax=ax
    )  # left shoulder: self, farther (elbow), closer (spine shoulder)
    labels = [t.get_text() for t in out.get_legend().get_texts()]
    assert labels == ["0: root", "1: farther", "2: closer", "centre joint"]
    with pytest.raises(ValueError, match=r"\(V, 2\) or \(V, 3\)"):
        plot_partition(g, pos[:10], node=4, ax=ax)
    plt.close(fig)


@pytest.mark.parametrize("layout", [HDM05, NTU_RGBD])
def test_graph_from_layout_is_the_layout_of_helpers_skeletons(layout):
    g = SkeletonGraph.from_layout(layout.name)
    assert g.joint_names == list(layout.joint_names) and g.center == layout.center
    np.testing.assert_array_equal(
        g.edges, SkeletonGraph(layout.num_joints, layout.edges, center=0).edges
    )
    assert len(layout.sides) == layout.num_joints and set(layout.sides) <= {"L", "R", "C"}


def test_hdm05_partition_centre_is_the_thorax_and_the_normalisation_root_the_pelvis():
    assert HDM05.joint_names[HDM05.center] == "thorax" and HDM05.joint_names[HDM05.root] == "root"
    assert HDM05.sides[HDM05.joint_names.index("lowerback")] == "C"
    assert HDM05.sides[HDM05.joint_names.index("lhumerus")] == "L"
    assert HDM05.sides[HDM05.joint_names.index("rtibia")] == "R"
