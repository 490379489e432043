"""Readouts of a layer that need no graph: a cross-subject linear probe and linear CKA.

The graph measures ask whether a clip's neighbours share its class. Two independent readouts
ask the same of a layer in other ways, so that a conclusion about where the classes separate
does not rest on one construction:

Linear probe
    Each clip's layer output is averaged over its valid time steps (:func:`time_pooled`), and a
    multinomial logistic regression (scikit-learn, features standardised on the training
    clips) is trained on the training subjects' clips and scored on the test subjects' clips:
    how linearly decodable the class is from the layer, across subjects.
Linear CKA (Kornblith et al. 2019)
    How similar two layers' representations of the same clips are, up to rotation and
    isotropic scaling: with column-centred time-pooled features ``X`` (N, D1) and ``Y`` (N, D2),

        CKA(X, Y) = ||Y'X||_F^2 / (||X'X||_F ||Y'Y||_F)

    1 for representations that differ by an orthogonal map and a scale, near 0 for unrelated
    ones. Compared with the input (layer 0) and with the last block, it shows where a network
    leaves its input behind and where it reaches its final representation.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from helpers.geometry.validation import check_index_array, check_layers, real_argument

__all__ = [
    "PROBE_C",
    "cka_table",
    "linear_cka",
    "linear_probe",
    "probe_table",
    "time_pooled",
]

#: Inverse L2 strength of the probe. Time-pooled blocks have 10^2 to 10^4 features for a few
#: hundred clips, so the probe must be regularised; C = 1 on standardised features is
#: scikit-learn's default and is not tuned here (a probe tuned per layer would measure the
#: tuning as much as the layer).
PROBE_C = 1.0


def time_pooled(layer: Sequence[np.ndarray]) -> np.ndarray:
    """Each clip's (T_i, D) layer output averaged over its time steps: (N, D) float64."""
    seqs = list(layer)
    if not seqs:
        raise ValueError("layer: expected at least one clip")
    dims = {np.asarray(s).shape[1] for s in seqs}
    if len(dims) != 1:
        raise ValueError(f"layer: clips have different feature sizes {sorted(dims)}")
    empty = [i for i, s in enumerate(seqs) if len(s) == 0]
    if empty:
        raise ValueError(f"layer: clip {empty[0]} has no time step")
    return np.stack([np.asarray(s, dtype=np.float64).mean(axis=0) for s in seqs])


def linear_probe(
    pooled: np.ndarray,
    labels,
    train,
    test,
    *,
    C: float = PROBE_C,
    random_state: int = 0,
) -> float:
    """Top-1 accuracy on the ``test`` clips of a logistic regression fitted on the ``train`` ones.

    Parameters
    ----------
    pooled : (N, D) time-pooled features (:func:`time_pooled`).
    labels : (N,) integer classes.
    train, test : (N,) boolean masks (e.g. training and test subjects; disjoint).
    C : inverse L2 strength (:data:`PROBE_C`).
    random_state : passed to scikit-learn.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    C = real_argument("C", C)
    if C <= 0:
        raise ValueError(f"C={C!r}; expected a positive inverse regularisation strength")
    X = np.asarray(pooled, dtype=np.float64)
    y = np.asarray(labels).reshape(-1)
    tr, te = np.asarray(train, dtype=bool), np.asarray(test, dtype=bool)
    if X.ndim != 2 or y.shape != (X.shape[0],) or tr.shape != y.shape or te.shape != y.shape:
        raise ValueError(
            f"pooled (N, D), labels, train and test (N,): got {X.shape}, {y.shape}, "
            f"{tr.shape}, {te.shape}"
        )
    if (tr & te).any():
        raise ValueError("train and test overlap: a probe must be scored on clips it never saw")
    if not tr.any() or not te.any() or np.unique(y[tr]).size < 2:
        raise ValueError("the probe needs test clips and training clips of at least two classes")
    scaler = StandardScaler().fit(X[tr])
    model = LogisticRegression(C=C, max_iter=2000, random_state=random_state)
    model.fit(scaler.transform(X[tr]), y[tr])
    return float((model.predict(scaler.transform(X[te])) == y[te]).mean())


def probe_table(
    features: Sequence[Sequence[np.ndarray]],
    labels,
    train,
    test,
    *,
    C: float = PROBE_C,
) -> pd.Series:
    """:func:`linear_probe` of every layer, indexed by layer (0 = input).

    ``features`` is a list over layers of lists over clips (as
    :func:`helpers.training.features.layer_features` returns), every layer over the same clips.
    """
    check_layers(features)
    return pd.Series(
        [linear_probe(time_pooled(layer), labels, train, test, C=C) for layer in features],
        index=pd.Index(range(len(features)), name="layer"),
        name="probe_top1",
    )


def linear_cka(X: np.ndarray, Y: np.ndarray) -> float:
    """Linear CKA of two representations of the same N clips, (N, D1) and (N, D2)."""
    a = np.asarray(X, dtype=np.float64)
    b = np.asarray(Y, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"X and Y must be (N, D) with the same N, got {a.shape} and {b.shape}")
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    # the N x N form is cheaper here: a layer has more features than there are clips
    ka, kb = a @ a.T, b @ b.T
    denom = np.sqrt((ka * ka).sum() * (kb * kb).sum())
    if denom == 0:
        return float("nan")
    return float((ka * kb).sum() / denom)


def cka_table(features: Sequence[Sequence[np.ndarray]], index=None) -> pd.DataFrame:
    """Linear CKA of every layer with the input (layer 0) and with the last layer.

    Parameters
    ----------
    features : a list over layers of lists over clips of (T_i, D_l) arrays.
    index : which clips (indices or boolean mask); default all.

    Returns
    -------
    A DataFrame indexed by ``layer`` with columns ``cka_input`` and ``cka_last``.
    """
    n = check_layers(features)
    if index is not None:
        index = np.asarray(index)
        if index.dtype == np.bool_:
            if index.shape != (n,):
                raise ValueError(f"a boolean index must have shape ({n},), got {index.shape}")
        else:
            index = check_index_array(index, "index (indices or a boolean mask)", n)
    pooled = [time_pooled(layer) for layer in features]
    if index is not None:
        pooled = [p[index] for p in pooled]
    first, last = pooled[0], pooled[-1]
    return pd.DataFrame(
        {
            "cka_input": [linear_cka(first, p) for p in pooled],
            "cka_last": [linear_cka(p, last) for p in pooled],
        },
        index=pd.Index(range(len(pooled)), name="layer"),
    )
