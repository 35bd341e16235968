"""Providers by name, for ``Lab(provider="simulated")``, the CLI and ``$QUANTDB_LAB_PROVIDER``.

Imports are deferred so that naming a provider does not import akshare unless it is used.
"""

from __future__ import annotations

import re
from pathlib import Path

from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.providers.base import Provider

NAMES = ("akshare", "simulated", "replay:<directory>")


def source_id(provider: Provider) -> str:
    """The identity of the data a provider serves, used as the store namespace of everything it fetched:
    ``akshare``, ``simulated-<seed>-<stocks>``, ``replay-<hash of the directory>``, or a custom provider's
    ``source`` (else its ``name``). Two providers share cached data only when they serve the same data."""
    raw = getattr(provider, "source", None) or provider.name
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", str(raw)).strip("._-") or "unnamed"
    return cleaned[:80]


def resolve_provider(spec: str | Provider) -> Provider:
    if not isinstance(spec, str):
        if not isinstance(spec, Provider):
            raise InvalidRequestError(f"{spec!r} does not implement the Provider protocol")
        return spec
    if spec == "akshare":
        from quantdb_lab.providers.akshare import AkshareProvider

        return AkshareProvider()
    if spec == "simulated":
        from quantdb_lab.providers.simulated import SimulatedProvider

        return SimulatedProvider()
    if spec.startswith("replay:"):
        from quantdb_lab.providers.replay import ReplayProvider

        return ReplayProvider(Path(spec.removeprefix("replay:")).expanduser())
    raise InvalidRequestError(f"unknown provider {spec!r}; choose one of {', '.join(NAMES)}")
