"""The ``quantdb-lab`` command: fetch, stats, clear, warm, collect and demo (more subcommands register themselves here)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from quantdb_lab.errors import QuantdbError


def _lab(args: argparse.Namespace):
    from quantdb_lab.lab import Lab

    return Lab(args.cache_dir, provider=args.provider, mode=args.mode, store=getattr(args, "store", None))


def _cmd_fetch(args: argparse.Namespace) -> int:
    if args.portfolio:
        return _cmd_fetch_portfolio(args)
    lab = _lab(args)
    symbols = list(args.symbols)
    if not symbols:
        raise SystemExit("fetch: give SYMBOLS or --portfolio FILE")
    # one symbol keeps its typed error; several give what exists and name the rest (exit status 1)
    frame = lab.bars(symbols[0] if len(symbols) == 1 else symbols, start=args.start, end=args.end, adjust=args.adjust)
    origin = frame.quantdb.provenance
    print(origin.frame().select("symbol", "rows", "from_cache", "upstream_calls", "first", "last"))
    skipped = origin.skipped
    for name, why in skipped.items():
        print(f"left out {name}: {why}", file=sys.stderr)
    if args.output:
        frame.write_parquet(args.output) if args.output.endswith(".parquet") else frame.write_csv(args.output)
        print(f"wrote {frame.height} rows to {args.output}")
    return 1 if skipped else 0


def _cmd_fetch_portfolio(args: argparse.Namespace) -> int:
    """``fetch --portfolio FILE``: concurrent, with a progress bar (stderr, after 1 s) and the status table.

    Exit status 0 when every symbol arrived, 1 when some failed (listed), 130 when interrupted (what arrived
    is still written and cached).
    """
    import polars as pl

    from quantdb_lab.portfolio import FAILED, parse_portfolio_text

    if args.symbols:
        raise SystemExit("fetch: give SYMBOLS or --portfolio FILE, not both")
    try:
        text = Path(args.portfolio).read_text(encoding="utf-8")
    except OSError as exc:
        raise SystemExit(f"fetch: cannot read the portfolio file: {exc}") from None
    spec = parse_portfolio_text(text)
    result = _lab(args).portfolio(
        list(spec.symbols), weights=spec.weights, start=args.start, end=args.end, adjust=args.adjust,
        concurrency=args.concurrency, progress=True, on_interrupt="return",
        events=[name for name in (args.events or "").split(",") if name],
    )  # fmt: skip
    print(result.summary())
    print(result.status)
    for name, rows in result.events.items():
        print(f"{name}: {rows.height} row(s) of the portfolio's symbols")
        if rows.height:
            print(rows)
    for name, why in result.event_errors.items():
        print(f"{name}: not read ({why})", file=sys.stderr)
    failed = result.status.filter(pl.col("status") == FAILED)
    if failed.height:
        with pl.Config(tbl_rows=-1, fmt_str_lengths=200):
            print(failed.select("symbol", "error"))
    if args.output:
        frame = result.frame
        frame.write_parquet(args.output) if args.output.endswith(".parquet") else frame.write_csv(args.output)
        print(f"wrote {frame.height} rows to {args.output}")
    return 130 if result.interrupted else (1 if failed.height else 0)


def _cmd_stats(args: argparse.Namespace) -> int:
    print(json.dumps(_lab(args).stats(), indent=2, default=str))
    return 0


def _cmd_clear(args: argparse.Namespace) -> int:
    lab = _lab(args)
    if args.stale or args.legacy:
        if args.symbols or args.dataset:
            raise SystemExit("clear: --stale and --legacy take no symbols or --dataset")
        if args.stale:
            report = lab.clear_stale()
            print(f"removed {report['files']} stale files ({report['bytes']:,} bytes) and {report['locks']} old lock files")
        if args.legacy:
            removed = lab.clear_legacy()
            print(f"removed older cache layouts: {', '.join(removed) or 'none'}")
        return 0
    removed = lab.clear(args.symbols or None, dataset=args.dataset)
    print(f"removed {removed} cached series")
    return 0


def _cmd_compact(args: argparse.Namespace) -> int:
    print(json.dumps(_lab(args).compact(args.dataset), default=str))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from quantdb_lab.demo import run_demo

    run_demo(cache_dir=args.cache_dir, latency=args.latency)
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from quantdb_lab.ui.dashboard_command import run_dashboard

    return run_dashboard(args.name, provider=args.provider, cache_dir=args.cache_dir, port=args.port,
                         pool_size=args.pool_size, pool_max_age=args.pool_max_age)  # fmt: skip


def _cmd_warm(args: argparse.Namespace) -> int:
    from quantdb_lab.errors import WarmerBusyError
    from quantdb_lab.prefetch import Warmer

    warmer = Warmer(_lab(args), threshold=args.threshold, max_calls=args.max_calls, daily_calls=args.daily_calls)
    try:
        report = warmer.run_once(progress=not args.quiet)
    except WarmerBusyError as exc:  # cron overlapping a running warmer: not a failure worth a mail
        print(f"quantdb-lab warm: {exc}", file=sys.stderr)
        return 0
    print(json.dumps({**report.__dict__, "failed": [list(f) for f in report.failed]}, default=str))
    return 1 if report.failed and not report.warmed else 0


def _cmd_collect(args: argparse.Namespace) -> int:
    """``collect``: capture the closed sessions of the followed forgetful datasets (cron, after the close).
    Exit status 0, 1 when some series failed, 130 when interrupted (what was captured stays captured)."""
    from quantdb_lab.domain.dates import parse_date
    from quantdb_lab.prefetch.collector import Collector, targets_for
    from quantdb_lab.prefetch.predict import latest_closed

    lab = _lab(args)
    since = parse_date(args.since) if args.since else None
    if args.sessions is not None:
        last = latest_closed(lab.calendar, lab.clock.now())
        recent = lab.calendar.sessions(last - timedelta(days=2 * args.sessions + 30), last) if last else []
        since = recent[-args.sessions] if len(recent) >= args.sessions else (recent[0] if recent else since)
    targets = targets_for(args.dataset, args.symbols, since, lab)
    report = Collector(lab, targets, max_calls=args.max_calls).run()
    if args.json:
        print(json.dumps({"session": report.session, "rows": report.rows, "calls": report.calls,
                          "stopped": report.stopped, "interrupted": report.interrupted}, default=str))  # fmt: skip
    else:
        print(report.frame())
        print(report.summary())
    if not targets:
        print("nothing followed yet: read a dataset with lab.read, or name it with --dataset", file=sys.stderr)
    if report.interrupted:
        return 130
    return 1 if report.failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quantdb-lab", description="A Polars cache in front of akshare.")
    parser.add_argument("--cache-dir", default=None, help="cache directory (default: $QUANTDB_LAB_CACHE_DIR or the user cache dir)")
    parser.add_argument("--provider", default=None, help="akshare (default), simulated, or replay:<directory>")
    parser.add_argument("--store", default=None, help="local (default, or $QUANTDB_LAB_STORE) or s3://bucket/prefix: a team store with the cache dir in front")
    parser.add_argument("--mode", default="research", help="research, trading or backtesting")
    sub = parser.add_subparsers(dest="command", required=True)

    fetch = sub.add_parser("fetch", help="fetch bars through the cache")
    fetch.add_argument("symbols", nargs="*", help="symbols such as 600519 000001.SZ sh000300")
    fetch.add_argument("--start", default=None)
    fetch.add_argument("--end", default=None)
    fetch.add_argument("--adjust", default=None, choices=["", "qfq", "hfq"])
    fetch.add_argument("--output", "-o", default=None, help="write the frame to .parquet or .csv")
    fetch.add_argument("--portfolio", default=None, metavar="FILE",
                       help="a portfolio file: one symbol per line, optional weight; fetched concurrently")
    fetch.add_argument("--concurrency", type=int, default=None, help="with --portfolio: threads per host family")
    fetch.add_argument("--events", default=None, metavar="NAMES",
                       help="with --portfolio: event lists to read too, e.g. limit_up_pool,dragon_tiger")
    fetch.set_defaults(run=_cmd_fetch)

    stats = sub.add_parser("stats", help="cache statistics as JSON")
    stats.set_defaults(run=_cmd_stats)

    clear = sub.add_parser("clear", help="remove cached series")
    clear.add_argument("symbols", nargs="*")
    clear.add_argument("--dataset", default=None, help="only this stored dataset (e.g. bars)")
    clear.add_argument("--stale", action="store_true",
                       help="remove what crashes leave: temporary files, superseded files, old free lock files")
    clear.add_argument("--legacy", action="store_true", help="delete older cache layouts that were set aside")
    clear.set_defaults(run=_cmd_clear)

    compact = sub.add_parser("compact", help="bring the cross-sectional segments up to date (fast market reads)")
    compact.add_argument("--dataset", default="bars")
    compact.set_defaults(run=_cmd_compact)

    warm = sub.add_parser("warm", help="load the predicted next requests now (for cron, after the close)")
    warm.add_argument("--threshold", type=float, default=0.7, help="price of a call: warm only where probability x calls saved covers calls x (price + ban risk)")
    warm.add_argument("--max-calls", type=int, default=None, help="upstream call budget for this run")
    warm.add_argument("--daily-calls", type=int, default=None,
                      help="warming calls a day, all runs and processes together (default $QUANTDB_LAB_WARM_BUDGET or 200)")
    warm.add_argument("--quiet", action="store_true", help="no progress bar")
    warm.set_defaults(run=_cmd_warm)

    collect = sub.add_parser("collect", help="capture the closed sessions the upstream will forget (for cron, after the close)")
    collect.add_argument("--dataset", action="append", default=None,
                         help="a dataset to collect (repeatable; default: the forgetful datasets the usage log follows)")
    collect.add_argument("--symbols", nargs="+", default=None, help="for per-symbol datasets (default: those followed)")
    collect.add_argument("--since", default=None, help="first session wanted (default: the first read, else the upstream's oldest)")
    collect.add_argument("--sessions", type=int, default=None, help="only the last N closed sessions")
    collect.add_argument("--max-calls", type=int, default=None, help="upstream call budget for this run")
    collect.add_argument("--json", action="store_true", help="the report as one JSON line")
    collect.set_defaults(run=_cmd_collect)

    demo = sub.add_parser("demo", help="the offline demo on the simulated market")
    demo.add_argument("--latency", type=float, default=0.05, help="simulated seconds per upstream call")
    demo.set_defaults(run=_cmd_demo)

    dashboard = sub.add_parser("dashboard", help="serve the dashboards with Voila on 127.0.0.1 (Ctrl-C stops)")
    dashboard.add_argument("name", nargs="?", default=None, help="open this one (e.g. cache_monitor); default the landing page")
    dashboard.add_argument("--port", type=int, default=None, help="default: a free port")
    dashboard.add_argument("--pool-size", type=int, default=None,
                           help="kernels kept pre-run per dashboard, so a page opens at once (default 1; 0: none)")  # fmt: skip
    dashboard.add_argument("--pool-max-age", type=int, default=None,
                           help="seconds a pre-run kernel waits for a page before it is run afresh, so a page never "
                                "shows an old cache (default 900; 0: forever)")  # fmt: skip
    dashboard.set_defaults(run=_cmd_dashboard)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except QuantdbError as exc:
        print(f"quantdb-lab: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("quantdb-lab: interrupted; everything fetched so far is kept in the cache", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
