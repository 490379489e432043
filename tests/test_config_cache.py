"""Settings, and a cache that never hurts: corrupt, invalid, unwritable and interrupted cases."""

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

from helpers.data.hdm05 import require_hdm05_dir
from helpers.runtime import disk_cache as cache_module
from helpers.runtime import folders as config
from helpers.runtime.disk_cache import (
    CacheWarning,
    DiskCache,
    atomic_path,
    config_key,
    load_arrays,
    plain,
    save_arrays,
)


@pytest.fixture(autouse=True)
def _fresh_unwritable_warnings(monkeypatch):
    # the "not writable" warning is given once per folder and process; tests need it every time
    monkeypatch.setattr(cache_module, "_WARNED_UNWRITABLE", set())


# ------------------------------------------------------------------------------ settings
def test_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv(config.DATA_ENV, raising=False)
    assert config.data_dir() == config.default_data_dir()
    assert config.default_data_dir().parts[-3:] == ("shared", "data", "hdm05")
    monkeypatch.setenv(config.DATA_ENV, str(tmp_path / "env"))
    assert config.data_dir() == (tmp_path / "env").resolve()
    assert config.data_dir(tmp_path / "explicit") == (tmp_path / "explicit").resolve()


def test_missing_data_dir_says_where_to_put_and_get_it(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        require_hdm05_dir(tmp_path / "nowhere")
    msg = str(err.value)
    assert str((tmp_path / "nowhere").resolve()) in msg
    assert config.DATA_ENV in msg and "HDM05" in msg and "manifest.csv" in msg
    assert "resources.mpi-inf.mpg.de" in msg  # where to get it


def test_generic_data_check_names_what_is_missing(tmp_path):
    (tmp_path / "asf").mkdir()
    with pytest.raises(FileNotFoundError, match=r"missing: amc.*get it here"):
        config.require_data_dir(tmp_path, needs=("asf", "amc"), what="my data", hint="get it here")


def test_cache_dir_env_and_explicit(monkeypatch, tmp_path):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "c1"))
    assert config.cache_dir() == (tmp_path / "c1").resolve()
    assert (tmp_path / "c1").is_dir()
    assert config.cache_dir(tmp_path / "c2") == (tmp_path / "c2").resolve()


def test_cache_dir_that_is_a_file_names_the_variable(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(config.CACHE_ENV, str(blocker))
    with pytest.raises(NotADirectoryError, match=rf"{config.CACHE_ENV}=.*is a file"):
        DiskCache()
    monkeypatch.setenv(config.CACHE_ENV, str(blocker / "below"))  # a file on the way
    with pytest.raises(NotADirectoryError, match=config.CACHE_ENV):
        DiskCache()
    with pytest.raises(NotADirectoryError, match="cache_dir="):
        DiskCache(blocker)


# ------------------------------------------------------------------------------ keys
def test_config_key_is_order_independent_and_sensitive():
    a = config_key({"n": 3, "names": ["x", "y"], "sub": {"b": 1.0, "a": 2}})
    b = config_key({"sub": {"a": 2, "b": 1.0}, "names": ["x", "y"], "n": 3})
    assert a == b
    assert a != config_key({"n": 4, "names": ["x", "y"], "sub": {"b": 1.0, "a": 2}})
    assert config_key({"x": np.arange(3)}) != config_key({"x": np.arange(4)})
    with pytest.raises(TypeError, match="cache key"):
        config_key({"f": object()})


def test_plain_is_the_one_canonical_form():
    cfg = {
        "b": (1, np.int64(2)),
        "a": {"z": np.float32(0.5), "y": np.bool_(True)},
        "arr": np.arange(3),
    }
    assert plain(cfg, arrays="values") == {
        "a": {"y": True, "z": 0.5},
        "arr": [0, 1, 2],
        "b": [1, 2],
    }
    assert list(plain(cfg)) == ["a", "arr", "b"] and plain(cfg)["arr"]["shape"] == [3]
    json.dumps(plain(cfg))  # plain JSON


# ------------------------------------------------------------------------------ the basic contract
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
    meta = json.loads(cache.path("sq", {"n": 5}, ".json").read_text())
    assert meta["config"] == {"n": 5} and meta["kind"] == "sq"
    entry = cache.path("sq", {"n": 5}, ".npz")
    assert meta["size"] == entry.stat().st_size and len(meta["sha256"]) == 64
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

    # a write that fails costs the caching, not the result
    with pytest.warns(CacheWarning, match="disk full"):
        assert (
            cache.get_or_compute("bad", {"n": 2}, lambda: 1, half_written, lambda p: 0, ".bin") == 1
        )
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


# ------------------------------------------------------------------------------ corrupt entries
def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _append(path):
    with open(path, "ab") as fh:
        fh.write(b"junk")


@pytest.mark.parametrize(
    "damage", [_truncate, _flip, _append], ids=["truncated", "flipped", "appended"]
)
@pytest.mark.parametrize("kind", ["arrays", "pickle"])
def test_a_damaged_entry_is_reported_with_its_path_and_recomputed(tmp_path, damage, kind):
    cache = DiskCache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(1000.0)}

    get = getattr(cache, kind)
    get("things", {"n": 1}, compute)
    entry = cache.path("things", {"n": 1}, ".npz" if kind == "arrays" else ".pkl")
    damage(entry)
    with pytest.warns(CacheWarning, match=rf"{entry}.*recomputing"):
        again = get("things", {"n": 1}, compute)
    np.testing.assert_array_equal(again["x"], np.arange(1000.0))
    assert len(calls) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        get("things", {"n": 1}, compute)  # repaired: read without a warning
    assert len(calls) == 2


