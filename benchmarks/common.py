"""Shared pieces of the benchmarks: a pinned clock, the simulated upstream, timing and the markdown table.

Imported by ``bench_core.py`` (system python) and by ``qdb_side.py`` (inside QuantDB's own virtual environment,
with the repository on ``PYTHONPATH``), so it uses nothing but the standard library at import time;
quantdb_lab is imported inside the functions that need it.

Paths are computed from this file: nothing here depends on the machine it runs on.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from quantdb_lab.domain.clock import EXCHANGE_TZ, SystemClock  # stdlib-only module: also fine in QuantDB's venv

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
QDB_VENV = BENCH_DIR / ".venv-qdb"

#: The functions QuantDB calls that the simulated upstream replaces (plus everything else it offers).
QDB_FUNCTIONS = ("stock_zh_a_hist", "stock_individual_info_em", "tool_trade_date_hist_sina")


# -- clock -------------------------------------------------------------------------------------------------
class ShiftedClock(SystemClock):
    """Real time, shifted so that it starts at ``start`` (exchange time).

    ``now()`` advances with the wall clock (the throttle's token bucket needs time to pass) and ``sleep`` really
    sleeps (the simulated latency must cost wall time), but the date is the one chosen, for every system in the
    run. ``jump(moment)`` moves it (e.g. to a Saturday) without waiting.
    """

    def __init__(self, start: datetime) -> None:
        self._base = start if start.tzinfo else start.replace(tzinfo=EXCHANGE_TZ)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self._base + timedelta(seconds=time.monotonic() - self._t0)

    def jump(self, moment: datetime) -> None:
        self._base = moment if moment.tzinfo else moment.replace(tzinfo=EXCHANGE_TZ)
        self._t0 = time.monotonic()


def reference_friday(today: date | None = None) -> date:
    """The benchmark's "today": the latest Friday that is a session and lies at least two days before the real
    date. QuantDB uses the real date for its calendar window (today-5y..today+2y) and its future-date check, so
    the pinned date must be recent and in the past, and the Saturday after it must be in the past too."""
    from quantdb_lab.domain.calendar import TradingCalendar

    calendar = TradingCalendar.xshg()
    day = (today or datetime.now(EXCHANGE_TZ).date()) - timedelta(days=2)
    while day.weekday() != 4 or not calendar.is_session(day):
        day -= timedelta(days=1)
    return day


def evening(day: date) -> datetime:
    """16:00 exchange time on ``day``: after the session is final (15:30), with hours to spare before midnight."""
    return datetime(day.year, day.month, day.day, 16, 0, tzinfo=EXCHANGE_TZ)


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# -- the simulated upstream ------------------------------------------------------------------------------------
def make_market(*, seed: int, n_stocks: int, clock: Any):
    from quantdb_lab.providers.simulated import SimulatedMarket

    return SimulatedMarket(seed=seed, n_stocks=n_stocks, clock=clock)


def make_upstream(market: Any, *, clock: Any, latency: float):
    """``CountingAkshare`` over ``market``: what every system in a benchmark is driven by."""
    from quantdb_lab.providers.akshare.simulated_upstream import SimulatedAkshare
    from quantdb_lab.providers.simulated import SimulatedProvider

    class CountingAkshare(SimulatedAkshare):
        """SimulatedAkshare that also counts the rows its daily-bar function returns."""

        rows_returned = 0

        def stock_zh_a_hist(self, *args: Any, **kwargs: Any):  # type: ignore[override]
            frame = super().stock_zh_a_hist(*args, **kwargs)
            with self._lock:
                self.rows_returned += len(frame)
            return frame

        def snapshot(self) -> dict[str, int]:
            return {**self.call_counts, "rows": self.rows_returned}

        def reset(self) -> None:
            self.reset_counts()
            with self._lock:
                self.rows_returned = 0

    return CountingAkshare(SimulatedProvider(market, clock=clock), latency=latency, clock=clock)


def calls_of(counts: dict[str, int]) -> dict[str, int]:
    """Upstream calls in a counts snapshot: daily bars, everything else, and rows returned."""
    hist = counts.get("stock_zh_a_hist", 0)
    other = sum(v for k, v in counts.items() if k not in ("stock_zh_a_hist", "rows"))
    return {"hist": hist, "other": other, "rows": counts.get("rows", 0)}


def pick_symbols(market: Any, *, listed_before: date, count: int, skip: Iterable[str] = ()) -> list[str]:
    """``count`` canonical stock symbols from Shanghai and Shenzhen (codes 0xxxxx, 3xxxxx, 60xxxx: every system
    in the benchmark accepts them) listed before ``listed_before``, in the market's order."""
    skipped = set(skip)
    out = []
    for symbol in market.symbols("stock"):
        if symbol in skipped or not symbol.endswith((".SH", ".SZ")) or symbol.startswith(("688", "689")):
            continue
        profile = market.profile(symbol)
        if profile is None or profile.list_date >= listed_before:
            continue
        out.append(symbol)
        if len(out) == count:
            return out
    raise RuntimeError(f"the simulated market has only {len(out)} suitable symbols; {count} wanted")


def code(symbol: str) -> str:
    """``600519.SH`` -> ``600519`` (what akshare and QuantDB take)."""
    return symbol.split(".")[0]


def yyyymmdd(day: date | str) -> str:
    return (day if isinstance(day, date) else date.fromisoformat(day)).strftime("%Y%m%d")


# -- timing --------------------------------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of nothing")
    return float(statistics.median(values))


def time_once(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Milliseconds one call of ``fn`` took, and its result."""
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000.0, result


def time_many(fn: Callable[[], Any], repeat: int, *, warmup: int = 1) -> list[float]:
    """Milliseconds of ``repeat`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000.0)
    return out


@dataclass
class Measure:
    """One system's result for one scenario: milliseconds per run, and upstream calls/rows per run."""

    ms: list[float] = field(default_factory=list)
    hist: list[int] = field(default_factory=list)
    other: list[int] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # rows the upstream returned (daily bars)
    result_rows: list[int] = field(default_factory=list)  # rows the system handed back
    note: str = ""

    def add(self, ms: float, counts: dict[str, int] | None = None, result_rows: int | None = None) -> None:
        self.ms.append(ms)
        if counts is not None:
            calls = calls_of(counts)
            self.hist.append(calls["hist"])
            self.other.append(calls["other"])
            self.rows.append(calls["rows"])
        if result_rows is not None:
            self.result_rows.append(result_rows)

    def to_json(self) -> dict[str, Any]:
        return {"ms": self.ms, "hist": self.hist, "other": self.other, "rows": self.rows,
                "result_rows": self.result_rows, "note": self.note}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Measure | None:
        if data is None:
            return None
        return cls(**{k: data.get(k, [] if k != "note" else "") for k in
                      ("ms", "hist", "other", "rows", "result_rows", "note")})  # fmt: skip

    @property
    def median_ms(self) -> float | None:
        return median(self.ms) if self.ms else None


# -- formatting ----------------------------------------------------------------------------------------------
def fmt_ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def fmt_calls(measure: Measure | None, *, show_rows: bool = False) -> str:
    if measure is None or not measure.hist:
        return "n/a"
    hist = int(median(measure.hist))
    other = int(median(measure.other)) if measure.other else 0
    text = str(hist) + (f" (+{other})" if other else "")
    if show_rows and measure.rows:
        text += f" [{int(median(measure.rows))} rows]"
    return text


def fmt_ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None or denominator <= 0:
        return "n/a"
    ratio = numerator / denominator
    if ratio >= 100:
        return f"{ratio:,.0f}x"
    if ratio >= 10:
        return f"{ratio:.0f}x"
    return f"{ratio:.1f}x"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(map(str, row)) for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(header)]
    numeric = [i > 0 for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, numeric)) + " |"

    separator = "|" + "|".join(("-" * (w + 1) + ":") if n else (":" + "-" * (w + 1)) for w, n in zip(widths, numeric)) + "|"
    return "\n".join([line(header), separator, *(line(r) for r in rows)])


# -- subprocess plumbing ---------------------------------------------------------------------------------------
def child_env(**extra: str) -> dict[str, str]:
    """The environment for a benchmark subprocess: the repository importable, no bytecode surprises."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_DIR), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONHASHSEED", "0")
    env.update(extra)
    return env


def venv_python(venv: Path = QDB_VENV) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, default=str))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())
