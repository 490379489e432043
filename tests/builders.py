"""The test suite's shared builders: toy datasets, a toy ST-GCN, a few-step trainer, hook checks.

One of each, imported by the test modules (``from builders import ...``; pytest puts ``tests/``
on the path). Fixtures are in ``conftest.py`` (torch runs on one thread for the whole session).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from helpers.data.dataset import SkeletonDataset
from helpers.nets.skeleton_graph import SkeletonGraph
from helpers.nets.stgcn import STGCN
from helpers.training.profiles import Profile, get_profile

#: The toy skeleton: a chain of five joints, joint 0 at the root.
CHAIN = [(0, 1), (1, 2), (2, 3), (3, 4)]
#: Classes, joints and frames of :func:`clips` and :func:`small_model`.
K, V, T = 3, 5, 17


# --------------------------------------------------------------------------- datasets
def make_dataset(
    n_per_class: int = 8, classes: int = 3, seed: int = 0, joints: int = 5, edges=CHAIN
) -> SkeletonDataset:
    """Separable toy actions: the tip joint swings at a class-specific frequency; lengths vary.

    ``classes * n_per_class`` clips of 20..40 frames; subjects ``i % 4``, the fourth of them
    (``i % 4 == 3``) in the test split.
    """
    rng = np.random.default_rng(seed)
    seqs, labels, subjects, split = [], [], [], []
    for k in range(classes):
        for i in range(n_per_class):
            t = int(rng.integers(20, 41))
            phase = np.linspace(0, 2 * np.pi * (k + 1), t)
            base = np.zeros((t, joints, 3), np.float32)
            base[:, :, 1] = np.arange(joints) * 0.3  # a standing chain along y
            base[:, -1, 0] += 0.5 * np.sin(phase)
            base[:, -1, 2] += 0.5 * np.cos(phase)
            seqs.append(base + rng.normal(0, 0.02, base.shape).astype(np.float32))
            labels.append(k)
            subjects.append(i % 4)
            split.append("test" if i % 4 == 3 else "train")
    return SkeletonDataset.from_arrays(
        seqs,
        labels,
        [f"act{k}" for k in range(classes)],
        subjects,
        split,
        edges=edges,
        center=0,
        up_axis=1,
        name="toy",
    )


def hdm05_toy(n_per_class: int = 4) -> SkeletonDataset:
    """:func:`make_dataset` on HDM05's 31-joint skeleton, with HDM05's actor names."""
    layout = SkeletonGraph.from_layout("hdm05")
    ds = make_dataset(
        n_per_class=n_per_class, joints=layout.num_nodes, edges=[tuple(e) for e in layout.edges]
    )
    # synthetic actors: three training actors and one test actor (mm), as in HDM05's split
    ds.subjects = np.array(["bd", "bk", "dg", "mm"])[ds.subjects]
    return ds


def synthetic_dataset(n_per_class: int = 12, seed: int = 0) -> SkeletonDataset:
    """4 classes: each moves a different joint of a 6-joint chain along a different axis."""
    rng = np.random.default_rng(seed)
    rest = np.stack([np.zeros(6), np.arange(6) * 0.2, np.zeros(6)], axis=1)  # a vertical chain
    seqs, labels, subjects, split = [], [], [], []
    for c in range(4):
        for i in range(n_per_class):
            t = int(rng.integers(14, 26))
            phase = np.linspace(0, 2 * np.pi * rng.uniform(0.8, 1.2), t)
            seq = np.repeat(rest[None], t, axis=0) + rng.normal(0, 0.01, (t, 6, 3))
            seq[:, 2 + c % 4, c % 3] += 0.3 * np.sin(phase)
            seqs.append(seq)
            labels.append(c)
            # two training and two test subjects: neighbours from other subjects exist in both
            subjects.append(["ann", "bob", "cat", "dan"][i % 4])
            split.append("test" if i % 4 >= 2 else "train")
    return SkeletonDataset.from_arrays(
        seqs,
        labels,
        class_names=["lift", "sway", "push", "twist"],
        subjects=subjects,
        split=split,
        edges=[(j, j + 1) for j in range(5)],
        center=0,
        joint_names=[f"j{j}" for j in range(6)],
        fps=10.0,
        name="synthetic",
        units="m",
    )


def tiny_profile() -> Profile:
    """The quick profile shrunk to two narrow blocks and two epochs (a study runs in seconds)."""
    return get_profile(
        "quick",
        model_schedule=[[4, 1], [4, 2]],
        train_epochs=2,
        train_length=12,
        train_batch_size=8,
        # the toys name no hips or shoulders: their clips keep their own heading
        train_heading=None,
    )


# --------------------------------------------------------------------------- models
def clips(seed: int, n: int = 3, m: int = 1, t: int = T, lengths=None) -> torch.Tensor:
    """Random (N, 3, T, V, M) inputs, zero beyond each clip's ``lengths``."""
    x = torch.randn(n, 3, t, V, m, generator=torch.Generator().manual_seed(seed))
    if lengths is not None:
        for i, length in enumerate(lengths):
            x[i, :, length:] = 0
    return x


