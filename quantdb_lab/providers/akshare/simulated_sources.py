"""Sina's and Tencent's daily bars in the simulated akshare upstream, and refusals per host family.

``stock_zh_a_daily`` and ``stock_zh_a_hist_tx`` answer from the source's unadjusted bars in akshare 1.19.5's
output shapes (``providers.akshare.bar_sources``): Sina with volume in shares, an ``outstanding_share`` column
and turnover as a fraction; Tencent with turnover as a fraction and volume in shares except for ``sz000xxx``
codes, which akshare leaves in lots. Only ``adjust=""`` is simulated (the cache asks for nothing else).

``HostBans`` makes one host family refuse, as the real one would look to the project: ``"status"`` answers
an HTTP status (456 by default) with an HTML page (the answer is recorded on the wire observation and akshare
fails to parse the page), ``"reset"`` drops the connection (``RemoteDisconnected``), ``"down"`` refuses to
connect. A ban starts after ``after`` more calls and lasts ``seconds`` of the clock (None: until lifted).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import polars as pl

from quantdb_lab.providers.akshare import wire
from quantdb_lab.providers.akshare.bar_sources import SINA_ORDER, TENCENT_ORDER
from quantdb_lab.providers.akshare.query import HOST_FAMILIES

HOSTS: Final[dict[str, str]] = {
    "eastmoney_push2his": "push2his.eastmoney.com",
    "sina_kline": "finance.sina.com.cn",
    "tencent": "proxy.finance.qq.com",
}
BAN_KINDS: Final = ("status", "reset", "down")


@dataclass
class Ban:
    kind: str = "status"
    status: int = 456
    after: int = 0  # calls still answered before the ban starts
    seconds: float | None = None  # how long it lasts once started (clock seconds); None: until lifted
    started: float | None = None


class HostBans:
    """Refusals per host family, checked on every simulated call (thread-safe). ``calls`` logs, per family,
    the clock time of every call that reached the host (answered or refused), for rate checks."""

    def __init__(self, now: Any) -> None:
        self._now = now  # () -> epoch seconds
        self._lock = threading.Lock()
        self._bans: dict[str, Ban] = {}
        self.calls: dict[str, list[float]] = defaultdict(list)
        self.refused: dict[str, int] = defaultdict(int)

    def ban(self, family: str, *, kind: str = "status", status: int = 456, after: int = 0,
            seconds: float | None = None) -> None:  # fmt: skip
        if kind not in BAN_KINDS:
            raise ValueError(f"kind must be one of {BAN_KINDS}, not {kind!r}")
        with self._lock:
            self._bans[family] = Ban(kind, status, after, seconds)

    def lift(self, family: str | None = None) -> None:
        with self._lock:
            if family is None:
                self._bans.clear()
            else:
                self._bans.pop(family, None)

    def check(self, function: str) -> None:
        family = HOST_FAMILIES.get(function, "")
        now = self._now()
        with self._lock:
            self.calls[family].append(now)
            ban = self._bans.get(family)
            if ban is None:
                return
            if ban.after > 0:
                ban.after -= 1
                return
            if ban.started is None:
                ban.started = now
            if ban.seconds is not None and now >= ban.started + ban.seconds:
                del self._bans[family]
                return
            self.refused[family] += 1
        _refuse(ban, HOSTS.get(family, family))


def _refuse(ban: Ban, host: str) -> None:
    import requests
    from http.client import RemoteDisconnected

    if ban.kind == "reset":
        reason = RemoteDisconnected("Remote end closed connection without response")
        raise requests.exceptions.ConnectionError(("Connection aborted.", reason))
    if ban.kind == "down":
        raise requests.exceptions.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    wire.record(wire.Answer(host, ban.status, True))
    raise json.JSONDecodeError("Expecting value", "<html><body>访问受限</body></html>", 0)


def sina_daily_frame(bars: pl.DataFrame) -> pd.DataFrame:
    """Canonical unadjusted bars as ``stock_zh_a_daily(adjust="")`` returns them."""
    shares = (bars["volume"] / bars["turnover"]).fill_nan(None).to_numpy()
    data = {
        "date": pd.array(bars["date"].to_list(), dtype=object),
        **{c: bars[c].round(2).fill_null(np.nan).to_numpy() for c in ("open", "high", "low", "close")},
        "volume": bars["volume"].fill_null(np.nan).to_numpy(), "amount": bars["amount"].fill_null(np.nan).to_numpy(),
        "outstanding_share": np.asarray(shares, dtype=float),
        "turnover": bars["turnover"].fill_null(np.nan).to_numpy(),
    }  # fmt: skip
    return pd.DataFrame({c: data[c] for c in SINA_ORDER})


def tencent_frame(bars: pl.DataFrame, code: str) -> pd.DataFrame:
    """Canonical unadjusted bars as ``stock_zh_a_hist_tx(adjust="")`` returns them for ``code`` (sz000001)."""
    lots = code.startswith("sz000")
    data = {
        "date": pd.array(bars["date"].to_list(), dtype=object),
        **{c: bars[c].round(2).fill_null(np.nan).to_numpy() for c in ("open", "close", "high", "low")},
        "volume": (bars["volume"] / (100.0 if lots else 1.0)).fill_null(np.nan).to_numpy(),
        "turnover": bars["turnover"].fill_null(np.nan).to_numpy(),
        "amount": bars["amount"].fill_null(np.nan).to_numpy(),
    }  # fmt: skip
    return pd.DataFrame({c: data[c] for c in TENCENT_ORDER})


class SinaTencentBars:
    """``stock_zh_a_daily`` and ``stock_zh_a_hist_tx`` of ``SimulatedAkshare``, which provides ``_enter``
    (counting, latency and the host's bans) and ``_bars`` (the source's unadjusted bars)."""

    def _enter(self, name: str) -> None: ...  # pragma: no cover - SimulatedAkshare's

    def _plain_bars(self, code: str, start_date: str, end_date: str) -> pl.DataFrame | None: ...  # pragma: no cover

    def stock_zh_a_daily(self, symbol: str = "sh603843", start_date: str = "19900101", end_date: str = "21000118",
                         adjust: str = "") -> pd.DataFrame:  # fmt: skip
        self._enter("stock_zh_a_daily")
        if adjust:
            raise NotImplementedError("the simulated Sina source serves unadjusted bars only")
        bars = self._plain_bars(symbol[2:], start_date, end_date)
        if bars is None or bars.is_empty():
            raise IndexError("list index out of range")  # akshare: an unknown code's page has no data string
        return sina_daily_frame(bars)

    def stock_zh_a_hist_tx(self, symbol: str = "sz000001", start_date: str = "19000101", end_date: str = "20500101",
                           adjust: str = "", timeout: float | None = None) -> pd.DataFrame:  # fmt: skip
        self._enter("stock_zh_a_hist_tx")
        if adjust:
            raise NotImplementedError("the simulated Tencent source serves unadjusted bars only")
        bars = self._plain_bars(symbol[2:], start_date, end_date)
        if bars is None or bars.is_empty():
            raise TypeError("'NoneType' object is not subscriptable")  # akshare: "data" has no such code
        return tencent_frame(bars, symbol)
