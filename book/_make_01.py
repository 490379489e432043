"""Generate ``book/01_data.ipynb`` (chapter 1, "The data") with nbformat; outputs stay empty.

Run from the repository root: ``.venv/bin/python book/_make_01.py``.
"""
from __future__ import annotations

from pathlib import Path

from _nbgen import code, md, notebook, write_notebook

HERE = Path(__file__).resolve().parent

CELLS = [
    md("""
# The data

This book works with **HDM05**, the motion capture database of Universität Bonn, the same data
Das, Shekkizhar and Ortega use to study how the layers of an ST-GCN arrange actions. Five actors
(`bd`, `bk`, `dg`, `mm`, `tr`) were recorded with an optical Vicon system at 120 frames per
second; each recording is stored in the Acclaim formats: one skeleton file (ASF) per actor with
bone lengths, joint axes and degrees of freedom, and one motion file (AMC) per clip with the joint
angles of every frame. We use 287 cut clips of 11 motion classes and split them by actor
(cross-subject): `bd`, `bk` and `dg` train, `mm` and `tr` test.

*The data used in this project was obtained from HDM05.* The Motion Capture Database HDM05 is
licensed under a Creative Commons Attribution-ShareAlike 3.0 Unported License (CC BY-SA 3.0);
data derived from it, such as the joint positions computed in this chapter and cached on disk,
stays under CC BY-SA 3.0. Cite: M. Müller, T. Röder, M. Clausen, B. Eberhardt, B. Krüger,
A. Weber, *Documentation Mocap Database HDM05*, Technical Report CG-2007-2, Universität Bonn, 2007.

The parameters below can be changed when the chapter is run with papermill: `profile` (`"quick"`
or `"paper"`; here it only changes how many animations are rendered), `device` (unused here: this
chapter only reads files), `data_dir` (`None` means `$STGCN_DATA_DIR`, see
`helpers.config.data_dir`), `cache_dir` (`None` means `$STGCN_CACHE_DIR`) and `fps`, the frame
rate the 120 Hz recordings are resampled to.
"""),
    code("""
profile = "quick"
device = "auto"
data_dir = None
cache_dir = None
fps = 30.0
""", tags=["parameters"]),
    code("""
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import HTML, display

from helpers.config import data_dir as resolve_data_dir
from helpers.data.dataset import SkeletonDataset
from helpers.data.hdm05 import HDM05_JOINT_NAMES, HDM05_PARENTS, hdm05_rest_pose, load_hdm05
from helpers.skeleton_plot import (
    edge_colors_by_side, plot_skeleton, plot_skeleton_2d, skeleton_animation, skeleton_player,
)

if profile not in ("quick", "paper"):
    raise ValueError(f"profile must be 'quick' or 'paper', got {profile!r}")
root = resolve_data_dir(data_dir)
print(f"HDM05 folder: {root}")
"""),
    md("""
## From joint angles to joint positions

`load_hdm05` reads `manifest.csv`, parses each actor's ASF skeleton and each clip's AMC angles,
and runs forward kinematics (`helpers.data.acclaim.forward_kinematics`): starting at the root,
every bone is turned by its parent's rotation and its own angles (expressed in the bone's local
frame) and placed at the end of its parent. Lengths in the files are in units of 0.45 inch, so
the positions are converted to metres. The 120 Hz motion is resampled to `fps` frames per second
(for 30 fps: every fourth frame) and the result is cached, so the first run converts the clips
and later runs read one file.
"""),
    code("""
ds = load_hdm05(data_dir, fps=fps, cache_dir=cache_dir)
print(ds)
seconds = ds.lengths / ds.fps
print(f"{len(ds)} clips, {ds.num_classes} classes, {len(set(ds.subjects))} actors, "
      f"{ds.num_joints} joints in {ds.units}, {ds.fps:g} frames per second, y is up")
for part in ("train", "test"):
    actors = ", ".join(sorted(set(ds.subjects[ds.split == part].tolist())))
    print(f"{part}: actors {actors} ({(ds.split == part).sum()} clips)")
print(f"clip length: {ds.lengths.min()} to {ds.lengths.max()} frames "
      f"({seconds.min():.2f} s to {seconds.max():.2f} s), median {np.median(seconds):.2f} s")
"""),
    md("""
## The eleven classes

Each class is one short, cut movement: a squat, a hop with both legs, depositing something on the
floor with the right hand, grabbing something high with the right hand, a front kick with the left
leg, touching a knee with the opposite elbow, lying down on the floor, jogging a left circle,
rotating both arms backwards, sneaking two steps and throwing a basketball. The table counts the
clips per class in each split and gives the median clip duration.
"""),
    code("""
train, test = ds.split == "train", ds.split == "test"
print(f"{'':>3} {'class':<30} {'train':>5} {'test':>5} {'median s':>9}")
for k, name in enumerate(ds.class_names):
    sel = ds.labels == k
    print(f"{k:>3} {name:<30} {(sel & train).sum():>5} {(sel & test).sum():>5} {np.median(seconds[sel]):>9.2f}")
big, small = np.argmax(ds.class_counts()), np.argmin(ds.class_counts())
print(f"\\nThe largest class ({ds.class_names[big]}) has {ds.class_counts()[big]} clips, the smallest "
      f"({ds.class_names[small]}) {ds.class_counts()[small]}: a {ds.class_counts()[big] / ds.class_counts()[small]:.1f}x "
      f"imbalance, and chance accuracy on the test split is {np.bincount(ds.labels[test]).max() / test.sum():.1%} "
      "for always answering its largest class.")
"""),
    code("""
order = np.argsort(ds.class_counts())
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
y = np.arange(ds.num_classes)
n_train = np.array([((ds.labels == k) & train).sum() for k in order])
n_test = np.array([((ds.labels == k) & test).sum() for k in order])
ax1.barh(y, n_train, color="tab:blue", label="train (bd, bk, dg)")
ax1.barh(y, n_test, left=n_train, color="tab:orange", label="test (mm, tr)")
ax1.set_xlabel("clips")
ax1.set_title("clips per class")
ax1.legend(loc="lower right")
ax2.boxplot([seconds[ds.labels == k] for k in order], orientation="horizontal", positions=y, widths=0.6,
            manage_ticks=False, showfliers=False)
for yy, k in zip(y, order):
    s = seconds[ds.labels == k]
    ax2.plot(s, np.full(len(s), yy) + np.random.default_rng(k).uniform(-0.2, 0.2, len(s)), ".", color="0.4", ms=3)
ax2.set_xlabel("clip duration (s)")
ax2.set_title(f"clip length per class (at {ds.fps:g} fps: frames = seconds x {ds.fps:g})")
secax = ax2.secondary_xaxis("top", functions=(lambda s: s * ds.fps, lambda f: f / ds.fps))
secax.set_xlabel("frames")
ax1.set_yticks(y, [ds.class_names[k] for k in order])
fig.tight_layout()
plt.show()
"""),
    md("""
The left panel shows how unbalanced the classes are, and that the two test actors' share is not
the same in every class (the printout below gives the range). In the right panel each dot is one
clip: durations differ more *between* classes than within one, so the length of a clip alone
already hints at its class; the printout compares the two spreads.
"""),
    code("""
within = np.mean([seconds[ds.labels == k].std() for k in range(ds.num_classes)])
between = np.std([np.median(seconds[ds.labels == k]) for k in range(ds.num_classes)])
k_long, k_short = np.argmax([np.median(seconds[ds.labels == k]) for k in range(ds.num_classes)]), \\
    np.argmin([np.median(seconds[ds.labels == k]) for k in range(ds.num_classes)])
share = np.array([((ds.labels == k) & test).sum() / (ds.labels == k).sum() for k in range(ds.num_classes)])
print(f"test share per class: {share.min():.0%} ({ds.class_names[share.argmin()]}) to "
      f"{share.max():.0%} ({ds.class_names[share.argmax()]}); overall {test.mean():.0%}")
print(f"spread (std) of the class medians: {between:.2f} s; mean std within a class: {within:.2f} s")
print(f"longest class: {ds.class_names[k_long]} (median {np.median(seconds[ds.labels == k_long]):.2f} s); "
      f"shortest: {ds.class_names[k_short]} (median {np.median(seconds[ds.labels == k_short]):.2f} s)")
"""),
    md("""
## The skeleton graph

The ST-GCN treats the skeleton as a graph: 31 joints (the root and the end point of each of the 30
bones) connected by the 30 bones. Joint 0 is the root (the pelvis); the legs, the spine with the
head and the two arms hang from it as chains, and the thorax (joint 13) is where the neck and both
clavicles branch. Left joints are drawn blue, right joints red, the centre line grey. The drawing
is actor `bd`'s rest pose (every angle zero), seen from the front, so the actor's left is on the
right of the picture.
"""),
    code("""
degree = np.bincount(ds.edges.ravel(), minlength=ds.num_joints)
print(f"{ds.num_joints} joints, {len(ds.edges)} edges (a tree: edges = joints - 1), "
      f"max degree {degree.max()} at {[ds.joint_names[j] for j in np.flatnonzero(degree == degree.max())]}, "
      f"{(degree == 1).sum()} end points")
for j, (name, parent) in enumerate(zip(HDM05_JOINT_NAMES, HDM05_PARENTS)):
    pname = HDM05_JOINT_NAMES[parent] if parent >= 0 else "-"
    print(f"{j:>2} {name:<10} <- {parent:>2} {pname:<10}", end="\\n" if j % 3 == 2 or j == len(HDM05_JOINT_NAMES) - 1 else "  |  ")
"""),
    code("""
colors = edge_colors_by_side(ds.joint_names, ds.edges)
rest = hdm05_rest_pose("bd", root)
fig, ax = plt.subplots(figsize=(6, 6.5))
plot_skeleton_2d(ax, rest, ds.edges, joint_names=ds.joint_names, edge_colors=colors, label="index", fontsize=8)
ax.set_title("HDM05 skeleton graph (rest pose of actor bd, front view)")
plt.show()
print(f"rest-pose height of bd: {np.ptp(rest[:, 1]):.2f} m, arm span: {np.ptp(rest[:, 0]):.2f} m")
"""),
    md("""
The hands are short chains (wrist, hand, fingers and thumb are a few centimetres apart), so they
overlap in the drawing: their joints carry little motion information at this marker resolution.
Below is one frame from the middle of the first clip of each class, drawn in 3-D with the
vertical axis up; each panel is scaled to its whole clip.
"""),
    code("""
fig = plt.figure(figsize=(13, 5.2))
for k, name in enumerate(ds.class_names):
    i = np.flatnonzero(ds.labels == k)[0]
    seq = ds.sequences[i]
    ax = fig.add_subplot(2, 6, k + 1, projection="3d")
    plot_skeleton(ax, seq[len(seq) // 2], ds.edges, edge_colors=colors, limits=seq, title=name[:22])
fig.subplots_adjust(wspace=0, hspace=0.1, left=0, right=1, top=0.93, bottom=0)
plt.show()
"""),
    md("""
## Watching the motion

In a running notebook the player below lets you pick any clip, press play or drag the frame
slider; it draws each frame in Python. In the static HTML book the widgets are saved with the
frame they showed when the chapter was executed (the play button and slider stay linked, but
nothing redraws), so the animations after it are the way to see motion there: they are
self-contained JavaScript players with at most 60 frames each, played in real time.
"""),
    code("""
player = skeleton_player(ds, figsize=(4, 4), dpi=72)
player
"""),
    code("""
if profile == "paper":
    shown = [int(np.flatnonzero(ds.labels == k)[0]) for k in range(ds.num_classes)]
else:   # two test-actor clips with very different motion
    shown = [int(np.flatnonzero((ds.labels == ds.class_names.index(name)) & test)[0])
             for name in ("squat1Reps", "throwBasketball")]
for i in shown:
    anim = skeleton_animation(ds.sequences[i], ds.edges, fps=ds.fps, max_frames=60, edge_colors=colors,
                              title=f"{ds.class_names[ds.labels[i]]} ({ds.subjects[i]})", figsize=(3, 3), dpi=60)
    print(f"{ds.files[i]}: {ds.lengths[i]} frames, {ds.lengths[i] / ds.fps:.2f} s")
    display(HTML(anim.to_jshtml(default_mode="loop")))
"""),
    md("""
## Bring your own data

Nothing later in the book depends on HDM05 itself: every chapter takes a
`helpers.data.dataset.SkeletonDataset`, a list of variable-length sequences shaped
`(T, V, C)` (or `(T, M, V, C)` for several bodies) with labels, class names, subjects, a
train/test split and the skeleton's edges. `SkeletonDataset.from_arrays` builds one from plain
arrays and checks them. The cell below makes a toy dataset: a three-joint "pendulum" whose lower
joint swings at two different speeds for two classes.
"""),
    code("""
rng = np.random.default_rng(0)
sequences, labels, actors = [], [], []
for i in range(12):
    speed = 1 + (i % 2)                                   # class 0 swings slowly, class 1 fast
    t = np.arange(rng.integers(40, 80)) / 30.0
    angle = 0.6 * np.sin(2 * np.pi * speed * t)
    joints = np.zeros((len(t), 3, 3))                     # (T, V=3, C=3): hook, elbow, weight
    joints[:, 1, 1] = -0.5                                # a fixed upper rod
    joints[:, 2, 0] = 0.5 * np.sin(angle)
    joints[:, 2, 1] = -0.5 - 0.5 * np.cos(angle)
    sequences.append(joints)
    labels.append(i % 2)
    actors.append(f"p{i % 3}")
toy = SkeletonDataset.from_arrays(
    sequences, labels, class_names=["slow", "fast"], subjects=actors,
    split=["test" if a == "p2" else "train" for a in actors], edges=[(0, 1), (1, 2)], center=0,
    joint_names=["hook", "elbow", "weight"], fps=30.0, name="pendulum", units="m",
)
print(toy)
x, lengths = toy.padded()
print(f"padded batch for a model: x {x.shape} (N, C, T, V, M), lengths {lengths.tolist()}")
"""),
    md("""
`from_arrays` rejects inconsistent input with a message that names the sequence (different joint
counts, NaN frames, labels without a class name, edges outside the joint range), so a mistake in
your own conversion shows up here rather than deep inside a model.

NTU RGB+D is supported too, by `helpers.data.ntu`: `load_ntu_skeletons` reads the original
`.skeleton` text files and `load_ntu_preprocessed` the common preprocessed arrays, both returning
the same `SkeletonDataset` (25 joints, up to two bodies). It is not run here because the NTU data
is large and needs a separate download.
"""),
]


def build():
    return notebook(CELLS)


if __name__ == "__main__":
    write_notebook(CELLS, HERE / "01_data.ipynb")
