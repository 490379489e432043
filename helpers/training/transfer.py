"""Transfer between related tasks, after Yosinski et al. (2014).

*How transferable are features in deep neural networks?*

The paper's explanation of why transfer works: early layers capture generic human motion, so
they can be kept as they are for another task, while later layers are task-specific and must be
retrained. Yosinski et al.'s design tells specificity apart from broken co-adaptation. For a
source network A (trained on the source classes), a network B (trained on the target classes)
and a number of blocks k, :func:`transfer_model` builds

``AnB``
    A's input BatchNorm and first k blocks, frozen; blocks k+1.. and the classifier new
    (initialised as a new network is), trained on the target;
``AnB+``
    the same, with the transferred blocks fine-tuned too (at a factor of the learning rate);
``BnB``
    B's first k blocks, frozen, the rest new and retrained: the self-transfer control. When AnB
    falls below BnB, A's first k blocks are specific to the source task; when BnB falls too,
    splitting the network at k broke co-adapted layers, whatever they had learnt.

``k = 0`` is a new network: training from scratch. :func:`train_transfer` trains any of them
with early stopping on a validation subject held out of the target's training clips (the same
rule for every configuration and for scratch) and scores the target's test clips.

Class splits. Every target class is paired with a related source class, so the two tasks share
kinds of motion but no class. :func:`class_splits` gives several splits of the same pairs: the
first puts the first class of every pair on the source side (:data:`HDM05_TASKS`,
:data:`UTD_MHAD_TASKS`), the others swap pairs at random.

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

from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from helpers.data.dataset import SkeletonDataset
from helpers.nets.stgcn import STGCN
from helpers.runtime.arguments import check_int, check_number
from helpers.training.config import TrainConfig, TrainResult
from helpers.training.loop import evaluate, fit

__all__ = [
    "HDM05_PAIRS",
    "HDM05_TASKS",
    "TRANSFER_MODES",
    "UTD_MHAD_PAIRS",
    "UTD_MHAD_TASKS",
    "class_splits",
    "default_tasks",
    "few_shot",
    "fitting_clips",
    "split_tasks",
    "train_transfer",
    "transfer_model",
    "transferred_parameters",
    "validation_subject_of",
]

#: Related HDM05 classes, (one, other), and the class with no close relative (always a source
#: class): see the module docstring.
HDM05_PAIRS: tuple[tuple[str, str], ...] = (
    ("depositFloorR", "grabHighR"),
    ("hopBothLegs1hops", "kickLFront1Reps"),
    ("squat1Reps", "lieDownFloor"),
    ("jogLeftCircle4StepsRstart", "sneak2StepsLStart"),
    ("rotateArmsBothBackward1Reps", "throwBasketball"),
)
_HDM05_UNPAIRED = ("elbowToKnee1RepsLelbowStart",)

#: Related UTD-MHAD actions: the two swipes, the two circle directions, sit to stand / stand to
#: sit, jogging / walking in place, hand wave / knock on door, draw x / draw triangle, cross
#: arms / arm curl, lunge / squat, tennis forehand / baseball swing, arm throw / tennis serve
#: (overhead), basketball shoot / catch an object (both hands up), pick up and throw / bowling
#: (a low right-hand swing), two-hand push / front boxing (arms thrust forward). The two-hand
#: front clap has no close relative left (always a source class).
UTD_MHAD_PAIRS: tuple[tuple[str, str], ...] = (
    ("right arm swipe to the left", "right arm swipe to the right"),
    ("right hand draw circle (clockwise)", "right hand draw circle (counter clockwise)"),
    ("sit to stand", "stand to sit"),
    ("jogging in place", "walking in place"),
    ("right hand wave", "right hand knock on door"),
    ("right hand draw x", "draw triangle"),
    ("cross arms in the chest", "arm curl (two arms)"),
    ("forward lunge (left foot forward)", "squat (two arms stretch out)"),
    ("tennis right hand forehand swing", "baseball swing from right"),
    ("right arm throw", "tennis serve"),
    ("basketball shoot", "right hand catch an object"),
    ("right hand pick up and throw", "bowling (right hand)"),
    ("two hand push", "front boxing"),
)
_UTD_MHAD_UNPAIRED = ("two hand front clap",)

_KNOWN_PAIRS = ((HDM05_PAIRS, _HDM05_UNPAIRED), (UTD_MHAD_PAIRS, _UTD_MHAD_UNPAIRED))


def _tasks_of(pairs, unpaired, flips) -> dict[str, tuple[str, ...]]:
    source = [b if f else a for (a, b), f in zip(pairs, flips)] + list(unpaired)
    target = [a if f else b for (a, b), f in zip(pairs, flips)]
    return {"source": tuple(source), "target": tuple(target)}


#: The first split of :func:`class_splits` for HDM05 (and :func:`default_tasks`).
HDM05_TASKS: dict[str, tuple[str, ...]] = _tasks_of(
    HDM05_PAIRS, _HDM05_UNPAIRED, [False] * len(HDM05_PAIRS)
)
#: The first split of :func:`class_splits` for UTD-MHAD: 14 source and 13 target classes.
UTD_MHAD_TASKS: dict[str, tuple[str, ...]] = _tasks_of(
    UTD_MHAD_PAIRS, _UTD_MHAD_UNPAIRED, [False] * len(UTD_MHAD_PAIRS)
)

#: The three configurations of Yosinski et al. (2014) that :func:`transfer_model` builds.
TRANSFER_MODES = ("AnB", "AnB+", "BnB")


def class_splits(
    ds: SkeletonDataset, count: int = 3, random_state: int = 0
) -> list[dict[str, tuple[str, ...]]]:
    """``count`` splits of ``ds``'s classes into a source and a target task.

    For HDM05 and UTD-MHAD (all the classes of :data:`HDM05_PAIRS` or :data:`UTD_MHAD_PAIRS`
    present) every split keeps each pair apart, one class on each side: the first split is
    :data:`HDM05_TASKS` (:data:`UTD_MHAD_TASKS`), each further one swaps every pair with
    probability 1/2 (seeded by ``random_state``), distinct from the splits before it. For other
    data the first split alternates the classes in index order (0, 2, 4, ... source), the
    further ones are random halves: nothing is assumed about which classes are related.

    Returns
    -------
    A list of ``{'source': class names, 'target': class names}``.
    """
    count = check_int("count", count, low=1)
    names = list(ds.class_names)
    rng = np.random.default_rng(check_int("random_state", random_state))
    for pairs, unpaired in _KNOWN_PAIRS:
        if {c for pair in pairs for c in pair} | set(unpaired) <= set(names):
            if int(count) > 2 ** len(pairs):
                raise ValueError(f"count={count}: only {2 ** len(pairs)} splits of the pairs")
            flips = [(False,) * len(pairs)]
            while len(flips) < int(count):
                f = tuple(bool(b) for b in rng.integers(0, 2, len(pairs)))
                if f not in flips:
                    flips.append(f)
            return [_tasks_of(pairs, unpaired, f) for f in flips]
    if len(names) < 4:
        raise ValueError(
            f"{len(names)} classes: a transfer split needs at least 2 source and 2 target classes"
        )
    splits = [{"source": tuple(names[0::2]), "target": tuple(names[1::2])}]
    tries = 0
    while len(splits) < int(count):
        tries += 1
        if tries > 1000:
            raise ValueError(f"count={count}: could not draw that many distinct splits")
        order = rng.permutation(len(names))
        half = len(names) - len(names) // 2
        split = {
            "source": tuple(names[i] for i in sorted(order[:half])),
            "target": tuple(names[i] for i in sorted(order[half:])),
        }
        if split not in splits:
            splits.append(split)
    return splits


def default_tasks(ds: SkeletonDataset) -> dict[str, tuple[str, ...]]:
    """The first split of :func:`class_splits`.

    :data:`HDM05_TASKS`, :data:`UTD_MHAD_TASKS`, or the classes alternating in index order
    (0, 2, 4, ... source; 1, 3, 5, ... target).

    Pass your own ``{'source': [...], 'target': [...]}`` where related pairs are known.
    """
    return class_splits(ds, 1)[0]


def split_tasks(
    ds: SkeletonDataset,
    source: Sequence[str | int] = HDM05_TASKS["source"],
    target: Sequence[str | int] = HDM05_TASKS["target"],
) -> tuple[SkeletonDataset, SkeletonDataset]:
    """The source and the target task: two datasets with disjoint classes, each relabelled."""
    for name, names in (("source", source), ("target", target)):
        if isinstance(names, (str, bytes)) or len(names) == 0:
            raise ValueError(f"{name}={names!r}: expected a list of one or more class names")
    src, tgt = ds.select_classes(source), ds.select_classes(target)
    shared = set(src.class_names) & set(tgt.class_names)
    if shared:
        raise ValueError(f"source and target tasks share the classes {sorted(shared)}")
    for name, task in (("source", src), ("target", tgt)):
        if not (task.split == "train").any():
            raise ValueError(
                f"{name} task {list(task.class_names)}: no training clips (its clips are all "
                "in the test split); a task needs training clips to train on"
            )
    return src, tgt


def _few_shot_mask(ds: SkeletonDataset, per_class: int, among: np.ndarray, rng) -> np.ndarray:
    """``per_class`` clips of every class drawn from the clips ``among`` (a bool mask)."""
    keep = np.zeros(len(ds), dtype=bool)
    for c in range(ds.num_classes):
        idx = np.flatnonzero((ds.labels == c) & among)
        if len(idx) < int(per_class):
            raise ValueError(
                f"class {ds.class_names[c]!r} has {len(idx)} training clips, fewer than "
                f"per_class={per_class}"
            )
        keep[rng.choice(idx, int(per_class), replace=False)] = True
    return keep


def _checked_per_class(per_class) -> int | None:
    return None if per_class is None else check_int("per_class", per_class, low=1)


def few_shot(ds: SkeletonDataset, per_class: int | None, random_state: int = 0) -> SkeletonDataset:
    """``per_class`` training clips of every class (drawn at random), all if None.

    Only the training split is thinned; the test clips are kept. Raises ValueError when a class
    has fewer training clips than asked for.
    """
    per_class = _checked_per_class(per_class)
    if per_class is None:
        return ds
    train = ds.split == "train"
    rng = np.random.default_rng(random_state)
    return ds.subset(~train | _few_shot_mask(ds, per_class, train, rng))


def validation_subject_of(target: SkeletonDataset) -> str:
    """The training subject :func:`train_transfer` holds out by default.

    The last of the target's training subjects in sorted order (compared as strings).
    """
    subjects = sorted({str(s) for s in np.asarray(target.subjects)[target.split == "train"]})
    if len(subjects) < 2:
        raise ValueError(
            f"target: early stopping holds one training subject out and trains on the others; "
            f"the training clips come from {len(subjects)} subject(s)"
        )
    return subjects[-1]


def fitting_clips(
    target: SkeletonDataset,
    validation_subject=None,
    per_class: int | None = None,
    random_state: int = 0,
) -> np.ndarray:
    """The target clips a transfer run trains on: (N,) bool.

    The training clips of every training subject but ``validation_subject`` (default
    :func:`validation_subject_of`), thinned to ``per_class`` clips of every class (drawn with
    ``random_state``; None: all). The self-transfer control's network B trains on exactly these.
    """
    per_class = _checked_per_class(per_class)
    if validation_subject is None:
        validation_subject = validation_subject_of(target)
    fit_ds, _ = target.hold_out(validation_subject)  # checks the subject
    subjects = np.asarray([str(s) for s in target.subjects])
    among = (target.split == "train") & (subjects != str(validation_subject))
    if per_class is None:
        return among
    return _few_shot_mask(target, per_class, among, np.random.default_rng(random_state))


def transferred_parameters(model: STGCN, k: int) -> list[str]:
    """Names of the parameters and buffers a transfer of ``k`` blocks copies.

    The input BatchNorm (``data_bn``), blocks 1..k and their edge importance: the part of an
    ST-GCN below block k+1 (nothing for ``k = 0``), as in ``model.state_dict()``.
    """
    if not isinstance(model, STGCN):
        raise TypeError(f"model must be an STGCN, got {type(model).__name__}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer, got {k!r}")
    if not 0 <= int(k) <= model.num_blocks:
        raise ValueError(f"k must be in 0..{model.num_blocks}, got {k}")
    if int(k) == 0:
        return []
    prefixes = ("data_bn.",) + tuple(f"st_gcn_networks.{i}." for i in range(int(k)))
    names = [n for n in model.state_dict() if n.startswith(prefixes)]
    names += [f"edge_importance.{i}" for i in range(int(k)) if model.edge_importance is not None]
    return names


def _new_network(base: STGCN, num_classes: int, random_state: int) -> STGCN:
    """A new network of ``base``'s architecture for ``num_classes`` classes."""
    cfg = dict(base.config)
    graph = base.graph
    cfg.pop("graph")
    cfg.update(num_classes=int(num_classes), random_state=int(random_state))
    return STGCN(graph=graph, **cfg).to(next(base.parameters()).device)


