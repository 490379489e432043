"""Where things live and run.

The data and cache folders, the content-addressed cache, every cache key
(:mod:`~helpers.runtime.keys`), the compute device.

The package map is in the README (Modules).
"""

from helpers.runtime.arguments import (
    ArgumentTypeError,
    check_choice,
    check_flag,
    check_int,
    check_number,
)
from helpers.runtime.disk_cache import (
    CACHE_VERSION,
    STALE_SECONDS,
    CacheWarning,
    DiskCache,
    atomic_path,
    atomic_write_bytes,
    config_key,
    file_sha256,
    load_arrays,
    plain,
    save_arrays,
)
from helpers.runtime.folders import (
    CACHE_ENV,
    DATA_ENV,
    DATASET_FOLDERS,
    REPO_ROOT,
    cache_dir,
    data_dir,
    default_data_dir,
    require_data_dir,
)
from helpers.runtime.keys import (
    DTW_VERSION,
    FEATURES_VERSION,
    HDM05_VERSION,
    MODELS_VERSION,
    STUDIES_VERSION,
    TRANSFER_VERSION,
    dtw_key,
    features_key,
    hdm05_key,
    model_key,
    study_key,
    transfer_run_key,
)

# imported on first use: these modules load torch, and the rest of the package stays light
_LAZY = {
    "resolve_device": "helpers.runtime.device",
}


def __getattr__(name: str):
    """The lazily imported names (PEP 562)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ArgumentTypeError",
    "CACHE_ENV",
    "CACHE_VERSION",
    "CacheWarning",
    "DATASET_FOLDERS",
    "DATA_ENV",
    "DTW_VERSION",
    "DiskCache",
    "FEATURES_VERSION",
    "HDM05_VERSION",
    "MODELS_VERSION",
    "REPO_ROOT",
    "STALE_SECONDS",
    "STUDIES_VERSION",
    "TRANSFER_VERSION",
    "atomic_path",
    "atomic_write_bytes",
    "cache_dir",
    "check_choice",
    "check_flag",
    "check_int",
    "check_number",
    "config_key",
    "data_dir",
    "default_data_dir",
    "dtw_key",
    "features_key",
    "file_sha256",
    "hdm05_key",
    "load_arrays",
    "model_key",
    "plain",
    "require_data_dir",
    "resolve_device",
    "save_arrays",
    "study_key",
    "transfer_run_key",
]
