"""Settings read from the environment, with their defaults. Nothing here touches the disk or the network."""

from __future__ import annotations

import math
import os
from pathlib import Path

CACHE_DIR_ENV = "QUANTDB_LAB_CACHE_DIR"
PROVIDER_ENV = "QUANTDB_LAB_PROVIDER"
STORE_ENV = "QUANTDB_LAB_STORE"
PLOTLY_ESM_ENV = "QUANTDB_LAB_PLOTLY_ESM"  # plotly's widget script (URL or server path): set by Voila for its kernels


def default_cache_dir(*, synthetic: bool = False) -> Path:
    """``$QUANTDB_LAB_CACHE_DIR`` if set, else the user's cache directory (never the working directory).

    A synthetic provider (the simulated market) defaults to a directory of its own, ``quantdb_lab-simulated``:
    the store keeps every source in its own namespace anyway, but a user clearing or copying their real cache
    should never find simulated data in it."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("quantdb_lab-simulated" if synthetic else "quantdb_lab", appauthor=False))


def default_provider_name() -> str:
    """``$QUANTDB_LAB_PROVIDER`` (``akshare``, ``simulated`` or ``replay:<directory>``), else ``akshare``."""
    return os.environ.get(PROVIDER_ENV, "akshare")


USAGE_LOG_ENV = "QUANTDB_LAB_USAGE_LOG"


def usage_log_enabled() -> bool:
    """``$QUANTDB_LAB_USAGE_LOG`` set to ``0``, ``false``, ``no`` or ``off`` turns the usage log off (default on)."""
    return os.environ.get(USAGE_LOG_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def default_store() -> str | None:
    """``$QUANTDB_LAB_STORE`` (``local`` or ``s3://bucket/prefix``), else None: the local cache directory alone."""
    return os.environ.get(STORE_ENV) or None


MEMORY_ENV = "QUANTDB_LAB_MEMORY_MB"
DEFAULT_MEMORY_MB = 1024


def memory_budget_bytes() -> int:
    """``$QUANTDB_LAB_MEMORY_MB``: megabytes of stored frames a process keeps in memory for warm reads (default
    1024; 0 reads every frame from disk). Raises ValueError, naming the variable, for anything else."""
    raw = os.environ.get(MEMORY_ENV, "").strip()
    try:
        megabytes = float(raw) if raw else float(DEFAULT_MEMORY_MB)
    except ValueError:
        megabytes = float("nan")
    if not math.isfinite(megabytes) or megabytes < 0:
        raise ValueError(f"{MEMORY_ENV} must be a number of megabytes >= 0, not {raw!r}")
    return int(megabytes * 2**20)


def _umask() -> int:
    """The process umask, read without changing it where the OS shows it (Linux), else by setting it back."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # not thread-safe for that instant: only where /proc is missing
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The one mode of every file quantdb_lab creates in a cache directory (frames, index, throttle state, logs,
    locks): ``0o666`` less the umask, as ``open()`` would give, not the ``0o600`` of ``tempfile.mkstemp``.
    Several kernels, a cron warmer and a dashboard server share a cache; the umask says who else may read it
    (``umask 077`` keeps it private, ``002`` shares it with a group)."""
    return 0o666 & ~_umask()


def apply_file_mode(path: str | os.PathLike[str]) -> None:
    """Give ``path`` (a file just created) the cache's file mode; a file another user owns is left as it is."""
    try:
        os.chmod(path, file_mode())
    except PermissionError:
        pass


COLOUR_CONVENTION_ENV = "QUANTDB_LAB_CHART_COLOURS"
COLOUR_CONVENTIONS = ("red-up", "green-up")
CHART_LANGUAGE_ENV = "QUANTDB_LAB_CHART_LANGUAGE"
CHART_LANGUAGES = ("both", "zh", "en")


def colour_convention() -> str:
    """``$QUANTDB_LAB_CHART_COLOURS``: ``red-up`` (the Chinese convention, default: red rises, green falls) or
    ``green-up`` (the Western one). Raises ValueError, naming the variable, for anything else."""
    value = os.environ.get(COLOUR_CONVENTION_ENV, "").strip().lower() or "red-up"
    if value not in COLOUR_CONVENTIONS:
        raise ValueError(f"{COLOUR_CONVENTION_ENV} must be one of {COLOUR_CONVENTIONS}, not {value!r}")
    return value


def chart_language() -> str:
    """``$QUANTDB_LAB_CHART_LANGUAGE``: chart labels in ``both`` Chinese and English (default), ``zh`` or ``en``."""
    value = os.environ.get(CHART_LANGUAGE_ENV, "").strip().lower() or "both"
    if value not in CHART_LANGUAGES:
        raise ValueError(f"{CHART_LANGUAGE_ENV} must be one of {CHART_LANGUAGES}, not {value!r}")
    return value
