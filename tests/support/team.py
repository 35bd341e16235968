"""Team-store helpers shared by the integration tests and the fault suite: a SharedStore on a given endpoint
(moto, or a fault proxy before it) and a researcher's Lab over the simulated market in front of it."""

from __future__ import annotations

from pathlib import Path

from quantdb_lab.domain.clock import FixedClock
from quantdb_lab.lab import Lab
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from quantdb_lab.store.layered import LayeredStore
from quantdb_lab.store.series_store import SeriesStore
from quantdb_lab.store.shared import SharedConfig, SharedStore
from quantdb_lab.store.shared.retry import RetryPolicy
from tests.support.sim import MARKET, at

BUCKET = "team"
NOW = "2025-06-06 16:00"
FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05, cooldown=5.0)
SOURCE = SimulatedProvider(MARKET).source  # the store namespace of the simulated market


def shared(endpoint: str, url: str, **kwargs) -> SharedStore:
    bucket, prefix = url[len("s3://") :].split("/", 1)
    config = SharedConfig(
        bucket=bucket, prefix=prefix, endpoint=endpoint, region="us-east-1", access_key="testing",
        secret_key="testing", session_token=None, virtual_hosted=False, connect_timeout=1.0, read_timeout=1.0,
    )  # fmt: skip
    return SharedStore(config, retry=kwargs.pop("retry", FAST), source=kwargs.pop("source", SOURCE), **kwargs)


def team_lab(tmp_path: Path, name: str, store, *, now: str = NOW):
    """A researcher: own cache directory, own simulated upstream, the shared store behind (a URL or a store)."""
    clock = FixedClock(at(now))
    provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock)
    backend = store if isinstance(store, str) else LayeredStore(SeriesStore(tmp_path / name, source=SOURCE), store)
    return Lab(tmp_path / name, provider=provider, clock=clock, store=backend), provider
