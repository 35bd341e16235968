"""A deterministic synthetic A-share market and a Provider serving it (offline demo, tests, benchmarks).

NOT REAL DATA: every name starts with "Sim" and the provider reports ``synthetic = True``.
"""

from quantdb_lab.providers.simulated.faults import Faults
from quantdb_lab.providers.simulated.market import SimulatedMarket
from quantdb_lab.providers.simulated.provider import SimulatedProvider

__all__ = ["Faults", "SimulatedMarket", "SimulatedProvider"]
