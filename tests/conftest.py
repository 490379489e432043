"""Shared test fixtures.

Fixtures here; plain builders (toy datasets and models) are in ``builders.py``.

Tests never write into the user's cache: the whole session gets a temporary
``STGCN_CACHE_DIR`` unless ``STGCN_TEST_CACHE_DIR`` names one to reuse between runs.
"""

from __future__ import annotations

import os

import pytest
import torch

from helpers.runtime.folders import data_dir


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory):
    old = os.environ.get("STGCN_CACHE_DIR")
    path = os.environ.get("STGCN_TEST_CACHE_DIR") or str(tmp_path_factory.mktemp("stgcn-cache"))
    os.environ["STGCN_CACHE_DIR"] = path
    yield path
    if old is None:
        os.environ.pop("STGCN_CACHE_DIR", None)
    else:
        os.environ["STGCN_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def hdm05_root():
    """The real HDM05 folder, or skip (with the reason) where it is absent."""
    root = data_dir()
    if not (root / "manifest.csv").exists():
        pytest.skip(f"HDM05 data not found in {root}; set STGCN_DATA_DIR (see README.md)")
    return root


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """Torch on one CPU thread for the whole session (a test that wants more sets them itself).

    The test machine's cores are shared and the toy models are tiny: with torch's default of one
    thread per core, tiny trainings spend most of their time in contention (a 10-step toy
    training took 19 s instead of 1 s on a busy 2-core machine).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def utd_mhad_root():
    """The real UTD-MHAD folder, or skip (with the reason) where it is absent."""
    root = data_dir(dataset="utd-mhad")
    if not (root / "skeleton").is_dir():
        pytest.skip(f"UTD-MHAD data not found in {root}; set STGCN_UTD_MHAD_DIR (see README.md)")
    return root
