"""Where the project reads data and writes caches.

Two settings, each an environment variable with a documented default:

``STGCN_DATA_DIR``
    The HDM05 folder (holding ``asf/``, ``amc/`` and ``manifest.csv``). Default:
    ``../shared/data/hdm05`` next to the repository checkout. Data folders are
    only ever read.
``STGCN_CACHE_DIR``
    Where converted arrays, checkpoints, features and distance matrices are cached.
    Default: ``_build/cache`` inside the repository when it is writable, else
    ``$XDG_CACHE_HOME/stgcn-geometry`` (``~/.cache/stgcn-geometry``).
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "STGCN_DATA_DIR"
CACHE_ENV = "STGCN_CACHE_DIR"

#: The repository checkout this package lives in (meaningful for editable installs).
REPO_ROOT = Path(__file__).resolve().parents[1]

HDM05_HINT = (
    "HDM05 is published by Universität Bonn (https://resources.mpi-inf.mpg.de/HDM05/, "
    "'Documentation Mocap Database HDM05', CC BY-SA 3.0). Put the cut clips of the 11 classes "
    "used here into a folder with asf/HDM_<actor>.asf, amc/HDM_<actor>_<motion>_<nnn>_120.amc and "
    "optionally manifest.csv (columns file,actor,motion,class_folder,split; without it classes and "
    "the actor split are read from the file names; see README.md), then point "
    f"{DATA_ENV} at that folder or pass data_dir=... explicitly."
)


def default_data_dir() -> Path:
    """The documented default data folder: ``<repo>/../shared/data/hdm05``."""
    return (REPO_ROOT.parent / "shared" / "data" / "hdm05").resolve()


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Resolve the HDM05 data folder: explicit ``path``, else ``$STGCN_DATA_DIR``, else the default."""
    if path is not None and str(path) != "":
        return Path(path).expanduser().resolve()
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return default_data_dir()


def require_data_dir(path: str | os.PathLike | None = None, needs: tuple[str, ...] = ("manifest.csv", "asf", "amc")) -> Path:
    """Like :func:`data_dir`, but raise :class:`FileNotFoundError` with instructions when it is incomplete."""
    root = data_dir(path)
    missing = [n for n in needs if not (root / n).exists()]
    if missing:
        raise FileNotFoundError(
            f"HDM05 data not found in {root} (missing: {', '.join(missing)}). {HDM05_HINT}"
        )
    return root


def _writable(p: Path) -> bool:
    probe = p
    while not probe.exists():
        probe = probe.parent
    return os.access(probe, os.W_OK)


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """Resolve (and create) the cache folder: explicit ``path``, ``$STGCN_CACHE_DIR``, or the default."""
    if path is not None and str(path) != "":
        root = Path(path).expanduser()
    elif os.environ.get(CACHE_ENV):
        root = Path(os.environ[CACHE_ENV]).expanduser()
    elif (REPO_ROOT / "pyproject.toml").exists() and _writable(REPO_ROOT):
        root = REPO_ROOT / "_build" / "cache"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(xdg) / "stgcn-geometry"
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root
