"""The study of another architecture (chapter 9).

Any network whose blocks yield (N, C, T, V) features, wrapped by
:class:`helpers.nets.block_model.BlockwiseModel`, through the same tools.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from helpers.explain.gradcam import dataset_gradcam
from helpers.geometry.layer_tables import layer_geometry
from helpers.runtime.keys import model_key, study_key
from helpers.studies.context import StudyContext
from helpers.studies.geometry import layer_geometry_key, layer_geometry_study
from helpers.studies.models import (
    cached_training,
    get_trained_model,
    split_dataset,
)
from helpers.training.features import layer_features, model_fingerprint
from helpers.training.profiles import study_settings

__all__ = [
    "own_model_study",
]


# =========================================================================== your own model
def own_model_study(
    ctx: StudyContext,
    *,
    seed: int = 0,
    epochs: int | None = 30,
    window: int | float | None = 0.1,
    k: int = 10,
    compare: bool | None = None,
    num_threads: int | None = 1,
) -> dict:
    """The book's layer geometry and Grad-CAM on a network that is not ST-GCN (cached).

    A :class:`helpers.nets.compact_gcn.CompactGCN` (4 blocks) is trained with
    :func:`helpers.training.loop.fit` on the profile's split and input pipeline (its training
    configuration, with ``epochs`` epochs), wrapped in a :class:`helpers.nets.block_model.
    BlockwiseModel`, and measured as chapters 4 and 6 measure the ST-GCN: every layer's features
    (:func:`helpers.training.features.layer_features`), their label smoothness
    (:func:`helpers.geometry.layer_tables.layer_geometry`) and every block's Grad-CAM maps
    (:func:`helpers.explain.gradcam.dataset_gradcam`, each clip's predicted class).

    Parameters
    ----------
    ctx : the study context: the profile whose split and training configuration are used, the
        dataset, device, cache and progress setting.
    seed : seeds the CompactGCN's initial weights and training, and names the ST-GCN compared.
    epochs : training epochs of the CompactGCN (None: the profile's).
    window, k : the DTW band and the neighbourhood size (chapter 4's defaults).
    compare : add the profile's ST-GCN (``seed``) for comparison: None (default) only when that
        model is already in the cache (then it costs little: its features and DTW matrices are
        cached with it; chapter 4's study is reused when it is cached too), True always
        (trains it if needed), False never.
    num_threads : CPU threads torch may use for the CompactGCN (training, features, Grad-CAM;
        not part of the cache key; None: torch's setting). The network is small: one thread is
        about as fast as two on an idle machine and many times faster on a busy one.

    Returns
    -------
    A dict: ``network`` (the trained CompactGCN, eval mode), ``model`` (it wrapped in a
    BlockwiseModel), ``result`` (its :class:`~helpers.training.config.TrainResult`),
    ``test_accuracy`` (top-1 on the held-out clips), ``layers`` (per layer: block name, channels,
    stride, total stride, numbers per step), ``geometry``
    (:func:`~helpers.geometry.layer_tables.layer_geometry` rows of the CompactGCN), ``gradcam`` (per
    block: mean share of a map in its 5 top joints and its top 20% of frames, share of all-zero
    maps, mean correlation between the classes' joint importance), ``stgcn_geometry`` and
    ``stgcn_accuracy`` (the ST-GCN's rows, layer_geometry's columns; None when not compared) and
    ``comparison`` (overall rows of both, with the columns ``model``, ``layer``, ``depth`` = layer /
    number of blocks, ``graph``, ``metric``, ``value``).
    """
    from helpers.explain.summaries import map_summary
    from helpers.nets.block_model import BlockwiseModel
    from helpers.nets.compact_gcn import CompactGCN
    from helpers.training.loop import torch_threads

    prof, ds = ctx.profile, ctx.dataset
    train_ds, test_ds = split_dataset(ds, prof.data.get("split", "cross-subject"))
    cfg = prof.train_config()
    if epochs is not None:
        cfg = replace(cfg, epochs=int(epochs), warmup_epochs=min(cfg.warmup_epochs, int(epochs)))
    dev = ctx.device
    cache = ctx.cache

    def build() -> CompactGCN:
        return CompactGCN.from_dataset(ds, random_state=int(seed))

    key = model_key(
        ds.fingerprint(),
        seed,
        network="CompactGCN",
        model_config=build().config,
        train=cfg.to_dict(),
    )
    net, result = cached_training(
        ctx, key, build, train_ds, test_ds, cfg, seed=seed, num_threads=num_threads
    )
    # the blocks' strides and channels, measured on zeros (T a multiple of the total stride)
    total = int(np.prod(net.strides))
    probe = torch.zeros(1, ds.num_channels, 16 * total, ds.num_joints, ds.num_bodies)
    model = BlockwiseModel(net, net.blocks, example_input=probe)

    def tables() -> dict[str, pd.DataFrame]:
        with torch_threads(num_threads):
            return measure()

    def measure() -> dict[str, pd.DataFrame]:
        feats = layer_features(
            model, ds, device=dev, cache_dir=ctx.cache_dir, progress=ctx.progress
        )
        geometry = layer_geometry(
            feats,
            ds.labels,
            window=window,
            k=int(k),
            class_names=ds.class_names,
            cache_dir=ctx.cache_dir,
            progress=ctx.progress,
        )
        cams = dataset_gradcam(model, ds, "all", progress=ctx.progress)
        summary = map_summary(cams.maps, ds.labels, ds.num_classes).reset_index()
        strides = np.cumprod([1, *model.strides])
        layers = pd.DataFrame(
            {
                "layer": range(model.num_blocks + 1),
                "block": ["input", *model.block_names],
                "channels": [ds.num_channels, *model.channels],
                "stride": [1, *model.strides],
                "total_stride": strides,
                "numbers_per_step": [f[0].shape[1] for f in feats],
            }
        )
        return {"layers": layers, "geometry": geometry, "gradcam": summary}

    table_key = study_key(
        "own-model-tables",
        ds.fingerprint(),
        model=model_fingerprint(model),
        window=window,
        k=int(k),
    )
    out = dict(cache.pickle("studies", table_key, tables))

    # the profile's ST-GCN: cheap when get_trained_model has it cached (the same key builder)
    if compare is None:
        compare = cache.path("models", ctx.model_key(int(seed)), ".pt").exists()
    stgcn_rows = stgcn_acc = None
    if compare:
        # chapter 4's study (the profile's seeds and the untrained baseline), if it is cached:
        # its key comes from the study's own signature, so a changed default changes it here too
        seeds = [int(v) for v in study_settings(prof, "geometry")["seeds"]]
        chapter4 = layer_geometry_key(ctx, window=window, k=int(k))
        if int(seed) in seeds and cache.path("studies", chapter4, ".pkl").exists():
            study = layer_geometry_study(ctx, window=window, k=int(k))
        else:
            study = layer_geometry_study(
                ctx, seeds=(int(seed),), untrained_seeds=(), window=window, k=int(k)
            )
        stgcn_rows = study[(study.model == "trained") & (study.seed == int(seed))]
        stgcn_rows = stgcn_rows.drop(columns=["model", "seed"]).reset_index(drop=True)
        _, stgcn_result = get_trained_model(ctx, int(seed))
        stgcn_acc = float(stgcn_result.test.accuracy)

    def overall(table: pd.DataFrame, name: str) -> pd.DataFrame:
        rows = table[table["class"] == ""].drop(columns="class")
        blocks = int(rows["layer"].max())
        return rows.assign(model=name, depth=rows["layer"] / max(blocks, 1))

    parts = [overall(out["geometry"], "CompactGCN")]
    if stgcn_rows is not None:
        parts.append(overall(stgcn_rows, "ST-GCN"))
    comparison = pd.concat(parts, ignore_index=True)
    front = ["model", "layer", "depth", "graph", "metric", "value"]
    out.update(
        network=net,
        model=model,
        result=result,
        test_accuracy=float(result.test.accuracy),
        stgcn_geometry=stgcn_rows,
        stgcn_accuracy=stgcn_acc,
        comparison=comparison[front + [c for c in comparison.columns if c not in front]],
    )
    return out
