"""Providers by name, for ``Lab(provider="simulated")``, the CLI and ``$QUANTDB_LAB_PROVIDER``.

Imports are deferred so that naming a provider does not import akshare unless it is used.
"""

from __future__ import annotations

from pathlib import Path

from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.providers.base import Provider

NAMES = ("akshare", "simulated", "replay:<directory>")


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