def transfer_model(
    base: STGCN, num_classes: int, k: int, *, freeze: bool = True, random_state: int = 0
) -> STGCN:
    """Yosinski et al.'s transferred network: ``base``'s first ``k`` blocks under new ones.

    A new network of ``base``'s architecture for ``num_classes`` classes (initialised as every
    new network is, seeded by ``random_state``) receives ``base``'s input BatchNorm and blocks
    1..k (weights, running statistics and edge importance; :func:`transferred_parameters`).
    With ``freeze`` they are frozen (:meth:`~helpers.nets.stgcn.STGCN.freeze_blocks`: no
    gradient, BatchNorm statistics kept): ``AnB`` for a source network, ``BnB`` for a network
    trained on the target. Without, they are trained with the rest (``AnB+``). ``k = 0`` is a
    new network. ``base`` is not changed.
    """
    names = transferred_parameters(base, k)
    model = _new_network(base, num_classes, random_state)
    state = model.state_dict()
    base_state = base.state_dict()
    for name in names:
        state[name] = base_state[name].detach().clone()
    model.load_state_dict(state)
    model.train_config = getattr(base, "train_config", None)
    return model.freeze_blocks(int(k) if freeze else 0)


def train_transfer(
    base: STGCN,
    target: SkeletonDataset,
    k: int,
    config: TrainConfig | Mapping,
    *,
    freeze: bool = True,
    lr_factor: float = 1.0,
    validation_subject=None,
    patience: int = 10,
    per_class: int | None = None,
    random_state: int = 0,
    device: str | torch.device = "auto",
    num_threads: int | None = None,
) -> tuple[nn.Module, TrainResult]:
    """Train :func:`transfer_model` on ``target`` with early stopping; score its test clips.

    Parameters
    ----------
    base : the network whose first ``k`` blocks are transferred (A or B; for ``k = 0`` only its
        architecture is used: training from scratch).
    target : the target task's clips (training and test split).
    k : number of transferred blocks, 0..num_blocks.
    config : the :class:`~helpers.training.config.TrainConfig`; ``epochs`` is the most it may
        train (the cosine schedule spans them); the batch is at most the training clips.
    freeze : frozen transferred blocks (AnB, BnB) or fine-tuned ones (AnB+).
    lr_factor : with ``freeze=False``, the transferred blocks' learning rate as a factor of the
        new layers'.
    validation_subject : the training subject held out for early stopping (None: the last of
        the target's training subjects in sorted order); never trained on.
    patience : stop after this many epochs without a better validation epoch
        (:class:`~helpers.training.early_stopping.EarlyStopping`, which checks it); the best
        epoch's weights are kept.
    per_class : training clips per class (:func:`fitting_clips`, drawn after the validation subject
        is held out; None: all).
    random_state : seeds the new layers, the few-shot draw and the training.
    device, num_threads : as in :func:`helpers.training.loop.fit`.

    Returns
    -------
    ``(model, result)``: ``result.test`` is the accuracy on the target's test clips;
    ``result.extra`` holds ``best_epoch``, ``val_acc`` and ``val_loss`` (at the best epoch),
    ``validation_subject`` and ``train_clips``.
    """
    if not isinstance(base, STGCN):
        raise TypeError(f"base must be an STGCN, got {type(base).__name__}")
    check_number("lr_factor", lr_factor, low=0)
    check_int("random_state", random_state)
    if not isinstance(freeze, bool):
        raise TypeError(f"freeze={freeze!r}: expected True (AnB, BnB) or False (AnB+)")
    if validation_subject is None:
        validation_subject = validation_subject_of(target)
    mask = fitting_clips(target, validation_subject, per_class, random_state)
    fit_ds = target.subset(mask)
    _, val_ds = target.hold_out(validation_subject)
    cfg = TrainConfig.from_dict(config)
    cfg = TrainConfig.from_dict({**cfg.to_dict(), "batch_size": min(cfg.batch_size, len(fit_ds))})
    model = transfer_model(base, target.num_classes, k, freeze=freeze, random_state=random_state)
    factors = None
    if not freeze and lr_factor != 1.0:
        factors = {
            n: float(lr_factor)
            for n in transferred_parameters(model, k)
            if n in dict(model.named_parameters())
        }
    result = fit(
        model,
        fit_ds,
        val_ds,
        cfg,
        random_state=random_state,
        device=device,
        progress=False,
        num_threads=num_threads,
        patience=patience,
        lr_factors=factors,
    )
    best = int(result.extra["best_epoch"])
    result.extra.update(
        val_acc=float(result.history["val_acc"][best - 1]),
        val_loss=float(result.history["val_loss"][best - 1]),
        validation_subject=str(validation_subject),
        train_clips=len(fit_ds),
    )
    if (target.split == "test").any():  # a target without test clips is scored on none
        result.test = evaluate(model, target.test(), cfg)
    return model, result
