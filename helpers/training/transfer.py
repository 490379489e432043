"""Transfer between related tasks: freeze the first k blocks of a source model, fine-tune the rest.

The paper's explanation of why transfer works: early layers capture generic human motion, so
they can be kept as they are for another task, while later layers are task-specific and must be
retrained. :func:`fine_tune` tests it for one k: it copies a model trained on the source task,
gives it a new classifier for the target classes, freezes the input BatchNorm and blocks 1..k
(:meth:`helpers.nets.stgcn.STGCN.freeze_blocks`: parameters *and* BatchNorm running statistics) and
trains the rest on the target clips. ``frozen=None`` trains the same network from scratch.

The HDM05 split used by the book (:data:`HDM05_TASKS`) pairs every target class with a related
source class, so the two tasks share kinds of motion but no class:

===========================  ====================================
source (6 classes)           target (5 classes)
===========================  ====================================
depositFloorR (reach down)   grabHighR (reach up)
hopBothLegs1hops (legs)      kickLFront1Reps (legs)
squat1Reps (go down)         lieDownFloor (go down)
jogLeftCircle4StepsRstart    sneak2StepsLStart (locomotion)
rotateArmsBothBackward1Reps  throwBasketball (arms)
elbowToKnee1RepsLelbowStart  (whole body; source only)
===========================  ====================================
"""

from __future__ import annotations

import copy
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from helpers.data.dataset import SkeletonDataset
from helpers.nets.stgcn import STGCN
from helpers.training.config import TrainConfig, TrainResult
from helpers.training.loop import evaluate, fit

__all__ = [
    "HDM05_TASKS",
    "UTD_MHAD_TASKS",
    "default_tasks",
    "few_shot",
    "fine_tune",
    "split_tasks",
    "transfer_model",
]

#: Source and target classes of the book's transfer study (see the module docstring).
HDM05_TASKS: dict[str, tuple[str, ...]] = {
    "source": (
        "depositFloorR",
        "hopBothLegs1hops",
        "squat1Reps",
        "jogLeftCircle4StepsRstart",
        "rotateArmsBothBackward1Reps",
        "elbowToKnee1RepsLelbowStart",
    ),
    "target": (
        "grabHighR",
        "kickLFront1Reps",
        "lieDownFloor",
        "sneak2StepsLStart",
        "throwBasketball",
    ),
}


#: Source and target classes of UTD-MHAD: 13 pairs of related actions, one of each pair on each
#: side, and the two-hand front clap (no close relative left) on the source side: 14 source and
#: 13 target classes. Pairs, source first: the two swipes, the two circle directions, sit to
#: stand / stand to sit, jogging / walking in place, hand wave / knock on door, draw x / draw
#: triangle, cross arms / arm curl, lunge / squat, tennis forehand / baseball swing, arm throw /
#: tennis serve (overhead), basketball shoot / catch an object (both hands up), pick up and throw /
#: bowling (a low right-hand swing), two-hand push / front boxing (arms thrust forward).
UTD_MHAD_TASKS: dict[str, tuple[str, ...]] = {
    "source": (
        "right arm swipe to the left",
        "right hand draw circle (clockwise)",
        "sit to stand",
        "jogging in place",
        "right hand wave",
        "right hand draw x",
        "cross arms in the chest",
        "forward lunge (left foot forward)",
        "tennis right hand forehand swing",
        "right arm throw",
        "basketball shoot",
        "right hand pick up and throw",
        "two hand push",
        "two hand front clap",
    ),
    "target": (
        "right arm swipe to the right",
        "right hand draw circle (counter clockwise)",
        "stand to sit",
        "walking in place",
        "right hand knock on door",
        "draw triangle",
        "arm curl (two arms)",
        "squat (two arms stretch out)",
        "baseball swing from right",
        "tennis serve",
        "right hand catch an object",
        "bowling (right hand)",
        "front boxing",
    ),
}


def default_tasks(ds: SkeletonDataset) -> dict[str, tuple[str, ...]]:
    """The transfer split for ``ds``: :data:`HDM05_TASKS` or :data:`UTD_MHAD_TASKS` if it fits.

    Otherwise the classes alternate in index order (0, 2, 4, ... source; 1, 3, 5, ...
    target), a split that assumes nothing about what the classes are; pass your own
    ``{'source': [...], 'target': [...]}`` where related pairs are known.
    """
    names = list(ds.class_names)
    for known in (HDM05_TASKS, UTD_MHAD_TASKS):
        if set(known["source"]) | set(known["target"]) <= set(names):
            return {key: tuple(v) for key, v in known.items()}
    if len(names) < 4:
        raise ValueError(
            f"{len(names)} classes: a transfer split needs at least 2 source and 2 target classes"
        )
    return {"source": tuple(names[0::2]), "target": tuple(names[1::2])}


