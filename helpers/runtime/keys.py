"""Every cache key of the project: one builder per artefact kind, each kind with its own version.

A key is the plain configuration an artefact is a function of; :class:`~helpers.runtime.DiskCache`
hashes it (:func:`~helpers.runtime.config_key`) into the artefact's file name and keeps it,
readable, in the sidecar. Nothing else in the package assembles a key: the code that stores an
artefact and the code that asks "is it cached?" call the same builder, so the two cannot drift
apart when a default changes.

The kinds, and the folder of the cache each one lives in:

* ``hdm05``, :func:`hdm05_key`: the AMC/ASF files' contents, the manifest, the frame rate;
* ``dtw``, :func:`dtw_key`: the sequences (or a name for them), the band, scaling;
* ``layer-features``, :func:`features_key`: the model's weights, the dataset, the input
  pipeline, the layer;
* ``models`` (and their resume points, ``training-runs``), :func:`model_key`: the profile (or
  the network and its training), the dataset, the seeds;
* ``studies``, :func:`study_key`: the study's name, the profile or model, the dataset, every
  setting;
* ``transfer-runs``, :func:`transfer_run_key`: the transferred network's weights, the target
  clips, the configuration (AnB, AnB+, BnB, scratch), the blocks and the training settings.

Each kind's version is a named constant below: bump it when that kind's artefacts change for the
same configuration (a bug fix, another algorithm), and only that kind is recomputed. (The cache's
own :data:`~helpers.runtime.disk_cache.CACHE_VERSION` invalidates everything at once.)
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

__all__ = [
    "DTW_VERSION",
    "FEATURES_VERSION",
    "HDM05_VERSION",
    "MODELS_VERSION",
    "STUDIES_VERSION",
    "TRANSFER_VERSION",
    "dtw_key",
    "features_key",
    "hdm05_key",
    "model_key",
    "study_key",
    "transfer_run_key",
]

#: HDM05 conversion (AMC/ASF to joint positions). 1: the first converter.
HDM05_VERSION = 1

#: DTW distance matrices. 2: float32 sequences give float32 frame costs (helpers.dtw.cpu).
DTW_VERSION = 2

#: Layer features. 1: each layer's output per clip, cropped to its valid length.
FEATURES_VERSION = 1

#: Trained models (and their resume points under ``training-runs``). 1: the first keyed version
#: (keys before it had no version field).
MODELS_VERSION = 1

#: Transfer runs. 2: Yosinski et al.'s design, trained with early stopping (1: a fixed number
#: of fine-tuning steps).
TRANSFER_VERSION = 2

#: Study tables and maps. 2: the modules moved into subpackages (pickled maps name their class's
#: module, so entries of version 1 could not be read back).
STUDIES_VERSION = 2


def hdm05_key(
    fps: float | None,
    manifest: str,
    asf: Sequence[Any],
    amc: Sequence[Any],
) -> dict[str, Any]:
    """The key of the converted HDM05 clips.

    Parameters
    ----------
    fps : the frame rate the clips are resampled to (``None``: the recording's 120 Hz).
    manifest : a digest of the manifest's content (which files, which labels and actors).
    asf, amc : one fingerprint per ASF skeleton file (sorted by actor) and per AMC motion file.
    """
    return {
        "dataset": "hdm05",
        "converter": HDM05_VERSION,
        "fps": None if fps is None else float(fps),
        "manifest": manifest,
        "asf": list(asf),
        "amc": list(amc),
    }


def dtw_key(
    data: str,
    data_from: str,
    n: int,
    d: int,
    window: Any,
    normalize: bool,
    band: Any,
) -> dict[str, Any]:
    """The key of a matrix of DTW distances between ``n`` sequences of ``d`` numbers per step.

    Parameters
    ----------
    data : the sequences' digest, or the caller's name for them.
    data_from : ``'sha256'`` (``data`` is a digest) or ``'key'`` (a name the caller vouches for).
    n, d : the number of sequences and the width of their frames.
    window : the band setting as configured (a share of the longer sequence, steps, or None).
    normalize : whether distances are divided by the path length.
    band : the band's shape (``'sakoe'``, ...).
    """
    return {
        "data": data,
        "data_from": data_from,
        "n": int(n),
        "d": int(d),
        "window": window,
        "normalize": bool(normalize),
        "band": band,
        "version": DTW_VERSION,
    }


def features_key(model: str, data: str, config: Mapping[str, Any], layer: int) -> dict[str, Any]:
    """The key of one layer's outputs for every clip of a dataset.

    Parameters
    ----------
    model : the model's fingerprint (its weights and architecture).
    data : the dataset's fingerprint.
    config : the input pipeline (``TrainConfig.to_dict()``): how clips are centred and cut.
    layer : 0 for the input, ``l`` for the output of block ``l``.
    """
    return {
        "model": model,
        "data": data,
        "config": dict(config),
        "version": FEATURES_VERSION,
        "layer": int(layer),
    }


def model_key(
    dataset: str,
    seed: int,
    *,
    profile: Mapping[str, Any] | None = None,
    network: str | None = None,
    model_config: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | None = None,
    label_seed: int | None = None,
) -> dict[str, Any]:
    """The key of a trained network.

    Either a profile's ST-GCN (``profile``: the profile's full configuration) or another network
    (``network``: its class name, ``model_config``: its constructor's settings, ``train``: the
    training configuration).

    Parameters
    ----------
    dataset : the dataset's fingerprint.
    seed : the seed of the initial weights and of training.
    label_seed : the seed the training labels were shuffled with (label randomisation), or None.
    """
    if (profile is None) == (network is None):
        raise ValueError("model_key needs exactly one of profile= and network=")
    key: dict[str, Any] = {"dataset": dataset, "seed": int(seed), "version": MODELS_VERSION}
    if profile is not None:
        key["profile"] = dict(profile)
    else:
        if model_config is None or train is None:
            raise ValueError(f"model_key(network={network!r}) needs model_config= and train=")
        key.update(network=network, model_config=dict(model_config), train=dict(train))
    if label_seed is not None:
        key["label_seed"] = int(label_seed)
    return key


def study_key(study: str, dataset: str, **settings: Any) -> dict[str, Any]:
    """The key of a study's result: its name, the dataset's fingerprint and every setting.

    ``settings`` holds everything else the result depends on: the profile's configuration
    (``profile=``) or a model's fingerprint (``model=``), and the study's parameters, with its
    defaults filled in (a default that changes must change the key).
    """
    return {"study": study, "dataset": dataset, **settings, "version": STUDIES_VERSION}


def transfer_run_key(
    base: str, target: str, mode: str, k: int, settings: Mapping[str, Any]
) -> dict[str, Any]:
    """The key of one training run of the transfer study.

    Parameters
    ----------
    base : the fingerprint of the network whose blocks are transferred (A or B; for training
        from scratch, the architecture's source).
    target : the target dataset's fingerprint.
    mode : ``'AnB'``, ``'AnB+'``, ``'BnB'`` or ``'scratch'``.
    k : transferred blocks (0 for scratch).
    settings : everything else the run depends on (the training configuration as
        ``TrainConfig.to_dict()``, learning-rate factor, patience, validation subject, clips
        per class, seed).
    """
    return {
        "study": "transfer-run",
        "base": base,
        "target": target,
        "mode": str(mode),
        "k": int(k),
        "settings": dict(settings),
        "version": TRANSFER_VERSION,
    }
