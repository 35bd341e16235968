"""akshare's own functions answered by the simulated market (SimulatedAkshare), and a Lab over them: the
akshare adapter end to end, offline."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from quantdb_lab.domain.clock import FixedClock
from quantdb_lab.lab import Lab
from quantdb_lab.providers.akshare import AkshareProvider, SimulatedAkshare
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from quantdb_lab.throttle.policy import RateLimit
from tests.support.sim import MARKET, at


@contextmanager
def simulated_akshare(now: str, **kwargs) -> Iterator[tuple[SimulatedAkshare, FixedClock]]:
    """akshare patched to answer from the simulated market, with the clock at ``now`` (warnings silenced)."""
    clock = FixedClock(at(now))
    sim = SimulatedAkshare(SimulatedProvider(MARKET, faults=Faults(), clock=clock), clock=clock, **kwargs)
    with sim.patch(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield sim, clock


def akshare_lab(cache_dir: Path, clock: FixedClock, limits: Mapping[str, RateLimit]) -> Lab:
    """A Lab on the akshare provider (over whatever akshare is patched to), at ``clock``, with ``limits``."""
    return Lab(cache_dir, provider=AkshareProvider(timeout=10), clock=clock, limits=dict(limits))
