"""``%qdb`` and ``%%qdb``: the Lab from a notebook, registered by ``%load_ext quantdb_lab``.

::

    %qdb config --provider simulated --cache-dir /tmp/qdb     # returns the shell's Lab (made on first use)
    %qdb fetch 600519 000001.SZ --start 2024-01-01 --adjust qfq   # returns a PortfolioResult
    %qdb stats                                                 # returns lab.stats()
    %qdb mode backtesting                                      # or research | trading | auto
    %qdb clear 600519        /  %qdb clear --all               # returns how many series were removed
    %qdb ask "top 10 tech stocks over the last month"          # returns an Answer (quantdb_lab.query)
    %qdb quotes 600519 000001.SZ     /  %qdb quotes           # returns lab.quotes(...) (a watchlist / the market)
    %qdb watch 600519 000001.SZ --interval 30                  # returns a LiveWatchWidget over lab.watch(...)

    %%qdb --start 2024-01-01 --end 2024-12-31
    600519 0.6
    000001.SZ 0.4

One Lab per IPython shell, built from ``%qdb config`` or the environment (``QUANTDB_LAB_CACHE_DIR``,
``QUANTDB_LAB_PROVIDER``). Magics return objects and print only what ``%qdb mode auto`` is asked for (its
reasons). A bad argument raises ``UsageError`` with the reason. A failure of the command itself (the upstream
down, nothing to return) prints one line on stderr and returns None, never a traceback, so a notebook's Run All
goes on; so does ``%qdb quotes`` outside trading hours with no snapshot yet (the line says when trading opens).
Only the public API of quantdb_lab is used.
"""

from __future__ import annotations

import sys
import warnings
from datetime import date
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from quantdb_lab import BACKTESTING, RESEARCH, TRADING, Lab, detect_mode
from quantdb_lab.errors import InvalidRequestError, MarketClosedWarning, QuantdbError
from quantdb_lab.portfolio import PortfolioResult, parse_portfolio_text

ADJUST_CHOICES = ("", "qfq", "hfq", "none")  # "none" spells "" where an empty argument is awkward
COMMANDS = ("fetch", "stats", "mode", "clear", "config", "ask", "quotes", "watch")
MODE_NAMES = tuple(m.name for m in (RESEARCH, TRADING, BACKTESTING))


def _parse(spec: Any, rest: str) -> Any:
    """Parse with the argument spec's parser; errors name the command they belong to."""
    try:
        return spec.parser.parse_argstring(rest)
    except UsageError as exc:
        raise UsageError(f"{spec.parser.prog}: {exc}") from None


def _adjust(value: str | None) -> str | None:
    return "" if value == "none" else value


def _symbols(tokens: list[str]) -> list[str]:
    # "600519,000001 300750": commas and spaces both separate symbols.
    return [part for token in tokens for part in token.split(",") if part]


@magic_arguments(name="%qdb fetch")
@argument("symbols", nargs="+", help="symbols, separated by spaces or commas (600519 000001.SZ sh000300)")
@argument("--start", default=None, help="first day, inclusive (YYYY-MM-DD); default open")
@argument("--end", default=None, help="last day, inclusive; default the latest session")
@argument("--adjust", default=None, choices=ADJUST_CHOICES, help="'', qfq or hfq (none = unadjusted); default the mode's")
@argument("--concurrency", type=int, default=None, help="threads per upstream host family")
def _fetch_args() -> None:
    """Fetch bars of SYMBOLS through the cache; returns a PortfolioResult."""


@magic_arguments(name="%%qdb")
@argument("--start", default=None, help="first day, inclusive (YYYY-MM-DD)")
@argument("--end", default=None, help="last day, inclusive")
@argument("--adjust", default=None, choices=ADJUST_CHOICES, help="'', qfq or hfq (none = unadjusted)")
@argument("--concurrency", type=int, default=None, help="threads per upstream host family")
def _cell_args() -> None:
    """A portfolio in the cell body, one symbol per line with an optional weight; returns a PortfolioResult."""


@magic_arguments(name="%qdb mode")
@argument("name", nargs="?", default=None, choices=(*MODE_NAMES, "auto"), help="the mode to switch to")
@argument("--realtime", action="store_true", help="for auto: live quotes are in use")
@argument("--as-of", default=None, help="for auto: a point-in-time cutoff (YYYY-MM-DD) means a backtest")
def _mode_args() -> None:
    """Show or switch the shell's mode; ``auto`` infers it from what can be observed and prints why."""


