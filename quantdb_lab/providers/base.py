"""The provider contract: one method per dataset, canonical polars frames out, typed errors only.

A provider does network (or simulated network) I/O and nothing else: no caching, no retries across calls,
no adjustment arithmetic. The loader decides what to ask for; a provider answers exactly that.

Adjustment types a provider must serve for daily bars:

* ``""``    unadjusted prices as traded;
* ``"qfq"``/``"hfq"`` the upstream's own adjusted prices. The loader never stores them: it fetches ``""`` only and
  derives qfq and hfq from the ex-rights factors in the unadjusted bars (``loader.adjust``); the upstream's
  adjusted series serve at most as a cross-check.

Optional, for adjustment (``loader.factors``): ``factor_source`` (``"bars"``, the default, when the change a
provider reports on an ex-date is against the exchange's reference price; ``"actions"`` when it is close to
close, as Eastmoney's is) and ``fetch_corporate_actions(symbol)`` (``domain.actions.ACTIONS``).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol, runtime_checkable

import polars as pl

from quantdb_lab.domain.symbols import Symbol

ADJUSTMENTS = ("", "qfq", "hfq")


@runtime_checkable
class Provider(Protocol):
    """What the loader needs from an upstream."""

    #: Short name used in stats and provenance, e.g. ``"akshare"``, ``"simulated"``.
    name: str
    #: True when the data is not the market's (simulated); results then carry a SyntheticDataWarning.
    synthetic: bool

    def fetch_daily_bars(self, symbol: Symbol, start: date, end: date, *, adjust: str = "") -> pl.DataFrame:
        """Daily bars of ``symbol`` for sessions in ``[start, end]`` (inclusive), ``BARS`` schema, sorted by date.

        An empty frame (with the ``BARS`` schema) means the upstream has no bars there (suspension, before listing,
        unknown symbol). Raise ``ProviderUnavailableError`` for transport failures, ``ProviderSchemaError`` when
        the upstream's columns changed.
        """
        ...

    def fetch_trade_dates(self) -> list[date]:
        """All trading sessions the upstream knows, ascending (used past the bundled calendar's bound)."""
        ...

    def fetch_securities(self) -> pl.DataFrame:
        """The security master, ``SECURITIES`` schema."""
        ...

    def host_family(self, symbol: Symbol) -> str:
        """The upstream host family that serves ``symbol``'s bars: the unit of rate limiting and circuit breaking."""
        ...
