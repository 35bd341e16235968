"""Stage one: repair identity (symbol spelling, duplicate dates) and add the helper columns checks share.

Helper columns (all computed per symbol on rows sorted by date) start with an underscore and are dropped from
``.corrected``:

``_i`` row number, ``_n`` rows, ``_prev`` previous row's close, ``_ref`` reference previous close reported
by the source (``close - change``, falling back to ``_prev``), ``_offset`` (see ``traded_offset``), ``_board``,
``_list_date``, ``_st_since``.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from quantdb_lab.domain.schema import BARS
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidSymbolError
from quantdb_lab.quality.issues import ERROR, WARNING, emit, empty_issues, text

_FAR_PAST = date(1900, 1, 1)


def canonical_symbols(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonical ``symbol`` values, restoring leading zeros lost to a numeric cast (``338`` -> ``000338.SZ``).

    Returns the frame and one issue per (symbol, spelling) that needed repair, dated at its last row.
    """
    raw = frame.get_column("symbol").cast(pl.String)
    mapping: dict[str, str] = {}
    lost: list[str] = []
    bad: list[str] = []
    for spelling in raw.unique().drop_nulls().to_list():
        cleaned = spelling.strip()
        try:
            if cleaned.isdigit() and len(cleaned) < 6:
                mapping[spelling] = parse_symbol(cleaned.zfill(6)).canonical
                lost.append(spelling)
            else:
                mapping[spelling] = parse_symbol(cleaned).canonical
        except InvalidSymbolError:
            mapping[spelling] = spelling
            bad.append(spelling)
    fixed = frame.with_columns(
        pl.col("symbol").cast(pl.String).alias("_raw_symbol"),
        pl.col("symbol").cast(pl.String).replace_strict(mapping, return_dtype=pl.String).alias("symbol"),
    )
    issues = [empty_issues()]
    if lost:
        runs = (
            fixed.filter(pl.col("_raw_symbol").is_in(lost))
            .group_by("symbol", "_raw_symbol")
            .agg(pl.len().alias("rows"), pl.col("date").min().alias("first"), pl.col("date").max().alias("date"))
            .sort("symbol", "_raw_symbol")
        )
        detail = text(
            "code '{}' lost its leading zeros in {} rows ({}..{}); corrected to {}",
            "_raw_symbol", "rows", "first", "date", "symbol",
        )  # fmt: skip
        issues.append(emit(runs, "symbol_code", WARNING, detail, status="corrected"))
    if bad:
        rows = fixed.filter(pl.col("_raw_symbol").is_in(bad)).group_by("symbol").agg(pl.col("date").max())
        issues.append(emit(rows, "symbol_code", ERROR, pl.lit("not a recognisable security code")))
    return fixed.drop("_raw_symbol"), pl.concat(issues)


def drop_duplicate_dates(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per (symbol, date): identical repeats are dropped; differing ones keep the last, as the loader."""
    if not frame.select(pl.struct("symbol", "date").is_duplicated().any()).item():
        return frame, empty_issues()
    counted = frame.with_columns(
        pl.len().over("symbol", "date").alias("_copies"),
        pl.struct(pl.exclude("symbol", "date")).n_unique().over("symbol", "date").alias("_variants"),
    )
    dupes = counted.filter(pl.col("_copies") > 1).unique(["symbol", "date"], keep="last", maintain_order=True)
    detail = (
        pl.when(pl.col("_variants") == 1)
        .then(text("{} identical rows; kept one", "_copies"))
        .otherwise(text("{} rows with different values; kept the last (as the loader does)", "_copies"))
    )
    severity_split = [
        emit(dupes.filter(pl.col("_variants") == 1), "duplicate_date", WARNING, detail, status="corrected"),
        emit(dupes.filter(pl.col("_variants") > 1), "duplicate_date", ERROR, detail, status="corrected"),
    ]
    kept = frame.unique(["symbol", "date"], keep="last", maintain_order=True)
    return kept, pl.concat(severity_split)


def add_context(frame: pl.DataFrame, securities: pl.DataFrame | None) -> pl.DataFrame:
    """Sort and add the helper columns (see the module docstring)."""
    boards = {s: _board(s) for s in frame.get_column("symbol").unique().to_list()}
    out = frame.sort("symbol", "date").with_columns(
        pl.int_range(pl.len()).over("symbol").alias("_i"),
        pl.len().over("symbol").alias("_n"),
        pl.col("close").shift(1).over("symbol").alias("_prev"),
        pl.col("symbol").replace_strict(boards, return_dtype=pl.String).alias("_board"),
    )
    out = out.with_columns(
        pl.when(pl.col("change").is_not_null()).then(pl.col("close") - pl.col("change")).otherwise(pl.col("_prev"))
        .alias("_ref")
    )
    out = out.with_columns(traded_offset().alias("_offset"))
    info = _security_info(securities)
    out = out.join(info, on="symbol", how="left") if info is not None else out.with_columns(
        pl.lit(None, pl.Date).alias("_list_date"), pl.lit(None, pl.Date).alias("_st_since")
    )
    return out


def traded_offset() -> pl.Expr:
    """CNY to add to a row's prices to get the traded level: ~0 for unadjusted bars; for Eastmoney's additive
    qfq, the dividends it subtracted. Estimated as the rolling median of ``amount / volume`` (the day's VWAP,
    never adjusted) minus the bar's typical price; its error moves a limit ratio only to second order."""
    vwap = pl.when((pl.col("volume") > 0) & (pl.col("amount") > 0)).then(pl.col("amount") / pl.col("volume"))
    gap = vwap - (pl.col("high") + pl.col("low") + pl.col("close")) / 3.0
    return gap.rolling_median(21, center=True, min_samples=3).over("symbol").fill_null(0.0)


def _board(symbol: str) -> str:
    try:
        return parse_symbol(symbol).board
    except InvalidSymbolError:
        return "unknown"


def _security_info(securities: pl.DataFrame | None) -> pl.DataFrame | None:
    """``symbol, list_date, is_st[, st_since]`` -> ``_list_date, _st_since`` (ST from ``st_since``, else always)."""
    if securities is None or securities.is_empty():
        return None
    cols = securities.columns
    st_since = pl.col("st_since") if "st_since" in cols else pl.lit(None, pl.Date)
    is_st = pl.col("is_st").fill_null(False) if "is_st" in cols else pl.lit(False)
    list_date = pl.col("list_date") if "list_date" in cols else pl.lit(None, pl.Date)
    symbols = securities.get_column("symbol").cast(pl.String)
    canonical = {s: _canonical_or_same(s) for s in symbols.unique().drop_nulls().to_list()}
    return securities.select(
        pl.col("symbol").cast(pl.String).replace_strict(canonical, return_dtype=pl.String),
        list_date.cast(pl.Date).alias("_list_date"),
        pl.when(is_st).then(st_since.cast(pl.Date).fill_null(_FAR_PAST)).otherwise(None).alias("_st_since"),
    ).unique("symbol", keep="last")


def _canonical_or_same(spelling: str) -> str:
    try:
        return parse_symbol(spelling).canonical
    except InvalidSymbolError:
        return spelling


def conform_input(frame: pl.DataFrame) -> pl.DataFrame:
    """Canonical bar columns (missing derived ones as null) so checks can rely on them."""
    missing = [pl.lit(None, dtype).alias(name) for name, dtype in BARS.items() if name not in frame.columns]
    out = frame.with_columns(missing) if missing else frame
    return out.select(pl.col(name).cast(dtype, strict=False) for name, dtype in BARS.items())
