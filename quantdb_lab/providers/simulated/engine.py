"""One instrument's whole daily history, generated once: schedule (listing, suspensions, events, corporate
actions), then a fat-tailed factor-model price path clipped at the board's daily limits, then OHLC and volume.

The schedule uses its own random stream and never looks at prices, so "which symbols go ex-dividend next
month" is answerable without generating any price path. Only the price loop is sequential (limit prices and
ex-rights reference prices are rounded from the previous close); everything else is vectorised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from quantdb_lab.domain.calendar import day_number
from quantdb_lab.providers.simulated.factors import (
    CHINEXT_20PCT_FROM,
    HORIZON,
    PRICE_LIMITS_FROM,
    Factors,
)
from quantdb_lab.providers.simulated.universe import Profile, symbol_rng

_SPLITS = np.array([1.2, 1.3, 1.5, 2.0])  # shares after / shares before (10 bonus 2, 3, 5, 10)
_BONUS_SHARE = np.array([0.0, 0.4, 0.6, 1.0])  # part of the new shares that is bonus, the rest transfer from reserves
_RIGHTS_UNTIL = date(2012, 1, 1)  # rights issues were common in the 1990s and 2000s
_RIGHTS_RATIOS = np.array([0.1, 0.2, 0.3])
_BOARD_LIMIT = {"main": 0.10, "chinext": 0.20, "star": 0.20, "beijing": 0.30, "etf": 0.10}
_CARRY = 0.8  # share of a clipped move pushed to the next session: this is what makes limit streaks
_KAPPA = 0.0005  # weak pull of the log price toward an anchor, so 30 years of noise keep prices plausible


@dataclass(frozen=True, slots=True)
class Schedule:
    bar_g: np.ndarray  # global session positions that have a bar (listed and not suspended)
    suspensions: tuple[tuple[int, int], ...]  # (first, last) global positions without a bar
    ex_pos: np.ndarray  # positions into bar_g of ex-dates
    ex_split: np.ndarray  # split ratio per ex-date (1.0 = none)
    ex_cash: np.ndarray  # whether the ex-date also pays cash
    ex_bonus: np.ndarray  # bonus shares per share (the rest of ex_split - 1 is transfer)
    ex_rights: np.ndarray  # rights shares offered per share (0.0 = none)
    ex_discount: np.ndarray  # rights price / previous close
    ex_announce: np.ndarray  # positions into bar_g of the announcement of each action
    event_pos: np.ndarray  # positions into bar_g of news shocks
    event_mag: np.ndarray  # their log-return size


@dataclass(frozen=True, slots=True)
class History:
    """Final daily bars of one instrument up to HORIZON (arrays aligned on ``days``)."""

    days: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    amount: np.ndarray
    turnover: np.ndarray
    change: np.ndarray
    pct_change: np.ndarray
    ref: np.ndarray  # reference previous close (ex-rights on ex-dates)
    adj: np.ndarray  # cumulative back-adjustment multiplier: hfq = raw * adj
    flag: np.ndarray  # +1/-1 closed at limit up/down, +2/-2 the same all day ("one-word" board)
    ex_pos: np.ndarray
    ex_cash: np.ndarray  # cash dividend per share paid on each ex-date, CNY
    ex_split: np.ndarray  # 1 + bonus + transfer shares per share
    ex_bonus: np.ndarray
    ex_rights: np.ndarray  # rights shares per share
    ex_rights_price: np.ndarray  # CNY per rights share
    ex_announce: np.ndarray  # day numbers of the announcements
    tick_scale: int


def _round(values: np.ndarray, scale: int) -> np.ndarray:
    return np.floor(values * scale + 0.5) / scale


def make_schedule(profile: Profile, factors: Factors, seed: int) -> Schedule:
    g0 = factors.index_of(profile.list_date)
    total = len(factors.days) - g0
    rng = symbol_rng(seed, profile.symbol, 1)
    years = total / 244.0
    empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
    mask = np.ones(total, dtype=bool)
    suspensions: list[tuple[int, int]] = []
    if profile.kind in ("stock", "hk"):
        rate = 0.25 if profile.kind == "stock" else 0.04
        count = int(rng.poisson(rate * years))
        starts = rng.integers(1, max(total, 2), count)
        long_run = rng.random(count) < 0.15
        lengths = np.where(long_run, rng.integers(15, 121, count), rng.geometric(0.3, count))
        for start, length in zip(starts.tolist(), lengths.tolist(), strict=True):
            stop = min(start + length, total)
            mask[start:stop] = False
        runs = np.flatnonzero(np.diff(np.concatenate([[1], mask.astype(np.int8), [1]])))
        suspensions = [(g0 + a, g0 + b - 1) for a, b in zip(runs[::2].tolist(), runs[1::2].tolist(), strict=True)]
    bar_g = g0 + np.flatnonzero(mask)
    ex_pos, ex_split, ex_cash = empty_i, empty_f, np.zeros(0, dtype=bool)
    if profile.payer:
        first_year, n_years = profile.list_date.year + 1, HORIZON.year - profile.list_date.year
        jitter = rng.integers(-5, 6, n_years)
        pays = rng.random(n_years) < 0.85
        splits = np.where(rng.random(n_years) < 0.12, _SPLITS[rng.integers(0, 4, n_years)], 1.0)
        cash = (splits == 1.0) | (rng.random(n_years) < 0.6)
        targets = [
            day_number(date(first_year + k, 1, 1) + timedelta(days=profile.dividend_doy + int(jitter[k])))
            for k in range(n_years)
        ]
        earliest = day_number(profile.list_date) + 250
        g = np.searchsorted(factors.days, targets)
        pos = np.searchsorted(bar_g, g)
        keep = pays & (np.array(targets) >= earliest) & (pos >= 1) & (pos < len(bar_g))
        pos, first = np.unique(pos[keep], return_index=True)
        ex_pos, ex_split, ex_cash = pos, splits[keep][first], cash[keep][first]
    # Share structure and rights issues from their own stream: the draws above (and so every history without
    # a rights issue) stay what they were before these were modelled.
    extra = symbol_rng(seed, profile.symbol, 3)
    k = len(ex_pos)
    ex_bonus = np.round((ex_split - 1.0) * _BONUS_SHARE[extra.integers(0, 4, k)], 1)
    early = factors.days[bar_g[ex_pos]] < day_number(_RIGHTS_UNTIL) if k else np.zeros(0, dtype=bool)
    ex_rights = np.where(early & (extra.random(k) < 0.08), _RIGHTS_RATIOS[extra.integers(0, 3, k)], 0.0)
    ex_discount = extra.uniform(0.55, 0.85, k)
    ex_announce = np.maximum(ex_pos - extra.integers(10, 61, k), 0)
    event_pos, event_mag = empty_i, empty_f
    if profile.kind == "stock":
        count = int(rng.poisson(0.3 * years))
        event_pos = np.sort(rng.integers(1, max(len(bar_g), 2), count))
        sign = np.where(rng.random(count) < 0.55, 1.0, -1.0)
        event_mag = sign * rng.uniform(0.15, 0.45, count)
    return Schedule(bar_g, tuple(suspensions), ex_pos, ex_split, ex_cash, ex_bonus, ex_rights, ex_discount,
                    ex_announce, event_pos, event_mag)  # fmt: skip


def _limits(profile: Profile, days: np.ndarray) -> np.ndarray:
    if profile.kind in ("index", "hk"):
        return np.full(len(days), np.inf)
    lim = np.full(len(days), _BOARD_LIMIT[profile.board])
    if profile.board == "chinext":
        lim[days < day_number(CHINEXT_20PCT_FROM)] = 0.10
    if profile.st_since is not None:
        lim[days >= day_number(profile.st_since)] = 0.05
    lim[days < day_number(PRICE_LIMITS_FROM)] = np.inf
    lim[0] = np.inf  # the listing day has no limit
    return lim


def _run(des, anchor, lim, ex_pos, ex_yield, ex_split, ex_rights, ex_discount, first_ref, first_close, scale):  # noqa: ANN001, ANN202
    """The sequential part: round to the tick, clip at limits, carry clipped moves, apply ex-rights prices."""
    n = len(des)
    close, ref, flag, cash = [0.0] * n, [0.0] * n, [0] * n, [0.0] * len(ex_pos)
    rights_price = [0.0] * len(ex_pos)
    floor, exp, log = math.floor, math.exp, math.log
    tick = 1.0 / scale
    ref[0], close[0] = first_ref, first_close
    prev, carry, k = first_close, 0.0, 0
    nxt = ex_pos[0] if ex_pos else -1
    for i in range(1, n):
        r = prev
        if i == nxt:
            paid = floor(prev * ex_yield[k] * 1000.0 + 0.5) / 1000.0
            cash[k] = paid
            rights = ex_rights[k]
            rp = floor(prev * ex_discount[k] * 100.0 + 0.5) / 100.0 if rights else 0.0
            rights_price[k] = rp
            # rounded half up in decimal, as the exchange does (a float tie like 37.505 -> 37.5049999 must go up)
            r = max(floor(round((prev - paid + rp * rights) / (ex_split[k] + rights) * scale, 6) + 0.5) / scale, tick)
            k += 1
            nxt = ex_pos[k] if k < len(ex_pos) else -1
        d = des[i] + carry + _KAPPA * (anchor[i] - log(r))
        c = floor(r * exp(d) * scale + 0.5) / scale
        carry = 0.0
        limit = lim[i]
        if limit < 1.0:
            up = floor(r * (1.0 + limit) * scale + 0.5) / scale
            dn = floor(r * (1.0 - limit) * scale + 0.5) / scale
            if c >= up:
                excess = d - log(up / r)
                c, carry, flag[i] = up, _CARRY * excess, 2 if excess > limit else 1
            elif c <= dn:
                excess = d - log(dn / r)
                c, carry, flag[i] = dn, _CARRY * excess, -2 if excess < -limit else -1
        if c < tick:
            c = tick
        close[i], ref[i], prev = c, r, c
    return close, ref, flag, cash, rights_price


def simulate(
    profile: Profile, schedule: Schedule, factors: Factors, seed: int, tracked: History | None = None
) -> History:
    """Generate the full history; ``tracked`` is the index history an ETF follows."""
    bar_g = schedule.bar_g
    n, scale = len(bar_g), profile.tick_scale
    days = factors.days[bar_g]
    vol = factors.vol[bar_g]
    rng = symbol_rng(seed, profile.symbol, 2)
    noise = rng.standard_t(3, n) / math.sqrt(3.0)
    if profile.kind == "etf" and tracked is not None:
        level = np.log(tracked.close[np.searchsorted(tracked.days, days)])
        des = np.diff(level, prepend=level[0]) + 0.0006 * rng.standard_normal(n) - 0.00002
        first_ref = float(_round(np.exp(level[:1]) / 1000.0, scale)[0])
        first_close = first_ref
        anchor = level - math.log(1000.0)
    else:
        g0 = bar_g[0]
        systematic = profile.beta_m * factors.market[g0:]
        if profile.sector >= 0:
            systematic = systematic + profile.beta_s * factors.sectors[profile.sector, g0:]
        cum = np.cumsum(systematic)[bar_g - g0]
        # After a suspension the first bar catches up with everything the market did meanwhile.
        des = np.diff(cum, prepend=0.0) + profile.sigma * vol * noise + profile.drift
        des[schedule.event_pos] += schedule.event_mag
        pull = cum if profile.kind == "index" else 0.4 + 0.5 * cum  # indices follow the factor fully
        anchor = math.log(profile.issue_price) + pull
        first_ref = profile.issue_price
        if profile.kind == "stock":
            pop = rng.uniform(0.15, 1.3) if rng.random() < 0.9 else rng.uniform(-0.2, 0.0)
            first_close = float(_round(np.array([first_ref * math.exp(pop)]), scale)[0])
        else:
            first_close = float(_round(np.array([first_ref * math.exp(des[0])]), scale)[0])
    lim = _limits(profile, days)
    ex_yield = np.where(schedule.ex_cash, profile.dividend_yield, 0.0)
    close_l, ref_l, flag_l, cash_l, rights_price = _run(
        des.tolist(), anchor.tolist(), lim.tolist(), schedule.ex_pos.tolist(), ex_yield.tolist(),
        schedule.ex_split.tolist(), schedule.ex_rights.tolist(), schedule.ex_discount.tolist(), first_ref,
        first_close, scale,
    )  # fmt: skip
    close, ref, flag = np.array(close_l), np.array(ref_l), np.array(flag_l, dtype=np.int8)
    open_, high, low = _ohlc(rng, profile, close, ref, flag, lim, vol, scale)
    volume, amount, turnover = _volume(rng, profile, schedule, close, ref, flag, high, low, days, vol)
    change = _round(close - ref, scale)
    factor = np.ones(n)
    factor[schedule.ex_pos] = ref[schedule.ex_pos] / close[schedule.ex_pos - 1]
    return History(
        days=days, open=open_, high=high, low=low, close=close, volume=volume, amount=amount,
        turnover=turnover, change=change, pct_change=np.round(change / ref, 4), ref=ref,
        adj=np.cumprod(1.0 / factor), flag=flag, ex_pos=schedule.ex_pos, ex_cash=np.array(cash_l),
        ex_split=schedule.ex_split, ex_bonus=schedule.ex_bonus, ex_rights=schedule.ex_rights,
        ex_rights_price=np.array(rights_price), ex_announce=days[schedule.ex_announce], tick_scale=scale,
    )  # fmt: skip


def _ohlc(rng, profile, close, ref, flag, lim, vol, scale):  # noqa: ANN001, ANN202
    n = len(close)
    spread = (max(profile.sigma, 0.004) + 0.006) * vol
    move = np.log(close / ref)
    finite = np.isfinite(lim)
    up = np.where(finite, _round(ref * (1.0 + np.where(finite, lim, 0.0)), scale), np.inf)
    dn = np.where(finite, _round(ref * (1.0 - np.where(finite, lim, 0.0)), scale), 0.0)
    tick = 1.0 / scale
    open_ = _round(ref * np.exp(rng.uniform(0.0, 0.6, n) * move + 0.5 * spread * rng.standard_normal(n)), scale)
    open_ = np.clip(open_, np.maximum(dn, tick), up)
    top, bottom = np.maximum(open_, close), np.minimum(open_, close)
    high = np.clip(_round(top * np.exp(0.45 * spread * np.abs(rng.standard_normal(n))), scale), top, up)
    low = np.clip(_round(bottom * np.exp(-0.45 * spread * np.abs(rng.standard_normal(n))), scale), dn, bottom)
    low = np.maximum(low, tick)
    sealed = np.abs(flag) == 2  # sealed at the limit from the opening auction to the close
    open_[sealed], high[sealed], low[sealed] = close[sealed], close[sealed], close[sealed]
    return open_, high, low


def _volume(rng, profile, schedule, close, ref, flag, high, low, days, vol):  # noqa: ANN001, ANN202
    n = len(close)
    split = np.ones(n)
    split[schedule.ex_pos] = schedule.ex_split + schedule.ex_rights  # rights shares add to the float too
    float_shares = profile.float_shares * np.cumprod(split)
    if profile.kind in ("index", "etf"):  # markets grew: fewer shares traded in early years
        float_shares = float_shares * np.exp((days - day_number(date(2025, 1, 1))) / 365.25 * 0.12)
    turnover = profile.base_turnover * np.exp(0.45 * rng.standard_normal(n)) * np.sqrt(vol)
    turnover *= 1.0 + 12.0 * np.abs(np.log(close / ref))
    if profile.kind == "stock":
        turnover[0] = rng.uniform(0.35, 0.75)
    turnover[np.abs(flag) == 2] *= 0.08
    volume = np.maximum(np.round(np.clip(turnover, 2e-5, 0.9) * float_shares / 100.0), 1.0) * 100.0
    vwap = low + (high - low) * rng.uniform(0.35, 0.65, n)
    if profile.kind == "index":  # an index's amount is its members' shares times their prices, not its level
        vwap = 11.0 * np.exp(0.1 * rng.standard_normal(n))
    amount = np.round(volume * vwap, 2)
    return volume, amount, volume / float_shares