@magic_arguments(name="%qdb clear")
@argument("symbols", nargs="*", help="symbols whose cached series to remove")
@argument("--all", action="store_true", help="remove every cached series")
@argument("--dataset", default=None, choices=("bars", "hfq"), help="only this stored dataset")
def _clear_args() -> None:
    """Remove cached series; returns how many were removed."""


@magic_arguments(name="%qdb config")
@argument("--cache-dir", default=None, help="cache directory (default $QUANTDB_LAB_CACHE_DIR or the user cache)")
@argument("--provider", default=None, help="akshare, simulated or replay:<directory> (default $QUANTDB_LAB_PROVIDER)")
@argument("--mode", default=None, choices=MODE_NAMES, help="initial mode")
def _config_args() -> None:
    """Set up the shell's Lab; returns it. Without options, returns the current Lab."""


@magic_arguments(name="%qdb watch")
@argument("symbols", nargs="+", help="symbols to watch, separated by spaces or commas")
@argument("--interval", type=float, default=None, help="seconds between polls (default the quote freshness)")
def _watch_args() -> None:
    """Watch SYMBOLS live; returns a LiveWatchWidget (its ``.watcher`` has start/stop/status)."""


@magics_class
class QdbMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self._lab: Lab | None = None
        self._last_portfolio: PortfolioResult | None = None

    @property
    def lab(self) -> Lab:
        """The shell's Lab, made from the environment on first use."""
        if self._lab is None:
            self._lab = self._guard(Lab)
        return self._lab

    @staticmethod
    def _guard(action: Any, *args: Any, **kwargs: Any) -> Any:
        # Bad input is a usage problem at the prompt: say so in one line, without a library traceback.
        try:
            return action(*args, **kwargs)
        except InvalidRequestError as exc:
            raise UsageError(str(exc)) from exc

    @line_cell_magic
    def qdb(self, line: str, cell: str | None = None) -> Any:
        """quantdb_lab: ``%qdb fetch|stats|mode|clear|config ...``, or a ``%%qdb`` cell listing a portfolio.

        A bad argument raises UsageError saying what is expected; examples are in ``quantdb_lab.ui.magics``.
        """
        if cell is not None:
            return self._portfolio_cell(line, cell)
        command, _, rest = line.strip().partition(" ")
        handler = {
            "fetch": self._fetch,
            "stats": self._stats,
            "mode": self._mode,
            "clear": self._clear,
            "config": self._config,
            "ask": self._ask,
            "quotes": self._quotes,
            "watch": self._watch,
        }.get(command)
        if handler is None:
            raise UsageError(f"%qdb: unknown command {command!r}; use one of {', '.join(COMMANDS)}, or %%qdb for a portfolio cell")
        try:
            return handler(rest)
        except UsageError:
            raise
        except QuantdbError as exc:  # the command failed, not its arguments: one line, and Run All goes on
            _say(f"%qdb {command}: {type(exc).__name__}: {exc}")
            return None

    # -- commands ----------------------------------------------------------------------------------------
    def _fetch(self, rest: str) -> PortfolioResult:
        args = _parse(_fetch_args, rest)
        symbols = _symbols(args.symbols)
        if not symbols:
            raise UsageError("%qdb fetch: give at least one symbol")
        return self._run(symbols, None, args)

    def _portfolio_cell(self, line: str, cell: str) -> PortfolioResult:
        args = _parse(_cell_args, line)
        if not cell.strip():
            raise UsageError("%%qdb: the cell body must list the portfolio, one symbol per line (optional weight)")
        spec = self._guard(parse_portfolio_text, cell)
        return self._run(list(spec.symbols), spec.weights, args)

    def _run(self, symbols: list[str], weights: dict | None, args: Any) -> PortfolioResult:
        if args.concurrency is not None and args.concurrency < 1:
            raise UsageError(f"--concurrency must be at least 1, not {args.concurrency}")
        result = self._guard(
            self.lab.portfolio,
            symbols,
            weights=weights,
            start=args.start,
            end=args.end,
            adjust=_adjust(args.adjust),
            concurrency=args.concurrency,
            on_interrupt="return",  # at the prompt, Ctrl-C hands back what was fetched
        )
        self._last_portfolio = result
        return result

    def _ask(self, rest: str) -> Any:
        """``%qdb ask "question"``: the Answer of ``lab.ask`` (quotes optional; English or Chinese)."""
        text = rest.strip()
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
            text = text[1:-1].strip()
        if not text:
            raise UsageError('%qdb ask: give a question, e.g. %qdb ask "top 10 tech stocks over the last month"')
        return self.lab.ask(text, progress=None)

    def _quotes(self, rest: str) -> Any:
        """``%qdb quotes [SYMBOLS]``: the latest snapshot (``lab.quotes``); no symbols: the whole market."""
        symbols = _symbols(rest.split())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", MarketClosedWarning)
            frame = self._guard(self.lab.quotes, symbols or None)
        closed = [w for w in caught if issubclass(w.category, MarketClosedWarning)]
        for other in caught:
            if other not in closed:
                warnings.showwarning(other.message, other.category, other.filename, other.lineno)
        if closed and frame.is_empty():  # outside sessions with no snapshot yet: say when trading opens
            _say(f"%qdb quotes: {closed[0].message}")
            return None
        return frame

    def _watch(self, rest: str) -> Any:
        args = _parse(_watch_args, rest)
        if args.interval is not None and args.interval <= 0:
            raise UsageError(f"--interval must be positive, not {args.interval}")
        from quantdb_lab.ui.widgets.live_watch import LiveWatchWidget  # ipywidgets and plotly on use only

        return LiveWatchWidget(self._guard(self.lab.watch, _symbols(args.symbols), interval=args.interval))

    def _stats(self, rest: str) -> dict[str, Any]:
        if rest.strip():
            raise UsageError(f"%qdb stats takes no arguments, got {rest.strip()!r}")
        return self.lab.stats()

    def _mode(self, rest: str) -> Any:
        args = _parse(_mode_args, rest)
        if args.name is None:
            return self.lab.mode
        if args.name != "auto":
            self._lab = self.lab.using(args.name)
            return self._lab.mode
        as_of = self._guard(_parse_day, args.as_of) if args.as_of else None
        decision = detect_mode(
            market_open=self.lab.calendar.state(self.lab.clock.now()).open_now,
            span_days=self._last_span_days(),
            symbol_count=len(self._last_portfolio.symbols) if self._last_portfolio is not None else 1,
            realtime=args.realtime,
            as_of=as_of,
        )
        self._lab = self.lab.using(decision.mode)
        print(f"mode {decision.mode.name}: {'; '.join(decision.reasons)}")
        return decision.mode

    def _last_span_days(self) -> int | None:
        # Observable context: the span of the last portfolio this shell fetched.
        origins = list(self._last_portfolio.provenance.values()) if self._last_portfolio is not None else []
        if not origins:
            return None
        return (max(p.end for p in origins) - min(p.start for p in origins)).days + 1

    def _clear(self, rest: str) -> int:
        args = _parse(_clear_args, rest)
        symbols = _symbols(args.symbols)
        if symbols and args.all:
            raise UsageError("%qdb clear: give SYMBOLS or --all, not both")
        if not symbols and not args.all:
            raise UsageError("%qdb clear: give SYMBOLS to remove, or --all to empty the cache")
        return self._guard(self.lab.clear, symbols or None, dataset=args.dataset)

    def _config(self, rest: str) -> Lab:
        args = _parse(_config_args, rest)
        if args.cache_dir is None and args.provider is None and args.mode is None:
            return self.lab
        current = self._lab
        cache_dir = args.cache_dir if args.cache_dir is not None else (current.cache_dir if current else None)
        provider = args.provider if args.provider is not None else (current.provider if current else None)
        mode = args.mode or (current.mode if current else "research")
        self._lab = self._guard(Lab, cache_dir, provider=provider, mode=mode)
        return self._lab


def _say(text: str) -> None:
    print(" ".join(text.split()), file=sys.stderr)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRequestError(f"--as-of must be a date YYYY-MM-DD, not {text!r}") from None


def register(ipython: Any) -> QdbMagics:
    """Register the ``%qdb`` magics on ``ipython`` (what ``%load_ext quantdb_lab`` calls)."""
    magics = QdbMagics(ipython)
    ipython.register_magics(magics)
    return magics
