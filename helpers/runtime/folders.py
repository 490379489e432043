"""Where the project reads data and writes caches.

Three settings, each an environment variable with a documented default:

``STGCN_DATA_DIR``
    The HDM05 folder. Default: ``../shared/data/hdm05`` next to the repository checkout, the
    HDM05 subset the book uses (its loader, :mod:`helpers.data.hdm05`, says what the folder must
    hold). Data folders are only ever read.
``STGCN_UTD_MHAD_DIR``
    The UTD-MHAD folder. Default: ``../shared/data/utd-mhad`` (see :mod:`helpers.data.utd_mhad`).
``STGCN_CACHE_DIR``
    Where converted arrays, checkpoints, features and distance matrices are cached.
    Default: ``_build/cache`` inside the repository when it is writable, else
    ``$XDG_CACHE_HOME/stgcn-geometry`` (``~/.cache/stgcn-geometry``).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "CACHE_ENV",
    "DATASET_FOLDERS",
    "DATA_ENV",
    "REPO_ROOT",
    "cache_dir",
    "data_dir",
    "default_data_dir",
    "require_data_dir",
]

DATA_ENV = "STGCN_DATA_DIR"
CACHE_ENV = "STGCN_CACHE_DIR"

#: The datasets loaded by name: the environment variable that names each one's folder, and
#: the folder's name under ``<repo>/../shared/data`` (the default).
DATASET_FOLDERS: dict[str, tuple[str, str]] = {
    "hdm05": (DATA_ENV, "hdm05"),
    "utd-mhad": ("STGCN_UTD_MHAD_DIR", "utd-mhad"),
}

#: The repository checkout this package lives in (meaningful for editable installs).
REPO_ROOT = Path(__file__).resolve().parents[2]  # helpers/runtime/folders.py -> the checkout


def _folder_setting(dataset: str) -> tuple[str, str]:
    if dataset not in DATASET_FOLDERS:
        raise ValueError(
            f"dataset={dataset!r}: no data folder is known for it; expected one of "
            f"{sorted(DATASET_FOLDERS)}"
        )
    return DATASET_FOLDERS[dataset]


def default_data_dir(dataset: str = "hdm05") -> Path:
    """The documented default folder of ``dataset``: ``<repo>/../shared/data/<name>``."""
    return (REPO_ROOT.parent / "shared" / "data" / _folder_setting(dataset)[1]).resolve()


def data_dir(path: str | os.PathLike | None = None, dataset: str = "hdm05") -> Path:
    """The folder of ``dataset``: ``path``, else its variable, else the default.

    The variables and defaults are in :data:`DATASET_FOLDERS`.
    """
    env_name = _folder_setting(dataset)[0]
    if path is not None and str(path) != "":
        return Path(path).expanduser().resolve()
    env = os.environ.get(env_name)
    if env:
        return Path(env).expanduser().resolve()
    return default_data_dir(dataset)


def require_data_dir(
    path: str | os.PathLike | None = None,
    needs: tuple[str, ...] = (),
    *,
    what: str = "data",
    hint: str = "",
    dataset: str = "hdm05",
) -> Path:
    """Like :func:`data_dir`, but check that the folder holds ``needs``.

    Raises :class:`FileNotFoundError` naming the folder, what is missing and the setting that
    chooses it, followed by ``hint`` (where to get the data and how to lay it out).
    """
    env_name = _folder_setting(dataset)[0]
    root = data_dir(path, dataset)
    missing = [n for n in needs if not (root / n).exists()]
    if not root.is_dir() or missing:
        lack = (
            "the folder does not exist" if not root.is_dir() else "missing: " + ", ".join(missing)
        )
        raise FileNotFoundError(
            f"{what} not found in {root} ({lack}; the folder comes from data_dir=..., else "
            f"${env_name}, else {default_data_dir(dataset)}). {hint}".rstrip()
        )
    return root


def _writable(p: Path) -> bool:
    probe = p
    while not probe.exists():
        probe = probe.parent
    return os.access(probe, os.W_OK)


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """Resolve the cache folder: explicit ``path``, else ``$STGCN_CACHE_DIR``, else the default.

    The folder is created when possible. One that cannot be created for lack of permission is
    still returned (:class:`~helpers.runtime.disk_cache.DiskCache` then computes without storing); a
    path that is, or runs through, a file raises :class:`NotADirectoryError` naming the setting it
    came from.
    """
    if path is not None and str(path) != "":
        root, source = Path(path).expanduser(), f"cache_dir={str(path)!r}"
    elif os.environ.get(CACHE_ENV):
        root, source = (
            Path(os.environ[CACHE_ENV]).expanduser(),
            f"{CACHE_ENV}={os.environ[CACHE_ENV]!r}",
        )
    elif (REPO_ROOT / "pyproject.toml").exists() and _writable(REPO_ROOT):
        root, source = REPO_ROOT / "_build" / "cache", "the default cache folder"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root, source = Path(xdg) / "stgcn-geometry", "the default cache folder"
    root = root.resolve()
    blocker = next((p for p in (root, *root.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise NotADirectoryError(
            f"{source} names the cache folder {root}, but {blocker} is a file, not a folder; "
            f"point {CACHE_ENV} (or cache_dir=...) at a folder"
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
    except PermissionError:
        pass  # reported once, with the consequences, by DiskCache
    return root
