"""Recorded sets the replay provider reads, one small adapter per layout, each labelling what its files hold.

* :class:`EastmoneySet`: akshare's own CSVs (``stock_zh_a_hist`` frames in ``stock_data/<code>.csv``; and, where
  present, ``index_data/<sh000300>.csv`` (``stock_zh_index_daily_em``), ``etf_data/<code>.csv``
  (``fund_etf_hist_em``), ``hk_data/<code>.csv`` (``stock_hk_hist``)). Unadjusted as recorded, unless the set is
  known to be Eastmoney qfq up to a day (``qfq_until``): the shared ``akshare_em_daily`` set is Eastmoney's
  affine qfq to 2026-01-26 and unadjusted after, so ``""`` serves only the rows after that day and ``"qfq"``
  the rows up to it (qfq *as of that day*, not of today). Eastmoney's change is close to close: its factors
  need a dividend table the files do not have (``factor_source = "actions"``).
* :class:`BaostockSet`: baostock's ``query_history_k_data_plus`` CSVs (``data/sh.600000.csv``: scrambled column
  order, volume in shares, ``turn`` and ``pctChg`` in percent, the exchange's ``preclose``), unadjusted; the
  reference price is ``preclose``, so the bars carry the factors. Index files (``sh000001.csv``, baostock's
  index export: ``date,open,close,high,low,volume,amount,turn,pctChg`` or ``date,close``) too.
* :class:`TushareQfqSet`: Tushare's multiplicative qfq (``data/000338.csv``: ``date,open,close,high,low,volume``,
  volume in lots), as of the recording: served for ``"qfq"`` only, never as unadjusted bars.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from quantdb_lab.domain.schema import BARS, conform
from quantdb_lab.domain.symbols import Symbol, parse_symbol
from quantdb_lab.errors import InvalidSymbolError, ProviderSchemaError
from quantdb_lab.providers.akshare.columns import (
    CODE_COLUMN,
    FUND_ETF_HIST_EM,
    STOCK_HK_HIST,
    STOCK_ZH_A_HIST,
    STOCK_ZH_A_HIST_COLUMNS,
    STOCK_ZH_INDEX_DAILY_EM,
    BarEndpoint,
)
from quantdb_lab.providers.akshare.transform import transform_bars

_DATE = next(iter(STOCK_ZH_A_HIST_COLUMNS))
#: Recorded sets whose adjustment is known, by directory name: (qfq until, why)
KNOWN_QFQ_UNTIL: dict[str, date] = {"akshare_em_daily": date(2026, 1, 26)}  # ../shared/data/README.md


def read_csv(path: Path, *, symbol: str | None, columns: list[str] | None = None, text: tuple[str, ...] = ()) -> pl.DataFrame:
    try:
        return pl.read_csv(path, columns=columns, schema_overrides={c: pl.String for c in text}, infer_schema_length=None)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        raise ProviderSchemaError(f"cannot read recorded file {path.name}: {exc}", symbol=symbol, dataset="daily_bars") from exc


@dataclass
class EastmoneySet:
    directory: Path
    qfq_until: date | None = None
    factor_source: str = "actions"
    _files: dict[str, tuple[Path, BarEndpoint]] | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        if self.qfq_until is None:
            return "Eastmoney unadjusted (akshare CSVs)"
        return f"Eastmoney qfq as of {self.qfq_until} up to that day, unadjusted after (akshare CSVs)"

    def files(self) -> dict[str, tuple[Path, BarEndpoint]]:
        if self._files is None:
            found: dict[str, tuple[Path, BarEndpoint]] = {}
            stocks = self.directory / "stock_data"
            for folder, endpoint in ((stocks if stocks.is_dir() else self.directory, STOCK_ZH_A_HIST),
                                     (self.directory / "index_data", STOCK_ZH_INDEX_DAILY_EM),
                                     (self.directory / "etf_data", FUND_ETF_HIST_EM),
                                     (self.directory / "hk_data", STOCK_HK_HIST)):  # fmt: skip
                for path in sorted(folder.glob("*.csv")) if folder.is_dir() else ():
                    symbol = _symbol_of(path.stem, endpoint)
                    if symbol is not None:
                        found.setdefault(symbol.canonical, (path, endpoint))
            self._files = found
        return self._files

    def read(self, symbol: Symbol, adjust: str) -> pl.DataFrame | None:
        path, endpoint = self.files()[symbol.canonical]
        text = (_DATE, CODE_COLUMN) if endpoint is STOCK_ZH_A_HIST else ("date",) if endpoint is STOCK_ZH_INDEX_DAILY_EM else ("日期",)
        frame = transform_bars(read_csv(path, symbol=symbol.canonical, text=text), endpoint, symbol)
        if endpoint is STOCK_ZH_INDEX_DAILY_EM:  # indices have no adjustment: every adjust gets the series
            return frame
        if self.qfq_until is None:
            return frame if adjust == "" else None
        if adjust == "":
            return frame.filter(pl.col("date") > self.qfq_until)
        return frame.filter(pl.col("date") <= self.qfq_until) if adjust == "qfq" else None


def _symbol_of(stem: str, endpoint: BarEndpoint) -> Symbol | None:
    try:
        if endpoint is STOCK_ZH_A_HIST:
            return parse_symbol(stem.zfill(6)) if stem.isdigit() and len(stem) <= 6 else None
        if endpoint is STOCK_HK_HIST:
            return parse_symbol(f"{stem.zfill(5)}.HK")
        return parse_symbol(stem)
    except InvalidSymbolError:
        return None


_BAOSTOCK = {"date": pl.String, "code": pl.String, "open": pl.Float64, "high": pl.Float64, "low": pl.Float64,
             "close": pl.Float64, "preclose": pl.Float64, "volume": pl.Float64, "amount": pl.Float64,
             "turn": pl.Float64, "pctChg": pl.Float64}  # fmt: skip


@dataclass
class BaostockSet:
    directory: Path
    label: str = "unadjusted, with the exchange's preclose (baostock)"
    factor_source: str = "bars"
    index_only: bool = False  # an index export (its stock files, if any, are baostock qfq: never served)
    _files: dict[str, list[Path]] | None = field(default=None, repr=False)

    def files(self) -> dict[str, list[Path]]:
        if self._files is None:
            found: dict[str, list[Path]] = {}
            folder = self.directory / "data" if (self.directory / "data").is_dir() else self.directory
            for path in sorted(folder.glob("*.csv")) + sorted(self.directory.glob("extra_*.csv")):
                extra = path.stem.startswith("extra_")
                if "_" in path.stem and not extra:  # sh000001_tr.csv: a total-return variant, not the index
                    continue
                try:
                    symbol = parse_symbol(path.stem.removeprefix("extra_").split("_")[0])
                except InvalidSymbolError:
                    continue
                if self.index_only and symbol.kind != "index":
                    continue
                found.setdefault(symbol.canonical, []).append(path)
            self._files = found
        return self._files

    def read(self, symbol: Symbol, adjust: str) -> pl.DataFrame | None:
        if adjust != "" and symbol.kind != "index":
            return None
        frames = []
        for path in self.files()[symbol.canonical]:  # the set's own file first, an extra longer history after
            raw = read_csv(path, symbol=symbol.canonical, text=("date", "code"))
            present = {c: t for c, t in _BAOSTOCK.items() if c in raw.columns}
            frames.append(raw.select(pl.col(c).cast(t, strict=False) for c, t in present.items()))
        raw = pl.concat(frames, how="diagonal_relaxed").unique("date", keep="first").sort("date")
        pre = pl.col("preclose") if "preclose" in raw.columns else None
        out = raw.select(
            pl.lit(symbol.canonical).alias("symbol"),
            pl.col("date").str.to_date("%Y-%m-%d", strict=False),
            *(pl.col(c) if c in raw.columns else pl.lit(None, pl.Float64).alias(c) for c in ("open", "high", "low", "close")),
            (pl.col("volume") if "volume" in raw.columns else pl.lit(None, pl.Float64)).alias("volume"),
            (pl.col("amount") if "amount" in raw.columns else pl.lit(None, pl.Float64)).alias("amount"),
            (pl.col("turn") / 100.0 if "turn" in raw.columns else pl.lit(None, pl.Float64)).alias("turnover"),
            (pl.col("pctChg") / 100.0 if "pctChg" in raw.columns else pl.lit(None, pl.Float64)).alias("pct_change"),
            ((pl.col("close") - pre) if pre is not None else pl.lit(None, pl.Float64)).round(6).alias("change"),
        )  # fmt: skip
        return conform(out.filter(pl.col("close") > 0), BARS, source="baostock")


@dataclass
class TushareQfqSet:
    directory: Path
    label: str = "Tushare qfq (multiplicative) as of the recording"
    factor_source: str = "bars"
    _files: dict[str, Path] | None = field(default=None, repr=False)

    def files(self) -> dict[str, Path]:
        if self._files is None:
            folder = self.directory / "data" if (self.directory / "data").is_dir() else self.directory
            found = {}
            for path in sorted(folder.glob("*.csv")):
                if path.stem.isdigit() and len(path.stem) == 6:
                    found[parse_symbol(path.stem).canonical] = path
            self._files = found
        return self._files

    def read(self, symbol: Symbol, adjust: str) -> pl.DataFrame | None:
        if adjust != "qfq":
            return None
        raw = read_csv(self.files()[symbol.canonical], symbol=symbol.canonical, text=("date",))
        out = raw.select(
            pl.lit(symbol.canonical).alias("symbol"), pl.col("date").str.to_date("%Y-%m-%d", strict=False),
            "open", "high", "low", "close", (pl.col("volume") * 100.0).alias("volume"),
            *(pl.lit(None, pl.Float64).alias(c) for c in ("amount", "turnover", "pct_change", "change")),
        )  # fmt: skip
        return conform(out, BARS, source="tushare")


RecordedSet = EastmoneySet | BaostockSet | TushareQfqSet


def open_set(directory: str | os.PathLike[str], *, qfq_until: date | None = None) -> RecordedSet:
    """The adapter for ``directory``'s layout (see the module docstring)."""
    path = Path(directory)
    if (path / "stocklist.csv").is_file():
        return TushareQfqSet(path)
    data = path / "data"
    sample = next(iter(sorted(data.glob("*.csv"))), None) if data.is_dir() else None
    if sample is not None and sample.stem.startswith(("sh.", "sz.", "bj.")):
        return BaostockSet(path)
    if any(p.stem.startswith(("sh", "sz")) and not p.stem[:1].isdigit() for p in path.glob("*.csv")) and not (path / "stock_data").is_dir():
        return BaostockSet(path, label="index levels (baostock)", index_only=True)
    return EastmoneySet(path, qfq_until=qfq_until if qfq_until is not None else KNOWN_QFQ_UNTIL.get(path.name))
