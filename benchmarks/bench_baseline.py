"""The core single-series reads of this tree against an earlier commit, side by side in one run (issue 18:
"every core figure unchanged or better").

    python benchmarks/bench_baseline.py [--base REV] [--rounds 7]

A warm read takes tens of microseconds, and on a shared machine the speed of the same code moves by 2x from one
minute to the next, so two ``bench_core`` runs an hour apart cannot say whether a change made a read slower.
This runs both trees in the same minutes instead: ``--base`` (default: the commit before the cross-sectional
store, the code whose figures the README showed when issue 18 was filed) is checked out in a temporary git
worktree, each tree fills its own cache once through its own benchmark harness (``benchmarks/common.py``: the
simulated akshare upstream behind ``Lab(provider="akshare")``, at latency 0 and no throttle), and then
``--rounds`` rounds each run one new process per tree, in alternating order. A process times the first read of a
new Lab (read call only, as ``bench_core``'s "NEW process" row), then each warm row (one untimed read, then the
median of ``--reads``), then moves the clock to Saturday and times the weekend re-read. The ratio is the median of
the per-round ratios (head / base): both trees measured beside each other, not two medians of different minutes.
Every timed read must make 0 upstream calls (checked).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BASE = "2f0c88a^"  # the last commit before the cross-sectional store (issue 18's "today")
ROWS = {
    "newproc": "warm, 1 x 1 year, NEW process, read call only",
    "warm_1y_raw": 'warm re-read, 1 x 1 year, "", same process',
    "warm_1y_qfq": 'warm re-read, 1 x 1 year, "qfq", same process',
    "warm_5y_raw": "warm, 1 symbol x 5 years, same process",
    "warm_batch": "warm, 50 symbols x 1 year",
    "weekend": "weekend re-read, Saturday, end = today",
}
BATCH = 50
FILLERS = 440  # stocks that grow the store to --store-rows (10 years each)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the child: runs inside the tree under test ----------------------------------------------------------------
def child(tree: Path, cache: Path, what: str, reads: int) -> None:
    sys.path[:0] = [str(tree / "benchmarks"), str(tree)]
    import warnings

    warnings.simplefilter("ignore")
    from common import EXCHANGE_TZ, ShiftedClock, evening, make_market, make_upstream, pick_symbols, reference_friday, years_before

    from quantdb_lab.throttle.policy import RateLimit

    today = reference_friday()
    clock = ShiftedClock(evening(today))
    market = make_market(seed=7, n_stocks=1500, clock=clock)
    upstream = make_upstream(market, clock=clock, latency=0.0)
    symbols = pick_symbols(market, listed_before=years_before(today, 11), count=BATCH + 3 + FILLERS)
    first, qfq, five, batch, fillers = symbols[0], symbols[1], symbols[2], symbols[3 : BATCH + 3], symbols[BATCH + 3 :]
    year, years5 = years_before(today, 1), years_before(today, 5) + timedelta(days=10)
    jobs = {
        "warm_1y_raw": lambda lab: lab.bars(first, start=year, end=today, adjust=""),
        "warm_1y_qfq": lambda lab: lab.bars(qfq, start=year, end=today, adjust="qfq"),
        "warm_5y_raw": lambda lab: lab.bars(five, start=years5, end=today, adjust=""),
        "warm_batch": lambda lab: lab.bars(batch, start=year, end=today, adjust=""),
    }
    with upstream.patch():
        import quantdb_lab

        if what.startswith("fill"):
            fast = {name: RateLimit(per_second=1e9, burst=10**9) for name in
                    ("eastmoney_push2his", "eastmoney_datacenter", "sina")}  # fmt: skip
            lab = quantdb_lab.Lab(cache, provider="akshare", clock=clock, limits=fast)
            for _ in range(2):  # the second pass confirms sessions a first answer left pending (loader.answers)
                for job in jobs.values():
                    job(lab)
            target = int(what.partition(":")[2] or 0)  # then other stocks, 10 years each, up to this many rows
            while lab.stats()["rows_on_disk"] < target and fillers:
                chunk, fillers = fillers[:20], fillers[20:]
                lab.bars(chunk, start=years_before(today, 10), end=today, adjust="")
            print(json.dumps({"rows": lab.stats()["rows_on_disk"]}))
            return
        lab = quantdb_lab.Lab(cache, provider="akshare", clock=clock)
        upstream.reset()
        started = time.perf_counter()
        jobs["warm_1y_raw"](lab)
        out = {"newproc": (time.perf_counter() - started) * 1000}
        calls = {"newproc": _calls(upstream)}

        def timed(name: str, job) -> None:  # noqa: ANN001
            job(lab)
            upstream.reset()
            samples = []
            for _ in range(reads if name != "warm_batch" else max(1, reads // 4)):
                started = time.perf_counter()
                job(lab)
                samples.append((time.perf_counter() - started) * 1000)
            out[name] = statistics.median(samples)
            calls[name] = _calls(upstream)

        for name, job in jobs.items():
            timed(name, job)
        clock.jump(datetime.combine(today + timedelta(days=1), datetime.min.time(), EXCHANGE_TZ) + timedelta(hours=10))
        timed("weekend", lambda lab: lab.bars(first, start=year, end=today + timedelta(days=1), adjust=""))
        print(json.dumps({**out, "calls": calls}))


def _calls(upstream) -> int:  # noqa: ANN001
    return sum(n for name, n in upstream.snapshot().items() if name != "rows")


# -- the parent ----------------------------------------------------------------------------------------------
def run_child(tree: Path, cache: Path, what: str, reads: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(tree), str(cache), what, str(reads)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=900)
    if out.returncode:
        raise SystemExit(f"child {what} in {tree.name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def rounds(trees: dict[str, Path], caches: dict[str, Path], args: argparse.Namespace) -> dict[str, list[dict]]:
    """``args.rounds`` rounds of one measuring process per tree, the order alternating between rounds."""
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    for number in range(args.rounds):
        order = list(trees) if number % 2 == 0 else list(trees)[::-1]
        for name in order:
            runs[name].append(run_child(trees[name], caches[name], "measure", args.reads))
        log(f"round {number + 1}/{args.rounds}: " + ", ".join(f"{n} {runs[n][-1]['warm_1y_raw']:.3f} ms" for n in order))
    return runs


def table(runs: dict[str, list[dict]], n_rounds: int, base_rev: str, head_rev: str, rows: dict[str, int]) -> str:
    calls = {name: sum(sum(r["calls"].values()) for r in results) for name, results in runs.items()}
    lines = []
    for key, label in ROWS.items():
        base = statistics.median(r[key] for r in runs["base"])
        head = statistics.median(r[key] for r in runs["head"])
        ratios = sorted(h[key] / b[key] for h, b in zip(runs["head"], runs["base"]))
        ratio = statistics.median(ratios)
        verdict = "better" if ratio < 0.9 else "unchanged" if ratio <= 1.1 else "SLOWER"
        lines.append(f"| {label} | {base:.3f} | {head:.3f} | {ratio:.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f}) | {verdict} |")
    header = (f"| store of {rows['base']:,} / {rows['head']:,} rows; ms, median of {n_rounds} processes | base {base_rev} "
              f"| head {head_rev} | head/base: median of per-round ratios (range) | |")
    footer = f"upstream calls during the timed reads: base {calls['base']}, head {calls['head']} (0 expected)"
    return "\n".join([header, "|:--|--:|--:|--:|:--|", *lines, "", footer])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default=DEFAULT_BASE)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--store-rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=4, metavar=("TREE", "CACHE", "WHAT", "READS"))
    args = parser.parse_args()
    if args.child:
        tree, cache, what, reads = args.child
        child(Path(tree), Path(cache), what, int(reads))
        return
    work = Path(tempfile.mkdtemp(prefix="bench_baseline_"))
    base_tree = work / "base"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(base_tree), args.base], check=True)
    base_rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", args.base], capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip
    head_rev = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip
    try:
        trees = {"base": base_tree, "head": REPO}
        caches = {name: work / f"cache-{name}" for name in trees}
        tables = []
        for size in (0, args.store_rows):
            rows = {}
            for name, tree in trees.items():
                log(f"filling the {name} cache{f' to {size:,} rows' if size else ''} ...")
                rows[name] = run_child(tree, caches[name], f"fill:{size}", 0)["rows"]
            runs = rounds(trees, caches, args)
            tables.append(table(runs, args.rounds, base_rev, head_rev, rows))
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base_tree)], check=False)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average {os.getloadavg()[0]:.1f}\n")
    print("\n\n".join(tables))
    results = REPO / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "baseline.md").write_text("\n\n".join(tables) + "\n")


if __name__ == "__main__":
    main()
