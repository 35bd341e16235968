"""Who is in the simulated market and with which static parameters (listing, board, sector, model constants).

Everything here is cheap and derived from ``(seed, symbol)`` alone through a stable hash, so a symbol's profile
does not depend on how many other symbols the market holds or in what order they are asked for.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np

from quantdb_lab.domain.symbols import parse_symbol

SECTORS: Final[tuple[tuple[str, str], ...]] = (
    ("Technology", "Tech"),
    ("Financials", "Fin"),
    ("Consumer Staples", "Staples"),
    ("Consumer Discretionary", "Discr"),
    ("Healthcare", "Health"),
    ("Industrials", "Indus"),
    ("Materials", "Mat"),
    ("Energy", "Energy"),
    ("Utilities", "Util"),
    ("Real Estate", "Realty"),
)
SECTOR_NAMES: Final[tuple[str, ...]] = tuple(name for name, _ in SECTORS)

LAST_LISTING = date(2025, 12, 31)
# Code ranges and the first day each board accepted listings (before that a code range cannot list).
_BOARDS: Final[dict[str, tuple[tuple[tuple[int, int], ...], date, float]]] = {
    # board key: (code ranges [lo, hi], first listing, share of the universe)
    "sh_main": (((600000, 605999),), date(1995, 1, 3), 0.33),
    "sz_main": (((1, 999), (2001, 2999)), date(1995, 1, 3), 0.24),
    "chinext": (((300001, 301999),), date(2009, 10, 30), 0.18),
    "star": (((688001, 688999),), date(2019, 7, 22), 0.13),
    "beijing": (((830000, 839999), (870000, 873999), (920000, 920999)), date(2021, 11, 15), 0.12),
}
_SUFFIX = {"sh_main": "SH", "sz_main": "SZ", "chinext": "SZ", "star": "SH", "beijing": "BJ"}

# Well-known codes always present so demos and tests can name them; their data is as synthetic as the rest.
ANCHORS: Final[dict[str, tuple[date, int]]] = {
    "600519.SH": (date(2001, 8, 27), 2),
    "000001.SZ": (date(1995, 1, 3), 1),
    "600000.SH": (date(1999, 11, 10), 1),
    "601318.SH": (date(2007, 3, 1), 1),
    "000858.SZ": (date(1998, 4, 27), 2),
    "300750.SZ": (date(2018, 6, 11), 5),
    "688981.SH": (date(2020, 7, 16), 0),
    "830799.BJ": (date(2021, 11, 15), 6),
}

# (symbol, name, base date = first bar's reference, base value, market beta)
INDICES: Final[tuple[tuple[str, str, date, float, float], ...]] = (
    ("000001.SH", "Sim SSE Composite", date(1990, 12, 19), 100.0, 1.0),
    ("399001.SZ", "Sim SZSE Component", date(1991, 4, 3), 1000.0, 1.1),
    ("000300.SH", "Sim CSI 300", date(2005, 1, 4), 1000.0, 0.95),
    ("000905.SH", "Sim CSI 500", date(2005, 1, 4), 1000.0, 1.15),
    ("399006.SZ", "Sim ChiNext Index", date(2010, 6, 1), 1000.0, 1.3),
)
# (symbol, name, tracked index, listing date)
ETFS: Final[tuple[tuple[str, str, str, date], ...]] = (
    ("510300.SH", "Sim CSI 300 ETF", "000300.SH", date(2012, 5, 28)),
    ("510500.SH", "Sim CSI 500 ETF", "000905.SH", date(2013, 3, 15)),
    ("159915.SZ", "Sim ChiNext ETF", "399006.SZ", date(2011, 12, 9)),
)
# (symbol, sector, listing date)
HK_STOCKS: Final[tuple[tuple[str, int, date], ...]] = (
    ("00700.HK", 0, date(2004, 6, 16)),
    ("09988.HK", 3, date(2019, 11, 26)),
    ("03690.HK", 3, date(2018, 9, 20)),
    ("00005.HK", 1, date(1995, 1, 3)),
    ("01810.HK", 0, date(2018, 7, 9)),
    ("00941.HK", 8, date(1997, 10, 23)),
)


def symbol_rng(seed: int, symbol: str, stream: int) -> np.random.Generator:
    """An independent, stable random stream per (market seed, symbol, purpose)."""
    return np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(symbol.encode()), stream])


@dataclass(frozen=True, slots=True)
class Profile:
    """Static description and model constants of one simulated instrument."""

    symbol: str
    kind: str  # "stock" | "hk" | "index" | "etf"
    board: str  # Symbol.board: main, chinext, star, beijing, hk, index, etf
    name: str
    industry: str
    sector: int  # index into SECTORS, -1 for none
    list_date: date  # requested listing day; the first bar is on the first session on or after it
    st_since: date | None = None  # main-board ST from this day (5% limit)
    delist_date: date | None = None  # no session from this day on (simulated.pit: the delisted stocks)
    issue_price: float = 10.0
    float_shares: float = 1e8
    beta_m: float = 1.0
    beta_s: float = 0.0
    sigma: float = 0.0
    drift: float = 0.0
    base_turnover: float = 0.01
    payer: bool = False
    dividend_doy: int = 150
    dividend_yield: float = 0.0
    tick_scale: int = 100  # prices are rounded to 1 / tick_scale
    tracks: str | None = None  # ETFs: the index followed
    base_value: float = 0.0  # indices: value of the reference before the first bar

    @property
    def size(self) -> float:
        """A market-cap proxy used to rank index members."""
        return self.float_shares * self.issue_price


def universe_codes(seed: int, n_stocks: int) -> list[str]:
    """The stock symbols of a market: the anchors first, then codes drawn per board, all sorted."""
    anchors = list(ANCHORS)[: max(n_stocks, 0)]
    rng = np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(b"universe")])
    remaining = max(n_stocks - len(anchors), 0)
    shares = np.array([spec[2] for spec in _BOARDS.values()])
    counts = np.floor(shares * remaining).astype(int)
    counts[0] += remaining - counts.sum()
    taken = set(anchors)
    out = list(anchors)
    for (key, (ranges, _, _)), count in zip(_BOARDS.items(), counts, strict=True):
        pool = np.concatenate([np.arange(lo, hi + 1) for lo, hi in ranges])
        picks = rng.choice(pool, size=min(int(count) + len(anchors), len(pool)), replace=False)
        added = 0
        for code in picks:
            symbol = f"{int(code):06d}.{_SUFFIX[key]}"
            if symbol not in taken and added < count:
                taken.add(symbol)
                out.append(symbol)
                added += 1
    return sorted(out)


def _board_key(symbol: str) -> str:
    code, suffix = symbol.split(".")
    if suffix == "BJ":
        return "beijing"
    if code.startswith("688"):
        return "star"
    if code.startswith("30"):
        return "chinext"
    return "sh_main" if suffix == "SH" else "sz_main"


def stock_profile(seed: int, symbol: str, number: int) -> Profile:
    """Draw one A-share's constants; ``number`` only feeds its display name."""
    rng = symbol_rng(seed, symbol, 0)
    key = _board_key(symbol)
    first = _BOARDS[key][1]
    if symbol.endswith(".SZ") and symbol.startswith("002"):
        first = max(first, date(2004, 6, 25))  # the SME board opened then
    sector = int(rng.integers(len(SECTORS)))
    span = (LAST_LISTING - first).days
    list_date = first + timedelta(days=int(rng.integers(span + 1)))
    st_draw, st_when = rng.random(), rng.random()
    if symbol in ANCHORS:
        list_date, sector = ANCHORS[symbol]
    st_since = None
    ok_for_st = key in ("sh_main", "sz_main") and symbol not in ANCHORS
    earliest_st = list_date + timedelta(days=730)
    if ok_for_st and st_draw < 0.06 and earliest_st < date(2025, 6, 30):
        st_since = earliest_st + timedelta(days=int(st_when * (date(2025, 6, 30) - earliest_st).days))
    growth = key in ("chinext", "star", "beijing")
    vol_mult = {"beijing": 1.5, "chinext": 1.25, "star": 1.3}.get(key, 1.0)
    tag = SECTORS[sector][1]
    return Profile(
        symbol=symbol,
        kind="stock",
        board=parse_symbol(symbol).board,
        name=f"Sim {tag} {number:03d}",
        industry=SECTORS[sector][0],
        sector=sector,
        list_date=list_date,
        st_since=st_since,
        issue_price=max(round(math.exp(rng.normal(math.log(9.0), 0.5)), 2), 1.5),
        float_shares=round(math.exp(rng.normal(math.log(3e8 if key != "beijing" else 6e7), 0.9)), -4),
        beta_m=float(rng.normal(1.0, 0.2)),
        beta_s=float(rng.uniform(0.5, 1.3)),
        sigma=float(rng.uniform(0.011, 0.022)) * vol_mult,
        drift=float(rng.normal(0.0, 0.00012)),
        base_turnover=float(math.exp(rng.normal(math.log(0.025 if growth else 0.012), 0.45))),
        payer=bool(rng.random() < 0.75),
        dividend_doy=int(rng.integers(120, 211) if rng.random() < 0.6 else rng.integers(0, 365)),
        dividend_yield=float(rng.uniform(0.004, 0.03)),
    )


