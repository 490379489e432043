"""A content-addressed on-disk cache for derived artefacts, built so that it never hurts.

Every artefact (converted joint positions, a trained checkpoint, layer features, a distance
matrix) is stored under ``<cache>/<kind>/<key><suffix>``, where ``key`` is a hash of the
artefact's full configuration (:func:`config_key`). A sidecar ``<key>.json`` records that
configuration in readable form together with the artefact's size and SHA-256 checksum.

What can go wrong, and what the cache does about it:

* **Interrupted writes.** Files are written to a temporary name in the same folder and moved
  into place with :func:`os.replace` only when complete; an exception removes the temporary
  file. A process killed outright cannot clean up, so temporary names carry the host and
  process id, and every later write into the folder removes temporary files whose process is
  gone (or that are older than :data:`STALE_SECONDS`).
* **Corrupt entries** (a truncated file, a flipped byte, a file from an incompatible library
  version). An entry counts only when its sidecar exists and its checksum matches; an entry
  that fails the check, or fails to load or to validate, is reported (a warning naming its
  path and the reason) and recomputed.
* **Invalid results.** ``validate`` runs on every computed value *before* it is written, so a
  computation that produces something invalid raises and leaves nothing behind.
* **An unwritable cache folder.** It is probed when a :class:`DiskCache` is made; without write
  access the cache warns once and computes without storing (entries already there are still
  read). A cache path that is a file is an error naming the setting (:func:`cache_dir`). A write
  that fails later (disk full) costs only the caching, never the computed result.

>>> cache = DiskCache("/tmp/demo-cache")
>>> arrays = cache.arrays("squares", {"n": 4}, lambda: {"x": np.arange(4) ** 2})
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import socket
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Mapping, TypeVar

import numpy as np

from helpers.runtime.folders import CACHE_ENV, cache_dir

__all__ = [
    "CACHE_VERSION",
    "CacheWarning",
    "DiskCache",
    "STALE_SECONDS",
    "atomic_path",
    "atomic_write_bytes",
    "config_key",
    "file_sha256",
    "load_arrays",
    "plain",
    "save_arrays",
]

T = TypeVar("T")

#: Bump to invalidate every cached artefact after a change that alters results.
#: (2: sidecars carry a checksum; entries of version 1 have none and are not read.)
CACHE_VERSION = 2

#: Temporary files older than this (seconds) are removed whatever process wrote them.
STALE_SECONDS = 24 * 3600.0

_TMP_TAG = ".tmp-"


class CacheWarning(UserWarning):
    """Something went wrong with the cache; the computation itself went on."""


# ------------------------------------------------------------------------ canonical configs
def plain(obj: Any, *, arrays: Literal["digest", "values"] = "digest") -> Any:
    """A configuration as plain JSON values (dicts with sorted string keys, lists, numbers...).

    The one canonical form of configurations: cache keys hash it, sidecars and checkpoints
    store it. numpy scalars become Python numbers, tuples become lists, paths strings. Arrays
    become a digest of their bytes, shape and dtype (``arrays="digest"``, for keys) or nested
    lists of their values (``arrays="values"``, to store them). Anything else raises TypeError.
    """
    if isinstance(obj, Mapping):
        items = sorted(obj.items(), key=lambda kv: str(kv[0]))
        return {str(k): plain(v, arrays=arrays) for k, v in items}
    if isinstance(obj, (list, tuple)):
        return [plain(v, arrays=arrays) for v in obj]
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        if arrays == "values":
            return obj.tolist()
        digest = hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest()
        return {"__ndarray__": digest, "shape": list(obj.shape), "dtype": str(obj.dtype)}
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(
        f"cannot use {type(obj).__name__} in a configuration (cache key or checkpoint); "
        "use plain numbers, strings, lists, dicts or numpy arrays"
    )


def config_key(config: Mapping[str, Any]) -> str:
    """A 20-hex-digit SHA-256 digest of the canonical JSON form of ``config``."""
    text = json.dumps(
        {"config": plain(config), "cache_version": CACHE_VERSION},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# ------------------------------------------------------------------------ atomic files
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _host() -> str:
    # "-" separates the fields of temporary names, so it cannot appear inside one
    return socket.gethostname().replace("-", "_")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _sweep_stale_temporaries(folder: Path) -> None:
    """Remove temporary files left in ``folder`` by processes that died while writing."""
    host = _host()
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and _TMP_TAG in name):
            continue
        try:
            # .<stem>.tmp-<host>-<pid>-<random><suffix>
            tag = name.rsplit(_TMP_TAG, 1)[1]
            owner_host, pid_text = tag.rsplit("-", 2)[:2]
            pid = int(pid_text)
            age = now - entry.stat().st_mtime
        except (ValueError, IndexError, OSError):
            continue
        dead = owner_host == host and pid != os.getpid() and not _pid_alive(pid)
        if dead or age > STALE_SECONDS:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``, else delete it.

    The temporary name keeps ``path``'s suffix (so writers that append one, like ``np.savez``,
    behave) and carries this host and process id, so that files left by a killed process are
    recognised and removed by the next write into the same folder.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale_temporaries(path.parent)
    prefix = f".{path.stem}{_TMP_TAG}{_host()}-{os.getpid()}-"
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600 files; give the artefact the permissions a plain open() would have,
    # so a cache shared between users stays readable.
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_npz(arrays: Mapping[str, np.ndarray], path: Path) -> None:
    # through a file handle: np.savez given a name would append ".npz" to the temporary name
    with open(path, "wb") as fh:
        np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})


def save_arrays(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Atomically save named arrays as an uncompressed ``.npz``."""
    with atomic_path(path) as tmp:
        _write_npz(arrays, tmp)


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file, read into memory (no pickles allowed)."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _pickle_dump(value: Any, path: Path) -> None:
    with open(path, "wb") as fh:
        pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)


