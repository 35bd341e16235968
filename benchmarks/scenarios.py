"""The core scenarios, written once and run against each system (ours and direct akshare in the parent process,
QuantDB inside its own virtual environment).

A *system* answers ``read(symbol, start, end, adjust) -> rows`` and ``read_many(symbols, start, end, adjust) ->
rows``; symbols are canonical (``600519.SH``) and each system converts them to what it takes. The *upstream*
is the ``CountingAkshare`` patched in at ``akshare.<function>``: it counts calls and rows.

Every scenario builds on the state the previous ones left (one cache per system), in this order:

1. ``cold_1y_raw``     fresh symbols, 1 year, adjust ""      (each run a new symbol; median)
2. ``warm_1y_raw``     the first of them again, in-process    (median of many)
3. ``cold_1y_qfq``     fresh symbols, 1 year, adjust "qfq"
4. ``warm_1y_qfq``     the first of them again
5. ``cold_5y_raw`` / ``warm_5y_raw``
6. ``cold_batch`` / ``warm_batch``  N symbols x 1 year as one request (ours) or a loop (QuantDB, akshare)
7. ``extend``          1 year cached up to D-7 calendar days, then read up to D: calls and rows fetched
8. ``weekend``         the clock moves to Saturday 10:00; read 1 year up to "today" (Saturday): 0 calls expected

The warm reads (2, 4, 5, 6's warm part and 8) are timed last, after the move to Saturday, round robin in
``reps["rounds"]`` rounds ``reps["pause_s"]`` seconds apart (``warm_rounds``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from common import EXCHANGE_TZ, Measure, time_once, write_json


class System(Protocol):
    def read(self, symbol: str, start: date, end: date, adjust: str) -> int: ...
    def read_many(self, symbols: Sequence[str], start: date, end: date, adjust: str) -> int: ...


def spec_dates(spec: dict[str, Any]) -> dict[str, date]:
    return {k: date.fromisoformat(v) for k, v in spec["dates"].items()}


def run_scenarios(system: System, upstream: Any, clock: Any, spec: dict[str, Any], reps: dict[str, int],
                  log: Callable[[str], None] = print) -> dict[str, Measure]:  # fmt: skip
    """Run scenarios 1-8 against ``system``; ``reps`` says how often the repeated ones run for this system."""
    d = spec_dates(spec)
    syms = spec["symbols"]
    out: dict[str, Measure] = {}

    def cold(name: str, symbols: Sequence[str], start: date, end: date, adjust: str) -> None:
        measure = out.setdefault(name, Measure())
        for symbol in symbols:
            upstream.reset()
            ms, rows = time_once(lambda s=symbol: system.read(s, start, end, adjust))
            measure.add(ms, upstream.snapshot(), rows)
        log(f"  {name}: {measure.median_ms:.1f} ms, calls {measure.hist} (+{measure.other})")

    jobs: dict[str, tuple[Callable[[], int], int]] = {}

    def warm(name: str, read: Callable[[], int], repeat: int) -> None:
        read()  # the first re-read after the cold one (untimed); the timed ones run in rounds at the end
        jobs[name] = (read, repeat)

    y1, y5 = d["year_ago"], d["five_years_ago"]
    cold("cold_1y_raw", syms["cold_raw"], y1, d["today"], "")
    first = syms["cold_raw"][0]
    warm("warm_1y_raw", lambda: system.read(first, y1, d["today"], ""), reps["warm"])

    cold("cold_1y_qfq", syms["cold_qfq"], y1, d["today"], "qfq")
    first_qfq = syms["cold_qfq"][0]
    warm("warm_1y_qfq", lambda: system.read(first_qfq, y1, d["today"], "qfq"), reps["warm"])

    cold("cold_5y_raw", syms["five_years"], y5, d["today"], "")
    first_5y = syms["five_years"][0]
    warm("warm_5y_raw", lambda: system.read(first_5y, y5, d["today"], ""), reps["warm"])

    batch = syms["batch"]
    upstream.reset()
    ms, rows = time_once(lambda: system.read_many(batch, y1, d["today"], ""))
    out.setdefault("cold_batch", Measure()).add(ms, upstream.snapshot(), rows)
    log(f"  cold_batch ({len(batch)} symbols): {ms:.0f} ms, calls {out['cold_batch'].hist} (+{out['cold_batch'].other})")
    warm("warm_batch", lambda: system.read_many(batch, y1, d["today"], ""), reps["batch_warm"])

    measure = out.setdefault("extend", Measure())
    for symbol in syms["extend"]:
        system.read(symbol, y1, d["week_ago"], "")  # cache a year ending a week ago (untimed)
        upstream.reset()
        ms, rows = time_once(lambda s=symbol: system.read(s, y1, d["today"], ""))
        measure.add(ms, upstream.snapshot(), rows)
    log(f"  extend: {measure.median_ms:.1f} ms, calls {measure.hist}, upstream rows {measure.rows}")

    clock.jump(datetime.combine(d["saturday"], datetime.min.time(), EXCHANGE_TZ) + timedelta(hours=10))
    for read, _ in jobs.values():
        read()  # a new session state (Saturday): the first read after the jump, untimed
    jobs["weekend"] = (lambda: system.read(first, y1, d["saturday"], ""), reps["weekend"])  # its first read timed
    out.update(warm_rounds(jobs, upstream, rounds=reps.get("rounds", 1), pause_s=reps.get("pause_s", 0.0), log=log))
    return out


def warm_rounds(jobs: dict[str, tuple[Callable[[], int], int]], upstream: Any, *, rounds: int, pause_s: float,
                log: Callable[[str], None]) -> dict[str, Measure]:  # fmt: skip
    """Each job's timed reads, split into ``rounds`` round-robin rounds ``pause_s`` apart: a warm read takes tens
    of microseconds, and a slow second of a shared machine would otherwise decide a whole row. The figure is the
    median of all of a job's reads (the same number of reads as one block)."""
    out = {name: Measure() for name in jobs}
    for number in range(rounds):
        if number and pause_s:
            time.sleep(pause_s)
        for name, (read, repeat) in jobs.items():
            share = max(1, repeat // rounds + (number < repeat % rounds))
            for _ in range(share):
                upstream.reset()
                ms, rows = time_once(read)
                out[name].add(ms, upstream.snapshot(), rows)
    for name, measure in out.items():
        log(f"  {name}: {measure.median_ms:.3f} ms (median of {len(measure.ms)} in {rounds} round(s)), "
            f"calls {sorted(set(measure.hist))}")
    return out


def new_process_reads(argv: Sequence[str], repeat: int, workdir: Path, *, env: dict[str, str] | None = None,
                      cwd: Path | None = None) -> Measure:  # fmt: skip
    """Run ``argv + [result_file]`` ``repeat`` times, each a fresh interpreter that prints nothing we need and
    writes ``{"ms": .., "counts": {..}, "rows": .., "construct_ms": ..}`` to the result file."""
    measure = Measure()
    constructs = []
    for i in range(repeat):
        result = workdir / f"child-{i}.json"
        log = workdir / f"child-{i}.log"
        with open(log, "w") as sink:
            done = subprocess.run([*argv, str(result)], env=env, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"child read failed ({done.returncode}); see its log:\n{log.read_text()[-3000:]}")
        data = json.loads(result.read_text())
        measure.add(data["ms"], data["counts"], data["rows"])
        constructs.append(data.get("construct_ms", 0.0))
    constructs.sort()
    measure.note = f"construction {constructs[len(constructs) // 2]:.0f} ms (median), not timed"
    return measure


def child_result(path: str, ms: float, counts: dict[str, int], rows: int, construct_ms: float) -> None:
    write_json(Path(path), {"ms": ms, "counts": counts, "rows": rows, "construct_ms": construct_ms})


def python_argv(script: Path, *args: str) -> list[str]:
    return [sys.executable, str(script), *args]
