"""``ReplayProvider``: recorded sets of daily bars served offline, each through a small adapter that says what
its files hold (``providers.akshare.replay_sets``): akshare's own CSVs (A-shares, and indices, ETFs and HK where
the set has them), baostock's unadjusted bars with the exchange's preclose, Tushare's multiplicative qfq.

One provider may read several sets (the first that has a symbol serves it). It serves each adjustment only as
recorded: unadjusted bars for ``""`` where the set has them, a recorded qfq for ``"qfq"``; never the same frame
under another label. ``adjustment_of(symbol)`` says what a symbol's files are; ``factor_source(symbol)`` tells
the loader where its factors are (``bars`` for baostock's preclose, ``actions`` for Eastmoney's close-to-close
changes: with no dividend table recorded, such a set serves no qfq or hfq through the Lab).

File names may have lost leading zeros (``338.csv`` is ``000338``); so may the ``股票代码`` column inside, which
is ignored: the symbol comes from the request. A symbol no set has a file for raises ``EmptyResultError`` naming
what the sets hold, not "unknown, delisted or not yet listed".

``fetch_trade_dates``: the dates in ``calendar_file`` (a JSON list of ``YYYYMMDD`` strings, such as
``../shared/data/calendar/akshare_calendar.json``) if given, else the union of the dates in the files.
``fetch_securities``: one row per file of akshare's layout; names from ``names_file`` (default
``stock_names.csv`` beside the files), industry and list date null.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import polars as pl

from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import EmptyResultError, InvalidRequestError, ProviderUnavailableError
from quantdb_lab.providers.akshare.query import build_bars_query
from quantdb_lab.providers.akshare.replay_sets import EastmoneySet, RecordedSet, open_set, read_csv
from quantdb_lab.providers.akshare.transform import build_securities

_CODE_NAME = {"code": pl.String, "name": pl.String}
PathLike = str | os.PathLike[str]


class ReplayProvider:
    """Serve recorded sets as canonical ``BARS`` (see the module docstring)."""

    name = "replay"
    synthetic = False

    def __init__(
        self,
        directory: PathLike | Sequence[PathLike],
        *,
        names_file: PathLike | None = None,
        calendar_file: PathLike | None = None,
        qfq_until: date | None = None,
    ) -> None:
        paths = [Path(directory)] if isinstance(directory, (str, os.PathLike)) else [Path(d) for d in directory]
        self.directories = paths
        self.directory = paths[0]
        for path in paths:
            if not path.is_dir():
                raise_missing(path)
        self.sets: list[RecordedSet] = [open_set(p, qfq_until=qfq_until) for p in paths]
        default_names = self.directory / "stock_names.csv"
        self.names_file = Path(names_file) if names_file else (default_names if default_names.exists() else None)
        self.calendar_file = Path(calendar_file) if calendar_file else None
        self._lock = threading.Lock()
        self._frames: dict[tuple[str, str], tuple[float, pl.DataFrame | None]] = {}
        self._trade_dates: list[date] | None = None

    def __repr__(self) -> str:
        return f"ReplayProvider({[str(p) for p in self.directories]!r})"

    # -- what the sets hold ---------------------------------------------------------------------------
    def _set_of(self, symbol: Symbol) -> RecordedSet | None:
        return next((s for s in self.sets if symbol.canonical in s.files()), None)

    def adjustment_of(self, symbol: Symbol) -> str:
        found = self._set_of(symbol)
        return found.label if found is not None else "no recorded file"

    def factor_source(self, symbol: Symbol) -> str:
        found = self._set_of(symbol)
        return found.factor_source if found is not None else "bars"

    @property
    def source(self) -> str:
        """The store namespace: one per recorded directory (different recordings are different data)."""
        import hashlib

        names = "|".join(str(p.resolve()) for p in self.directories)  # one directory: the same name as before
        return "replay-" + hashlib.sha256(names.encode()).hexdigest()[:12]

    # -- Provider protocol ----------------------------------------------------------------------------
    def fetch_daily_bars(self, symbol: Symbol, start: date, end: date, *, adjust: str = "") -> pl.DataFrame:
        build_bars_query(symbol, start, end, adjust=adjust)  # same validation as the live provider
        found = self._set_of(symbol)
        if found is None:
            held = "; ".join(f"{s.directory.name}: {s.label}, {len(s.files())} files" for s in self.sets)
            raise EmptyResultError(f"the recorded sets have no file for this symbol ({held})",
                                   symbol=symbol.canonical, dataset="daily_bars")  # fmt: skip
        frame = self._read(found, symbol, adjust)
        if frame is None:
            raise InvalidRequestError(
                f"the recorded set {found.directory.name} holds {found.label}: no {adjust or 'unadjusted'} bars "
                "recorded for it", symbol=symbol.canonical, dataset="daily_bars",
            )  # fmt: skip
        return frame.filter(pl.col("date").is_between(start, end))

    def fetch_trade_dates(self) -> list[date]:
        with self._lock:
            if self._trade_dates is None:
                self._trade_dates = self._read_calendar() if self.calendar_file else self._dates_in_files()
            return list(self._trade_dates)

    def fetch_securities(self) -> pl.DataFrame:
        codes = sorted({k.split(".")[0] for s in self.sets if isinstance(s, EastmoneySet)
                        for k, (_, e) in s.files().items() if e.function == "stock_zh_a_hist"})  # fmt: skip
        names: dict[str, str] = {}
        if self.names_file is not None:
            table = pl.read_csv(self.names_file, schema_overrides={"code": pl.String, "name": pl.String})
            names = dict(zip(table["code"].str.zfill(6), table["name"], strict=True))
        code_names = pl.DataFrame({"code": codes, "name": [names.get(c) for c in codes]}, schema=_CODE_NAME)
        return build_securities(code_names)

    def host_family(self, symbol: Symbol) -> str:
        return "local"

    # -- files ----------------------------------------------------------------------------------------
    def _read(self, found: RecordedSet, symbol: Symbol, adjust: str) -> pl.DataFrame | None:
        mtime = _first_path(found.files()[symbol.canonical]).stat().st_mtime
        key = (symbol.canonical, adjust)
        with self._lock:
            cached = self._frames.get(key)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        frame = found.read(symbol, adjust)
        with self._lock:
            self._frames[key] = (mtime, frame)
        return frame

    def _dates_in_files(self) -> list[date]:
        days: set[date] = set()
        for found in self.sets:
            for value in found.files().values():
                path = _first_path(value)
                column = "日期" if "日期" in read_csv(path, symbol=None).columns else "date"
                raw = read_csv(path, symbol=None, columns=[column], text=(column,))
                parsed = raw[column].str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
                days.update(parsed.drop_nulls().to_list())
        return sorted(days)

    def _read_calendar(self) -> list[date]:
        assert self.calendar_file is not None
        values = json.loads(self.calendar_file.read_text(encoding="utf-8"))
        return sorted({date(int(v[:4]), int(v[4:6]), int(v[6:8])) for v in map(str, values)})


def _first_path(value: object) -> Path:
    """A set's files entry (a path, a list of paths, or a path with its endpoint) -> its first path."""
    return Path(value[0]) if isinstance(value, (list, tuple)) else Path(value)  # type: ignore[arg-type]


def raise_missing(path: Path) -> None:
    raise ProviderUnavailableError(f"replay directory {path} does not exist", retryable=False, dataset="daily_bars")
