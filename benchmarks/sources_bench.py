"""Many upstreams: a cold portfolio over Eastmoney, Sina and Tencent at their combined safe rates, and a ban
of the primary mid-portfolio (issue 20). Run from ``bench_portfolio.py --sources``.

Everything goes through the real code path: ``Lab.portfolio`` -> loader -> failover -> throttle ->
``AkshareProvider`` -> akshare's function names answered by ``SimulatedAkshare`` (akshare's shapes and units).
Time is scaled: every rate limit is multiplied by ``scale`` and every simulated latency divided by it, so a run
of ``T`` seconds stands for ``T * scale`` seconds at the real limits. The bound is what the limits allow:
``N / sum_s min(rate_s, concurrency_s / latency_s)`` for N symbols with one bar call each.

Fully cold: qfq needs dividend tables too. The portfolio reads each reporting period's market-wide table
(``stock_fhps_em``, and ``stock_pg_em`` for rights issues, on eastmoney_datacenter) once before the bars, instead of
each symbol's own two; those calls run first, at that host's rate, so the bound adds them:
``tables / rate_datacenter + N / sum_s ...``. The symbols' own tables (``stock_fhps_detail_em``,
``stock_history_dividend_detail``) are counted too: a cold portfolio should make none.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
import time
import warnings
from datetime import date, datetime

from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock, SystemClock
from quantdb_lab.lab import Lab
from quantdb_lab.providers.akshare import AkshareProvider, SimulatedAkshare
from quantdb_lab.providers.simulated import Faults, SimulatedMarket, SimulatedProvider
from quantdb_lab.throttle import DEFAULT_LIMITS, RateLimit

BAR_FAMILIES = {"eastmoney": "eastmoney_push2his", "sina": "sina_kline", "tencent": "tencent"}
BAR_FUNCTIONS = {"stock_zh_a_hist": "eastmoney", "stock_zh_a_daily": "sina", "stock_zh_a_hist_tx": "tencent"}
# seconds per call at real speed: one kline request; klc_kl.js + share counts; ~11 yearly pages
LATENCY = {"eastmoney_push2his": 0.3, "sina_kline": 0.5, "tencent": 0.8}
TABLE_FAMILIES = ("eastmoney_datacenter", "sina")
MARKET_TABLES = ("stock_fhps_em", "stock_pg_em")  # one call per reporting period / one for every rights issue
TABLE_FUNCTIONS = (*MARKET_TABLES, "stock_fhps_detail_em", "stock_history_dividend_detail")  # + a symbol's own two
START, END = "2015-01-05", "2024-12-31"  # ten years
MARKET_NOW = datetime(2025, 6, 6, 16, 0, tzinfo=EXCHANGE_TZ)


class ShiftedClock(SystemClock):
    """Real time, moved back so that "now" starts at ``start``: waits are real, the market's today is fixed."""

    def __init__(self, start: datetime) -> None:
        self._offset = datetime.now(EXCHANGE_TZ) - start

    def now(self) -> datetime:
        return super().now() - self._offset


def scaled_limits(scale: float) -> dict[str, RateLimit]:
    out = {}
    for family in (*BAR_FAMILIES.values(), *TABLE_FAMILIES):
        real = DEFAULT_LIMITS[family]
        out[family] = RateLimit(per_second=real.per_second * scale, burst=real.burst,
                                max_concurrency=real.max_concurrency, jitter=real.jitter)  # fmt: skip
    return out


def bound_seconds(n: int, limits: dict[str, RateLimit], latency: dict[str, float], families) -> float:  # noqa: ANN001
    pace = sum(min(limits[f].per_second, (limits[f].max_concurrency or 10**6) / latency[f]) for f in families)
    return n / pace


def symbols_of(market: SimulatedMarket, n: int) -> list[str]:
    found = [s for s in market.symbols("stock") if not s.endswith(".BJ") and market.listing_date(s) < date(2015, 1, 1)]
    if len(found) < n:
        raise SystemExit(f"the simulated market has only {len(found)} stocks listed before 2015; need {n}")
    return found[:n]


