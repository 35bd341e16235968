"""The akshare boundary: the only package that imports akshare or names its (Chinese) columns.

``AkshareProvider`` (live), ``ReplayProvider`` (recorded akshare frames) and ``SimulatedAkshare`` (an upstream
with akshare's signatures, patched in at ``akshare.<function>`` for tests and benchmarks). Importing this
package does not import akshare.
"""

from quantdb_lab.providers.akshare.provider import AkshareProvider
from quantdb_lab.providers.akshare.replay import ReplayProvider
from quantdb_lab.providers.akshare.simulated_upstream import SimulatedAkshare

__all__ = ["AkshareProvider", "ReplayProvider", "SimulatedAkshare"]
