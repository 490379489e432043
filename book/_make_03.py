"""Generate ``book/03_dtw_graphs.ipynb`` (chapter 3, "Distances between sequences and
neighbourhood graphs") with nbformat; outputs stay empty.

Run from the repository root: ``.venv/bin/python book/_make_03.py``.
"""
from __future__ import annotations

from pathlib import Path

from _nbgen import code, md, notebook, write_notebook

HERE = Path(__file__).resolve().parent

CELLS = [
    md("""
# Distances between sequences and neighbourhood graphs

Das, Shekkizhar and Ortega read an ST-GCN's layers as a sequence of geometries: at every layer
they connect each clip to the clips it resembles most, with a neighbourhood graph, and ask how
well that graph agrees with the class labels. Before any network is involved, the same question
can be asked of the **input** itself: which clips are close to each other as raw joint
trajectories? This chapter builds that input geometry for HDM05.

Two things make it less obvious than for images. The clips have **different lengths**, so there
is no common vector space to compute a Euclidean distance in; and the same motion is performed at
**different speeds**, so frame `t` of one clip need not correspond to frame `t` of another.
Dynamic time warping (DTW) addresses both; we compare it with the naive alternative (bring every
clip to one length, then take the Euclidean distance), then build kNN and NNK graphs on the DTW
distances and measure how smooth the labels are on them.

Parameters (set them with papermill): `profile` (`"quick"` or `"paper"`; `"paper"` sweeps more
neighbourhood sizes), `device` (unused: DTW runs on the CPU with numba, in seconds),
`data_dir` (`None` means `$STGCN_DATA_DIR`), `cache_dir` (`None` means `$STGCN_CACHE_DIR`),
`window`, the Sakoe-Chiba band of the DTW (a float is a fraction of the longer clip, an int a
radius in frames, `None` no band), and `k`, the number of neighbour candidates per clip.
"""),
    code("""
profile = "quick"
device = "auto"
data_dir = None
cache_dir = None
window = 0.1
k = 10
""", tags=["parameters"]),
    code("""
import time

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp

from helpers.config import cache_dir as resolve_cache_dir, data_dir as resolve_data_dir
from helpers.data.hdm05 import load_hdm05
from helpers.distances import dataset_dtw, nearest_neighbor_accuracy, padded_euclidean
from helpers.dtw import band_mask, window_radius
from helpers.embedding import classical_mds
from helpers.graph_plot import (
    dtw_pair_explorer, plot_distance_matrix, plot_dtw_pair, plot_graph_embedding,
)
from helpers.nnk import KNNGraph, NNKGraph
from helpers.profiles import get_profile
from helpers.smoothness import graph_smoothness

prof = get_profile(profile)
root = resolve_data_dir(data_dir)
cache = resolve_cache_dir(cache_dir)
raw = load_hdm05(root, fps=prof.data["fps"], cache_dir=cache, progress=False)
# Root-centred in every frame: distances compare postures, not where in the room they happened.
ds = raw.normalized(center="frame")
train = ds.split == "train"
lengths = ds.lengths
print(ds)
print(f"HDM05 folder: {root}\\ncache: {cache}\\nDTW band: window={window!r}; graphs: k={k}")
print(f"A frame is V={ds.num_joints} joints x C={ds.num_channels} coordinates = D={ds.num_joints * ds.num_channels} "
      f"numbers in {ds.units}; training actors {', '.join(sorted(set(map(str, ds.subjects[train]))))}, "
      f"test actors {', '.join(sorted(set(map(str, ds.subjects[~train]))))}.")
"""),
    md("""
Each clip is a sequence of frames; a frame holds the $V$ joints' 3-D positions in metres, which we
flatten into one vector of $D = 3V$ numbers (`helpers.distances.sequence_matrix`; the sizes are
printed above). Every frame is **root-centred**: the
root joint (the pelvis) is subtracted from all joints in each frame (`ds.normalized("frame")`).
That removes where the actor stands and how far they travel, and keeps the posture; the
alternative, subtracting only the first frame's root (`"first"`), keeps the path through the room,
which then dominates the frame distances of every clip that moves (jogging, hopping, sneaking).
The section *Which centring?* below puts numbers on this choice. Orientation is left
as recorded, so two actors facing different directions look different here.

## Clips have different lengths

The dots below are the clips' lengths in frames, one row per class.
"""),
    code("""
rng = np.random.default_rng(0)
fig, ax = plt.subplots(figsize=(9, 3.8))
for c, name in enumerate(ds.class_names):
    t = lengths[ds.labels == c]
    ax.scatter(t, c + rng.uniform(-0.25, 0.25, t.size), s=12, alpha=0.8)
ax.set_yticks(range(ds.num_classes), ds.class_names, fontsize="small")
ax.set_xlabel(f"length (frames at {ds.fps:g} fps)")
ax.set_title("clip lengths per class")
plt.show()

ratio = np.array([lengths[ds.labels == c].max() / lengths[ds.labels == c].min() for c in range(ds.num_classes)])
print(f"{len(ds)} clips from {lengths.min()} to {lengths.max()} frames "
      f"({lengths.min() / ds.fps:.1f} s to {lengths.max() / ds.fps:.1f} s), median {np.median(lengths):.0f}.")
print(f"Within one class the longest clip is {ratio.min():.1f}x to {ratio.max():.1f}x as long as the shortest "
      f"(the widest spread: {ds.class_names[int(ratio.argmax())]}).")
"""),
    md("""
The spread is large both between classes (a squat is short, lying down on the floor is long) and
inside a class. Within a class it comes from speed and from how the clips were cut, not from what
was done; a distance between clips should not charge for it.

## Dynamic time warping and the Sakoe-Chiba band

DTW aligns two sequences $a$ ($n$ frames) and $b$ ($m$ frames) by a **warping path**: a chain of
frame pairs $(i, j)$ from $(0, 0)$ to $(n-1, m-1)$ that moves by one frame in $a$, in $b$, or in
both at every step. Its cost is the sum of the squared frame distances $\\lVert a_i - b_j\\rVert^2$
along the path, and the DTW distance is the square root of the cheapest path's cost
(`helpers.dtw`). A dynamic programme fills the **accumulated-cost matrix**
$R_{ij} = \\lVert a_i - b_j\\rVert^2 + \\min(R_{i-1,j-1}, R_{i-1,j}, R_{i,j-1})$, and the distance is
$\\sqrt{R_{n-1,m-1}}$.

Unconstrained, a path may map one frame of $a$ to half of $b$: "pathological" warpings that make
different motions look alike. The **Sakoe-Chiba band** forbids them by allowing only cells near
the diagonal. With radius $r$ and lengths $n \\ge m$, cell $(i, j)$ is allowed when

$$ -r \\;\\le\\; i - j \\;\\le\\; (n - m) + r $$

(mirrored when $n < m$). The band starts on the diagonal at $(0, 0)$ and is widened by the length
difference $n - m$ on one side, so the end corner $(n-1, m-1)$ is always inside it and a path
always exists. With $r = 0$ and $n = m$ only the diagonal is left: DTW becomes the plain Euclidean
distance between the two clips. A float `window` $w$ means $r = \\lfloor w \\max(n, m) \\rfloor$
frames, so the band scales with the clips; the convention matches `dtaidistance` and `tslearn`.
The masks below show the allowed cells (grey) for a 30-frame clip against an 18-frame one; the
two coloured lines are the band's core, $0 \\le i - j \\le n - m$, which every radius keeps.
"""),
    code("""
n_demo, m_demo = 30, 18
demo = [("window = 0", 0), (f"window = {window!r}", window), ("window = None", None)]
fig, axes = plt.subplots(1, 3, figsize=(10, 3.4), sharey=True)
for ax, (title, w) in zip(axes, demo):
    mask = band_mask(n_demo, m_demo, w)
    ax.imshow(mask, origin="lower", cmap="Greys", vmin=0, vmax=1.6, aspect="auto")
    ax.plot([0, m_demo - 1], [0, m_demo - 1], color="tab:blue", lw=1, label="i - j = 0")
    ax.plot([0, m_demo - 1], [n_demo - m_demo, n_demo - 1], color="tab:orange", lw=1, label="i - j = n - m")
    ax.set_title(f"{title}: r = {window_radius(w, n_demo, m_demo)}, {int(mask.sum())} cells", fontsize="medium")
    ax.set_xlabel("j (frame of b, m = 18)")
axes[0].set_ylabel("i (frame of a, n = 30)")
axes[0].legend(loc="upper left", fontsize="x-small")
plt.show()
print(f"All {n_demo * m_demo} cells without a band; with window={window!r} the DP visits "
      f"{int(band_mask(n_demo, m_demo, window).sum())} of them.")
"""),
    md("""
The dynamic programme only visits the grey cells, so a narrow band is also cheaper.
Now the whole data set: DTW between every pair of clips, computed once by
`helpers.distances.dataset_dtw` (numba, all cores) and cached on disk under a key made of a
SHA-256 fingerprint of the frames and the DTW settings, so re-running the chapter reads the matrix
back.
"""),
    code("""
t0 = time.perf_counter()
D_dtw = dataset_dtw(ds, window, cache_dir=cache, progress=False)
print(f"DTW matrix {D_dtw.shape} ({len(ds) * (len(ds) - 1) // 2} pairs) ready in {time.perf_counter() - t0:.1f} s "
      f"(cached after the first run); distances from {D_dtw[D_dtw > 0].min():.2f} to {D_dtw.max():.2f}.")
"""),
    md("""
## Looking at alignments

The explorer below aligns any two clips: pick them in the two menus, move the window slider, and
choose the joint coordinate shown on the right. The left panel is the accumulated cost
$\\sqrt{R_{ij}}$ (light grey outside the band, whose edges are the black lines) with the optimal
path in red; the right panel draws the chosen coordinate of both clips over time, clip $b$ shifted
down, joined by grey lines for the frame pairs on the path. (In the static HTML book the
explorer shows its initial state only; run the notebook to use it.)

The two clips it starts with are chosen by the code: a clip of the largest class and a clip of
the same class that is clearly longer, so the path has to bend. Below it, the same pair as a
static figure, and then the clip of **another** class that is closest to the first one in DTW
distance: the hardest negative for a nearest-neighbour classifier.
"""),
    code("""
big = int(np.argmax(ds.class_counts()))
members = np.flatnonzero(ds.labels == big)
a = int(members[np.argsort(lengths[members], kind="stable")[len(members) // 2]])   # median-length clip
same = members[members != a]
b_same = int(same[np.argmin(np.abs(lengths[same] - 1.5 * lengths[a]))])           # about 1.5x as long
others = np.flatnonzero(ds.labels != big)
b_diff = int(others[np.argmin(D_dtw[a, others])])                                  # nearest other class


def describe(i):
    return f"#{i} {ds.class_names[ds.labels[i]]} ({lengths[i]} frames, actor {ds.subjects[i]})"


print(f"a      = {describe(a)}")
print(f"b_same = {describe(b_same)}: DTW {D_dtw[a, b_same]:.2f}")
print(f"b_diff = {describe(b_diff)}: DTW {D_dtw[a, b_diff]:.2f}")
same_rank = int(np.sum(D_dtw[a, same] < D_dtw[a, b_same])) + 1
print(f"Of a's {same.size} same-class clips, b_same is number {same_rank} by DTW distance; "
      f"{int(np.sum(D_dtw[a, same] < D_dtw[a, b_diff]))} same-class clips are closer to a than b_diff is.")
"""),
    code("""
dtw_pair_explorer(ds, first=a, second=b_same, window=window)
"""),
    code("""
for b in (b_same, b_diff):
    fig = plot_dtw_pair(ds.sequences[a], ds.sequences[b], window, joint_names=ds.joint_names,
                        names=(f"a = #{a} {ds.class_names[ds.labels[a]]}",
                               f"b = #{b} {ds.class_names[ds.labels[b]]}"))
    plt.show()
"""),
    md("""
Where the path runs along the diagonal the clips move at the same pace; a vertical or horizontal
stretch is a pause of one clip relative to the other (one frame is matched to several). A path
that hugs a band edge would have liked to warp further than the band allows. The grey links on
the right show the same thing in time: where they fan out, one clip is slower. For the different-
class pair no warping makes the two motions agree, so the cost keeps growing along the whole
path; the code above prints how many of `a`'s own class are closer to `a` than this nearest
clip of another class.

## DTW versus Euclidean distance on padded clips

The naive alternative brings every clip to one length and takes the Euclidean distance between
the flattened arrays (`helpers.distances.padded_euclidean`), in the same units as DTW (square root
of a sum of squared frame distances):

* **zero-padded**: append zero frames up to the longest clip, which is what a network that
  batches clips into one tensor sees. Frame $t$ is compared with frame $t$, and the padding of a
  short clip is compared with the motion of a long one.
* **resampled**: stretch every clip linearly to the longest length. This removes the overall
  speed difference (one global warp per clip), but not changes of pace inside the clip, which DTW
  also absorbs.

The heat maps show the three distance matrices with the clips sorted by class (white lines
separate the classes). A good distance makes the diagonal blocks (same class) dark and the rest
bright.
"""),
    code("""
t0 = time.perf_counter()
distances = {
    f"DTW, window={window!r}": D_dtw,
    "Euclidean, zero-padded": padded_euclidean(ds, "zero-pad"),
    "Euclidean, resampled": padded_euclidean(ds, "resample"),
}
print(f"Euclidean matrices in {time.perf_counter() - t0:.1f} s")
fig, axes = plt.subplots(1, 3, figsize=(16, 5.6))
for ax, (name, M) in zip(axes, distances.items()):
    plot_distance_matrix(ax, M, ds.labels, ds.class_names, title=name, tick_labels=ax is axes[0])
fig.tight_layout()
plt.show()
"""),
    md("""
Three numbers summarise each matrix below:

* **1-NN accuracy**, train $\\to$ test: each test clip takes the label of its nearest training
  clip; HDM05's split is by actor (printed at the top), so no test clip meets its own actor; and leave-one-out:
  each clip takes the label of its nearest other clip, from any actor.
* **within / between**: mean distance between clips of the same class divided by the mean
  distance between clips of different classes (lower is better separated).
* **label variation** (LV) and **interpolation error** (IE) of the kNN and NNK graphs built from
  the matrix with `k` candidates each (`helpers.nnk`, Gaussian kernel of the distances). LV is the
  share of edge weight that joins clips of different classes; IE is the average share of its
  neighbours' weight that a clip would lose when its label is predicted from them
  (`helpers.smoothness`). Both are 0 for a graph whose edges never cross classes.
"""),
    code("""
def within_between(M, y):
    same = (y[:, None] == y[None, :]) & ~np.eye(len(y), dtype=bool)
    return M[same].mean() / M[y[:, None] != y[None, :]].mean()


def graph_scores(M, y, k):
    out = {}
    for kind, graph in (("kNN", KNNGraph(k)), ("NNK", NNKGraph(k))):
        graph.fit(M)
        s = graph_smoothness(graph.adjacency_, y)
        out[kind] = dict(graph=graph, edges=sp.triu(graph.adjacency_, 1).nnz,
                         neighbours=float(graph.n_neighbors_.mean()),
                         lv=s.label_variation.overall, ie=s.interpolation_error.overall, smooth=s)
    return out


summary = {}
header = (f"{'distance':28s} {'1-NN tr->te':>11s} {'1-NN LOO':>9s} {'within/btw':>10s} "
          f"{'kNN LV':>7s} {'NNK LV':>7s} {'kNN IE':>7s} {'NNK IE':>7s}")
print(header)
print("-" * len(header))
for name, M in distances.items():
    g = graph_scores(M, ds.labels, k)
    summary[name] = dict(tt=nearest_neighbor_accuracy(M, ds.labels, train),
                         loo=nearest_neighbor_accuracy(M, ds.labels), wb=within_between(M, ds.labels), graphs=g)
    r = summary[name]
    print(f"{name:28s} {r['tt']:11.3f} {r['loo']:9.3f} {r['wb']:10.3f} "
          f"{g['kNN']['lv']:7.3f} {g['NNK']['lv']:7.3f} {g['kNN']['ie']:7.3f} {g['NNK']['ie']:7.3f}")

dtw_name, pad_name, res_name = distances
n_test = int((~train).sum())
for other in (pad_name, res_name):
    diff = summary[dtw_name]["tt"] - summary[other]["tt"]
    verdict = "more" if diff > 0 else "fewer" if diff < 0 else "as many"
    print(f"\\nDTW classifies {abs(diff) * n_test:.0f} {verdict} of the {n_test} test clips correctly "
          f"{'than' if diff else 'as'} {other}; NNK label variation {summary[dtw_name]['graphs']['NNK']['lv']:.3f} "
          f"vs {summary[other]['graphs']['NNK']['lv']:.3f}.")
"""),
    md("""
Read the table row by row. Zero padding pays twice for a length difference: misaligned motion,
plus the full norm of the longer clip's tail compared with zeros, so two clips of one class
performed at different speeds can be far apart; its row is the one to beat. Resampling removes
most of that, which on these short, well-cut clips already goes a long way: compare its row with
DTW's. Where DTW wins, it wins through the local changes of pace that one global stretch cannot
undo. The graph columns carry the same comparison into the geometric view of the paper: a smaller
LV means that the neighbourhoods of the input space already respect the classes.

### Which centring?

The same DTW with the root subtracted only in the first frame (`ds.normalized("first")`), which
keeps each actor's path through the room:
"""),
    code("""
D_first = dataset_dtw(raw.normalized(center="first"), window, cache_dir=cache, progress=False)
for name, M in (("root-centred every frame", D_dtw), ("centred on the first frame", D_first)):
    g = graph_scores(M, ds.labels, k)
    print(f"{name:28s} 1-NN train->test {nearest_neighbor_accuracy(M, ds.labels, train):.3f}, "
          f"leave-one-out {nearest_neighbor_accuracy(M, ds.labels):.3f}, "
          f"NNK LV {g['NNK']['lv']:.3f}, kNN LV {g['kNN']['lv']:.3f}")
"""),
    md("""
Keeping the trajectory mixes where an actor walked with how they moved; the per-frame centring
used throughout this chapter compares postures only.

### How wide a band?

The band radius trades flexibility against pathological warps. A sweep over a few windows
(`0` is a radius of 0 frames, `None` no band; the matrices are cached like the first):
"""),
    code("""
windows = [0, 0.05, 0.1, 0.2, 0.3, None]
print(f"{'window':>8s} {'1-NN tr->te':>11s} {'1-NN LOO':>9s} {'NNK LV':>7s} {'kNN LV':>7s} {'time (s)':>9s}")
for w in windows:
    t0 = time.perf_counter()
    M = dataset_dtw(ds, w, cache_dir=cache, progress=False)
    dt = time.perf_counter() - t0
    g = graph_scores(M, ds.labels, k)
    print(f"{w!r:>8s} {nearest_neighbor_accuracy(M, ds.labels, train):11.3f} "
          f"{nearest_neighbor_accuracy(M, ds.labels):9.3f} {g['NNK']['lv']:7.3f} {g['kNN']['lv']:7.3f} {dt:9.1f}")
print(f"One test clip is {1 / n_test:.3f} of the train->test accuracy, one clip {1 / len(ds):.3f} of leave-one-out.")
"""),
    md("""
One test clip more or less moves the train $\\to$ test accuracy by the step printed below the
table, so small differences in this table are single clips. The time column is the DTW computation itself (or
reading it from the cache).

## kNN and NNK graphs of the DTW distances

To see the graphs we need positions for the clips. **Classical MDS** (`helpers.embedding`)
double-centres the squared distances and keeps the top two eigenvectors: for Euclidean distances
this recovers the points exactly; DTW distances are not Euclidean (DTW is not even a metric), so
part of the spectrum is negative and two dimensions keep only a share of the rest. The code
prints both, as a warning about how much the picture can show. The edges are computed from the
full distance matrix, not from the 2-D positions.

Both graphs start from the same `k` nearest candidates of each clip and a Gaussian kernel of the
DTW distances. **kNN** keeps all of them. **NNK** keeps only the candidates that are needed to
reconstruct the clip in the kernel's feature space by a non-negative combination: a candidate
that lies "behind" a closer one, in the same direction, gets weight zero and no edge
(Shekkizhar & Ortega). Edges are grey when both ends share a class and red when they do not;
stronger edges are more opaque.
"""),
    code("""
mds = classical_mds(D_dtw, 2, return_result=True)
print(f"Classical MDS of the DTW distances: the two axes carry {mds.explained[0]:.1%} and {mds.explained[1]:.1%} "
      f"of the positive eigenvalues; negative eigenvalues make up {mds.negative_share:.1%} of the spectrum "
      f"(0% for Euclidean distances).")

graphs = summary[dtw_name]["graphs"]
fig, axes = plt.subplots(1, 2, figsize=(15, 6.5))
for ax, kind in zip(axes, ("kNN", "NNK")):
    g = graphs[kind]
    plot_graph_embedding(ax, mds.embedding, g["graph"].adjacency_, ds.labels, ds.class_names,
                         legend=kind == "NNK", title=f"{kind} graph, k = {k}: LV {g['lv']:.3f}")
fig.tight_layout()
plt.show()

for kind in ("kNN", "NNK"):
    g = graphs[kind]
    A = g["graph"].adjacency_
    degree = np.diff(A.indptr)   # undirected neighbours per clip after symmetrisation
    print(f"{kind}: {g['edges']} edges, {g['neighbours']:.2f} neighbours per clip chosen "
          f"(of k = {k} candidates), {degree.mean():.2f} after symmetrisation (min {degree.min()}, "
          f"max {degree.max()}); label variation {g['lv']:.3f}, interpolation error {g['ie']:.3f}")
print(f"NNK keeps {graphs['NNK']['edges'] / graphs['kNN']['edges']:.0%} of the kNN edges; "
      f"mean NNK reconstruction error {graphs['NNK']['graph'].reconstruction_error_.mean():.3f} (kernel units).")
"""),
    md("""
The MDS picture is only a shadow of the DTW geometry (see the shares printed above): clips that
look close in the plane may be far apart in DTW distance, which is why some long edges cross the
picture. What the figure does show reliably is the edge colouring. NNK drops most of the edges
that kNN draws between neighbouring classes: a clip of another class is rarely *needed* to
reconstruct a clip once a closer clip of its own class, in a similar direction, is a candidate.
Per class, the share of edge weight leaving the class (the number of clips of each class in
brackets). Small classes are the most exposed: a clip whose class has barely more than `k`
members must fill its `k` kNN slots with almost all of them, including the least similar, while
NNK may stop after the few it needs.
"""),
    code("""
fig, ax = plt.subplots(figsize=(9, 3.6))
x = np.arange(ds.num_classes)
for off, kind in ((-0.2, "kNN"), (0.2, "NNK")):
    ax.bar(x + off, graphs[kind]["smooth"].label_variation.per_class, width=0.4, label=kind)
counts = ds.class_counts()
ax.set_xticks(x, [f"{name} ({n})" for name, n in zip(ds.class_names, counts)], rotation=30, ha="right",
              fontsize="small")
ax.set_ylabel("label variation of the class")
ax.set_title(f"per-class label variation, DTW graphs, k = {k}")
ax.legend()
plt.show()
worst = int(np.nanargmax(graphs["NNK"]["smooth"].label_variation.per_class))
print(f"Least smooth class on the NNK graph: {ds.class_names[worst]}, {counts[worst]} clips "
      f"(LV {graphs['NNK']['smooth'].label_variation.per_class[worst]:.3f}, "
      f"kNN {graphs['kNN']['smooth'].label_variation.per_class[worst]:.3f}); "
      f"the classes have {counts.min()} to {counts.max()} clips.")
"""),
    md("""
## How the numbers change with k

`k` is only the number of candidates. kNN turns all of them into edges, so its graph grows
linearly with `k` and reaches further and further into other classes. NNK chooses among them, so
its number of edges should level off once the extra candidates are all shadowed by closer ones.
The sweep below computes both graphs for several `k`, on DTW and, for reference, on the
zero-padded Euclidean distances (dashed).
"""),
    code("""
ks = [5, 10, 20, 30] if profile == "quick" else [3, 5, 10, 15, 20, 30, 40, 60]
ks = sorted({kk for kk in ks + [k] if 1 <= kk < len(ds)})
sweep = {}
for name in (dtw_name, pad_name):
    for kk in ks:
        for kind, g in graph_scores(distances[name], ds.labels, kk).items():
            sweep.setdefault((name, kind), []).append((g["edges"], g["lv"], g["ie"]))

fig, axes = plt.subplots(1, 3, figsize=(15, 4))
colors = {"kNN": "tab:blue", "NNK": "tab:orange"}
for (name, kind), rows in sweep.items():
    rows = np.array(rows)
    style = "-" if name == dtw_name else "--"
    for ax, col in zip(axes, range(3)):
        ax.plot(ks, rows[:, col], style, marker="o", ms=3, color=colors[kind],
                label=f"{kind}, {'DTW' if name == dtw_name else 'zero-padded Euclidean'}")
for ax, ylabel in zip(axes, ("edges", "label variation", "interpolation error")):
    ax.set_xlabel("k (candidates per clip)")
    ax.set_ylabel(ylabel)
axes[0].legend(fontsize="small")
fig.tight_layout()
plt.show()

print(f"{'k':>3s} " + " ".join(f"{kind + ' ' + lab:>14s}" for kind in ("kNN", "NNK") for lab in ("edges", "LV", "IE")))
for i, kk in enumerate(ks):
    vals = []
    for kind in ("kNN", "NNK"):
        e, lv, ie = sweep[(dtw_name, kind)][i]
        vals += [f"{e:14d}", f"{lv:14.3f}", f"{ie:14.3f}"]
    print(f"{kk:3d} " + " ".join(vals))
"""),
    md("""
The table lists the DTW curves. As `k` grows, kNN's label variation rises with its edge count:
every extra candidate is a little further away and more often of another class, and since the
kernel bandwidth is the mean distance to the `k`-th candidate, a larger `k` also flattens the
weights, so the far edges count almost as much as the near ones. NNK's edge count
grows much more slowly, and in this sweep its label variation stays below kNN's at every `k`: the
property the paper
relies on when it measures smoothness of NNK graphs layer by layer: the graph adapts its
neighbourhoods to the local geometry instead of taking a fixed number of them.

## Summary
"""),
    code("""
r = summary[dtw_name]
print(f"Input geometry of HDM05 ({len(ds)} clips, {ds.num_classes} classes), DTW with window={window!r}:")
print(f"  1-NN accuracy train->test {r['tt']:.3f}, leave-one-out {r['loo']:.3f} "
      f"(zero-padded Euclidean: {summary[pad_name]['tt']:.3f} / {summary[pad_name]['loo']:.3f}; "
      f"resampled: {summary[res_name]['tt']:.3f} / {summary[res_name]['loo']:.3f})")
for kind in ("kNN", "NNK"):
    g = r["graphs"][kind]
    print(f"  {kind} graph, k={k}: {g['edges']} edges, {g['neighbours']:.2f} neighbours per clip, "
          f"label variation {g['lv']:.3f}, interpolation error {g['ie']:.3f}")
"""),
    md("""
These numbers are the baseline for the rest of the book: the paper's question is how the same
measures change when the raw joints are replaced by the features of each ST-GCN layer, and
whether a trained network makes the neighbourhoods of its classes smoother than the input
already is.
"""),
]


def build():
    return notebook(CELLS)


if __name__ == "__main__":
    write_notebook(CELLS, HERE / "03_dtw_graphs.ipynb")