def index_profile(symbol: str, name: str, base: date, value: float, beta: float) -> Profile:
    return Profile(
        symbol=symbol, kind="index", board="index", name=name, industry="Index", sector=-1,
        list_date=base, issue_price=value, base_value=value, beta_m=beta, sigma=0.002,
        float_shares=3e12, base_turnover=0.01,
    )  # fmt: skip


def etf_profile(seed: int, symbol: str, name: str, tracks: str, list_date: date) -> Profile:
    rng = symbol_rng(seed, symbol, 0)
    return Profile(
        symbol=symbol, kind="etf", board="etf", name=name, industry="ETF", sector=-1, list_date=list_date,
        float_shares=round(float(np.exp(rng.normal(np.log(2e10), 0.3))), -4), sigma=0.0006, tick_scale=1000,
        tracks=tracks, base_turnover=0.02,
    )  # fmt: skip


def hk_profile(seed: int, symbol: str, sector: int, list_date: date) -> Profile:
    rng = symbol_rng(seed, symbol, 0)
    return Profile(
        symbol=symbol, kind="hk", board="hk", name=f"Sim HK {SECTORS[sector][1]} {symbol[:5]}",
        industry=SECTORS[sector][0], sector=sector, list_date=list_date,
        issue_price=round(float(np.exp(rng.normal(np.log(20.0), 0.6))), 2),
        float_shares=round(float(np.exp(rng.normal(np.log(4e9), 0.7))), -4),
        beta_m=float(rng.normal(0.6, 0.15)), beta_s=float(rng.uniform(0.3, 0.8)),
        sigma=float(rng.uniform(0.013, 0.022)), drift=float(rng.normal(0.0001, 0.0001)),
        base_turnover=float(np.exp(rng.normal(np.log(0.004), 0.4))), payer=True,
        dividend_doy=int(rng.integers(130, 200)), dividend_yield=float(rng.uniform(0.005, 0.03)),
    )  # fmt: skip
