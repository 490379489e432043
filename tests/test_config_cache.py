import json
import os
import stat

import numpy as np
import pytest

from helpers import config
from helpers.cache import DiskCache, atomic_path, config_key, save_arrays, load_arrays


def test_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv(config.DATA_ENV, raising=False)
    assert config.data_dir() == config.default_data_dir()
    assert config.default_data_dir().parts[-3:] == ("shared", "data", "hdm05")
    monkeypatch.setenv(config.DATA_ENV, str(tmp_path / "env"))
    assert config.data_dir() == (tmp_path / "env").resolve()
    assert config.data_dir(tmp_path / "explicit") == (tmp_path / "explicit").resolve()


def test_missing_data_dir_says_where_to_put_and_get_it(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        config.require_data_dir(tmp_path / "nowhere")
    msg = str(err.value)
    assert str((tmp_path / "nowhere").resolve()) in msg
    assert config.DATA_ENV in msg and "HDM05" in msg and "manifest.csv" in msg


def test_cache_dir_env_and_explicit(monkeypatch, tmp_path):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "c1"))
    assert config.cache_dir() == (tmp_path / "c1").resolve()
    assert (tmp_path / "c1").is_dir()
    assert config.cache_dir(tmp_path / "c2") == (tmp_path / "c2").resolve()


def test_config_key_is_order_independent_and_sensitive():
    a = config_key({"n": 3, "names": ["x", "y"], "sub": {"b": 1.0, "a": 2}})
    b = config_key({"sub": {"a": 2, "b": 1.0}, "names": ["x", "y"], "n": 3})
    assert a == b
    assert a != config_key({"n": 4, "names": ["x", "y"], "sub": {"b": 1.0, "a": 2}})
    assert config_key({"x": np.arange(3)}) != config_key({"x": np.arange(4)})
    with pytest.raises(TypeError, match="cache key"):
        config_key({"f": object()})


def test_disk_cache_computes_once(tmp_path):
    cache = DiskCache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(5) ** 2}

    first = cache.arrays("sq", {"n": 5}, compute)
    second = cache.arrays("sq", {"n": 5}, compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["x"], second["x"])
    meta = cache.path("sq", {"n": 5}, ".json")
    assert json.loads(meta.read_text()) == {"n": 5}
    assert cache.pickle("obj", {"k": 1}, lambda: {"a": [1, 2]}) == {"a": [1, 2]}


def test_failed_computation_leaves_nothing(tmp_path):
    cache = DiskCache(tmp_path)

    def boom():
        raise RuntimeError("conversion failed")

    with pytest.raises(RuntimeError):
        cache.arrays("bad", {"n": 1}, boom)

    def half_written(value, tmp):
        tmp.write_bytes(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError):
        cache.get_or_compute("bad", {"n": 2}, lambda: 1, half_written, lambda p: 0, ".bin")
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == []


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "a.npz"
    save_arrays(target, {"v": np.ones(3)})
    with pytest.raises(ValueError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"garbage")
            raise ValueError("interrupted")
    np.testing.assert_array_equal(load_arrays(target)["v"], np.ones(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]


def test_atomic_files_get_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        save_arrays(tmp_path / "p.npz", {"v": np.ones(2)})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "p.npz").stat().st_mode) == 0o644
