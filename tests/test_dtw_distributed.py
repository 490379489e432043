"""Distributed DTW (``helpers.dtw.distributed`` and ``knn_dtw(client=...)``) on a real cluster.

A LocalCluster of 2 worker processes is shared by the module; the results must be identical
to the single-process ones, also when one worker is killed (SIGKILL) in the middle of a run.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from helpers.dtw.cpu import pairwise_dtw  # noqa: E402
from helpers.dtw.distributed import pairwise_dtw_distributed, run_blocks  # noqa: E402
from helpers.geometry.knn_search import knn_dtw  # noqa: E402

pytestmark = pytest.mark.slow


def sequences(n: int, dims: int = 5, seed: int = 0, lo: int = 5, hi: int = 30):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((int(t), dims)) for t in rng.integers(lo, hi, n)]


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.mark.parametrize("mode", ["exact", "approximate"])
def test_knn_identical_to_one_process(client, mode):
    X = sequences(120)
    ref_idx, ref_dist = knn_dtw(X, 4, 0.2, mode=mode)
    idx, dist = knn_dtw(X, 4, 0.2, mode=mode, client=client, block_rows=7)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(dist, ref_dist)


def test_knn_stats_add_up_over_blocks(client):
    X = sequences(80)
    _, _, one = knn_dtw(X, 3, 0.2, return_stats=True)
    _, _, many = knn_dtw(X, 3, 0.2, client=client, block_rows=9, return_stats=True)
    assert (many.pairs, many.dtw, many.envelope) == (one.pairs, one.dtw, one.envelope)


def test_pairwise_identical_to_one_process(client):
    X = sequences(70)
    Y = sequences(33, seed=1)
    np.testing.assert_allclose(
        pairwise_dtw_distributed(X, window=0.2, client=client, block_size=16),
        pairwise_dtw(X, window=0.2),
        rtol=1e-12,
        atol=0,
    )
    np.testing.assert_allclose(
        pairwise_dtw_distributed(X, Y, 0.2, normalize=True, client=client, block_size=10),
        pairwise_dtw(X, Y, 0.2, normalize=True),
        rtol=1e-12,
        atol=0,
    )


def test_run_blocks_yields_every_block_once(client):
    X = sequences(40)
    blocks = [(a, a + 4, None) for a in range(0, 40, 4)]
    from helpers.geometry.knn_search import _block_task, _Problem, _projection  # the task it runs

    flat = np.concatenate(X)
    lengths = np.array([len(x) for x in X])
    problem = _Problem(
        flat=flat,
        starts=np.r_[0, np.cumsum(lengths)[:-1]],
        lengths=lengths,
        proj=_projection(flat, None),
        k=2,
        r_int=0,
        frac=0.2,
        slanted=False,
        width=np.inf,
        margin=1e-9,
    )
    seen = [i for i, _ in run_blocks(client, _block_task, problem, blocks)]
    assert sorted(seen) == list(range(len(blocks)))


def test_errors_name_the_argument(client):
    X = sequences(10)
    with pytest.raises(TypeError, match="client="):
        knn_dtw(X, 2, client="cluster")
    with pytest.raises(ValueError, match="block_rows="):
        knn_dtw(X, 2, client=client, block_rows=0)
    with pytest.raises(ValueError, match="block_size="):
        pairwise_dtw_distributed(X, client=client, block_size=0)


def test_a_killed_worker_costs_only_its_blocks(client):
    """SIGKILL one of the two workers while it runs a block: same neighbours, no row lost."""
    X = sequences(600, dims=24, lo=30, hi=60, seed=3)
    ref_idx, ref_dist = knn_dtw(X, 5, 0.3, projection_dims=None)
    n_blocks = 100  # 600 rows, 6 per block
    pids = client.run(os.getpid)  # {worker address: pid}
    result: dict = {}

    def work():
        try:
            result["out"] = knn_dtw(X, 5, 0.3, projection_dims=None, client=client, block_rows=6)
        except BaseException as err:  # re-raised below, in the test's thread
            result["error"] = err

    thread = threading.Thread(target=work)
    thread.start()
    victim = None
    deadline = time.monotonic() + 60
    # wait until blocks have finished and a worker is busy with another one, then kill it
    while victim is None and time.monotonic() < deadline and thread.is_alive():
        # blocks returned to this process are released and forgotten by the scheduler
        left = client.run_on_scheduler(
            lambda dask_scheduler: sum("kNN-DTW" in str(key) for key in dask_scheduler.tasks)
        )
        busy = [w for w, keys in client.processing().items() if keys]
        if 0 < left <= n_blocks - 4 and busy:
            victim = busy[0]
            os.kill(pids[victim], signal.SIGKILL)
        time.sleep(0.05)
    assert victim is not None, "the run ended before a worker could be killed; make it longer"
    thread.join(timeout=180)
    assert not thread.is_alive()
    if "error" in result:
        raise result["error"]
    idx, dist = result["out"]
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(dist, ref_dist)
    # the nanny restarts the killed worker; the cluster is whole again for later tests
    client.wait_for_workers(2, timeout=60)
    assert pids[victim] not in client.run(os.getpid).values()


def test_local_cluster_in_an_unguarded_script_says_what_to_do(tmp_path):
    """A script that calls client='local' outside `if __name__ == "__main__":` gets told so."""
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    script.write_text(
        "import numpy as np\n"
        "from helpers.geometry.knn_search import knn_dtw\n"
        "seqs = [np.random.default_rng(i).normal(size=(8, 2)) for i in range(12)]\n"
        "knn_dtw(seqs, 2, 0.5, client='local')\n"
    )
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=240, cwd=tmp_path
    )
    assert run.returncode != 0
    assert 'if __name__ == "__main__":' in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("RuntimeError: client='local'")