def max_window_rate(times: list[float], window: float) -> int:
    """The most calls in any ``window`` seconds."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def one_run(market: SimulatedMarket, symbols: list[str], *, scale: float, ban_after: int | None) -> dict:
    warnings.simplefilter("ignore")
    clock = ShiftedClock(MARKET_NOW)
    source = SimulatedProvider(market, faults=Faults(), clock=clock)
    latency = {f: s / scale for f, s in LATENCY.items()}
    sim = SimulatedAkshare(source, latency=latency, clock=clock)
    cache = Path(tempfile.mkdtemp(prefix="qdb_sources_")) / "cache"
    with sim.patch():
        limits = scaled_limits(scale)
        lab = Lab(cache, provider=AkshareProvider(timeout=30), limits=limits, clock=clock)
        sim.warm_market_tables()  # the simulator's cost of stock_fhps_em's source, not the upstream's
        sim.reset_counts()
        sim.bans.calls.clear()
        if ban_after is not None:
            sim.bans.ban("eastmoney_push2his", kind="status", status=456, after=ban_after)
        started = time.perf_counter()
        result = lab.portfolio(symbols, start=START, end=END, adjust="qfq", progress=False)
        elapsed = time.perf_counter() - started
    counts = sim.call_counts
    answered = {BAR_FUNCTIONS[f]: counts.get(f, 0) for f in BAR_FUNCTIONS}
    refused = dict(sim.bans.refused)
    answered["eastmoney"] -= refused.get("eastmoney_push2his", 0)
    tables = {f: counts.get(f, 0) for f in TABLE_FUNCTIONS}
    over = {}
    for name, family in BAR_FAMILIES.items():
        limit = limits[family]
        window = 2.0 / scale * 10  # 20 real seconds
        allowed = limit.burst + limit.per_second * window
        seen = max_window_rate(sim.bans.calls.get(family, []), window)
        over[name] = (seen, allowed)
    served = result.served_by()
    return {
        "elapsed": elapsed,
        "delivered": result.counts["fetched"] + result.counts["from_cache"],
        "failed": len(result.failed),
        "answered": answered,
        "refused": refused.get("eastmoney_push2his", 0),
        "sources": result.sources(),
        "one_source_each": served["symbol"].n_unique() == served.height == len(symbols),
        "rows": result.frame.height,
        "duplicated_rows": result.frame.height - result.frame.unique(["symbol", "date"]).height,
        "over": over,
        "limits": limits,
        "latency": latency,
        "tables": tables,
    }


def run(n: int, *, scale: float, repeat: int, ban_n: int | None = None) -> list[dict]:
    """The cold portfolio of ``n`` symbols (``repeat`` runs), then a ban of Eastmoney after a sixth of
    ``ban_n`` symbols (default ``n``), with its healthy twin to compare calls with."""
    ban_n = ban_n or n
    market = SimulatedMarket(seed=11, n_stocks=int(max(n, ban_n) * 3) + 200, clock=FixedClock(MARKET_NOW))
    symbols = symbols_of(market, max(n, ban_n))
    cold = [one_run(market, symbols[:n], scale=scale, ban_after=None) for _ in range(repeat)]
    first = cold[0]
    market_tables = sum(first["tables"][f] for f in MARKET_TABLES)
    table_seconds = market_tables / first["limits"]["eastmoney_datacenter"].per_second
    bound = table_seconds + bound_seconds(n, first["limits"], first["latency"], BAR_FAMILIES.values())
    primary_only = bound_seconds(n, first["limits"], first["latency"], ["eastmoney_push2his"])
    own_tables = n / min(first["limits"][f].per_second for f in TABLE_FAMILIES)  # two per symbol, one per host
    median = statistics.median(r["elapsed"] for r in cold)
    rows = [{
        "scenario": f"cold {n} x 10y qfq over 3 sources (time x{scale:g})", "runs": repeat, "median_s": median,
        "bound_s": bound, "ratio": median / bound, "real_minutes": median * scale / 60,
        "detail": (f"delivered {first['delivered']}/{n}, failed {first['failed']}, duplicated rows "
                   f"{first['duplicated_rows']}; answered bar calls {first['answered']}; one source per symbol: "
                   f"{first['one_source_each']}; most calls in any 20 real s vs allowed: {first['over']}; Eastmoney "
                   f"alone: bound {primary_only:.0f} s ({primary_only * scale / 60:.0f} real minutes); dividend "
                   f"table calls {first['tables']} (the market-wide ones, {table_seconds:.0f} s at the datacenter's "
                   f"rate, are in the bound; each symbol's own two tables would bind the run at {own_tables:.0f} s, "
                   f"{own_tables * scale / 60:.0f} real minutes)"),
    }]  # fmt: skip
    twin = first if ban_n == n else one_run(market, symbols[:ban_n], scale=scale, ban_after=None)
    banned = one_run(market, symbols[:ban_n], scale=scale, ban_after=ban_n // 6)
    healthy = bound_seconds(ban_n, banned["limits"], banned["latency"], ["sina_kline", "tencent"])
    calls, twin_calls = sum(banned["answered"].values()), sum(twin["answered"].values())
    ok = (banned["failed"] == 0 and banned["one_source_each"] and banned["duplicated_rows"] == 0
          and calls == twin_calls and all(seen <= allowed for seen, allowed in banned["over"].values()))  # fmt: skip
    rows.append({
        "scenario": f"Eastmoney banned (HTTP 456) after {ban_n // 6} of {ban_n} x 10y qfq (time x{scale:g})",
        "runs": 1, "median_s": banned["elapsed"], "bound_s": None, "ratio": None,
        "real_minutes": banned["elapsed"] * scale / 60,
        "detail": (f"delivered {banned['delivered']}/{ban_n}, failed {banned['failed']}, duplicated rows "
                   f"{banned['duplicated_rows']}; served by {banned['sources']}; answered bar calls "
                   f"{banned['answered']} = {calls} (healthy run: {twin_calls}; above {ban_n} are the loader's "
                   f"second asks of answers cut short); Eastmoney refusals {banned['refused']} (then its breaker "
                   f"refused without calling); one source per symbol: {banned['one_source_each']}; most calls in "
                   f"any 20 real s vs allowed: {banned['over']}; Sina + Tencent alone bound {healthy:.0f} s"),
        "ok": ok,
    })  # fmt: skip
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| scenario | runs | median s | bound s | ratio | real-time equivalent |", "|---|---|---|---|---|---|"]
    for r in rows:
        bound = "" if r["bound_s"] is None else f"{r['bound_s']:.1f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        lines.append(f"| {r['scenario']} | {r['runs']} | {r['median_s']:.1f} | {bound} | {ratio} | "
                     f"{r['real_minutes']:.1f} min |")  # fmt: skip
    notes = [f"- {r['scenario']}: {r['detail']}" + (f" -> ok={r['ok']}" if "ok" in r else "") for r in rows]
    return "\n".join(lines + [""] + notes)
