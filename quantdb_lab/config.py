"""Settings read from the environment, with their defaults. Nothing here touches the disk or the network."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "QUANTDB_LAB_CACHE_DIR"
PROVIDER_ENV = "QUANTDB_LAB_PROVIDER"


def default_cache_dir() -> Path:
    """``$QUANTDB_LAB_CACHE_DIR`` if set, else the user's cache directory (never the working directory)."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("quantdb_lab", appauthor=False))


def default_provider_name() -> str:
    """``$QUANTDB_LAB_PROVIDER`` (``akshare``, ``simulated`` or ``replay:<directory>``), else ``akshare``."""
    return os.environ.get(PROVIDER_ENV, "akshare")