def test_an_entry_without_sidecar_or_with_a_broken_one_is_recomputed(tmp_path):
    cache = DiskCache(tmp_path)
    cache.arrays("t", {"n": 1}, lambda: {"x": np.ones(3)})
    meta = cache.path("t", {"n": 1}, ".json")
    meta.write_text("{not json")
    with pytest.warns(CacheWarning, match="sidecar"):
        cache.arrays("t", {"n": 1}, lambda: {"x": np.ones(3)})
    meta.unlink()
    with pytest.warns(CacheWarning, match="no sidecar"):
        cache.arrays("t", {"n": 1}, lambda: {"x": np.ones(3)})


def test_an_entry_that_fails_to_load_is_recomputed(tmp_path):
    cache = DiskCache(tmp_path)
    cache.get_or_compute("t", {"n": 1}, lambda: 1, lambda v, p: p.write_text("1"), int, ".txt")

    def broken_loader(path):
        raise RuntimeError("written by an incompatible version")

    with pytest.warns(CacheWarning, match="incompatible version"):
        assert (
            cache.get_or_compute(
                "t", {"n": 1}, lambda: 2, lambda v, p: p.write_text("2"), broken_loader, ".txt"
            )
            == 2
        )


# ------------------------------------------------------------------------------ invalid results
def test_nothing_invalid_is_ever_cached(tmp_path):
    cache = DiskCache(tmp_path)

    def check(arrays):
        if not np.isfinite(arrays["x"]).all():
            raise ValueError("x is not finite")

    with pytest.raises(ValueError, match="not finite"):
        cache.arrays("v", {"n": 1}, lambda: {"x": np.array([1.0, np.inf])}, validate=check)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    # a valid value is stored; a stored value that no longer validates is recomputed
    cache.arrays("v", {"n": 2}, lambda: {"x": np.ones(2)}, validate=check)
    seen = []

    def stricter(arrays):
        seen.append(1)
        if len(seen) == 1:
            raise ValueError("old entry rejected")

    with pytest.warns(CacheWarning, match="old entry rejected"):
        cache.arrays("v", {"n": 2}, lambda: {"x": np.ones(2)}, validate=stricter)


# ------------------------------------------------------------------------------ unwritable caches
def _read_only(monkeypatch):
    monkeypatch.setattr(
        cache_module, "_probe_writable", lambda root: PermissionError(13, "Permission denied")
    )


