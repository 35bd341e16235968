"""QuantDB's side of the core benchmark. Runs INSIDE QuantDB's own virtual environment (``benchmarks/.venv-qdb``)
with the repository on ``PYTHONPATH`` (for the simulated upstream), ``DATABASE_URL`` pointing at a SQLite file
in a temporary directory and that directory as the working directory (QuantDB writes ``./data`` and ``./logs``).

    python qdb_side.py scenarios SPEC.json OUT.json    # scenarios 1-8, new-process reads, store growth
    python qdb_side.py child-read SPEC.json RESULT.json [DATE]  # one fresh-process warm read (used by the above)

The upstream is the same ``SimulatedAkshare`` as ours, patched in at ``akshare.stock_zh_a_hist``,
``akshare.stock_individual_info_em`` and ``akshare.tool_trade_date_hist_sina`` (and the rest of its functions)
before ``qdb`` is imported, with the same latency, seed, symbols and pinned date.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ShiftedClock,
    code,
    evening,
    make_market,
    make_upstream,
    read_json,
    write_json,
    years_before,
    yyyymmdd,
)
from scenarios import child_result, new_process_reads, python_argv, run_scenarios, spec_dates, warm_rounds


class QdbSystem:
    def __init__(self) -> None:
        if not os.environ.get("DATABASE_URL", "").startswith("sqlite:///"):
            raise SystemExit("set DATABASE_URL=sqlite:////abs/path.db before running QuantDB (its own requirement)")
        import qdb

        self.qdb = qdb

    def read(self, symbol: str, start: date, end: date, adjust: str) -> int:
        frame = self.qdb.get_stock_data(code(symbol), start_date=yyyymmdd(start), end_date=yyyymmdd(end), adjust=adjust)
        return len(frame)

    def read_many(self, symbols, start: date, end: date, adjust: str) -> int:
        # qdb.get_multiple_stocks takes only ``days``; it is a plain sequential loop over get_stock_data anyway.
        return sum(self.read(s, start, end, adjust) for s in symbols)

    def construct(self) -> None:
        """Build QuantDB's services (database engine, calendar, adapters) without reading any data."""
        self.qdb._get_client()._get_service_manager().get_stock_data_service()


def _table_rows() -> int:
    from core.database.connection import engine
    from sqlalchemy import text

    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM daily_stock_data")).scalar())


def _bulk_insert(upstream, symbols: list[str], start: date, end: date) -> int:
    """Insert the same simulated bars the upstream would serve into QuantDB's own tables, with its own models.

    Filling a million rows through ``qdb.get_stock_data`` would cost 8 upstream calls per symbol-year even at
    latency 0 (and its calendar stops five years back), so the fill goes straight to SQL; only the timed reads
    go through QuantDB's code.
    """
    from core.database.connection import engine
    from core.models.asset import Asset
    from core.models.stock_data import DailyStockData

    from quantdb_lab.domain.symbols import parse_symbol

    inserted = 0
    with engine.begin() as conn:
        for symbol in symbols:
            bars = upstream.source.fetch_daily_bars(parse_symbol(symbol), start, end, adjust="")
            exchange = "SHSE" if symbol.endswith(".SH") else "SZSE"
            result = conn.execute(
                Asset.__table__.insert(),
                {"symbol": code(symbol), "name": f"Sim {code(symbol)}", "asset_type": "stock", "exchange": exchange,
                 "currency": "CNY"},
            )
            asset_id = result.inserted_primary_key[0]
            rows = [
                {"asset_id": asset_id, "trade_date": r["date"], "open": r["open"], "high": r["high"], "low": r["low"],
                 "close": r["close"], "volume": int(r["volume"] or 0), "turnover": r["amount"],
                 "pct_change": r["pct_change"], "change": r["change"], "turnover_rate": r["turnover"]}
                for r in bars.iter_rows(named=True)
            ]
            if rows:
                conn.execute(DailyStockData.__table__.insert(), rows)
            inserted += len(rows)
    return inserted


def scenarios(spec_path: str, out_path: str) -> None:
    spec = read_json(Path(spec_path))
    d = spec_dates(spec)
    workdir = Path.cwd()
    clock = ShiftedClock(evening(d["today"]))
    market = make_market(seed=spec["seed"], n_stocks=spec["n_stocks"], clock=clock)
    upstream = make_upstream(market, clock=clock, latency=spec["latency"])
    results: dict[str, dict] = {}
    log = lambda text: print(text, file=sys.stderr, flush=True)
    with upstream.patch():
        system = QdbSystem()
        reps = spec["reps"]["qdb"]
        measures = run_scenarios(system, upstream, clock, spec, reps, log=log)
        results.update({k: v.to_json() for k, v in measures.items()})

        me = Path(__file__).resolve()
        child = python_argv(me, "child-read", spec_path)
        log("  new-process reads ...")
        results["newproc_1y_raw"] = new_process_reads(child, reps["newproc"], workdir, cwd=workdir).to_json()

        # Store growth: fill QuantDB's table with the same bars (SQL, see _bulk_insert), time warm reads.
        first = spec["symbols"]["cold_raw"][0]
        fill_start = years_before(d["today"], spec["fill_years"])
        fillers = list(spec["symbols"]["fill"])
        sizes = []
        for label, target in [("initial", 0), *[(str(t), t) for t in spec["fill_targets"]]]:
            started = time.perf_counter()
            while _table_rows() < target and fillers:
                chunk, fillers = fillers[:20], fillers[20:]
                _bulk_insert(upstream, chunk, fill_start, d["today"])
            rows = _table_rows()
            fill_s = time.perf_counter() - started
            system.read(first, d["year_ago"], d["today"], "")
            job = {label: (lambda: system.read(first, d["year_ago"], d["today"], ""), reps["size"])}
            measure = warm_rounds(job, upstream, rounds=reps.get("rounds", 1), pause_s=reps.get("pause_s", 0.0),
                                  log=log)[label]  # fmt: skip
            measure.note = f"{rows} rows in daily_stock_data (filled by SQL in {fill_s:.0f} s)"
            sizes.append({"label": label, "rows": rows, "measure": measure.to_json()})
            log(f"  store at {rows} rows: warm read {measure.median_ms:.2f} ms")
        results["sizes"] = sizes  # type: ignore[assignment]
        log("  new-process reads at the largest size ...")
        results["size_newproc"] = new_process_reads(child, reps["newproc"], workdir, cwd=workdir).to_json()
        results["size_newproc"]["note"] += f"; {sizes[-1]['rows']} rows in the table"
    write_json(Path(out_path), results)


def child_read(spec_path: str, result_path: str) -> None:
    spec = read_json(Path(spec_path))
    d = spec_dates(spec)
    clock = ShiftedClock(evening(d["today"]))
    market = make_market(seed=spec["seed"], n_stocks=spec["n_stocks"], clock=clock)
    upstream = make_upstream(market, clock=clock, latency=spec["latency"])
    first = spec["symbols"]["cold_raw"][0]
    with upstream.patch():
        started = time.perf_counter()
        system = QdbSystem()
        system.construct()
        construct_ms = (time.perf_counter() - started) * 1000
        upstream.reset()
        started = time.perf_counter()
        rows = system.read(first, d["year_ago"], d["today"], "")
        ms = (time.perf_counter() - started) * 1000
    child_result(result_path, ms, upstream.snapshot(), rows, construct_ms)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"scenarios": scenarios, "child-read": child_read}[command](*args)
