"""A content-addressed on-disk cache for derived artefacts.

Every artefact (converted joint positions, a trained checkpoint, layer features, a distance
matrix) is stored under ``<cache>/<kind>/<key><suffix>``, where ``key`` is a hash of the
artefact's full configuration. A sidecar ``<key>.json`` records that configuration in readable
form. Files are written to a temporary name in the same folder and moved into place with
:func:`os.replace`, so an interrupted computation never leaves a half-written artefact behind.

>>> cache = DiskCache("/tmp/demo-cache")
>>> arrays = cache.arrays("squares", {"n": 4}, lambda: {"x": np.arange(4) ** 2})
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, TypeVar

import numpy as np

from .config import cache_dir

T = TypeVar("T")

#: Bump to invalidate every cached artefact after a change that alters results.
CACHE_VERSION = 1


def _canonical(obj: Any) -> Any:
    """Turn a configuration into plain JSON types with a stable order."""
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest(),
                "shape": list(obj.shape), "dtype": str(obj.dtype)}
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot use {type(obj).__name__} in a cache key; use plain numbers, strings, lists or dicts")


def config_key(config: Mapping[str, Any]) -> str:
    """A 20-hex-digit SHA-256 digest of the canonical JSON form of ``config``."""
    text = json.dumps({"config": _canonical(config), "cache_version": CACHE_VERSION},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``, else delete it.

    The temporary name keeps ``path``'s suffix, so writers that append one (``np.savez``) behave.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
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
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _write_npz(arrays: Mapping[str, np.ndarray], path: Path) -> None:
    # through a file handle: np.savez given a name would append ".npz" to the temporary name
    with open(path, "wb") as fh:
        np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})


def save_arrays(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Atomically save named arrays as an uncompressed ``.npz``."""
    with atomic_path(path) as tmp:
        _write_npz(arrays, tmp)


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


class DiskCache:
    """Content-addressed artefact store rooted at ``root`` (default: :func:`helpers.config.cache_dir`)."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = cache_dir(root)

    def path(self, kind: str, config: Mapping[str, Any], suffix: str = "") -> Path:
        """Where the artefact of ``kind`` with this ``config`` lives (it may not exist yet)."""
        return self.root / kind / f"{config_key(config)}{suffix}"

    def _record(self, kind: str, config: Mapping[str, Any]) -> None:
        meta = self.path(kind, config, ".json")
        if not meta.exists():
            atomic_write_bytes(meta, json.dumps(_canonical(config), indent=1, sort_keys=True).encode())

    def get_or_compute(
        self,
        kind: str,
        config: Mapping[str, Any],
        compute: Callable[[], T],
        save: Callable[[T, Path], None],
        load: Callable[[Path], T],
        suffix: str,
    ) -> T:
        """Load the artefact if cached, else ``compute()`` it, ``save`` it atomically and return it.

        ``save(value, tmp_path)`` writes to a temporary path that is moved into place only when it
        returns without error.
        """
        target = self.path(kind, config, suffix)
        if target.exists():
            return load(target)
        value = compute()
        with atomic_path(target) as tmp:
            save(value, tmp)
        self._record(kind, config)
        return value

    def arrays(self, kind: str, config: Mapping[str, Any],
               compute: Callable[[], Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """Cache a dict of numpy arrays as ``.npz``."""
        out = self.get_or_compute(kind, config, lambda: dict(compute()), _write_npz, load_arrays, ".npz")
        return {k: np.asarray(v) for k, v in out.items()}

    def pickle(self, kind: str, config: Mapping[str, Any], compute: Callable[[], T]) -> T:
        """Cache any picklable object."""
        def save(value, tmp):
            with open(tmp, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)

        def load(p):
            with open(p, "rb") as fh:
                return pickle.load(fh)
        return self.get_or_compute(kind, config, compute, save, load, ".pkl")
