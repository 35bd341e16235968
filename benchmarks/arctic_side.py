"""ArcticDB's side of benchmarks/bench_market.py. Runs INSIDE ``benchmarks/.venv-arctic`` (ArcticDB needs
pandas < 3); reads the one-file copy of the benchmark's rows that bench_market.py wrote, never quantdb_lab.

    python arctic_side.py write CACHE        # once: LMDB library under CACHE/arctic, a symbol per stock + one symbol
    python arctic_side.py read-batch CACHE   # new process: read_batch of every stock's symbol, one pl.concat
    python arctic_side.py read-one CACHE     # new process: the one symbol holding every row

Prints one JSON line: first and again seconds (the read and its repeat in the same process), rows, result
bytes, peak RSS.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import arcticdb
import polars as pl


def library(cache: Path):  # noqa: ANN201
    return arcticdb.Arctic(f"lmdb://{cache / 'arctic'}?map_size=16GB").get_library("bench", create_if_missing=True)


def write(cache: Path) -> None:
    lib = library(cache)
    if lib.has_symbol("__all__"):
        print(json.dumps({"written": "already"}))
        return
    frame = pl.read_parquet(cache / "one.parquet").sort("symbol", "date")
    for part in frame.partition_by("symbol", maintain_order=True):
        name = part["symbol"][0]
        lib.write(name, part.drop("symbol").to_pandas().set_index("date"))
    lib.write("__all__", frame.sort("date", "symbol").to_pandas().set_index("date"))
    print(json.dumps({"written": frame.height}))


def read(cache: Path, how: str) -> None:
    lib = library(cache)

    def run() -> pl.DataFrame:
        if how == "read-one":
            return pl.from_pandas(lib.read("__all__").data.reset_index())
        symbols = [s for s in lib.list_symbols() if s != "__all__"]
        items = lib.read_batch(symbols)
        return pl.concat([pl.from_pandas(item.data.reset_index()).with_columns(symbol=pl.lit(item.symbol))
                          for item in items], how="vertical_relaxed")  # fmt: skip

    started = time.perf_counter()
    frame = run()
    first = time.perf_counter() - started
    started = time.perf_counter()
    frame = run()
    again = time.perf_counter() - started
    print(json.dumps({"first": first, "again": again, "rows": frame.height, "bytes": frame.estimated_size(),
                      "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))  # fmt: skip


if __name__ == "__main__":
    what, cache = sys.argv[1], Path(sys.argv[2])
    write(cache) if what == "write" else read(cache, what)
