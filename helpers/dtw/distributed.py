"""DTW on a Dask cluster: blocks of rows (or tiles) as tasks, each returning only its block.

Two pieces:

* :func:`run_blocks`, the one place that talks to ``dask.distributed``: the shared inputs are
  scattered to every worker once, one task is submitted per block, and results are yielded as
  they complete, each block exactly once. When a worker dies, the scheduler runs again the
  tasks it held (those running on it and those whose results were still only in its memory),
  on the workers that remain or on the one its nanny restarts: the blocks already returned to
  this process are kept, so a killed worker costs only its own blocks, and no row can be lost
  or counted twice, because every block is keyed by its index.
* :func:`pairwise_dtw_distributed`, the distributed twin of :func:`helpers.dtw.cpu.pairwise_dtw`:
  the same matrix, computed as tiles of (rows, columns) of sequences; for one collection only
  the tiles on and above the diagonal, mirrored.

``helpers.geometry.knn_search.knn_dtw(..., client=...)`` runs its query blocks through
:func:`run_blocks`.

``client`` is a ``dask.distributed.Client`` connected to any cluster, or ``"local"``, which
starts a :class:`~dask.distributed.LocalCluster` of worker processes (one thread each, as many
as cores) for the call and closes it afterwards. Workers must be able to import ``helpers``
(an installed package, as ``pip install -e .`` gives).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from tqdm.auto import tqdm

from helpers.dtw.core import (
    Band,
    Window,
    as_collections,
    integer_argument,
    parse_band,
    parse_window,
    rescale,
    unscale,
)
from helpers.dtw.cpu import pairwise_dtw
from helpers.runtime.arguments import check_flag

__all__ = ["cluster_client", "pairwise_dtw_distributed", "run_blocks"]


def _import_distributed():
    try:
        import distributed
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ImportError(
            "client=... needs dask.distributed: pip install 'dask[distributed]' "
            "(or this project's [scale] extra: pip install -e '.[scale]')"
        ) from err
    return distributed


@contextmanager
def cluster_client(client, n_workers: int | None = None) -> Iterator:
    """The client to use: ``client`` itself, or for ``"local"`` a new LocalCluster's.

    Parameters
    ----------
    client : a ``dask.distributed.Client``, or ``"local"``.
    n_workers : worker processes of a local cluster (default: one per core).
    """
    distributed = _import_distributed()
    if isinstance(client, distributed.Client):
        yield client
        return
    if client != "local":
        raise TypeError(
            f"client={client!r}; expected a dask.distributed.Client, 'local' (a LocalCluster "
            "for this call) or None (this process only)"
        )
    if multiprocessing.parent_process() is not None and _main_is_a_script():
        # a spawned worker re-imports the user's script, which reached this call again
        raise RuntimeError(_GUARD_MESSAGE)
    if n_workers is not None:
        integer_argument(
            "n_workers", n_workers, low=1, expected="a positive int or None (one per core)"
        )
    workers = n_workers or os.cpu_count() or 1
    try:
        cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
    except RuntimeError as err:
        if _main_is_a_script():
            raise RuntimeError(_GUARD_MESSAGE) from err
        raise
    with cluster, distributed.Client(cluster) as local:
        yield local


_GUARD_MESSAGE = (
    "client='local' starts worker processes, and each of them imports your script again: put "
    'the code that calls it under `if __name__ == "__main__":` (notebooks need no guard)'
)


def _main_is_a_script() -> bool:
    """Whether ``__main__`` is a file (a script re-imported by spawned workers), not a kernel."""
    main = sys.modules.get("__main__")
    return bool(getattr(main, "__file__", None)) and "ipykernel" not in sys.modules


def run_blocks(
    client,
    task: Callable,
    shared,
    blocks: Sequence[tuple],
    *,
    sizes: Sequence[int] | None = None,
    progress: bool = False,
    desc: str = "blocks",
    unit: str = "block",
) -> Iterator[tuple[int, object]]:
    """Run ``task(shared, *blocks[i])`` on the cluster for every i; yield ``(i, result)``.

    Parameters
    ----------
    client : a ``dask.distributed.Client`` (see :func:`cluster_client` for ``"local"``).
    task : a module-level function (workers import it by name).
    shared : the inputs every task needs, sent to every worker once.
    blocks : per task, the extra arguments (small: indices, a slice of candidates).
    sizes : the progress each block counts for (default 1 each), e.g. its rows.
    progress, desc, unit : the progress bar.

    Yields
    ------
    ``(i, result)`` in completion order, every block exactly once. A task that keeps failing
    (a worker died under it more often than the scheduler's ``allowed-failures``) raises
    ``RuntimeError`` naming the block.
    """
    distributed = _import_distributed()
    sizes = [1] * len(blocks) if sizes is None else list(sizes)
    # broadcast: every worker holds the inputs, so a dead worker does not take the only copy
    # (a list of one: scatter would split a tuple or a list into one future per element)
    [shared_future] = client.scatter([shared], broadcast=True, hash=False)
    run = uuid.uuid4().hex[:8]
    futures = {
        client.submit(task, shared_future, *args, key=f"{desc}-{run}-{i}", pure=False): i
        for i, args in enumerate(blocks)
    }
    seen: set[int] = set()
    try:
        with tqdm(total=sum(sizes), desc=desc, unit=unit, disable=not progress) as bar:
            for future in distributed.as_completed(futures):
                i = futures[future]
                try:
                    result = future.result()
                except distributed.KilledWorker as err:
                    raise RuntimeError(
                        f"block {i} of {len(blocks)} ({blocks[i]!r}) failed: its workers died "
                        "repeatedly (out of memory?)"
                    ) from err
                future.release()  # the block is here now; the cluster may forget it
                if i in seen:  # cannot happen with one future per block; guard the contract
                    raise RuntimeError(f"block {i} came back twice")
                seen.add(i)
                bar.update(sizes[i])
                yield i, result
    finally:
        for future in futures:
            future.release()
        shared_future.release()


def _tile_task(shared, rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
    xs, ys, window, band, normalize = shared
    a = xs[rows[0] : rows[1]]
    # a diagonal tile is a symmetric problem (half the pairs, an exact zero diagonal)
    b = None if ys is None and rows == cols else (xs if ys is None else ys)[cols[0] : cols[1]]
    return pairwise_dtw(a, b, window, band=band, normalize=normalize, n_jobs=1)


def pairwise_dtw_distributed(
    X,
    Y=None,
    window: Window = None,
    *,
    band: Band = "sakoe",
    normalize: bool = False,
    client="local",
    block_size: int = 256,
    progress: bool = False,
) -> np.ndarray:
    """The DTW distance matrix of :func:`helpers.dtw.cpu.pairwise_dtw`, computed on a cluster.

    Parameters
    ----------
    X : N sequences (T_i, D); Y : M sequences (T_j, D), or None for X against itself.
    window, band, normalize : as in :func:`helpers.dtw.cpu.pairwise_dtw`.
    client : a ``dask.distributed.Client`` or ``"local"`` (see the module docstring).
    block_size : sequences per side of a tile; one task per tile.
    progress : a progress bar over pairs.

    Returns
    -------
    (N, M) float64 distances (N, N, symmetric, zero diagonal without Y), equal to
    :func:`helpers.dtw.cpu.pairwise_dtw` on the same input (the same power-of-two rescaling of
    values outside its range, done here once for all tiles).
    """
    parse_window(window)
    parse_band(band)
    normalize = check_flag("normalize", normalize)
    given_x, given_y = as_collections(X, Y)
    block_size = integer_argument("block_size", block_size, low=1, expected="a positive int")
    given = given_x if given_y is None else given_x + given_y
    scaled, e = rescale(given)
    xs = scaled[: len(given_x)]
    ys = None if given_y is None else scaled[len(given_x) :]
    n = len(xs)
    m = n if ys is None else len(ys)
    row_edges = list(range(0, n, block_size)) + [n]
    col_edges = list(range(0, m, block_size)) + [m]
    tiles = [
        ((row_edges[a], row_edges[a + 1]), (col_edges[b], col_edges[b + 1]))
        for a in range(len(row_edges) - 1)
        for b in range(len(col_edges) - 1)
        if ys is not None or b >= a
    ]
    out = np.zeros((n, m))
    sizes = [(r1 - r0) * (c1 - c0) for (r0, r1), (c0, c1) in tiles]
    with cluster_client(client) as cl:
        shared = (xs, ys, window, band, normalize)
        for i, block in run_blocks(
            cl,
            _tile_task,
            shared,
            tiles,
            sizes=sizes,
            progress=progress,
            desc="DTW tiles",
            unit="pair",
        ):
            (r0, r1), (c0, c1) = tiles[i]
            out[r0:r1, c0:c1] = block
            if ys is None and r0 != c0:
                out[c0:c1, r0:r1] = block.T
    return unscale(out, e, squared=False, name="X" if ys is None else "X and Y", seqs=given)
