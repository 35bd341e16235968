"""The ``quantdb-lab`` command: fetch, stats, clear and demo (more subcommands register themselves here)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from quantdb_lab.errors import QuantdbError


def _lab(args: argparse.Namespace):
    from quantdb_lab.lab import Lab

    return Lab(args.cache_dir, provider=args.provider, mode=args.mode)


def _cmd_fetch(args: argparse.Namespace) -> int:
    import polars as pl

    lab = _lab(args)
    symbols = list(args.symbols)
    if not symbols:
        raise SystemExit("fetch: give SYMBOLS or --portfolio FILE")
    frame = lab.bars(symbols, start=args.start, end=args.end, adjust=args.adjust)
    table = pl.DataFrame(
        [{"symbol": p.symbol, "rows": p.rows, "from_cache": p.from_cache, "upstream_calls": p.upstream_calls,
          "first": p.start, "last": p.end} for p in lab.last_provenance]
    )
    print(table)
    if args.output:
        frame.write_parquet(args.output) if args.output.endswith(".parquet") else frame.write_csv(args.output)
        print(f"wrote {frame.height} rows to {args.output}")
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    print(json.dumps(_lab(args).stats(), indent=2, default=str))
    return 0


def _cmd_clear(args: argparse.Namespace) -> int:
    removed = _lab(args).clear(args.symbols or None, dataset=args.dataset)
    print(f"removed {removed} cached series")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from quantdb_lab.demo import run_demo

    run_demo(cache_dir=args.cache_dir, latency=args.latency)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quantdb-lab", description="A Polars cache in front of akshare.")
    parser.add_argument("--cache-dir", default=None, help="cache directory (default: $QUANTDB_LAB_CACHE_DIR or the user cache dir)")
    parser.add_argument("--provider", default=None, help="akshare (default), simulated, or replay:<directory>")
    parser.add_argument("--mode", default="research", help="research, trading or backtesting")
    sub = parser.add_subparsers(dest="command", required=True)

    fetch = sub.add_parser("fetch", help="fetch bars through the cache")
    fetch.add_argument("symbols", nargs="*", help="symbols such as 600519 000001.SZ sh000300")
    fetch.add_argument("--start", default=None)
    fetch.add_argument("--end", default=None)
    fetch.add_argument("--adjust", default=None, choices=["", "qfq", "hfq"])
    fetch.add_argument("--output", "-o", default=None, help="write the frame to .parquet or .csv")
    fetch.set_defaults(run=_cmd_fetch)

    stats = sub.add_parser("stats", help="cache statistics as JSON")
    stats.set_defaults(run=_cmd_stats)

    clear = sub.add_parser("clear", help="remove cached series")
    clear.add_argument("symbols", nargs="*")
    clear.add_argument("--dataset", default=None, choices=["bars", "hfq"])
    clear.set_defaults(run=_cmd_clear)

    demo = sub.add_parser("demo", help="the offline demo on the simulated market")
    demo.add_argument("--latency", type=float, default=0.05, help="simulated seconds per upstream call")
    demo.set_defaults(run=_cmd_demo)
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
