"""Core benchmark: quantdb_lab vs QuantDB (qdb 2.2.12) vs direct akshare, side by side in one run.

    python benchmarks/bench_core.py            # full run (~10-20 minutes)
    python benchmarks/bench_core.py --quick    # smoke run (~2-3 minutes): fewer repetitions and symbols, 100k-row fill
    python benchmarks/bench_core.py --no-qdb   # ours and direct akshare only (no QuantDB virtual environment)

All three systems are driven by the same ``SimulatedAkshare`` (quantdb_lab.providers.akshare.simulated_upstream)
patched in at ``akshare.<function>``, with the same latency per call (0.3 s), seed, symbols and pinned date:

(a) quantdb_lab: ``quantdb_lab.Lab(tmpdir, provider="akshare", clock=...)``, i.e. the real AkshareProvider and
    its default throttle, calling the patched akshare functions;
(b) QuantDB in its own virtual environment (``benchmarks/.venv-qdb``, created on first use), run as a
    subprocess (``qdb_side.py``) with ``DATABASE_URL`` and the working directory in a temporary directory;
(c) direct akshare: ``akshare.stock_zh_a_hist`` in a loop, no cache.

The table (medians) goes to stdout and ``benchmarks/results/core.md``; raw timings to ``results/core.json``.
See benchmarks/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import date, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    QDB_VENV,
    REPO_DIR,
    RESULTS_DIR,
    Measure,
    ShiftedClock,
    child_env,
    code,
    evening,
    fmt_calls,
    fmt_ms,
    fmt_ratio,
    make_market,
    make_upstream,
    markdown_table,
    pick_symbols,
    read_json,
    reference_friday,
    time_once,
    venv_python,
    write_json,
    years_before,
    yyyymmdd,
)
from scenarios import child_result, new_process_reads, python_argv, run_scenarios, spec_dates, warm_rounds

QDB_VERSION = "2.2.12"
LATENCY = 0.3
SEED = 7
N_STOCKS = 1500  # enough Shanghai/Shenzhen stocks listed 11+ years ago for the scenarios plus the 1M-row fill

FULL = {
    "cold": 3, "five_years": 2, "batch": 50, "extend": 3, "fill_targets": [100_000, 1_000_000], "fill_symbols": 440,
    "reps": {
        "ours": {"warm": 200, "batch_warm": 50, "weekend": 50, "newproc": 7, "size": 100, "rounds": 5, "pause_s": 3},
        "qdb": {"warm": 50, "batch_warm": 10, "weekend": 20, "newproc": 5, "size": 20, "rounds": 5, "pause_s": 3},
        "direct": {"warm": 3, "batch_warm": 1, "weekend": 3},
    },
}  # fmt: skip
QUICK = {
    "cold": 3, "five_years": 1, "batch": 5, "extend": 1, "fill_targets": [100_000], "fill_symbols": 45,
    "reps": {
        "ours": {"warm": 30, "batch_warm": 5, "weekend": 10, "newproc": 3, "size": 20, "rounds": 2, "pause_s": 1},
        "qdb": {"warm": 10, "batch_warm": 3, "weekend": 5, "newproc": 2, "size": 5, "rounds": 2, "pause_s": 1},
        "direct": {"warm": 1, "batch_warm": 1, "weekend": 1},
    },
}  # fmt: skip


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the spec every system runs ------------------------------------------------------------------------------
def build_spec(quick: bool) -> dict[str, Any]:
    plan = QUICK if quick else FULL
    today = reference_friday()
    clock = ShiftedClock(evening(today))
    market = make_market(seed=SEED, n_stocks=N_STOCKS, clock=clock)
    counts = {"cold_raw": plan["cold"], "cold_qfq": plan["cold"], "five_years": plan["five_years"],
              "batch": plan["batch"], "extend": plan["extend"], "fill": plan["fill_symbols"]}  # fmt: skip
    pool = pick_symbols(market, listed_before=years_before(today, 11), count=sum(counts.values()))
    symbols, at = {}, 0
    for name, n in counts.items():
        symbols[name], at = pool[at : at + n], at + n
    return {
        "quick": quick,
        "seed": SEED,
        "n_stocks": N_STOCKS,
        "latency": LATENCY,
        "dates": {
            "today": today.isoformat(),
            "year_ago": years_before(today, 1).isoformat(),
            # QuantDB's calendar starts at (real today - 5*365 days): start 10 days later so all see the same range.
            "five_years_ago": (years_before(today, 5) + timedelta(days=10)).isoformat(),
            "week_ago": (today - timedelta(days=7)).isoformat(),
            "saturday": (today + timedelta(days=1)).isoformat(),
        },
        "symbols": symbols,
        "fill_targets": plan["fill_targets"],
        "fill_years": 10,
        "reps": plan["reps"],
    }


# -- systems ---------------------------------------------------------------------------------------------------
class OursSystem:
    def __init__(self, lab: Any) -> None:
        self.lab = lab

    def read(self, symbol: str, start: date, end: date, adjust: str) -> int:
        return self.lab.bars(symbol, start=start, end=end, adjust=adjust).height

    def read_many(self, symbols, start: date, end: date, adjust: str) -> int:
        return self.lab.bars(list(symbols), start=start, end=end, adjust=adjust).height


class DirectSystem:
    def read(self, symbol: str, start: date, end: date, adjust: str) -> int:
        import akshare

        frame = akshare.stock_zh_a_hist(
            symbol=code(symbol), period="daily", start_date=yyyymmdd(start), end_date=yyyymmdd(end), adjust=adjust
        )
        return len(frame)

    def read_many(self, symbols, start: date, end: date, adjust: str) -> int:
        return sum(self.read(s, start, end, adjust) for s in symbols)


# -- ours --------------------------------------------------------------------------------------------------------
def run_ours(spec: dict[str, Any], spec_path: Path, workdir: Path) -> dict[str, Any]:
    import quantdb_lab
    from quantdb_lab.throttle.policy import RateLimit

    d = spec_dates(spec)
    reps = spec["reps"]["ours"]
    cache = workdir / "ours-cache"
    clock = ShiftedClock(evening(d["today"]))
    market = make_market(seed=spec["seed"], n_stocks=spec["n_stocks"], clock=clock)
    upstream = make_upstream(market, clock=clock, latency=spec["latency"])
    results: dict[str, Any] = {}
    with upstream.patch():
        lab = quantdb_lab.Lab(cache, provider="akshare", clock=clock)
        system = OursSystem(lab)
        results.update({k: v.to_json() for k, v in run_scenarios(system, upstream, clock, spec, reps, log=log).items()})
        child = python_argv(Path(__file__).resolve(), "--child-read", str(spec_path), str(cache))
        log("  new-process reads ...")
        results["newproc_1y_raw"] = new_process_reads(child, reps["newproc"], workdir, env=child_env()).to_json()

        # Store growth: a second akshare Lab over the same cache directory (so the same source namespace: a
        # SimulatedProvider Lab would fill a namespace the timed Lab never reads) fills it at upstream latency 0
        # and no throttle; the timed reads go through the first Lab.
        filler_clock = ShiftedClock(evening(d["today"]))
        filler = quantdb_lab.Lab(
            cache,
            provider="akshare",
            clock=filler_clock,
            limits={"eastmoney_push2his": RateLimit(per_second=1e9, burst=10**9)},
        )
        timed_latency, upstream.latency = upstream.latency, 0.0
        first = spec["symbols"]["cold_raw"][0]
        fill_start = years_before(d["today"], spec["fill_years"])
        fillers = list(spec["symbols"]["fill"])
        sizes = []
        for label, target in [("initial", 0), *[(str(t), t) for t in spec["fill_targets"]]]:
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntheticDataWarning from the filler: it is synthetic, we know
                while lab.stats()["rows_on_disk"] < target and fillers:
                    chunk, fillers = fillers[:20], fillers[20:]
                    filler.bars(chunk, start=fill_start, end=d["today"], adjust="")
            rows = lab.stats()["rows_on_disk"]
            fill_s = time.perf_counter() - started
            system.read(first, d["year_ago"], d["today"], "")
            job = {label: (lambda: system.read(first, d["year_ago"], d["today"], ""), reps["size"])}
            measure = warm_rounds(job, upstream, rounds=reps["rounds"], pause_s=reps["pause_s"], log=log)[label]
            measure.note = f"{rows} rows in the store (filled in {fill_s:.0f} s)"
            sizes.append({"label": label, "rows": rows, "measure": measure.to_json()})
            log(f"  store at {rows} rows: warm read {measure.median_ms:.3f} ms")
        results["sizes"] = sizes
        upstream.latency = timed_latency
        log("  new-process reads at the largest size ...")
        results["size_newproc"] = new_process_reads(child, reps["newproc"], workdir, env=child_env()).to_json()
        results["size_newproc"]["note"] += f"; {sizes[-1]['rows']} rows in the store"
        results["gate_off"] = gate_off_diagnostics(lab, upstream, spec, child, workdir)
        results["profiles"] = profile_ours(lab, spec)
        profile_path = workdir / "child-profile.txt"
        new_process_reads(child, 1, workdir, env=child_env(BENCH_PROFILE_CHILD=str(profile_path)))
        results["profiles"]["new process, first read (cumulative)"] = profile_path.read_text()
    return results


def gate_off_diagnostics(lab: Any, upstream: Any, spec: dict[str, Any], child: list[str], workdir: Path) -> dict[str, Any]:
    """The same warm reads with the mode's quality gate off (``on_quality_fail="ignore"``): what the cache itself
    costs, apart from the quality checks that every default mode runs on every ``bars()`` call."""
    d = spec_dates(spec)
    reps = spec["reps"]["ours"]
    syms = spec["symbols"]
    ungated = OursSystem(lab.using(lab.mode.with_(on_quality_fail="ignore")))
    jobs = {
        "warm_1y_raw": (lambda: ungated.read(syms["cold_raw"][0], d["year_ago"], d["today"], ""), reps["warm"]),
        "warm_1y_qfq": (lambda: ungated.read(syms["cold_qfq"][0], d["year_ago"], d["today"], "qfq"), reps["warm"]),
        "warm_5y_raw": (lambda: ungated.read(syms["five_years"][0], d["five_years_ago"], d["today"], ""), reps["warm"]),
        "warm_batch": (lambda: ungated.read_many(syms["batch"], d["year_ago"], d["today"], ""), reps["batch_warm"]),
    }
    out: dict[str, Any] = {}
    for name, (job, repeat) in jobs.items():
        measure = Measure()
        job()
        for _ in range(repeat):
            upstream.reset()
            ms, rows = time_once(job)
            measure.add(ms, upstream.snapshot(), rows)
        out[name] = measure.to_json()
        log(f"  gate off, {name}: {measure.median_ms:.3f} ms")
    measure = new_process_reads(child, reps["newproc"], workdir, env=child_env(BENCH_GATE_OFF="1"))
    out["newproc_1y_raw"] = measure.to_json()
    log(f"  gate off, new process: {measure.median_ms:.3f} ms")
    return out


def profile_ours(lab: Any, spec: dict[str, Any]) -> dict[str, str]:
    """cProfile of the warm reads (cumulative, top entries): where the time goes, for the report."""
    d = spec_dates(spec)
    first, batch = spec["symbols"]["cold_raw"][0], spec["symbols"]["batch"]
    jobs = {
        "warm 1x1y '' x200": lambda: [lab.bars(first, start=d["year_ago"], end=d["today"], adjust="") for _ in range(200)],
        "warm 1x1y qfq x200": lambda: [
            lab.bars(spec["symbols"]["cold_qfq"][0], start=d["year_ago"], end=d["today"], adjust="qfq") for _ in range(200)
        ],
        f"warm {len(batch)}x1y x10": lambda: [
            lab.bars(batch, start=d["year_ago"], end=d["today"], adjust="") for _ in range(10)
        ],
    }
    out = {}
    for name, job in jobs.items():
        profiler = cProfile.Profile()
        profiler.enable()
        job()
        profiler.disable()
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats("tottime").print_stats(14)
        out[name] = buffer.getvalue()
    return out


def child_read(spec_path: str, cache: str, result_path: str) -> None:
    """A fresh interpreter: construct the Lab (timed apart), then time one warm read."""
    spec = read_json(Path(spec_path))
    d = spec_dates(spec)
    clock = ShiftedClock(evening(d["today"]))
    market = make_market(seed=spec["seed"], n_stocks=spec["n_stocks"], clock=clock)
    upstream = make_upstream(market, clock=clock, latency=spec["latency"])
    first = spec["symbols"]["cold_raw"][0]
    with upstream.patch():
        started = time.perf_counter()
        import quantdb_lab

        lab = quantdb_lab.Lab(cache, provider="akshare", clock=clock)
        if os.environ.get("BENCH_GATE_OFF"):
            lab = lab.using(lab.mode.with_(on_quality_fail="ignore"))
        construct_ms = (time.perf_counter() - started) * 1000
        upstream.reset()
        profile_to = os.environ.get("BENCH_PROFILE_CHILD")
        profiler = cProfile.Profile() if profile_to else None
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        rows = lab.bars(first, start=d["year_ago"], end=d["today"], adjust="").height
        ms = (time.perf_counter() - started) * 1000
        if profiler:
            profiler.disable()
            buffer = io.StringIO()
            pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(30)
            Path(profile_to).write_text(buffer.getvalue())
    child_result(result_path, ms, upstream.snapshot(), rows, construct_ms)


# -- direct akshare ---------------------------------------------------------------------------------------------
def run_direct(spec: dict[str, Any]) -> dict[str, Any]:
    d = spec_dates(spec)
    clock = ShiftedClock(evening(d["today"]))
    market = make_market(seed=spec["seed"], n_stocks=spec["n_stocks"], clock=clock)
    upstream = make_upstream(market, clock=clock, latency=spec["latency"])
    with upstream.patch():
        measures = run_scenarios(DirectSystem(), upstream, clock, spec, spec["reps"]["direct"], log=log)
    return {k: v.to_json() for k, v in measures.items()}


# -- QuantDB ----------------------------------------------------------------------------------------------------
def ensure_qdb_venv() -> Path:
    """Create ``benchmarks/.venv-qdb`` with quantdb==2.2.12 and what the simulated upstream needs (our package
    itself comes from PYTHONPATH, not installed), unless it is already there."""
    python = venv_python(QDB_VENV)
    probe = [str(python), "-c", (f"import importlib.metadata as m; assert m.version('quantdb') == '{QDB_VERSION}'; "
             "import polars, pyarrow, diskcache, filelock, platformdirs, exchange_calendars, tqdm")]  # fmt: skip
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python
    log(f"creating {QDB_VENV.relative_to(REPO_DIR)} (quantdb=={QDB_VERSION}) ...")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(QDB_VENV)], check=True)
    same = [f"{name}=={metadata.version(name)}" for name in ("akshare", "polars", "pyarrow")]
    extra = ["diskcache", "filelock", "platformdirs", "exchange-calendars", "tqdm"]
    subprocess.run([str(python), "-m", "pip", "install", "-q", f"quantdb=={QDB_VERSION}", *same, *extra], check=True)
    return python


def run_qdb(spec_path: Path, workdir: Path) -> dict[str, Any]:
    python = ensure_qdb_venv()
    home = workdir / "qdb"
    home.mkdir()
    out = workdir / "qdb-results.json"
    env = child_env(DATABASE_URL=f"sqlite:///{(home / 'quantdb.db').resolve()}")
    script = Path(__file__).resolve().parent / "qdb_side.py"
    stderr_log = workdir / "qdb-stderr.log"
    # QuantDB logs every call at INFO to stderr: straight to a file (a pipe read here would compete for the CPU).
    with open(stderr_log, "w") as sink:
        proc = subprocess.run([str(python), str(script), "scenarios", str(spec_path), str(out)], env=env, cwd=home,
                              stdout=subprocess.DEVNULL, stderr=sink, check=False)  # fmt: skip
    for line in stderr_log.read_text(errors="replace").splitlines():
        if line.startswith("  "):  # the scenario progress lines
            log(line)
    if proc.returncode != 0:
        tail = stderr_log.read_text()[-4000:]
        raise RuntimeError(f"QuantDB side failed ({proc.returncode}):\n{tail}")
    return read_json(out)


# -- the table --------------------------------------------------------------------------------------------------
def m(results: dict[str, Any] | None, key: str) -> Measure | None:
    return None if results is None else Measure.from_json(results.get(key))


def size_measure(results: dict[str, Any] | None, label: str) -> tuple[Measure | None, int | None]:
    if results is None:
        return None, None
    for entry in results.get("sizes", []):
        if entry["label"] == label:
            return Measure.from_json(entry["measure"]), entry["rows"]
    return None, None


def build_table(spec: dict[str, Any], ours: dict, qdb: dict | None, direct: dict) -> tuple[str, list[str], list[str]]:
    reps, syms = spec["reps"], spec["symbols"]
    n_batch, n_cold = len(syms["batch"]), len(syms["cold_raw"])
    rows: list[list[str]] = []
    notes: list[str] = []

    def row(label: str, o: Measure | None, q: Measure | None, dm: Measure | None, *, show_rows: bool = False,
            direct_note: str = "") -> None:  # fmt: skip
        rows.append([
            label,
            fmt_ms(o.median_ms if o else None),
            fmt_ms(q.median_ms if q else None),
            fmt_ms(dm.median_ms if dm else None) + direct_note,
            " / ".join(fmt_calls(x, show_rows=show_rows) for x in (o, q, dm)),
            fmt_ratio(q.median_ms if q else None, o.median_ms if o else None),
        ])  # fmt: skip
        got = {name: sorted(set(x.result_rows)) for name, x in (("ours", o), ("QuantDB", q), ("akshare", dm)) if x and x.result_rows}
        if len({tuple(v) for v in got.values()}) > 1:
            notes.append(f"{label}: rows returned differ: " + ", ".join(f"{k} {v}" for k, v in got.items()))

    def key(name: str) -> tuple[Measure | None, Measure | None, Measure | None]:
        return m(ours, name), m(qdb, name), m(direct, name)

    w, qw = reps["ours"]["warm"], reps["qdb"]["warm"]
    row(f'cold, 1 symbol x 1 year, adjust "" (median of {n_cold} symbols)', *key("cold_1y_raw"))
    row(f'cold, 1 symbol x 1 year, adjust "qfq" (median of {n_cold} symbols)', *key("cold_1y_qfq"))
    row(f'warm re-read, 1 x 1 year, "", same process (median of {w} / {qw})', *key("warm_1y_raw"))
    row('warm re-read, 1 x 1 year, "qfq", same process', *key("warm_1y_qfq"))
    o, q, dm = key("newproc_1y_raw")[0], m(qdb, "newproc_1y_raw"), m(direct, "warm_1y_raw")
    row(f'warm, 1 x 1 year, NEW process, read call only (median of {reps["ours"]["newproc"]} / '
        f'{reps["qdb"]["newproc"]} processes)', o, q, dm, direct_note=" *")  # fmt: skip
    row(f'cold, 1 symbol x 5 years (median of {len(syms["five_years"])} symbols)', *key("cold_5y_raw"))
    row("warm, 1 symbol x 5 years, same process", *key("warm_5y_raw"))
    row(f"cold, {n_batch} symbols x 1 year (one run)", *key("cold_batch"))
    row(f'warm, {n_batch} symbols x 1 year (median of {reps["ours"]["batch_warm"]} / {reps["qdb"]["batch_warm"]})', *key("warm_batch"))
    row("extend a cached year by 1 week (calls [rows fetched])", *key("extend"), show_rows=True)
    row("weekend re-read, Saturday, end = today (calls should be 0)", *key("weekend"))
    labels = ["initial", *[str(t) for t in spec["fill_targets"]]]
    for label in labels:
        o, o_rows = size_measure(ours, label)
        q, q_rows = size_measure(qdb, label)
        name = "as scenarios left it" if label == "initial" else f">= {int(label):,} rows"
        rows_text = f"{o_rows:,}" + (f" / {q_rows:,}" if q_rows is not None else "")
        row(f"warm 1 x 1 year, store {name} ({rows_text} rows)", o, q, None)
    o, q = m(ours, "size_newproc"), m(qdb, "size_newproc")
    row(f'NEW process 1 x 1 year, store >= {int(labels[-1]):,} rows', o, q, None)
    header = ["scenario", "quantdb_lab ms", "QuantDB ms", "direct akshare ms", "calls (ours / QuantDB / direct)",
              "ratio QuantDB/ours"]  # fmt: skip

    # Targets (issue 2, item 9) against what we measured.
    def med(x: Measure | None) -> float | None:
        return x.median_ms if x else None

    def check(ok: bool | None) -> str:
        return "n/a" if ok is None else ("PASS" if ok else "MISS")

    o_cold, o_qfq = m(ours, "cold_1y_raw"), m(ours, "cold_1y_qfq")
    sizes = [size_measure(ours, label)[0] for label in labels]
    first_ms, last_ms = med(sizes[0]), med(sizes[-1])
    flat = None if first_ms is None or last_ms is None else last_ms <= max(1.5 * first_ms, first_ms + 0.5)
    anchor = {"cold": "QuantDB anchor: 8 (+1) calls", "warm": "anchor 5.2 ms", "5y": "anchor 19.6 ms",
              "batch": "anchor 264 ms", "size": "anchor 4.8 ms at 243 rows -> 44 ms at 1M"}  # fmt: skip
    targets = [
        f'- cold 1x1y "" exactly 1 call: {fmt_calls(o_cold)} -> {check(o_cold and max(o_cold.hist) == 1 and max(o_cold.other) == 0)} ({anchor["cold"]})',
        (f'- cold 1x1y "qfq" = 1 kline call, plus the dividend tables its factors come from (Eastmoney reports the '
         f'change against the previous close): {fmt_calls(o_qfq)} -> {check(o_qfq and max(o_qfq.hist) == 1)}'),
        (f'- warm in-process 1x1y < 1 ms: "" {fmt_ms(med(m(ours, "warm_1y_raw")))} ms, qfq {fmt_ms(med(m(ours, "warm_1y_qfq")))} ms -> '
        f'{check((med(m(ours, "warm_1y_raw")) or 9e9) < 1 and (med(m(ours, "warm_1y_qfq")) or 9e9) < 1)} ({anchor["warm"]})'),
        f'- new process < 5 ms: {fmt_ms(med(m(ours, "newproc_1y_raw")))} ms -> {check((med(m(ours, "newproc_1y_raw")) or 9e9) < 5)}',
        f'- warm 1x5y < 2 ms: {fmt_ms(med(m(ours, "warm_5y_raw")))} ms -> {check((med(m(ours, "warm_5y_raw")) or 9e9) < 2)} ({anchor["5y"]})',
        (f'- warm {n_batch}x1y < 25 ms: {fmt_ms(med(m(ours, "warm_batch")))} ms -> {check((med(m(ours, "warm_batch")) or 9e9) < 25)}'
        f' ({anchor["batch"]} for 50)'),
        f'- extend: 1 call: {fmt_calls(m(ours, "extend"), show_rows=True)} -> {check(max(m(ours, "extend").hist) == 1)}',
        f'- weekend: 0 calls: {fmt_calls(m(ours, "weekend"))} -> {check(max(m(ours, "weekend").hist) == 0)}',
        (f"- flat as the store grows (last <= max(1.5 x first, first + 0.5 ms)): {fmt_ms(first_ms)} -> {fmt_ms(last_ms)} ms"
        f' -> {check(flat)} ({anchor["size"]}); new process at the largest size {fmt_ms(med(m(ours, "size_newproc")))} ms'),
    ]  # fmt: skip
    return markdown_table(header, rows), targets, notes


def load_average() -> str:
    """1-minute load average (other work on the machine skews every number: check it against the core count)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:  # not on every platform
        return "n/a"


