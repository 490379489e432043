"""Shared test fixtures.

Tests never write into the user's cache: the whole session gets a temporary
``STGCN_CACHE_DIR`` unless ``STGCN_TEST_CACHE_DIR`` names one to reuse between runs.
"""

from __future__ import annotations

import os

import pytest

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