def split_tasks(
    ds: SkeletonDataset,
    source: Sequence[str | int] = HDM05_TASKS["source"],
    target: Sequence[str | int] = HDM05_TASKS["target"],
) -> tuple[SkeletonDataset, SkeletonDataset]:
    """The source and the target task: two datasets with disjoint classes, each relabelled."""
    src, tgt = ds.select_classes(source), ds.select_classes(target)
    shared = set(src.class_names) & set(tgt.class_names)
    if shared:
        raise ValueError(f"source and target tasks share the classes {sorted(shared)}")
    return src, tgt


def few_shot(ds: SkeletonDataset, per_class: int | None, random_state: int = 0) -> SkeletonDataset:
    """``per_class`` training clips of every class (drawn at random), all if None.

    Only the training split is thinned; the test clips are kept. Raises ValueError when a class
    has fewer training clips than asked for.
    """
    if per_class is None:
        return ds
    if int(per_class) < 1:
        raise ValueError(f"per_class must be >= 1 or None, got {per_class}")
    rng = np.random.default_rng(random_state)
    keep = ds.split != "train"
    for c in range(ds.num_classes):
        idx = np.flatnonzero((ds.labels == c) & (ds.split == "train"))
        if len(idx) < int(per_class):
            raise ValueError(
                f"class {ds.class_names[c]!r} has {len(idx)} training clips, fewer than "
                f"per_class={per_class}"
            )
        keep[rng.choice(idx, int(per_class), replace=False)] = True
    return ds.subset(keep)


def transfer_model(
    source: STGCN, num_classes: int, frozen: int, random_state: int | None = 0
) -> STGCN:
    """A copy of ``source`` with a new classifier and its first ``frozen`` blocks frozen."""
    if not isinstance(source, STGCN):
        raise TypeError(f"source must be an STGCN, got {type(source).__name__}")
    model = copy.deepcopy(source)
    model.replace_classifier(num_classes, random_state=random_state)
    return model.freeze_blocks(frozen)


def fine_tune(
    source: STGCN | None,
    target: SkeletonDataset,
    frozen: int | None,
    config: TrainConfig | Mapping,
    *,
    model_kwargs: Mapping | None = None,
    random_state: int = 0,
    device: str | torch.device = "auto",
    progress: bool = False,
    num_threads: int | None = None,
) -> tuple[nn.Module, TrainResult]:
    """Train on ``target`` from ``source`` with ``frozen`` blocks frozen, or from scratch.

    Parameters
    ----------
    source : the model trained on the source task (None with ``frozen=None``).
    target : the target task's clips; trains on its training split, evaluates on its test split.
    frozen : number of leading blocks kept fixed (0..num_blocks), or None: a new network of
        ``model_kwargs`` (default: the source's architecture) trained from scratch.
    config : the fine-tuning :class:`~helpers.training.config.TrainConfig`.
    model_kwargs : :class:`~helpers.nets.stgcn.STGCN` arguments for the scratch network.
    random_state : seeds the new classifier (or the scratch network) and the training.
    device, progress, num_threads : as in :func:`helpers.training.loop.fit`.

    Returns
    -------
    ``(model, result)``: ``result.test`` holds the accuracy on the target's test clips.
    """
    train_ds, test_ds = target.train(), target.test()
    if frozen is None:
        if model_kwargs is None:
            if source is None:
                raise ValueError("training from scratch needs model_kwargs or a source model")
            cfg = dict(source.config)
            graph = source.graph
            cfg.pop("graph")
            cfg.update(num_classes=target.num_classes, random_state=int(random_state))
            model = STGCN(graph=graph, **cfg)
        else:
            model = STGCN(
                num_classes=target.num_classes,
                in_channels=target.num_channels,
                random_state=int(random_state),
                **model_kwargs,
            )
    else:
        if source is None:
            raise ValueError(f"frozen={frozen} needs a source model")
        model = transfer_model(source, target.num_classes, frozen, random_state=random_state)
    # no per-epoch validation: at these sizes it would cost as much as the training
    result = fit(
        model,
        train_ds,
        None,
        config,
        random_state=random_state,
        device=device,
        progress=progress,
        num_threads=num_threads,
    )
    if len(test_ds):
        result.test = evaluate(model, test_ds, config)
    return model, result
