"""``ReplayProvider``: recorded akshare frames from a directory, read through the live provider's transform.

Layout (that of ``../shared/data/akshare_em_daily``)::

    <directory>/stock_data/<code>.csv   one ``stock_zh_a_hist`` frame per A-share (or <directory>/<code>.csv)
    <directory>/stock_names.csv         optional ``code,name`` (UTF-8, BOM allowed)

File names may have lost leading zeros (``338.csv`` is ``000338``); so may the ``股票代码`` column inside,
which is ignored: the symbol comes from the request.

What the files hold is whatever was recorded. The shared ``akshare_em_daily`` set is MIXED: Eastmoney qfq up
to about 2026-01-26 (additive, so early years can be negative) and unadjusted after. The provider cannot undo
that; the quality checks have to flag it.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import date
from pathlib import Path

import polars as pl

from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import ProviderSchemaError, ProviderUnavailableError
from quantdb_lab.providers.akshare.columns import CODE_COLUMN, STOCK_ZH_A_HIST, STOCK_ZH_A_HIST_COLUMNS
from quantdb_lab.providers.akshare.query import build_bars_query
from quantdb_lab.providers.akshare.transform import build_securities, empty_bars, transform_bars

_DATE_COLUMN = next(iter(STOCK_ZH_A_HIST_COLUMNS))  # the raw date column's name
_TEXT_COLUMNS = {_DATE_COLUMN: pl.String, CODE_COLUMN: pl.String}


class ReplayProvider:
    """Serve recorded ``stock_zh_a_hist`` CSV frames as canonical ``BARS`` (A-shares only).

    * ``adjust``: the files hold one series each, served for ``""``. For ``"hfq"`` (and ``"qfq"``) the same
      frame is returned, i.e. an adjustment factor of 1: recorded files carry no adjustment information.
    * ``fetch_trade_dates``: the dates in ``calendar_file`` (a JSON list of ``YYYYMMDD`` strings, such as
      ``../shared/data/calendar/akshare_calendar.json``) if given, else the union of the dates in the files.
    * ``fetch_securities``: one row per file; names from ``names_file`` (default ``stock_names.csv`` beside
      the files), industry and list date null.
    """

    name = "replay"
    synthetic = False

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        names_file: str | os.PathLike[str] | None = None,
        calendar_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.directory = Path(directory)
        nested = self.directory / "stock_data"
        self._bars_dir = nested if nested.is_dir() else self.directory
        default_names = self.directory / "stock_names.csv"
        self.names_file = Path(names_file) if names_file else (default_names if default_names.exists() else None)
        self.calendar_file = Path(calendar_file) if calendar_file else None
        self._lock = threading.Lock()
        self._frames: dict[Path, tuple[float, pl.DataFrame]] = {}
        self._trade_dates: list[date] | None = None

    def __repr__(self) -> str:
        return f"ReplayProvider({str(self.directory)!r})"

    @property
    def source(self) -> str:
        """The store namespace: one per recorded directory (different recordings are different data)."""
        import hashlib

        return "replay-" + hashlib.sha256(str(self.directory.resolve()).encode()).hexdigest()[:12]

    # -- Provider protocol ----------------------------------------------------------------------------
    def fetch_daily_bars(self, symbol: Symbol, start: date, end: date, *, adjust: str = "") -> pl.DataFrame:
        build_bars_query(symbol, start, end, adjust=adjust)  # same validation as the live provider
        path = self._files().get(symbol.code) if symbol.kind == "stock" and symbol.exchange != "HK" else None
        if path is None:
            return empty_bars()
        frame = self._read(symbol, path)
        return frame.filter(pl.col("date").is_between(start, end))

    def fetch_trade_dates(self) -> list[date]:
        with self._lock:
            if self._trade_dates is None:
                self._trade_dates = self._read_calendar() if self.calendar_file else self._dates_in_files()
            return list(self._trade_dates)

    def fetch_securities(self) -> pl.DataFrame:
        codes = sorted(self._files())
        names: dict[str, str] = {}
        if self.names_file is not None:
            table = pl.read_csv(self.names_file, schema_overrides={"code": pl.String, "name": pl.String})
            names = dict(zip(table["code"].str.zfill(6), table["name"], strict=True))
        code_names = pl.DataFrame({"code": codes, "name": [names.get(c) for c in codes]}, schema=_CODE_NAME)
        return build_securities(code_names)

    def host_family(self, symbol: Symbol) -> str:
        return "local"

    # -- files ----------------------------------------------------------------------------------------
    def _files(self) -> dict[str, Path]:
        if not self._bars_dir.is_dir():
            raise ProviderUnavailableError(
                f"replay directory {self._bars_dir} does not exist", retryable=False, dataset="daily_bars"
            )
        return {
            p.stem.zfill(6): p
            for p in sorted(self._bars_dir.glob("*.csv"))
            if p.stem.isdigit() and len(p.stem) <= 6
        }

    def _read(self, symbol: Symbol, path: Path) -> pl.DataFrame:
        mtime = path.stat().st_mtime
        with self._lock:
            cached = self._frames.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        raw = self._read_csv(path, symbol=symbol.canonical)
        frame = transform_bars(raw, STOCK_ZH_A_HIST, symbol)
        with self._lock:
            self._frames[path] = (mtime, frame)
        return frame

    @staticmethod
    def _read_csv(path: Path, *, symbol: str | None, columns: list[str] | None = None) -> pl.DataFrame:
        try:
            return pl.read_csv(path, columns=columns, schema_overrides=_TEXT_COLUMNS, infer_schema_length=None)
        except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
            raise ProviderSchemaError(
                f"cannot read recorded file {path.name}: {exc}", symbol=symbol, dataset="daily_bars"
            ) from exc

    def _dates_in_files(self) -> list[date]:
        days: set[date] = set()
        for path in self._files().values():
            raw = self._read_csv(path, symbol=None, columns=[_DATE_COLUMN])
            parsed = raw[_DATE_COLUMN].str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
            days.update(parsed.drop_nulls().to_list())
        return sorted(days)

    def _read_calendar(self) -> list[date]:
        assert self.calendar_file is not None
        values = json.loads(self.calendar_file.read_text(encoding="utf-8"))
        return sorted({date(int(v[:4]), int(v[4:6]), int(v[6:8])) for v in map(str, values)})


_CODE_NAME = {"code": pl.String, "name": pl.String}
