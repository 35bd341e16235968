"""Whole-market reads (issue 18): quantdb_lab's cross-sectional path beside ArcticDB (LMDB) and one pre-built
Parquet file on the same data, in one run.

    python benchmarks/bench_market.py [--stocks 5000] [--years 20] [--reps 5]

The data: a simulated market of ``--stocks`` A-shares (``SimulatedMarket(seed=7)``), ``--years`` of daily bars
up to 2024-12-31, fetched once through a Lab (``lab.portfolio``) and compacted; the cache is kept in
``benchmarks/.market/`` for later runs. Every read runs in a NEW process (a kernel's first read), timed inside the
process around the read call only, and again in the same process; peak RSS is the child's ``ru_maxrss``. The
readers run round robin, ``--reps`` rounds: a slow minute of a shared machine falls on all of them alike.

* ours: ``lab.bars(all symbols, start=<10 years back>, adjust=...)`` into one polars frame;
* ours, per series: the same through the per-series path (``loader.batch.MARKET_READ_MIN`` set out of reach):
  what every read was before the cross-sectional path;
* one Parquet file: ``pl.read_parquet`` of a file holding exactly the raw rows of that read, sorted by date;
* ArcticDB 6 with its LMDB backend, in its own virtual environment (``benchmarks/.venv-arctic``: ArcticDB needs
  pandas < 3), one ArcticDB symbol per stock as a research user would store them, ``read_batch`` of all of them
  and one ``pl.concat``; and the same rows as ONE ArcticDB symbol (its best case).
* a lazy whole-market aggregate over all ``--years``: mean daily return by date (``lab.scan``).

Targets: whole market x 10 years qfq from a new process < 1.5 s, again < 0.3 s, peak RSS < 2.5x the result;
the lazy aggregate < 1 s; no slower than ArcticDB; within 1.5x of one Parquet file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH_DIR, REPO_DIR, RESULTS_DIR, child_env, markdown_table, median  # noqa: E402

ARCTIC_VENV = BENCH_DIR / ".venv-arctic"
NOW = "2025-01-10 16:00"  # 2024 is closed: every bar of the range is final


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _lab(cache: Path, stocks: int):
    from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
    from quantdb_lab.lab import Lab
    from quantdb_lab.providers.simulated import Faults, SimulatedMarket, SimulatedProvider

    clock = FixedClock(datetime.fromisoformat(NOW).replace(tzinfo=EXCHANGE_TZ))
    market = SimulatedMarket(seed=7, n_stocks=stocks, clock=clock)
    return Lab(cache, provider=SimulatedProvider(market, faults=Faults(), clock=clock), clock=clock), market


def _stocks(market, start: date) -> list[str]:  # noqa: ANN001
    return [s for s in market.symbols("stock") if market.listing_date(s) <= date(2024, 12, 31)]


def prepare(root: Path, stocks: int, years: int) -> Path:
    """Fill (once) and compact the cache; write the one-file copy of the 10-year read. Returns the cache dir."""
    import warnings


    cache = root / f"cache-{stocks}-{years}"
    done = cache / "prepared.json"
    if done.exists():
        return cache
    warnings.simplefilter("ignore")
    lab, market = _lab(cache, stocks)
    start = date(2025 - years, 1, 1)
    symbols = _stocks(market, start)
    log(f"filling the cache: {len(symbols)} stocks x {years} years (once; kept in {cache.relative_to(REPO_DIR)}) ...")
    started = time.perf_counter()
    result = lab.portfolio(symbols, start=start.isoformat(), end="2024-12-31", adjust="", progress=True)
    log(f"  filled in {time.perf_counter() - started:.0f} s: {result.summary()}")
    lab.portfolio(symbols, start=start.isoformat(), end="2024-12-31", adjust="", progress=False)  # confirmations
    log(f"  compacted: {lab.compact()}")
    ten = lab.bars(symbols, start=f"{2025 - 10}-01-01", end="2024-12-31", adjust="")
    ten.write_parquet(cache / "one.parquet", statistics=True)
    done.write_text(json.dumps({"symbols": symbols, "rows": ten.height}))
    return cache


# -- children: one measurement each, in a new process -------------------------------------------------------
def child(args: argparse.Namespace) -> None:
    import warnings

    import polars as pl

    warnings.simplefilter("ignore")
    if args.what == "prepare":
        prepare(BENCH_DIR / ".market", args.stocks, args.years)
        return
    cache = Path(args.cache)
    spec = json.loads((cache / "prepared.json").read_text())
    if args.what == "parquet":
        started = time.perf_counter()
        frame = pl.read_parquet(cache / "one.parquet")
        first = time.perf_counter() - started
        rss = peak_rss()
        rows, size = frame.height, frame.estimated_size()
        del frame
        started = time.perf_counter()
        frame = pl.read_parquet(cache / "one.parquet")
        again = time.perf_counter() - started
    else:
        from quantdb_lab.loader import batch

        if args.what == "per-series":
            batch.MARKET_READ_MIN = 10**9
        lab, _ = _lab(cache, args.stocks)
        if args.what == "scan":
            def run():  # noqa: ANN202 - mean daily return (the reported change) of the market, by date
                lazy = lab.scan("bars", start=f"{2025 - args.years}-01-01", end="2024-12-31")
                return lazy.group_by("date").agg(pl.col("pct_change").mean()).collect()
        else:
            def run():  # noqa: ANN202
                return lab.bars(spec["symbols"], start=f"{2025 - 10}-01-01", end="2024-12-31", adjust=args.adjust)
        started = time.perf_counter()
        frame = run()
        first = time.perf_counter() - started
        rss = peak_rss()  # of the first read: what a new kernel's read costs
        rows, size = frame.height, frame.estimated_size()
        del frame
        started = time.perf_counter()
        frame = run()
        again = time.perf_counter() - started
    print(json.dumps({"first": first, "again": again, "rows": rows, "bytes": size, "rss": rss}))


def peak_rss() -> int:
    """This process's peak resident set (VmHWM): unlike ru_maxrss, not inherited from the parent across exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_child(cache: Path, what: str, *, stocks: int, years: int, adjust: str = "") -> dict:
    command = [sys.executable, __file__, "child", what, "--cache", str(cache), "--stocks", str(stocks),
               "--years", str(years), "--adjust", adjust]  # fmt: skip
    out = subprocess.run(command, env=child_env(), capture_output=True, text=True, check=False, timeout=1800)
    if out.returncode:
        raise SystemExit(f"child {what} (adjust {adjust!r}) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- ArcticDB, in its own venv ------------------------------------------------------------------------------
def ensure_arctic_venv() -> Path:
    python = ARCTIC_VENV / "bin" / "python"
    probe = [str(python), "-c", "import arcticdb, polars, pyarrow"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python
    log(f"creating {ARCTIC_VENV.relative_to(REPO_DIR)} (arcticdb, polars, pyarrow) ...")
    subprocess.run([sys.executable, "-m", "venv", str(ARCTIC_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "arcticdb", "polars", "pyarrow"], check=True)
    return python


def run_arctic(cache: Path, what: str) -> dict:
    python = ensure_arctic_venv()
    script = BENCH_DIR / "arctic_side.py"
    out = subprocess.run([str(python), str(script), what, str(cache)], capture_output=True, text=True, check=True,
                         timeout=3600)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "child"])
    parser.add_argument("what", nargs="?", default="")
    parser.add_argument("--cache")
    parser.add_argument("--stocks", type=int, default=5000)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--adjust", default="")
    parser.add_argument("--skip-arctic", action="store_true")
    args = parser.parse_args()
    if args.mode == "child":
        child(args)
        return
    cache = BENCH_DIR / ".market" / f"cache-{args.stocks}-{args.years}"
    if not (cache / "prepared.json").exists():  # in a child, so this process stays small for its children
        subprocess.run([sys.executable, __file__, "child", "prepare", "--stocks", str(args.stocks), "--years",
                        str(args.years)], env=child_env(), check=True)  # fmt: skip
    kw = {"stocks": args.stocks, "years": args.years}
    readers = {
        "ours, raw": lambda: run_child(cache, "read", adjust="", **kw),
        "ours, qfq": lambda: run_child(cache, "read", adjust="qfq", **kw),
        "ours, per-series path, raw": lambda: run_child(cache, "per-series", adjust="", **kw),
        "one Parquet file": lambda: run_child(cache, "parquet", **kw),
        f"lazy aggregate, {args.years} years": lambda: run_child(cache, "scan", **kw),
    }
    if not args.skip_arctic:
        run_arctic(cache, "write")
        readers["ArcticDB LMDB, a symbol per stock"] = lambda: run_arctic(cache, "read-batch")
        readers["ArcticDB LMDB, one symbol"] = lambda: run_arctic(cache, "read-one")
    # round robin: a slow minute of this shared machine falls on every reader alike, and each ratio is the
    # median of per-round ratios (one reader against the anchor measured beside it), not of two separate medians
    runs: dict[str, list[dict]] = {name: [] for name in readers}
    for rep in range(args.reps):
        for name, read in readers.items():
            log(f"round {rep + 1}/{args.reps}: {name} ...")
            runs[name].append(read())

    def paired(name: str, anchor: str) -> float:
        if anchor not in runs:
            return float("nan")
        return median([r["first"] / a["first"] for r, a in zip(runs[name], runs[anchor])])

    rows = []
    for name, results in runs.items():
        first, again = median([r["first"] for r in results]), median([r["again"] for r in results])
        rss, size = median([r["rss"] for r in results]), median([r["bytes"] for r in results])
        vs_parquet, vs_arctic = paired(name, "one Parquet file"), paired(name, "ArcticDB LMDB, a symbol per stock")
        rows.append([name, f"{results[0]['rows']:,}", f"{first:.3f}", f"{again:.3f}", f"{rss / 2**30:.2f}",
                     f"{size / 2**30:.2f}", f"{rss / size:.1f}x" if size else "n/a", f"{vs_parquet:.2f}x",
                     f"{vs_arctic:.2f}x" if vs_arctic == vs_arctic else "n/a"])  # fmt: skip
    header = ["read (new process)", "rows", "first s", "again s", "peak RSS GB", "result GB", "RSS/result",
              "vs one Parquet", "vs ArcticDB"]  # fmt: skip
    table = markdown_table(header, rows)
    print(f"\n{args.stocks} simulated stocks, {args.years} years cached; whole-market reads of 10 years; "
          f"medians of {args.reps} new processes run round robin (ratios: medians of per-round ratios); "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print(table)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "market.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