def test_an_unwritable_cache_warns_up_front_and_computes_without_storing(tmp_path, monkeypatch):
    _read_only(monkeypatch)
    calls = []
    with pytest.warns(CacheWarning, match=rf"{tmp_path}.*not writable.*{config.CACHE_ENV}"):
        cache = DiskCache(tmp_path)
    assert not cache.writable
    for _ in range(2):
        out = cache.arrays("x", {"n": 1}, lambda: calls.append(1) or {"v": np.ones(2)})
        np.testing.assert_array_equal(out["v"], np.ones(2))
    assert len(calls) == 2 and not [p for p in tmp_path.rglob("*") if p.is_file()]
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        DiskCache(tmp_path)  # warned once per folder, not at every use


def test_a_read_only_cache_still_serves_what_it_holds(tmp_path, monkeypatch):
    DiskCache(tmp_path).arrays("x", {"n": 1}, lambda: {"v": np.arange(3)})
    _read_only(monkeypatch)
    with pytest.warns(CacheWarning):
        cache = DiskCache(tmp_path)

    def fail():
        raise AssertionError("should have been read from the cache")

    np.testing.assert_array_equal(cache.arrays("x", {"n": 1}, fail)["v"], np.arange(3))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
def test_a_real_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.warns(CacheWarning, match="not writable"):
            cache = DiskCache(ro)
        assert cache.arrays("x", {"n": 1}, lambda: {"v": np.ones(1)})["v"].tolist() == [1.0]
    finally:
        ro.chmod(0o755)


# ------------------------------------------------------------------------------ killed writers
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temporary_files_of_dead_processes_are_swept(tmp_path):
    host = cache_module._host()
    dead = tmp_path / "kind" / f".abc{cache_module._TMP_TAG}{host}-{_dead_pid()}-x1y2.npz"
    alive = tmp_path / "kind" / f".abd{cache_module._TMP_TAG}{host}-{os.getpid()}-q9w8.npz"
    foreign = tmp_path / "kind" / f".abe{cache_module._TMP_TAG}otherhost-1-zz.npz"
    old = tmp_path / "kind" / f".abf{cache_module._TMP_TAG}otherhost-2-yy.npz"
    for p in (dead, alive, foreign, old):
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"partial")
    past = time.time() - cache_module.STALE_SECONDS - 60
    os.utime(old, (past, past))
    DiskCache(tmp_path).arrays("kind", {"n": 1}, lambda: {"v": np.ones(1)})
    assert not dead.exists() and not old.exists()
    assert alive.exists() and foreign.exists()  # still being written, or not ours to judge


@pytest.mark.slow
def test_a_process_killed_while_writing_leaves_nothing_that_hurts(tmp_path):
    script = textwrap.dedent(f"""
        import time, numpy as np
        from helpers.runtime.disk_cache import DiskCache

        def slow_save(value, tmp):
            with open(tmp, "wb") as fh:
                fh.write(b"x" * 100000)
                fh.flush()
                print("writing", flush=True)
                time.sleep(60)

        DiskCache({str(tmp_path)!r}).get_or_compute("big", {{"n": 1}}, lambda: 1, slow_save,
                                                    lambda p: 0, ".bin")
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = list((tmp_path / "big").iterdir())
    assert len(left) == 1 and cache_module._TMP_TAG in left[0].name  # the killed write's temporary
    cache = DiskCache(tmp_path)
    value = cache.get_or_compute(
        "big",
        {"n": 1},
        lambda: 7,
        lambda v, p: p.write_text(str(v)),
        lambda p: int(p.read_text()),
        ".bin",
    )
    assert value == 7
    names = sorted(p.name for p in (tmp_path / "big").iterdir())
    assert all(cache_module._TMP_TAG not in n for n in names) and len(names) == 2  # entry + sidecar


def test_repo_root_is_the_checkout():
    """The default folders hang off the checkout (the data beside it, the cache inside it)."""
    from helpers.runtime.folders import REPO_ROOT, default_data_dir

    assert (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "helpers").is_dir()
    assert default_data_dir() == REPO_ROOT.parent / "shared" / "data" / "hdm05"
