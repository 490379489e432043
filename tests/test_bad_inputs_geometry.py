"""Bad inputs to ``helpers.geometry`` and ``helpers.dtw``: refused, naming the argument.

Two parts:

* a table of bad calls (id, the call, the exception type, a regex the message must match, which
  names the argument), run by one parametrised test;
* the numeric edges that are handled rather than refused: DTW, the kNN/NNK graphs, the 1/d
  label error and classical MDS give, on data multiplied by ``c`` (down to 1e-310 and up to
  1e300), the results of the original data (or ``c`` times them, for distances), and the
  silent wrong results of before (a repeated neighbour, layers with different numbers of
  sequences, DTW costs that overflow) are refused.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import helpers.dtw as dtw
import helpers.geometry as geo
from helpers.runtime.arguments import ArgumentTypeError

RNG = np.random.default_rng(0)
N = 12
POINTS = RNG.standard_normal((N, 3))
D = np.sqrt(((POINTS[:, None] - POINTS[None]) ** 2).sum(-1))
Y = np.arange(N) % 2
SEQS = [RNG.standard_normal((int(t), 3)) for t in RNG.integers(3, 9, N)]
FEATURES = [SEQS, [s[:, :2] for s in SEQS]]  # two layers of the same N sequences
UNEVEN = [SEQS, [s[:, :2] for s in SEQS[:-1]]]  # the second layer lost a sequence
SAMPLES = RNG.standard_normal((20, 3))  # bootstrap values (B, L)
SETS = geo.NeighbourSets.from_matrix(D, 4)
D10 = D[:10, :10]


def repeated_neighbour() -> geo.NeighbourSets:
    """Node 0 lists its nearest neighbour twice (first and second place)."""
    idx, dist = SETS.indices.copy(), SETS.distances.copy()
    idx[0, 1], dist[0, 1] = idx[0, 0], dist[0, 0]
    return geo.NeighbourSets(idx, dist)


def huge(scale: float, n: int = 2, frames: int = 40):
    """``n`` constant sequences of ``frames`` frames, ``+-scale`` times 1, 1.1, 1.2...

    Finite values (at most 1.3e308 for ``n <= 4``), whose DTW costs are not.
    """
    return [(-1) ** i * scale * (1 + i / 10) * np.ones((frames, 3)) for i in range(n)]


def not_int(name: str) -> str:
    """The start of the message of a non-integer where an integer is needed, naming ``name``."""
    return rf"^{re.escape(name)} must be an integer, got "


# (id, call, exception type, regex the message must match: it names the argument)
CASES = [
    # --- integers where integers are needed: refused, not floored -------------------------
    ("from_matrix k=2.5", lambda: geo.NeighbourSets.from_matrix(D, 2.5), TypeError, not_int("k")),
    ("from_matrix k=True", lambda: geo.NeighbourSets.from_matrix(D, True), TypeError, not_int("k")),
    ("truncate k=2.0", lambda: SETS.truncate(2.0), TypeError, not_int("k")),
    (
        "from_matrix among='no'",
        lambda: geo.NeighbourSets.from_matrix(D, 2, among="no"),
        TypeError,
        "among",
    ),
    ("KNNGraph k=2.5", lambda: geo.KNNGraph(2.5).fit(D), TypeError, "k must be an integer"),
    (
        "knn_graph_from_distances k=True",
        lambda: geo.knn_graph_from_distances(D, True),
        TypeError,
        "k must be an integer",
    ),
    (
        "nnk_graph_from_distances k=np.float64",
        lambda: geo.nnk_graph_from_distances(D, np.float64(3)),
        TypeError,
        "k must be an integer",
    ),
    ("kernel_bandwidth k=3.0", lambda: geo.kernel_bandwidth(D, 3.0), TypeError, not_int("k")),
    ("neighbor_candidates k='3'", lambda: geo.neighbor_candidates(D, "3"), TypeError, not_int("k")),
    ("knn_label_error k=2.5", lambda: geo.knn_label_error(D, Y, k=2.5), TypeError, not_int("k")),
    ("reference_levels k=2.5", lambda: geo.reference_levels(Y, 2.5), TypeError, not_int("k")),
    ("graph_table k=2.5", lambda: geo.graph_table({"a": D}, Y, 2.5), TypeError, not_int("k")),
    ("graph_table k=True", lambda: geo.graph_table({"a": D}, Y, True), TypeError, not_int("k")),
    (
        "graph_table k=[3, 2.5]",
        lambda: geo.graph_table({"a": D}, Y, [3, 2.5]),
        TypeError,
        not_int("k[1]"),
    ),
    (
        "neighbourhood_graphs k=2.5",
        lambda: geo.neighbourhood_graphs(D, Y, 2.5),
        TypeError,
        not_int("k"),
    ),
    (
        "layer_radii minimum=1.7",
        lambda: geo.layer_radii(FEATURES, minimum=1.7),
        TypeError,
        not_int("minimum"),
    ),
    (
        "layer_radii minimum=True",
        lambda: geo.layer_radii(FEATURES, minimum=True),
        TypeError,
        not_int("minimum"),
    ),
    (
        "layer_radii minimum=-1",
        lambda: geo.layer_radii(FEATURES, minimum=-1),
        ValueError,
        "minimum",
    ),
    (
        "layer_radii fraction='0.1'",
        lambda: geo.layer_radii(FEATURES, fraction="0.1"),
        TypeError,
        "fraction",
    ),
    (
        "layer_radii subset=floats",
        lambda: geo.layer_radii(FEATURES, subset=[0.5, 1.5]),
        TypeError,
        "subset",
    ),
    (
        "layer_distances subset=floats",
        lambda: geo.layer_distances(FEATURES, subset=[0.0, 1.0], cache=False),
        TypeError,
        "subset",
    ),
    (
        "layer_geometry k=2.5",
        lambda: geo.layer_geometry(FEATURES, Y, k=2.5, cache=False),
        TypeError,
        not_int("k"),
    ),
    (
        "sensitivity_grid ks=[2.5]",
        lambda: geo.sensitivity_grid(
            {"m": FEATURES}, Y, windows=[1], ks=[2.5], layers={"input": 0}
        ),
        TypeError,
        not_int("ks[0]"),
    ),
    (
        "bootstrap_layers n_boot=10.0",
        lambda: geo.bootstrap_layers([D], Y, k=2, n_boot=10.0),
        TypeError,
        not_int("n_boot"),
    ),
    (
        "bootstrap_layers k=2.5",
        lambda: geo.bootstrap_layers([D], Y, k=2.5, n_boot=2),
        TypeError,
        not_int("k"),
    ),
    ("layer_values k=2.5", lambda: geo.layer_values([D], Y, k=2.5), TypeError, not_int("k")),
    (
        "paired_contrast first=[0.5]",
        lambda: geo.paired_contrast(SAMPLES, [0.5], [2]),
        TypeError,
        "first",
    ),
    (
        "slope_over_depth layers=[0, 1.5, 2]",
        lambda: geo.slope_over_depth(SAMPLES, [0, 1.5, 2]),
        TypeError,
        "layers",
    ),
    (
        "classical_mds n_components=2.0",
        lambda: geo.classical_mds(D, 2.0),
        TypeError,
        not_int("n_components"),
    ),
    (
        "classical_mds return_result='yes'",
        lambda: geo.classical_mds(D, 2, return_result="yes"),
        TypeError,
        "return_result",
    ),
    ("knn_dtw k=2.5", lambda: geo.knn_dtw(SEQS, 2.5), TypeError, not_int("k")),
    ("knn_dtw n_jobs=1.5", lambda: geo.knn_dtw(SEQS, 2, n_jobs=1.5), TypeError, not_int("n_jobs")),
    (
        "knn_dtw block_rows=2.5",
        lambda: geo.knn_dtw(SEQS, 2, block_rows=2.5),
        TypeError,
        not_int("block_rows"),
    ),
    (
        "knn_dtw candidates=5.5",
        lambda: geo.knn_dtw(SEQS, 2, mode="approximate", candidates=5.5),
        TypeError,
        not_int("candidates"),
    ),
    (
        "knn_dtw candidates=True",
        lambda: geo.knn_dtw(SEQS, 2, mode="approximate", candidates=True),
        TypeError,
        not_int("candidates"),
    ),
    (
        "knn_dtw segments=2.5",
        lambda: geo.knn_dtw(SEQS, 2, segments=2.5),
        TypeError,
        not_int("segments"),
    ),
    (
        "knn_dtw projection_dims=2.5",
        lambda: geo.knn_dtw(SEQS, 2, projection_dims=2.5),
        TypeError,
        not_int("projection_dims"),
    ),
    (
        "knn_dtw return_stats='no'",
        lambda: geo.knn_dtw(SEQS, 2, return_stats="no"),
        TypeError,
        "return_stats",
    ),
    (
        "neighbour_sets n_jobs=1.5",
        lambda: geo.neighbour_sets(SEQS, 2, n_jobs=1.5),
        TypeError,
        not_int("n_jobs"),
    ),
    ("neighbour_sets among=1", lambda: geo.neighbour_sets(SEQS, 2, among=1), TypeError, "among"),
    (
        "segment_embedding segments=2.0",
        lambda: geo.segment_embedding(SEQS, 2.0),
        TypeError,
        not_int("segments"),
    ),
    (
        "segment_embedding dims=2.0",
        lambda: geo.segment_embedding(SEQS, 2, dims=2.0),
        TypeError,
        not_int("dims"),
    ),
    (
        "embedding_candidates n_candidates=3.0",
        lambda: geo.embedding_candidates(np.zeros((N, 2)), 3.0),
        TypeError,
        not_int("n_candidates"),
    ),
    (
        "embedding_candidates threads=1.5",
        lambda: geo.embedding_candidates(np.zeros((N, 2)), 3, threads=1.5),
        TypeError,
        not_int("threads"),
    ),
    ("lower_bounds pairs=floats", lambda: geo.lower_bounds(SEQS, [[0.0, 1.0]]), TypeError, "pairs"),
    (
        "lower_bounds projection_dims=2.5",
        lambda: geo.lower_bounds(SEQS, [[0, 1]], projection_dims=2.5),
        TypeError,
        not_int("projection_dims"),
    ),
    ("hidden_width width=4.0", lambda: geo.hidden_width(SEQS, 4.0), TypeError, not_int("width")),
    ("augmented_clips n=2.0", lambda: geo.augmented_clips(None, 2.0), TypeError, not_int("n")),
    (
        "augmented_clips up_axis=1.5",
        lambda: geo.augmented_clips(None, 2, up_axis=1.5),
        TypeError,
        not_int("up_axis"),
    ),
    ("all_pairs_knn k=2.5", lambda: geo.all_pairs_knn(SEQS, 2.5, 0.1), TypeError, not_int("k")),
    (
        "all_pairs_knn rows=2.5",
        lambda: geo.all_pairs_knn(SEQS, 2, 0.1, rows=2.5),
        TypeError,
        not_int("rows"),
    ),
    (
        "scaling_table sizes=[6.5]",
        lambda: geo.scaling_table(SEQS, [6.5], k=2),
        TypeError,
        not_int("sizes[0]"),
    ),
    ("scaling_table k=2.5", lambda: geo.scaling_table(SEQS, [6], k=2.5), TypeError, not_int("k")),
    (
        "scaling_table all_pairs_max=6.5",
        lambda: geo.scaling_table(SEQS, [6], k=2, all_pairs_max=6.5),
        TypeError,
        not_int("all_pairs_max"),
    ),
    (
        "scaling_table candidates=6.5",
        lambda: geo.scaling_table(SEQS, [6], k=2, candidates=6.5),
        TypeError,
        not_int("candidates"),
    ),
    (
        "padded_euclidean length=5.0",
        lambda: geo.padded_euclidean(SEQS, length=5.0),
        TypeError,
        not_int("length"),
    ),
    (
        "cka_table index=floats",
        lambda: geo.cka_table(FEATURES, index=[0.5, 1.0]),
        TypeError,
        "index",
    ),
    (
        "halving_layer share='0.5'",
        lambda: geo.halving_layer(pd.Series([1.0, 0.4]), share="0.5"),
        TypeError,
        "share",
    ),
    (
        "dataset_dtw n_jobs=1.5",
        lambda: geo.dataset_dtw(SEQS, 1, cache=False, n_jobs=1.5),
        TypeError,
        not_int("n_jobs"),
    ),
    (
        "dtw_distance window='3'",
        lambda: dtw.dtw_distance(SEQS[0], SEQS[1], "3"),
        TypeError,
        "window",
    ),
    (
        "dtw_distance normalize='no'",
        lambda: dtw.dtw_distance(SEQS[0], SEQS[1], normalize="no"),
        TypeError,
        "normalize",
    ),
    (
        "dtw_path normalize=None",
        lambda: dtw.dtw_path(SEQS[0], SEQS[1], normalize=None),
        TypeError,
        "normalize",
    ),
    (
        "pairwise_dtw n_jobs=1.5",
        lambda: dtw.pairwise_dtw(SEQS, n_jobs=1.5),
        TypeError,
        not_int("n_jobs"),
    ),
    (
        "pairwise_dtw block_frames=10.0",
        lambda: dtw.pairwise_dtw(SEQS, block_frames=10.0),
        TypeError,
        not_int("block_frames"),
    ),
    (
        "pairwise_dtw normalize='yes'",
        lambda: dtw.pairwise_dtw(SEQS, normalize="yes"),
        TypeError,
        "normalize",
    ),
    ("band_mask n=3.0", lambda: dtw.band_mask(3.0, 4), TypeError, not_int("n")),
    ("window_radius m=True", lambda: dtw.window_radius(1, 3, True), TypeError, not_int("m")),
    ("pair_list na=2.5", lambda: dtw.pair_list(2.5, 3, True), TypeError, not_int("na")),
    ("pair_list a1=1.5", lambda: dtw.pair_list(3, 3, True, a1=1.5), TypeError, not_int("a1")),
    (
        "blocks max_frames=2.5",
        lambda: dtw.blocks(np.array([3, 4]), 2.5),
        TypeError,
        not_int("max_frames"),
    ),
    ("offsets lengths=floats", lambda: dtw.offsets(np.array([3.5, 4.0])), TypeError, "lengths"),
    (
        "pairwise_dtw_distributed block_size=2.5",
        lambda: dtw.pairwise_dtw_distributed(SEQS, block_size=2.5),
        TypeError,
        not_int("block_size"),
    ),
    (
        "pairwise_dtw_torch batch_cells=1e6",
        lambda: dtw.pairwise_dtw_torch(SEQS, batch_cells=1e6, device="cpu"),
        TypeError,
        not_int("batch_cells"),
    ),
    (
        "pairwise_dtw_torch normalize='no'",
        lambda: dtw.pairwise_dtw_torch(SEQS, normalize="no", device="cpu"),
        TypeError,
        "normalize",
    ),
    (
        "knn_dtw_torch k=2.5",
        lambda: dtw.knn_dtw_torch(SEQS, 2.5, device="cpu"),
        TypeError,
        not_int("k"),
    ),
    (
        "knn_dtw_torch query_block=2.0",
        lambda: dtw.knn_dtw_torch(SEQS, 2, device="cpu", query_block=2.0),
        TypeError,
        not_int("query_block"),
    ),
    ("k_smallest k=2.5", lambda: geo.k_smallest(D, 2.5), TypeError, not_int("k")),
    (
        "linear_probe C='1'",
        lambda: geo.linear_probe(POINTS, Y, Y < 2, Y >= 2, C="1"),
        TypeError,
        r"\bC\b",
    ),
    (
        "sensitivity_grid layers={'x': 0.5}",
        lambda: geo.sensitivity_grid({"m": FEATURES}, Y, windows=[1], ks=[2], layers={"x": 0.5}),
        TypeError,
        not_int("layers['x']"),
    ),
    (
        "NNKGraph edge_tol='1e-6'",
        lambda: geo.NNKGraph(2, edge_tol="1e-6").fit(D),
        TypeError,
        "edge_tol",
    ),
    ("gaussian_kernel sigma='1'", lambda: geo.gaussian_kernel(D, "1"), TypeError, "sigma"),
    (
        "percentile_interval level='0.9'",
        lambda: geo.percentile_interval([1.0, 2.0], "0.9"),
        TypeError,
        "level",
    ),
    (
        "cluster_client n_workers=1.5",
        lambda: dtw.cluster_client("local", 1.5).__enter__(),
        TypeError,
        not_int("n_workers"),
    ),
    # --- silent wrong results of before -----------------------------------------------------
    (
        "NeighbourSets repeated neighbour",
        repeated_neighbour,
        ValueError,
        r"indices row 0 lists node \d+ twice",
    ),
    (
        "layer_radii uneven layers",
        lambda: geo.layer_radii(UNEVEN),
        ValueError,
        r"features\[1\] holds 11 sequences but features\[0\] holds 12",
    ),
    (
        "layer_distances uneven layers",
        lambda: geo.layer_distances(UNEVEN, cache=False),
        ValueError,
        r"features\[1\] holds 11 sequences but features\[0\] holds 12",
    ),
    (
        "layer_geometry uneven layers",
        lambda: geo.layer_geometry(UNEVEN, Y, k=3, cache=False),
        ValueError,
        r"features\[1\] holds 11 sequences but features\[0\] holds 12",
    ),
    (
        "layer_geometry uneven, subset",
        lambda: geo.layer_geometry(UNEVEN, Y, k=2, subset=np.arange(6), cache=False),
        ValueError,
        r"features\[1\] holds 11 sequences but features\[0\] holds 12",
    ),
    (
        "sensitivity_grid uneven layers",
        lambda: geo.sensitivity_grid({"m": UNEVEN}, Y, windows=[1], ks=[2], layers={"input": 0}),
        ValueError,
        r"features\['m'\]\[1\] holds 11 sequences but features\['m'\]\[0\] holds 12",
    ),
    (
        "probe_table uneven layers",
        lambda: geo.probe_table(UNEVEN, Y, Y == 0, Y == 1),
        ValueError,
        r"features\[1\] holds 11 sequences but features\[0\] holds 12",
    ),
    (
        "cka_table uneven layers",
        lambda: geo.cka_table(UNEVEN),
        ValueError,
        r"features\[1\] holds 11 sequences but features\[0\] holds 12",
    ),
    (
        "layer_values uneven matrices",
        lambda: geo.layer_values([D, D10], Y, k=2),
        ValueError,
        r"distances\[1\] has shape \(10, 10\)",
    ),
    (
        "dtw_distance overflow",
        lambda: dtw.dtw_distance(*huge(1e308)),
        ValueError,
        r"a and b.*\|values\| up to",
    ),
    (
        "dtw_path overflow",
        lambda: dtw.dtw_path(*huge(1e308)),
        ValueError,
        r"a and b.*\|values\| up to",
    ),
    (
        "dtw_cost_matrix overflow",
        lambda: dtw.dtw_cost_matrix(*huge(1e200)),
        ValueError,
        r"a and b.*\|values\| up to",
    ),
    (
        "dtw_cost_matrix underflow",
        lambda: dtw.dtw_cost_matrix(*huge(1e-200)),
        ValueError,
        r"a and b.*\|values\| (up to|from)",
    ),
    (
        "pairwise_dtw overflow",
        lambda: dtw.pairwise_dtw(huge(1e308, 3)),
        ValueError,
        r"\bX\b.*\|values\| up to",
    ),
    (
        "pairwise_dtw overflow in Y",
        lambda: dtw.pairwise_dtw(SEQS, huge(1e308, 3)),
        ValueError,
        r"X and Y.*\|values\| up to",
    ),
    (
        "pairwise_dtw_torch overflow",
        lambda: dtw.pairwise_dtw_torch(huge(1e308, 3), device="cpu"),
        ValueError,
        r"\bX\b.*\|values\| up to",
    ),
    (
        "knn_dtw overflow",
        lambda: geo.knn_dtw(huge(1e308, 4), 2),
        ValueError,
        r"\bX\b.*\|values\| up to",
    ),
    (
        "lower_bounds overflow",
        lambda: geo.lower_bounds(huge(1e200, 3), [[0, 1]]),
        ValueError,
        r"\bX\b.*\|values\| up to",
    ),
    (
        "lb_endpoints overflow",
        lambda: geo.lb_endpoints(*huge(1e160)),
        ValueError,
        r"a and b.*\|values\| up to",
    ),
    (
        "padded_euclidean overflow",
        lambda: geo.padded_euclidean(huge(1e308, 3)),
        ValueError,
        r"\bdata\b.*\|values\| up to",
    ),
    # --- non-finite inputs, named ------------------------------------------------------------
    (
        "dtw_distance NaN",
        lambda: dtw.dtw_distance([0.0, np.nan], [1.0]),
        ValueError,
        r"\ba contains NaN",
    ),
    (
        "pairwise_dtw inf",
        lambda: dtw.pairwise_dtw([[0.0, 1.0], [np.inf, 0.0]]),
        ValueError,
        r"X\[1\] contains NaN or inf",
    ),
    (
        "pairwise_dtw_torch NaN",
        lambda: dtw.pairwise_dtw_torch([[0.0, 1.0], [np.nan, 0.0]], device="cpu"),
        ValueError,
        r"X\[1\] contains NaN",
    ),
    (
        "knn_dtw NaN",
        lambda: geo.knn_dtw([[0.0], [1.0], [np.nan]], 1),
        ValueError,
        r"X\[2\] contains NaN",
    ),
    (
        "NNK distances inf",
        lambda: geo.NNKGraph(2).fit(np.where(np.eye(N) > 0, 0.0, np.inf)),
        ValueError,
        "distances must be finite",
    ),
    (
        "NeighbourSets NaN distances",
        lambda: geo.NeighbourSets(SETS.indices, np.full(SETS.distances.shape, np.nan)),
        ValueError,
        "distances",
    ),
]


def test_case_ids_are_unique():
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    "call, error, pattern", [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_bad_input_is_refused_naming_the_argument(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_type_errors_are_still_value_errors():
    """Wrong types were ValueErrors before: callers that catch ValueError still catch them."""
    with pytest.raises(ArgumentTypeError) as info:
        geo.knn_graph_from_distances(D, 2.5)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


# ------------------------------------------------------------------------------------------
# The kNN graph of a repeated neighbour (before: weight 2 K_ij, where a weight is at most 1)
# ------------------------------------------------------------------------------------------
def test_neighbour_sets_from_a_search_have_distinct_neighbours():
    sets = geo.neighbour_sets(SEQS, 4, 2)
    assert all(len(set(row)) == len(row) for row in sets.indices.tolist())
    weights = geo.KNNGraph(4).fit(sets).adjacency_
    assert weights.max() <= 1.0


# ------------------------------------------------------------------------------------------
# Scale: DTW of c * X is c * DTW of X, also where the squares of c * X overflow or underflow
# ------------------------------------------------------------------------------------------
SCALES = [1e-200, 1e-150, 2.0**-40, 2.0**40, 1e150, 1e200]


@pytest.mark.parametrize("c", SCALES)
def test_dtw_of_scaled_sequences_is_scaled(c):
    a, b = SEQS[0], SEQS[1]
    for normalize in (False, True):
        ref = dtw.dtw_distance(a, b, 2, normalize=normalize)
        got = dtw.dtw_distance(c * a, c * b, 2, normalize=normalize)
        assert got == pytest.approx(c * ref, rel=1e-12)
        path, dist = dtw.dtw_path(c * a, c * b, 2, normalize=normalize)
        ref_path, _ = dtw.dtw_path(a, b, 2, normalize=normalize)
        np.testing.assert_array_equal(path, ref_path)
        assert dist == pytest.approx(c * ref, rel=1e-12)
    ref = dtw.pairwise_dtw(SEQS, window=2)
    for method in ("direct", "gram"):
        got = dtw.pairwise_dtw([c * s for s in SEQS], window=2, method=method)
        np.testing.assert_allclose(got, c * ref, rtol=1e-9)
    cross = dtw.pairwise_dtw([c * s for s in SEQS[:4]], [c * s for s in SEQS[4:]], window=2)
    np.testing.assert_allclose(cross, c * ref[:4, 4:], rtol=1e-12)
    torch_d = dtw.pairwise_dtw_torch([c * s for s in SEQS], window=2, device="cpu")
    np.testing.assert_allclose(torch_d, c * ref, rtol=1e-9)
    ref_idx, ref_dist = geo.knn_dtw(SEQS, 3, 2)
    idx, dist = geo.knn_dtw([c * s for s in SEQS], 3, 2)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, c * ref_dist, rtol=1e-12)
    sets = geo.neighbour_sets([c * s for s in SEQS], 3, 2)
    np.testing.assert_allclose(sets.among, c * geo.neighbour_sets(SEQS, 3, 2).among, rtol=1e-12)
    np.testing.assert_allclose(
        geo.padded_euclidean([c * s for s in SEQS]), c * geo.padded_euclidean(SEQS), rtol=1e-12
    )


@pytest.mark.parametrize("c", [1e-150, 1e150])
def test_squared_costs_of_scaled_sequences_are_scaled(c):
    a, b = SEQS[0], SEQS[1]
    acc, mask = dtw.dtw_cost_matrix(c * a, c * b, 2)
    ref, ref_mask = dtw.dtw_cost_matrix(a, b, 2)
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_allclose(acc[mask], c * c * ref[mask], rtol=1e-12)
    assert geo.lb_endpoints(c * a, c * b) == pytest.approx(c * c * geo.lb_endpoints(a, b))
    bounds = geo.lower_bounds([c * s for s in SEQS], [[0, 1], [2, 3]], 2)
    for name, ref_b in geo.lower_bounds(SEQS, [[0, 1], [2, 3]], 2).items():
        np.testing.assert_allclose(bounds[name], c * c * ref_b, rtol=1e-9)


@pytest.mark.parametrize("value", [1e19, 3e20, 1e30])
def test_float32_sequences_whose_squares_overflow_float32(value):
    """float32 frames keep float32 frame costs: those of values above ~1e19 overflowed to inf."""
    xs = [np.full((3, 2), value, np.float32), np.full((4, 2), -value, np.float32)]
    exact = dtw.pairwise_dtw([x.astype(np.float64) for x in xs])
    for method in ("direct", "gram"):
        got = dtw.pairwise_dtw(xs, method=method)
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, exact, rtol=1e-6)
    assert dtw.pairwise_dtw(xs, gram_dtype=np.float32, method="gram")[0, 1] == pytest.approx(
        exact[0, 1], rel=1e-6
    )


def test_distributed_dtw_of_scaled_sequences():
    distributed = pytest.importorskip("distributed")
    xs = [1e200 * s for s in SEQS[:5]]
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
    ) as client:
        got = dtw.pairwise_dtw_distributed(xs, window=2, client=client, block_size=2)
        with pytest.raises(ValueError, match=r"\bX\b.*\|values\| up to"):
            dtw.pairwise_dtw_distributed(huge(1e308, 3), client=client)
    np.testing.assert_allclose(got, 1e200 * dtw.pairwise_dtw(SEQS[:5], window=2), rtol=1e-12)


# ------------------------------------------------------------------------------------------
# Scale: the kNN and NNK graphs of c * D are those of D (a Gaussian kernel of D / sigma)
# ------------------------------------------------------------------------------------------
GRAPH_SCALES = [1e-310, 1e-300, 1e-150, 1e150, 1e300]


def scaled_sigma(sigma, c):
    return sigma if isinstance(sigma, str) else sigma * c


@pytest.mark.parametrize("c", GRAPH_SCALES)
@pytest.mark.parametrize("sigma", ["mean_kth", "local", 0.7])
def test_graphs_of_scaled_distances_are_unchanged(c, sigma):
    sets = geo.NeighbourSets.from_matrix(D, 5)
    scaled_sets = geo.NeighbourSets(sets.indices, sets.distances * c, sets.among * c)
    for graph in (geo.KNNGraph, geo.NNKGraph):
        ref = graph(5, sigma=sigma).fit(D)
        for X in (D * c, scaled_sets):
            got = graph(5, sigma=scaled_sigma(sigma, c)).fit(X)
            assert np.isfinite(got.adjacency_.data).all()
            np.testing.assert_allclose(
                got.adjacency_.toarray(), ref.adjacency_.toarray(), rtol=1e-9, atol=1e-12
            )
            np.testing.assert_allclose(
                np.asarray(got.sigma_, float), c * np.asarray(ref.sigma_, float), rtol=1e-12
            )


@pytest.mark.parametrize("c", GRAPH_SCALES)
def test_kernel_and_bandwidth_of_scaled_distances(c):
    for rule in ("mean_kth", "local"):
        ref = geo.kernel_bandwidth(D, 4, rule)
        np.testing.assert_allclose(geo.kernel_bandwidth(D * c, 4, rule), c * ref, rtol=1e-12)
        np.testing.assert_allclose(
            geo.gaussian_kernel(D * c, c * np.asarray(ref)),
            geo.gaussian_kernel(D, ref),
            rtol=1e-9,
            atol=1e-15,
        )
    ref = geo.nnk_graph_from_distances(D, 4).toarray()
    np.testing.assert_allclose(geo.nnk_graph_from_distances(D * c, 4).toarray(), ref, atol=1e-12)
    ref = geo.knn_graph_from_distances(D, 4).toarray()
    np.testing.assert_allclose(geo.knn_graph_from_distances(D * c, 4).toarray(), ref, atol=1e-12)


@pytest.mark.parametrize("c", GRAPH_SCALES)
def test_tables_of_scaled_distances_are_unchanged(c):
    ref = geo.layer_geometry(FEATURES, Y, k=3, distances=[D, D])
    got = geo.layer_geometry(FEATURES, Y, k=3, distances=[D * c, D * c])
    pd.testing.assert_frame_equal(got, ref, rtol=1e-9)
    a, b = geo.knn_label_error(D, Y, k=4), geo.knn_label_error(D * c, Y, k=4)
    assert b.overall == pytest.approx(a.overall, rel=1e-12)
    np.testing.assert_allclose(b.per_class, a.per_class, rtol=1e-12)


@pytest.mark.parametrize("c", [1e-300, 1e-170, 1e170, 1e300])
def test_classical_mds_of_scaled_distances_is_scaled(c):
    ref = geo.classical_mds(D, 2, return_result=True)
    got = geo.classical_mds(D * c, 2, return_result=True)
    np.testing.assert_allclose(got.embedding, c * ref.embedding, rtol=1e-9, atol=1e-9 * c)
    np.testing.assert_allclose(got.explained, ref.explained, rtol=1e-9)
    assert got.negative_share == pytest.approx(ref.negative_share, abs=1e-12)
