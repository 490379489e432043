"""Bootstrap intervals for per-layer graph measures, the graph rebuilt on every resample.

A layer's label smoothness is one number per set of clips; how much it would move with other
clips of the same subjects is what a bootstrap over clips estimates. Each resample draws clips
with replacement *within each subject* (every subject keeps its number of clips, so a clip's
candidates from other subjects never run short), then rebuilds every layer's neighbourhood
graph on the resampled distance matrix and measures it again. The same resample is used for all
layers, so differences between layers are paired (:func:`paired_contrast`).

Copies of one clip in a resample are never each other's neighbours: with ``exclude`` (the
subjects) they share a subject; without it, copies are excluded explicitly. Otherwise a copy
at distance 0 with the same label would make every graph look smoother than it is.

>>> values = bootstrap_layers(distances, labels, k=10, exclude=subjects)  # doctest: +SKIP
>>> percentile_interval(values[:, 0])                                     # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

from helpers.dtw.core import integer_argument
from helpers.geometry.layer_tables import neighbourhood_graphs
from helpers.geometry.neighbours import NeighbourSets
from helpers.geometry.smoothness import knn_label_error
from helpers.geometry.validation import check_index_array, check_layer_matrices, real_argument

__all__ = [
    "BOOTSTRAP_MEASURES",
    "Interval",
    "bootstrap_layers",
    "layer_values",
    "paired_contrast",
    "percentile_interval",
    "slope_over_depth",
    "stratified_resample",
]


def _graph_lv(kind: str) -> Callable[[NeighbourSets, np.ndarray, int], float]:
    def measure(sets: NeighbourSets, y: np.ndarray, k: int) -> float:
        return neighbourhood_graphs(sets, y, k, kinds=[kind])[kind].label_variation

    return measure


def _paper_error(sets: NeighbourSets, y: np.ndarray, k: int) -> float:
    return knn_label_error(sets, y, k=k).overall


#: The measures :func:`bootstrap_layers` can resample, by name: the label variation of the NNK
#: and kNN graphs and the authors' 1/d-weighted kNN label error.
BOOTSTRAP_MEASURES: dict[str, Callable[[NeighbourSets, np.ndarray, int], float]] = {
    "nnk_label_variation": _graph_lv("NNK"),
    "knn_label_variation": _graph_lv("kNN"),
    "paper_knn_error": _paper_error,
}


def stratified_resample(strata, rng: np.random.Generator) -> np.ndarray:
    """Indices drawn with replacement within each stratum, each stratum keeping its size.

    Parameters
    ----------
    strata : (N,) labels of the strata (subjects).
    rng : the random generator.

    Returns
    -------
    (N,) int64 indices, the strata in sorted order, each stratum's draws in a block.
    """
    s = np.asarray(strata)
    out = []
    for value in np.unique(s):
        members = np.flatnonzero(s == value)
        out.append(rng.choice(members, size=members.size, replace=True))
    return np.concatenate(out).astype(np.int64)


def _measure(measure: str) -> Callable[[NeighbourSets, np.ndarray, int], float]:
    """The function of :data:`BOOTSTRAP_MEASURES` called ``measure``; ValueError otherwise."""
    if measure not in BOOTSTRAP_MEASURES:
        raise ValueError(f"measure={measure!r}; expected one of {sorted(BOOTSTRAP_MEASURES)}")
    return BOOTSTRAP_MEASURES[measure]


def layer_values(
    distances: Sequence[np.ndarray],
    labels,
    *,
    k: int = 10,
    exclude=None,
    measure: str = "nnk_label_variation",
) -> np.ndarray:
    """A measure of every layer on the clips themselves.

    The point estimates of :func:`bootstrap_layers`, on the same graphs (candidates from
    other groups of ``exclude``).

    Parameters
    ----------
    distances : one (S, S) distance matrix per layer; labels (S,); exclude None or (S,).
    k, measure : as in :func:`bootstrap_layers`.

    Returns
    -------
    (L,) float64.
    """
    fn = _measure(measure)
    mats = check_layer_matrices(distances)
    y = np.asarray(labels).reshape(-1)
    return np.asarray(
        [fn(NeighbourSets.from_matrix(D, k, exclude=exclude), y, k) for D in mats], float
    )


def bootstrap_layers(
    distances: Sequence[np.ndarray],
    labels,
    *,
    k: int = 10,
    exclude=None,
    measure: str = "nnk_label_variation",
    n_boot: int = 200,
    random_state: int = 0,
    progress: bool = False,
) -> np.ndarray:
    """A measure of every layer on ``n_boot`` resamples of the clips, graphs rebuilt each time.

    Parameters
    ----------
    distances : one (S, S) distance matrix per layer, all over the same S clips.
    labels : (S,) integer classes.
    k : candidates per node (as :func:`helpers.geometry.layer_tables.layer_geometry`).
    exclude : None, or (S,) subjects: candidates come from other subjects only, and clips are
        resampled within each subject. Without it clips are resampled over all of them and
        copies of one clip are excluded from each other's candidates.
    measure : a key of :data:`BOOTSTRAP_MEASURES`.
    n_boot : resamples.
    random_state : seeds the resamples (resample ``b`` is the same for every layer).
    progress : a progress bar over resamples.

    Returns
    -------
    (n_boot, L) float64: row ``b``, column ``l`` is the measure of layer ``l`` on resample ``b``.
    """
    fn = _measure(measure)
    n_boot = integer_argument("n_boot", n_boot, low=1, expected="a positive int")
    mats = check_layer_matrices(distances)
    s = mats[0].shape[0]
    # k is checked here, not at the first resample's first graph
    integer_argument("k", k, low=1, high=s - 1, expected=f"an int in 1..N-1 = 1..{s - 1}")
    y = np.asarray(labels).reshape(-1)
    if y.shape != (s,):
        raise ValueError(f"labels must have shape ({s},), got {y.shape}")
    groups = None if exclude is None else np.asarray(exclude)
    if groups is not None and groups.shape != (s,):
        raise ValueError(f"exclude must have shape ({s},), got {groups.shape}")
    rng = np.random.default_rng(random_state)
    out = np.empty((int(n_boot), len(mats)))
    for b in tqdm(range(int(n_boot)), desc="bootstrap", unit="resample", disable=not progress):
        if groups is None:
            idx = rng.integers(0, s, size=s)
            copies = idx  # copies of one clip share their original index
        else:
            idx = stratified_resample(groups, rng)
            copies = groups[idx]
        yb = y[idx]
        for layer, D in enumerate(mats):
            sets = NeighbourSets.from_matrix(D[np.ix_(idx, idx)], k, among=True, exclude=copies)
            out[b, layer] = fn(sets, yb, k)
    return out


@dataclass(frozen=True)
class Interval:
    """A point estimate with its percentile bootstrap interval.

    estimate : the value on the clips themselves (or the mean of the resamples when not given).
    low, high : the interval's ends.
    level : its coverage (0.95: the 2.5th and 97.5th percentiles of the resamples).
    """

    estimate: float
    low: float
    high: float
    level: float

    @property
    def excludes_zero(self) -> bool:
        """Whether the whole interval lies on one side of 0 (a difference that is a finding)."""
        return bool(self.low > 0 or self.high < 0)

    def as_dict(self) -> dict:
        """The four numbers, for a table row."""
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "level": self.level}


def percentile_interval(samples, level: float = 0.95, estimate: float | None = None) -> Interval:
    """The percentile interval of bootstrap ``samples`` (1-D) at ``level``.

    ``estimate`` is the statistic on the original data; default the samples' mean. NaN
    samples (a resample where the measure is undefined) are left out; all NaN gives NaN ends.
    """
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if not 0 < real_argument("level", level) < 1:
        raise ValueError(f"level={level!r}; expected a number in (0, 1)")
    x = x[np.isfinite(x)]
    if x.size == 0:
        nan = float("nan")
        return Interval(nan if estimate is None else float(estimate), nan, nan, float(level))
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(x, [tail, 100.0 - tail])
    point = float(x.mean()) if estimate is None else float(estimate)
    return Interval(point, float(low), float(high), float(level))


def _samples(samples) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"samples: expected (B, L), got shape {x.shape}")
    return x


def _columns(cols: Sequence[int], name: str, n_layers: int, least: int = 1) -> np.ndarray:
    # refused rather than floored: first=[0.5] would silently be layer 0
    c = check_index_array(list(cols), name).reshape(-1)
    if c.size < least or c.min() < 0 or c.max() >= n_layers:
        raise ValueError(
            f"{name}={c.tolist()}: expected {'two or more' if least > 1 else 'some'} layer "
            f"indices in 0..{n_layers - 1}"
        )
    return c


def _linear_contrast(
    x: np.ndarray, weights: np.ndarray, level: float, estimate: np.ndarray | None
) -> Interval:
    """``weights @ layer values`` per resample, with the point estimate on ``estimate``."""
    point = None
    if estimate is not None:
        point = float(np.asarray(estimate, dtype=np.float64).reshape(-1) @ weights)
    return percentile_interval(x @ weights, level, point)


def paired_contrast(
    samples: np.ndarray,
    first: Sequence[int],
    second: Sequence[int],
    level: float = 0.95,
    estimate: np.ndarray | None = None,
) -> Interval:
    """Mean over layers ``second`` minus mean over layers ``first``, resample by resample.

    Parameters
    ----------
    samples : (B, L) values per resample and layer (:func:`bootstrap_layers`).
    first, second : layer indices (columns), e.g. blocks 1-4 and blocks 8-10.
    level : the interval's coverage.
    estimate : (L,) the values on the clips themselves, for the point estimate (default: the
        resamples' mean).

    Returns
    -------
    :class:`Interval` of the difference; for label variation a negative difference means the
    ``second`` layers are smoother.
    """
    x = _samples(samples)
    a = _columns(first, "first", x.shape[1])
    b = _columns(second, "second", x.shape[1])
    weights = np.zeros(x.shape[1])
    np.add.at(weights, b, 1.0 / b.size)
    np.add.at(weights, a, -1.0 / a.size)
    return _linear_contrast(x, weights, level, estimate)


def slope_over_depth(
    samples: np.ndarray,
    layers: Sequence[int],
    level: float = 0.95,
    estimate: np.ndarray | None = None,
) -> Interval:
    """The least-squares slope of the measure against the layer number, per resample.

    Parameters
    ----------
    samples : (B, L) values per resample and layer (:func:`bootstrap_layers`).
    layers : the columns fitted (at least two), e.g. blocks 1 to 10; the slope is per layer.
    level : the interval's coverage.
    estimate : (L,) the values on the clips themselves, for the point estimate.

    Returns
    -------
    :class:`Interval` of the slope; for label variation a negative slope means smoother with
    depth.
    """
    x = _samples(samples)
    cols = _columns(layers, "layers", x.shape[1], least=2)
    t = cols - cols.mean()
    weights = np.zeros(x.shape[1])
    np.add.at(weights, cols, t / float(t @ t))
    return _linear_contrast(x, weights, level, estimate)