def _pickle_load(path: Path) -> Any:
    with open(path, "rb") as fh:
        return pickle.load(fh)


# ------------------------------------------------------------------------ the cache
_WARNED_UNWRITABLE: set[str] = set()


def _probe_writable(root: Path) -> OSError | None:
    """None when a file can be created in ``root`` (created if needed), else the error."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=root)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        return err
    return None


class DiskCache:
    """Content-addressed artefact store rooted at ``root``.

    Parameters
    ----------
    root : the cache folder; ``None`` uses :func:`helpers.runtime.folders.cache_dir`
        (``$STGCN_CACHE_DIR`` or the default).

    Attributes
    ----------
    root : Path, the resolved folder.
    writable : bool, whether new entries can be stored (checked when the cache is made; when
        False, :meth:`get_or_compute` computes without storing, after one warning).
    """

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = cache_dir(root)
        err = _probe_writable(self.root)
        self.writable = err is None
        if err is not None and str(self.root) not in _WARNED_UNWRITABLE:
            _WARNED_UNWRITABLE.add(str(self.root))
            warnings.warn(
                f"the cache folder {self.root} is not writable ({err.strerror or err}); "
                f"results will be computed but not stored. Point {CACHE_ENV} (or cache_dir=...) "
                "at a writable folder to keep them.",
                CacheWarning,
                stacklevel=2,
            )

    def path(self, kind: str, config: Mapping[str, Any], suffix: str = "") -> Path:
        """Where the artefact of ``kind`` with this ``config`` lives (it may not exist yet)."""
        return self.root / kind / f"{config_key(config)}{suffix}"

    # -------------------------------------------------------------- entries
    def _sidecar(self, target: Path) -> Path:
        return target.with_suffix(".json")

    def _verified(self, target: Path) -> str | None:
        """None when ``target`` is a complete entry, else why not (missing: '')."""
        meta_path = self._sidecar(target)
        if not target.exists():
            return ""
        if not meta_path.exists():
            return "it has no sidecar file (written by an interrupted run or an older version)"
        try:
            meta = json.loads(meta_path.read_text())
            expected = meta["sha256"], int(meta["size"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            return f"its sidecar {meta_path.name} cannot be read ({err})"
        size = target.stat().st_size
        if size != expected[1]:
            return f"it has {size} bytes, its sidecar records {expected[1]} (truncated?)"
        if file_sha256(target) != expected[0]:
            return "its SHA-256 checksum differs from the one recorded when it was written"
        return None

    def _discard(self, target: Path, reason: str) -> None:
        warnings.warn(
            f"cache entry {target} is unusable: {reason}; recomputing it",
            CacheWarning,
            stacklevel=4,
        )
        for p in (target, self._sidecar(target)):
            with contextlib.suppress(OSError):
                p.unlink()

    def _store(
        self,
        kind: str,
        config: Mapping[str, Any],
        target: Path,
        value: T,
        save: Callable[[T, Path], None],
    ) -> None:
        try:
            with atomic_path(target) as tmp:
                save(value, tmp)
                size, digest = tmp.stat().st_size, file_sha256(tmp)
            meta = {
                "kind": kind,
                "config": plain(config),
                "cache_version": CACHE_VERSION,
                "file": target.name,
                "size": size,
                "sha256": digest,
                "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            atomic_write_bytes(
                self._sidecar(target), json.dumps(meta, indent=1, sort_keys=True).encode()
            )
        except OSError as err:
            for p in (target, self._sidecar(target)):
                with contextlib.suppress(OSError):
                    p.unlink()
            warnings.warn(
                f"could not store cache entry {target} ({err}); the result is used but not cached",
                CacheWarning,
                stacklevel=3,
            )

    def get_or_compute(
        self,
        kind: str,
        config: Mapping[str, Any],
        compute: Callable[[], T],
        save: Callable[[T, Path], None],
        load: Callable[[Path], T],
        suffix: str,
        validate: Callable[[T], Any] | None = None,
    ) -> T:
        """Load the artefact if a sound entry exists, else compute, validate, store and return it.

        Parameters
        ----------
        kind, config, suffix : which entry (see :meth:`path`).
        compute : ``compute()`` returns the value.
        save : ``save(value, tmp_path)`` writes it to a temporary path, which is moved into
            place only when it returns without error.
        load : ``load(path)`` reads it back.
        validate : ``validate(value)`` raises when a value is invalid. It runs on a computed
            value before anything is written (an invalid result is never cached) and on a
            loaded one (an entry that fails is recomputed).
        """
        target = self.path(kind, config, suffix)
        problem = self._verified(target)
        if problem is None:
            try:
                value = load(target)
                if validate is not None:
                    validate(value)
                return value
            except Exception as err:  # noqa: BLE001 - any failure to read means recompute
                problem = f"it could not be loaded ({type(err).__name__}: {err})"
        if problem:
            self._discard(target, problem)
        value = compute()
        if validate is not None:
            validate(value)
        if self.writable:
            self._store(kind, config, target, value, save)
        return value

    def arrays(
        self,
        kind: str,
        config: Mapping[str, Any],
        compute: Callable[[], Mapping[str, np.ndarray]],
        validate: Callable[[dict[str, np.ndarray]], Any] | None = None,
    ) -> dict[str, np.ndarray]:
        """Cache a dict of numpy arrays as ``.npz`` (see :meth:`get_or_compute`)."""
        out = self.get_or_compute(
            kind,
            config,
            lambda: {k: np.asarray(v) for k, v in compute().items()},
            _write_npz,
            load_arrays,
            ".npz",
            validate,
        )
        return {k: np.asarray(v) for k, v in out.items()}

    def pickle(
        self,
        kind: str,
        config: Mapping[str, Any],
        compute: Callable[[], T],
        validate: Callable[[T], Any] | None = None,
    ) -> T:
        """Cache any picklable object (see :meth:`get_or_compute`)."""
        return self.get_or_compute(
            kind, config, compute, _pickle_dump, _pickle_load, ".pkl", validate
        )
