"""Generate ``book/02_training.ipynb`` (chapter 2, "Training ST-GCN") with nbformat; outputs stay empty.

Run from the repository root: ``.venv/bin/python book/_make_02.py``.
"""
from __future__ import annotations

from pathlib import Path

from _nbgen import code, md, notebook, write_notebook

HERE = Path(__file__).resolve().parent

CELLS = [
    md("""
# Training ST-GCN

The later chapters look inside a trained spatio-temporal graph convolution network (ST-GCN, Yan,
Xiong and Lin, 2018): how its layers arrange the HDM05 clips, and which joints and frames each
layer attends to. This chapter trains that network. It shows the architecture block by block, the
*spatial* partition that gives the graph convolution its three kernels, the training curves, and
how well the trained model recognises the actions of the two actors it never saw.

Parameters (set them when running the chapter with papermill): `profile` picks a setting from
`helpers.profiles` (`"quick"`: a quarter-width network that trains on a laptop CPU in minutes;
`"paper"`: the full network with the original schedule, meant for a GPU), `device` (`"auto"`
uses CUDA when present), `data_dir` and `cache_dir` (`None`: `$STGCN_DATA_DIR` and
`$STGCN_CACHE_DIR`), and `seed`, which fixes the initial weights, the data order and the
augmentation.
"""),
    code("""
profile = "quick"
device = "auto"
data_dir = None
cache_dir = None
seed = 0
""", tags=["parameters"]),
    code("""
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import HTML, Markdown, display

from helpers.data.augment import rotate, rotation_about_axis
from helpers.data.hdm05 import load_hdm05
from helpers.device import resolve_device
from helpers.graph import plot_partition
from helpers.model import STGCN
from helpers.profiles import get_profile
from helpers.training import get_trained_model

prof = get_profile(profile)
cfg = prof.train_config()
dev = resolve_device(device)
ds = load_hdm05(data_dir, fps=prof.data["fps"], cache_dir=cache_dir, progress=False)
print(ds)
print(f"profile {prof.name!r}: {prof.description}")
print(f"device: {dev}; torch uses {torch.get_num_threads()} CPU thread(s)")
if prof.name == "paper" and dev.type == "cpu":
    print("note: the paper profile is meant for a GPU; on a CPU its training takes hours")
"""),
    md("""
## The network

ST-GCN reads a clip as a tensor $(C, T, V)$: $C = 3$ coordinates of $V = 31$ joints in $T$ frames
(the model's batch layout is $(N, C, T, V, M)$ with $M$ bodies; HDM05 has one). It first
normalises every (joint, coordinate) pair with a batch normalisation layer, then stacks ten
*ST-GCN blocks*. Each block

1. mixes channels and aggregates them over the skeleton: for each of the $K = 3$ partition subsets
   $k$ (next section) a $1\\times1$ convolution $W_k$ maps the $C_\\text{in}$ input channels to
   $C_\\text{out}$, and joint $w$ receives $\\sum_k \\sum_v (W_k x)_v \\, (A_k \\odot M_k)_{vw}$, where
   $A_k$ is the normalised adjacency of subset $k$ and $M_k$ a learned *edge importance* mask;
2. convolves each joint's channels over time with a kernel of 9 frames (stride 2 in blocks 5 and
   8, which halves the number of frames), with batch normalisation and ReLU around it;
3. adds a residual connection (a $1\\times1$ convolution where the shape changes; none in block 1).

After the last block, global average pooling over frames and joints gives one vector per clip, and
a $1\\times1$ convolution turns it into one score per class. The table lists each block's output
$(C, T, V)$ for the profile's input length and the number of learned parameters.
"""),
    code("""
net = STGCN(num_classes=ds.num_classes, in_channels=ds.num_channels, **prof.model)
T = cfg.length
rows = net.summary(T=T)
head = "".join(f"<th>{h}</th>" for h in ("layer", "input (C, T, V)", "output (C, T, V)", "stride",
                                         "residual", "parameters"))
body = []
bn = sum(p.numel() for p in net.data_bn.parameters())
body.append(f"<tr><td>input batch norm</td><td>({ds.num_channels}, {T}, {ds.num_joints})</td>"
            f"<td>({ds.num_channels}, {T}, {ds.num_joints})</td><td></td><td></td><td>{bn:,}</td></tr>")
t_in = T
for r in rows:
    body.append(f"<tr><td>block {r['block']}</td><td>({r['in_channels']}, {t_in}, {r['V']})</td>"
                f"<td>({r['out_channels']}, {r['T_out']}, {r['V']})</td><td>{r['stride']}</td>"
                f"<td>{r['residual']}</td><td>{r['parameters']:,}</td></tr>")
    t_in = r["T_out"]
fc = sum(p.numel() for p in net.fcn.parameters())
c_last = rows[-1]["out_channels"]
body.append(f"<tr><td>pooling + classifier</td><td>({c_last}, {t_in}, {ds.num_joints})</td>"
            f"<td>({ds.num_classes},)</td><td></td><td></td><td>{fc:,}</td></tr>")
total = net.num_parameters()
body.append(f"<tr><td><b>total</b></td><td></td><td></td><td></td><td></td><td><b>{total:,}</b></td></tr>")
display(HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"))
widths = [r["out_channels"] for r in rows]
print(f"{len(rows)} blocks, {widths[0]} to {widths[-1]} channels (width factor {prof.model.get('width', 1.0)} "
      f"of the original 64 to 256), {total:,} parameters; "
      f"the {T}-frame input leaves {rows[-1]['T_out']} frames after the last block.")
"""),
    md("""
## The spatial partition

A graph convolution on an image-like grid would give every neighbour of a pixel its own weight;
on a skeleton the neighbours of a joint have no fixed order, so ST-GCN sorts them into a few
*subsets* and learns one weight matrix $W_k$ per subset. The *spatial* strategy uses the
skeleton's centre (here the thorax, marked with a cross): for the joint being updated, subset 0 is
the joint itself, one subset holds the neighbours farther from the centre than the joint
(centrifugal, e.g. from the elbow towards the wrist) and one the neighbours closer to it
(centripetal, towards the shoulder). The figure colours the subsets for three joints on a standing
pose of the first training clip, turned so that the hips line up with the page.
"""),
    code("""
graph = net.graph
names = list(graph.joint_names)
pose = ds.normalized(center="first").sequences[0][0]                 # (V, 3), first frame
hips = pose[names.index("lhipjoint")] - pose[names.index("rhipjoint")]
facing = rotate(pose[None], rotation_about_axis(ds.up_axis, np.degrees(np.arctan2(hips[2], hips[0]))))[0]
picks = ["rhumerus", "lfemur", "thorax"]
fig, axes = plt.subplots(1, len(picks), figsize=(4.2 * len(picks), 5))
for ax, name in zip(axes, picks):
    plot_partition(graph, facing, names.index(name), ax=ax)
plt.tight_layout()
plt.show()
for name in picks:
    sub = graph.neighbor_subsets(names.index(name))
    parts = "; ".join(f"{graph.subset_names[k]}: {', '.join(names[j] for j in js) or '-'}" for k, js in sub.items())
    print(f"{name}: {parts}")
"""),
    md("""
(In the ASF skeleton each joint sits at the end of its bone: `rhumerus` is the right elbow,
`lfemur` the left knee.) The centre joint itself has no closer neighbour: all its neighbours are
equally far or farther from the centre.

## Training

`get_trained_model` trains the profile's network the first time it is asked for and stores the
weights, the training curves and the test scores in the content-addressed cache (the key is the
profile's full configuration, a fingerprint of the data and the seed); later chapters and later
runs load it in about a second. Clips are centred on the root joint of their first frame. Each
training step crops a random window covering most of a clip (the `crop` range below, as shares of
the clip), resamples it to `length` frames by linear interpolation, and turns it by a random angle
of up to `rotate_up` degrees about the vertical axis, since the actors face different directions
in the room; the test clips are resampled whole to the same `length`, so that no clip carries zero
padding into the network's average pooling. SGD with Nesterov momentum follows a linear warm-up
and then the learning-rate `schedule`. The recipe, as the profile defines it:
"""),
    code("""
recipe = cfg.to_dict()
for key in ("epochs", "batch_size", "lr", "schedule", "warmup_epochs", "milestones", "momentum", "nesterov",
            "weight_decay", "balance", "center", "scale", "length", "eval_mode", "augment"):
    print(f"  {key:<14} {recipe[key]}")
"""),
    code("""
start = time.perf_counter()
model, result = get_trained_model(profile, device=device, data_dir=data_dir, cache_dir=cache_dir, seed=seed)
elapsed = time.perf_counter() - start
h = result.history
print(f"get_trained_model took {elapsed:.1f} s in this run "
      f"({'loaded from the cache' if elapsed < 0.5 * result.train_seconds else 'trained now'}).")
print(f"Training ran {result.epochs_done} epochs on {result.device}: {result.train_seconds:.0f} s in all, "
      f"{result.seconds_per_epoch:.1f} s per epoch (wall time, test evaluation after each epoch included).")
"""),
    md("""
## Training curves

The left panel shows the mean cross-entropy loss per epoch, the right one the accuracy on the
training batches (augmented, dropout on, so it lags behind) and on the test actors after each
epoch. The test curve is only watched: the kept model is the one of the last epoch, and every
setting of the profile (number of epochs, clip length, learning rate, augmentation) was chosen on a
*validation* actor held out of the training actors (`dg`), never on the test actors.
"""),
    code("""
epochs = np.asarray(h["epoch"])
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
ax1.plot(epochs, h["loss"], color="C0", label="training loss")
if np.isfinite(h["val_loss"]).any():
    ax1.plot(epochs, h["val_loss"], color="C1", label="test loss")
ax1.set_xlabel("epoch")
ax1.set_ylabel("cross-entropy")
ax1.legend()
lr_ax = ax1.twinx()
lr_ax.plot(epochs, h["lr"], color="0.6", ls=":", label="learning rate")
lr_ax.set_ylabel("learning rate (dotted)", color="0.4")
ax2.plot(epochs, h["train_acc"], color="C0", label="training batches (augmented)")
ax2.plot(epochs, h["val_acc"], color="C1", label="test actors")
ax2.set_xlabel("epoch")
ax2.set_ylabel("top-1 accuracy")
ax2.set_ylim(0, 1.02)
ax2.legend(loc="lower right")
plt.tight_layout()
plt.show()
half = len(epochs) // 2
print(f"training loss: {h['loss'][0]:.2f} after the first epoch, {h['loss'][-1]:.2f} after the last; "
      f"test accuracy {np.mean(h['val_acc'][half:]):.1%} on average over the second half of training "
      f"(range {np.min(h['val_acc'][half:]):.1%} to {np.max(h['val_acc'][half:]):.1%}).")
"""),
    md("""
Early on, while the learning rate is high, the test accuracy jumps from epoch to epoch; as the
cosine schedule lowers the learning rate the curves settle.

## Test accuracy

The final model is scored on all clips of the test actors (`mm`, `tr`).
"""),
    code("""
ev = result.test
n_test = len(ev.labels)
display(Markdown(
    f"**Top-1 accuracy on the test actors: {ev.accuracy:.1%}** ({int((ev.predictions == ev.labels).sum())} of "
    f"{n_test} clips). The mean of the per-class accuracies (balanced accuracy) is {ev.balanced_accuracy:.1%}; "
    f"always answering the largest test class would score {np.bincount(ev.labels).max() / n_test:.1%}."))
"""),
    code("""
k = len(ev.class_names)
conf = ev.confusion
fig, ax = plt.subplots(figsize=(8, 7))
im = ax.imshow(conf / np.maximum(conf.sum(axis=1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
for i in range(k):
    for j in range(k):
        if conf[i, j]:
            ax.text(j, i, conf[i, j], ha="center", va="center", fontsize=8,
                    color="white" if conf[i, j] > 0.6 * conf[i].sum() else "black")
ax.set_xticks(range(k))
ax.set_yticks(range(k))
ax.set_xticklabels(ev.class_names, rotation=60, ha="right", fontsize=8)
ax.set_yticklabels(ev.class_names, fontsize=8)
ax.set_xlabel("predicted class")
ax.set_ylabel("true class")
ax.set_title("confusion matrix on the test actors (counts; colour = share of the row)")
fig.colorbar(im, ax=ax, fraction=0.046)
plt.tight_layout()
plt.show()
off = conf.copy()
np.fill_diagonal(off, 0)
if off.sum():
    i, j = np.unravel_index(off.argmax(), off.shape)
    print(f"{off.sum()} clips are misclassified; the most frequent confusion is {ev.class_names[i]} taken for "
          f"{ev.class_names[j]} ({off[i, j]} of {conf[i].sum()} clips).")
else:
    print("every test clip is classified correctly")
"""),
    code("""
support = conf.sum(axis=1)
order = np.argsort(ev.per_class)
fig, ax = plt.subplots(figsize=(9, 4.5))
bars = ax.barh(range(k), ev.per_class[order], color="C0")
ax.set_yticks(range(k))
ax.set_yticklabels([f"{ev.class_names[c]} (n={support[c]})" for c in order], fontsize=8)
ax.set_xlim(0, 1.05)
ax.set_xlabel("accuracy on the test actors")
ax.axvline(ev.accuracy, color="C1", ls="--", label=f"overall {ev.accuracy:.1%}")
ax.legend(loc="lower right")
ax.set_title("per-class accuracy")
plt.tight_layout()
plt.show()
worst = order[0]
perfect = [ev.class_names[c] for c in range(k) if ev.per_class[c] == 1.0]
print(f"{len(perfect)} of {k} classes are recognised without a mistake; the hardest is {ev.class_names[worst]} "
      f"({ev.per_class[worst]:.0%} of {support[worst]} clips).")
"""),
    md("""
The bars are short where classes share most of their movement: the confusion matrix shows which
actions the network mixes up. With only a few test clips per class (the `n` in the labels), one
clip moves a class's bar by several percentage points, so small differences between classes are
not meaningful.

The model returned by `get_trained_model` is in evaluation mode and is what the next chapters
analyse; `helpers.training.model_inputs(ds, result.config)` builds its inputs exactly as it saw
them during training (centred, resampled to the profile's clip length).
"""),
]


def build():
    return notebook(CELLS)


if __name__ == "__main__":
    write_notebook(CELLS, HERE / "02_training.ipynb")
