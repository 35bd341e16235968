"""The offline demo: a small portfolio through the cache on the simulated market, cold then warm.

It shows what came from where, how many upstream calls each step cost and how long it took. Nothing here
needs a network: the SimulatedProvider stands in for akshare (with an akshare-like latency per call).
"""

from __future__ import annotations

import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

import polars as pl

from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.errors import SyntheticDataWarning
from quantdb_lab.lab import Lab
from quantdb_lab.loader.provenance import ResultProvenance

DEMO_SYMBOLS = ("600519", "000001", "300750", "688981", "601318", "000858", "sh000300", "510300")
DEMO_NOW = "2025-06-06 16:00"  # a Friday after the close, so every bar is final and runs are repeatable


def _timed(step: Callable[[], pl.DataFrame]) -> tuple[pl.DataFrame, float]:
    started = time.perf_counter()
    frame = step()
    return frame, (time.perf_counter() - started) * 1000


def run_demo(*, cache_dir: Path | None = None, latency: float = 0.05, out: TextIO | None = None) -> list[dict]:
    """Run the demo; returns the table rows it printed (also used by the tests)."""
    from quantdb_lab.providers.simulated import SimulatedProvider

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    workdir = Path(cache_dir) if cache_dir else Path(tempfile.mkdtemp(prefix="quantdb_lab_demo_"))
    clock = FixedClock(datetime.fromisoformat(DEMO_NOW).replace(tzinfo=EXCHANGE_TZ))
    provider = SimulatedProvider(latency=latency, clock=None)
    lab = Lab(workdir, provider=provider, clock=clock)
    say(f"quantdb_lab offline demo: simulated market (synthetic data), {latency * 1000:.0f} ms per upstream call")
    say(f"cache directory: {workdir}")
    say(f"portfolio: {', '.join(DEMO_SYMBOLS)}; clock fixed at {DEMO_NOW} Asia/Shanghai\n")

    year = {"start": "2024-06-03", "end": "2025-05-30"}
    steps = [
        ("cold: 8 symbols x 1 year, unadjusted", lambda: lab.bars(DEMO_SYMBOLS, **year, adjust="")),
        ("warm re-read of the same", lambda: lab.bars(DEMO_SYMBOLS, **year, adjust="")),
        ("extend to the latest session (+5 sessions)", lambda: lab.bars(DEMO_SYMBOLS, start=year["start"], adjust="")),
        ("qfq: derived from the cached bars, no call", lambda: lab.bars(DEMO_SYMBOLS, **year, adjust="qfq")),
        ("qfq again, derived at read time", lambda: lab.bars(DEMO_SYMBOLS, **year, adjust="qfq")),
        ("weekly bars, derived from daily", lambda: lab.bars(DEMO_SYMBOLS, **year, adjust="", freq="weekly")),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntheticDataWarning)  # said once above, not once per symbol
        measured = [_measure(lab, label, step) for label, step in steps]
        rows = [row for row, _ in measured]
    with pl.Config(fmt_str_lengths=60, tbl_hide_column_data_types=True, tbl_hide_dataframe_shape=True, tbl_rows=20):
        say(str(pl.DataFrame(rows)))
        say()
        say("where the last result came from:")
        say(str(pl.DataFrame([{"symbol": p.symbol, "rows": p.rows, "from_cache": p.from_cache,
                               "calls": p.upstream_calls, "synthetic": p.synthetic} for p in measured[-1][1].series])))
    stats = lab.stats()
    say(f"\nupstream calls by function: {stats['upstream_calls']}; hit rate {stats['hit_rate']:.0%}; "
        f"{stats['rows_on_disk']} rows, {stats['bytes_on_disk'] / 1024:.0f} KiB on disk")
    return rows


def _measure(lab: Lab, label: str, step: Callable[[], pl.DataFrame]) -> tuple[dict, ResultProvenance]:
    before = lab.stats()["upstream_calls_total"]
    frame, ms = _timed(step)
    calls = lab.stats()["upstream_calls_total"] - before
    origin = frame.quantdb.provenance
    cached = sum(p.from_cache for p in origin.series)
    return {"step": label, "rows": frame.height, "from cache": f"{cached}/{len(origin.series)}",
            "upstream calls": calls, "ms": round(ms, 2)}, origin