def versions(qdb_ran: bool) -> str:
    parts = [f"python {platform.python_version()}"]
    for name in ("quantdb_lab", "akshare", "polars", "pandas"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    if qdb_ran:
        parts.append(f"quantdb {QDB_VERSION} (own venv)")
    return ", ".join(parts)


def report(spec: dict[str, Any], ours: dict, qdb: dict | None, direct: dict, wall_s: float) -> str:
    table, targets, notes = build_table(spec, ours, qdb, direct)
    d = spec["dates"]
    lines = [
        f"# Core benchmark: quantdb_lab vs QuantDB {QDB_VERSION} vs direct akshare" + (" (--quick)" if spec["quick"] else ""),
        "",
        f"Pinned date (all systems): **{d['today']}** (Friday, 16:00 Asia/Shanghai, session final); "
        f"1 year = {d['year_ago']}..{d['today']}, 5 years = {d['five_years_ago']}..{d['today']}. "
        f"Simulated upstream: SimulatedAkshare over SimulatedProvider(seed={spec['seed']}, {spec['n_stocks']} stocks), "
        f"latency {spec['latency']} s per call, patched in at akshare.<function> for all three. "
        f"Machine: {os.cpu_count()} cores, {platform.machine()}; {versions(qdb is not None)}. Wall time {wall_s / 60:.1f} min. "
        "1-minute load average: " + ", ".join(f"{k} {v}" for k, v in spec.get("load_average", {}).items())
        + f" (on {os.cpu_count()} cores: above that, other processes were competing with the benchmark).",
        "",
        table,
        "",
        ("Medians. calls = upstream calls per run: stock_zh_a_hist, (+ other akshare functions: QuantDB's "
        "stock_individual_info_em / tool_trade_date_hist_sina). * direct akshare has no cache: its warm and "
        "new-process rows are the same call measured again in-process."),
        "",
        "## Targets (quantdb_lab)",
        *targets,
    ]
    extra = [
        "- ours: store growth filled through a second akshare Lab on the same cache, upstream latency 0 and no throttle; "
        + "; ".join(e["measure"]["note"] for e in ours.get("sizes", [])),
        ("- ours runs with its default throttle (eastmoney_push2his: 2 calls/s, burst 2, one in flight), so a cold batch "
        "of N symbols takes at least (N - 2) x 0.5 s even though each call is 0.3 s."),
        "- ours new process: " + ours["newproc_1y_raw"]["note"] + "; at the largest size: " + ours["size_newproc"]["note"],
    ]
    if qdb is not None:
        extra += [
            "- QuantDB: store growth filled by SQL INSERT of the same simulated bars into its own tables "
            "(latency 0, bypassing its fetch path: 8 calls per symbol-year made filling 1M rows through it too slow); "
            + "; ".join(e["measure"]["note"] for e in qdb.get("sizes", [])),
            "- QuantDB new process: " + qdb["newproc_1y_raw"]["note"] + " (import qdb + its service manager)",
        ]
    else:
        extra.append("- QuantDB not run (--no-qdb).")
    gate = ours.get("gate_off")
    if gate:
        diag_rows = []
        for name, label in (("warm_1y_raw", 'warm 1 x 1 year, ""'), ("warm_1y_qfq", 'warm 1 x 1 year, "qfq"'),
                            ("warm_5y_raw", "warm 1 x 5 years"), ("warm_batch", f"warm {len(spec['symbols']['batch'])} x 1 year"),
                            ("newproc_1y_raw", "warm 1 x 1 year, NEW process (read call only)")):  # fmt: skip
            on, off = m(ours, name), Measure.from_json(gate[name])
            diag_rows.append([label, fmt_ms(on.median_ms if on else None), fmt_ms(off.median_ms if off else None),
                              fmt_ratio(on.median_ms if on else None, off.median_ms if off else None)])  # fmt: skip
        lines += [
            "",
            "## The mode's quality gate on warm reads",
            "",
            "The default modes judge a series' quality when new bars enter the cache, not on warm reads; the same "
            'reads with `lab.using(mode.with_(on_quality_fail="ignore"))` show the gate costs a warm read nothing '
            "(differences are noise). Profiles: results/" + ("core-quick" if spec["quick"] else "core") + "-profile.txt.",
            "",
            markdown_table(["read (quantdb_lab)", "default mode ms", "gate off ms", "default / gate off"], diag_rows),
        ]
    lines += ["", "## Notes", *extra, *[f"- {n}" for n in notes]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer repetitions and symbols, 100k-row fill")
    parser.add_argument("--no-qdb", action="store_true", help="skip QuantDB (no virtual environment needed)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (caches, logs)")
    parser.add_argument("--child-read", nargs=3, metavar=("SPEC", "CACHE", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_read:
        child_read(*args.child_read)
        return 0

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench-core-"))
    try:
        spec = build_spec(args.quick)
        spec_path = workdir / "spec.json"
        write_json(spec_path, spec)
        log(f"pinned date {spec['dates']['today']}; work directory {workdir}")
        loads = {"start": load_average()}
        log("quantdb_lab ...")
        ours = run_ours(spec, spec_path, workdir)
        loads["after quantdb_lab"] = load_average()
        log("direct akshare ...")
        direct = run_direct(spec)
        loads["after direct"] = load_average()
        qdb = None
        if not args.no_qdb:
            log("QuantDB (own venv, subprocess) ...")
            qdb = run_qdb(spec_path, workdir)
            loads["after QuantDB"] = load_average()
        spec["load_average"] = loads
        text = report(spec, ours, qdb, direct, time.perf_counter() - started)
        RESULTS_DIR.mkdir(exist_ok=True)
        name = "core-quick" if args.quick else "core"
        (RESULTS_DIR / f"{name}.md").write_text(text)
        profiles = ours.pop("profiles", {})
        write_json(RESULTS_DIR / f"{name}.json", {"spec": spec, "ours": ours, "qdb": qdb, "direct": direct})
        (RESULTS_DIR / f"{name}-profile.txt").write_text(
            "\n".join(f"==== {k} ====\n{v}" for k, v in profiles.items())
        )
        print(text)
        log(f"written to {RESULTS_DIR / (name + '.md')} (+ .json, -profile.txt)")
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