def trained(model: nn.Module, steps: int = 10, lr: float = 0.05) -> nn.Module:
    """The few-step trainer: ``steps`` SGD steps on ``clips(0)`` (one and two bodies) with
    three labels; returns the model in eval mode, without gradients.

    It leaves non-trivial weights and BN running statistics (so that train-mode use or padding
    that leaks would show) in milliseconds; nothing here needs a model that solves a task.
    """
    xs, y = [clips(0, m=1), clips(0, m=2)], torch.arange(K)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    model.train()
    for step in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xs[step % 2]), y).backward()
        opt.step()
    model.zero_grad(set_to_none=True)
    return model.eval()


def small_model(seed: int = 1, steps: int = 10, lr: float = 0.1, **stgcn) -> STGCN:
    """A tiny STGCN (the 5-joint chain, width 0.125) trained :func:`trained`'s few steps.

    Untrained, most blocks' Grad-CAM maps are zero for every class (ReLU of a negative sum) and
    every clip gets the same prediction; a few steps on three clips with three labels make the
    maps non-zero and the predictions differ. ``stgcn``: more STGCN arguments (``num_blocks``).
    """
    graph = SkeletonGraph(V, CHAIN, center=0)
    return trained(STGCN(K, graph=graph, width=0.125, random_state=seed, **stgcn), steps, lr=lr)


# --------------------------------------------------------------------------- checks
_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_pre_hooks",
    "_backward_hooks",
    "_backward_pre_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_pre_hooks_with_kwargs",
)


def no_hooks(model: nn.Module) -> bool:
    """Whether no module of ``model`` holds a hook of any kind (forward, pre, backward)."""
    return all(not getattr(mod, name, {}) for mod in model.modules() for name in _HOOK_DICTS)


def minimal_dataset(n_per_subject: int = 6, seed: int = 0) -> SkeletonDataset:
    """Only what ``from_arrays`` requires, plus who moved and the split a held-out test needs.

    4 classes of a 6-joint figure with no bones, no joint or class names and no frame rate;
    subjects 0-4, ``n_per_subject`` clips of every class each, subjects 3 and 4 in the test
    split. Each class moves another joint along another axis.
    """
    rng = np.random.default_rng(seed)
    seqs, labels, subjects = [], [], []
    for c in range(4):
        for subject in range(5):
            for _ in range(n_per_subject):
                t = int(rng.integers(14, 26))
                phase = np.linspace(0, 2 * np.pi * rng.uniform(0.8, 1.2), t)
                seq = rng.normal(0, 0.01, (t, 6, 3)) + np.arange(6)[None, :, None] * 0.1
                seq[:, 1 + c, c % 3] += 0.3 * np.sin(phase)
                seqs.append(seq)
                labels.append(c)
                subjects.append(subject)
    subjects = np.asarray(subjects)
    return SkeletonDataset.from_arrays(
        seqs, labels, subjects=subjects, split=np.where(subjects >= 3, "test", "train")
    )
