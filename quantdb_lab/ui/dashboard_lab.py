"""The Lab a dashboard runs on: the simulated market unless a provider is configured.

A dashboard must run offline out of the box, so its default differs from ``Lab()``'s (akshare): the parameter
wins, then ``$QUANTDB_LAB_PROVIDER``, then ``"simulated"``. The cache directory follows ``Lab`` (parameter, then
``$QUANTDB_LAB_CACHE_DIR``, then the user cache dir).
"""

from __future__ import annotations

import os
from pathlib import Path

from quantdb_lab.config import PROVIDER_ENV
from quantdb_lab.lab import Lab

DEFAULT_PROVIDER = "simulated"


def provider_name(provider: str | None = None) -> str:
    return provider or os.environ.get(PROVIDER_ENV) or DEFAULT_PROVIDER


def dashboard_lab(provider: str | None = None, cache_dir: str | Path | None = None, mode: str = "research") -> Lab:
    return Lab(cache_dir or None, provider=provider_name(provider), mode=mode)
