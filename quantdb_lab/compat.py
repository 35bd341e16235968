"""A cached drop-in for existing akshare code: same signature, same columns, served through a Lab.

    from quantdb_lab import compat as ak      # instead of importing akshare itself
    ak.stock_zh_a_hist("600519", "daily", "20240101", "20241231", "qfq")

Differences a user may notice, all deliberate: ``qfq`` is proportional, not Eastmoney's additive qfq (see
``quantdb_lab.loader.adjust``), so early-year prices never go negative; weekly and monthly bars are derived
from the cached daily bars; an unknown symbol raises ``EmptyResultError`` instead of returning an empty frame.
"""

from __future__ import annotations

import pandas as pd

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.lab import Lab, default_lab
from quantdb_lab.providers.akshare.inverse import to_akshare_bars
from quantdb_lab.providers.akshare.query import endpoint_for

_PERIODS = {"daily": "daily", "weekly": "weekly", "monthly": "monthly"}


def stock_zh_a_hist(
    symbol: str = "000001",
    period: str = "daily",
    start_date: str = "19700101",
    end_date: str = "20500101",
    adjust: str = "",
    timeout: float | None = None,
    *,
    lab: Lab | None = None,
) -> pd.DataFrame:
    """``akshare.stock_zh_a_hist`` through the cache: a pandas frame with akshare's own columns and units.

    ``timeout`` is accepted for compatibility; the Lab's provider enforces its own.
    """
    if period not in _PERIODS:
        raise InvalidRequestError(f"period must be one of {sorted(_PERIODS)}, not {period!r}")
    parsed = parse_symbol(symbol)
    frame = (lab or default_lab()).bars(parsed, start=start_date, end=end_date, adjust=adjust, freq=_PERIODS[period])
    return to_akshare_bars(frame, endpoint_for(parsed), code=parsed.code)
