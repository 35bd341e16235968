"""akshare's point-in-time sources in canonical form: the exchanges' delisting lists, CSI constituents as a
dated snapshot, and Eastmoney's three statements by report.

* ``stock_info_sh_delist(symbol="全部")``: SSE's terminated listings, ``公司代码 公司简称 上市日期 暂停上市日期``
  (the last one is the request's DELIST_DATE: with COMPANY_STATUS=3 it is the termination date).
* ``stock_info_sz_delist(symbol="终止上市公司")``: SZSE's, ``证券代码 证券简称 上市日期 终止上市日期``.
  Both become ``listed`` and ``delisted`` events (``domain.pit.SECURITY_EVENTS``); the lists carry no industry
  and no ST history.
* ``stock_info_sz_change_name(symbol="简称变更")``: SZSE's short-name changes, ``变更日期 证券代码 证券简称 变更前简称
  变更后简称`` (one row per change since 1990; 证券简称 is today's name). A change into an ``ST``/``*ST`` name is
  the designation (``st``/``star_st``), out of one ``st_removed``, any other ``renamed``; ``former_name`` is the
  name before. SSE publishes no such list through akshare (Sina's per-stock ``stock_info_change_name`` lists
  former names without dates, which cannot be placed in time), so SSE stocks keep today's name and ST status.
* ``index_stock_cons_csindex``: today's constituents, dated with the session they were captured on.
* ``stock_zh_a_st_em()``: Eastmoney's risk-warning board (风险警示板, ``代码 名称 ...``), today's ST and *ST
  stocks, likewise dated with the session it was captured on (``domain.pit.ST_BOARD``).
* ``stock_balance_sheet_by_report_em`` / ``stock_profit_sheet_by_report_em`` /
  ``stock_cash_flow_sheet_by_report_em`` (symbol ``SH600519``): Eastmoney's F10 columns passed through
  unrenamed, one row per report (``REPORT_DATE``, ``NOTICE_DATE``, ``UPDATE_DATE``); banks and insurers name
  their revenue ``OPERATE_INCOME`` where others have ``TOTAL_OPERATE_INCOME``, so each field lists its candidates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

import polars as pl

from quantdb_lab.domain.pit import FINANCIALS, INDEX_SNAPSHOTS, SECURITY_EVENTS, ST_BOARD, STATEMENT_FIELDS
from quantdb_lab.domain.symbols import Symbol, parse_symbol
from quantdb_lab.errors import InvalidSymbolError
from quantdb_lab.providers.akshare.transform import RawFrame, as_date, check_columns, has_no_columns, to_polars

SH_DELIST: Final = {"公司代码": "code", "公司简称": "name", "上市日期": "listed", "暂停上市日期": "delisted"}
SZ_DELIST: Final = {"证券代码": "code", "证券简称": "name", "上市日期": "listed", "终止上市日期": "delisted"}
SZ_NAME_CHANGES: Final = {"变更日期": "date", "证券代码": "code", "变更前简称": "former", "变更后简称": "name"}
STAR_ST: Final = r"^S?\*ST"  # "*ST", and "S*ST" of the share-reform years
ST: Final = r"^S?ST"
B_SHARES: Final = ("200", "900")  # not in today's A-share list, so not in the market of a past day either
SHEET_KEYS: Final = ("REPORT_DATE", "NOTICE_DATE")
SHEETS: Final = {  # statement -> akshare function
    "balance": "stock_balance_sheet_by_report_em",
    "income": "stock_profit_sheet_by_report_em",
    "cashflow": "stock_cash_flow_sheet_by_report_em",
}
FIELD_SOURCES: Final[dict[str, tuple[str, ...]]] = {  # canonical field -> Eastmoney columns, first present wins
    "revenue": ("TOTAL_OPERATE_INCOME", "OPERATE_INCOME"),
    "operating_cost": ("OPERATE_COST", "TOTAL_OPERATE_COST"),
    "net_profit": ("NETPROFIT",),
    "parent_net_profit": ("PARENT_NETPROFIT",),
    "basic_eps": ("BASIC_EPS",),
    "total_assets": ("TOTAL_ASSETS",),
    "total_liabilities": ("TOTAL_LIABILITIES",),
    "total_equity": ("TOTAL_EQUITY",),
    "parent_equity": ("TOTAL_PARENT_EQUITY",),
    "share_capital": ("SHARE_CAPITAL",),
    "operating_cash_flow": ("NETCASH_OPERATE",),
    "investing_cash_flow": ("NETCASH_INVEST",),
    "financing_cash_flow": ("NETCASH_FINANCE",),
}


def transform_delisted(sh: RawFrame | None, sz: RawFrame | None, *, context: Mapping[str, Any]) -> pl.DataFrame:
    """Both exchanges' delisting lists -> ``listed`` and ``delisted`` events (codes outside known ranges are
    skipped, not guessed; a row without a delisting date is left out)."""
    parts = []
    for raw, columns, source in ((sh, SH_DELIST, "stock_info_sh_delist"), (sz, SZ_DELIST, "stock_info_sz_delist")):
        if has_no_columns(raw):
            continue
        frame = to_polars(raw, source=source, context=context)
        check_columns(frame.columns, columns, known=frame.columns, source=source, context=context)
        frame = frame.select(pl.col(k).alias(v) for k, v in columns.items())
        parts.append(frame.with_columns(as_date(pl.col("listed"), frame.schema["listed"]),
                                        as_date(pl.col("delisted"), frame.schema["delisted"])))  # fmt: skip
    rows = []
    for part in parts:
        for code, name, listed, delisted in part.iter_rows():
            try:
                symbol = parse_symbol(str(code).zfill(6))
            except InvalidSymbolError:
                continue
            if symbol.kind != "stock" or delisted is None:
                continue
            if listed is not None:
                rows.append((symbol.canonical, listed, "listed", name, symbol.board, None, None))
            rows.append((symbol.canonical, delisted, "delisted", name, symbol.board, None, None))
    return _events(rows)


def transform_name_changes(raw: RawFrame | None, *, context: Mapping[str, Any]) -> pl.DataFrame:
    """SZSE's short-name changes -> ``renamed``, ``st``, ``star_st`` and ``st_removed`` events with the name
    before and after (a row without a date or a name, a B share, or a code outside the known ranges is skipped)."""
    source = "stock_info_sz_change_name"
    if has_no_columns(raw):
        return _events([])
    frame = to_polars(raw, source=source, context=context)
    check_columns(frame.columns, SZ_NAME_CHANGES, known=frame.columns, source=source, context=context)
    frame = frame.select(pl.col(k).alias(v) for k, v in SZ_NAME_CHANGES.items())
    frame = frame.with_columns(as_date(pl.col("date"), frame.schema["date"]),
                               pl.col("former", "name").cast(pl.String).str.strip_chars())  # fmt: skip
    rows = []
    for day, code, former, name in frame.iter_rows():
        try:
            symbol = parse_symbol(str(code).zfill(6))
        except InvalidSymbolError:
            continue
        if symbol.kind != "stock" or symbol.code.startswith(B_SHARES) or day is None or not name:
            continue
        rows.append((symbol.canonical, day, _change(former, name), name, symbol.board, None, former or None))
    return _events(rows)


def _warning(name: str | None) -> str | None:
    """The risk warning a short name carries: ``star_st``, ``st`` or None."""
    if not name:
        return None
    if re.match(STAR_ST, name):
        return "star_st"
    return "st" if re.match(ST, name) else None


def _change(former: str | None, name: str) -> str:
    before, after = _warning(former), _warning(name)
    if after == before:
        return "renamed"
    return after or "st_removed"


def _events(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=list(SECURITY_EVENTS), orient="row").cast(SECURITY_EVENTS).sort("date", "symbol")  # type: ignore[arg-type]


def snapshot_frame(index: Symbol, members: list[str], captured: date) -> pl.DataFrame:
    """Today's constituents of ``index`` as a snapshot dated ``captured`` (``INDEX_SNAPSHOTS``)."""
    return pl.DataFrame({"date": [captured] * len(members), "index": [index.canonical] * len(members),
                         "member": members}, schema=INDEX_SNAPSHOTS)  # fmt: skip


def transform_st_board(raw: RawFrame | None, captured: date, *, context: Mapping[str, Any]) -> pl.DataFrame:
    """Today's risk-warning board -> ``ST_BOARD`` dated ``captured`` (codes outside the known ranges skipped)."""
    source = "stock_zh_a_st_em"
    if has_no_columns(raw):
        return pl.DataFrame(schema=ST_BOARD)
    frame = to_polars(raw, source=source, context=context)
    check_columns(frame.columns, ("代码", "名称"), known=frame.columns, source=source, context=context)
    rows = []
    for code, name in frame.select("代码", "名称").iter_rows():
        try:
            symbol = parse_symbol(str(code).zfill(6))
        except InvalidSymbolError:
            continue
        if symbol.kind == "stock":
            rows.append((captured, symbol.canonical, str(name).strip()))
    return pl.DataFrame(rows, schema=list(ST_BOARD), orient="row").cast(ST_BOARD).sort("symbol")  # type: ignore[arg-type]


VALUE_EM: Final = {"数据日期": "date", "总市值": "total_mv", "PE(TTM)": "pe_ttm", "市净率": "pb", "市销率": "ps_ttm"}


def transform_value_em(raw: RawFrame | None, symbol: Symbol, *, context: Mapping[str, Any]) -> pl.DataFrame:
    """``stock_value_em`` (Eastmoney's daily valuation of one stock) -> date, symbol, total_mv (CNY), pe_ttm, pb,
    ps_ttm: the upstream series ``domain.valuation.compare_valuation`` checks our panel against."""
    source = "stock_value_em"
    schema = {"date": pl.Date(), "symbol": pl.String(), "total_mv": pl.Float64(), "pe_ttm": pl.Float64(),
              "pb": pl.Float64(), "ps_ttm": pl.Float64()}  # fmt: skip
    if has_no_columns(raw):
        return pl.DataFrame(schema=schema)
    frame = to_polars(raw, source=source, context=context)
    check_columns(frame.columns, tuple(VALUE_EM), known=frame.columns, source=source, context=context)
    out = frame.select(
        as_date(pl.col("数据日期"), frame.schema["数据日期"]).alias("date"), pl.lit(symbol.canonical).alias("symbol"),
        *(pl.col(name).cast(pl.Float64, strict=False).alias(ours) for name, ours in VALUE_EM.items() if ours != "date"))
    return out.drop_nulls("date").cast(schema).sort("date")  # type: ignore[arg-type]


def eastmoney_code(symbol: Symbol) -> str:
    """``600519.SH`` -> ``SH600519`` (the F10 pages' code)."""
    return f"{symbol.exchange}{symbol.code}"


def transform_statements(sheets: Mapping[str, RawFrame | None], symbol: Symbol, *,
                         context: Mapping[str, Any]) -> pl.DataFrame:  # fmt: skip
    """The three sheets by report -> ``FINANCIALS`` (one row per report period; a sheet missing a period leaves
    its fields null; ``known_at`` = the announcement, which ``loader.pit`` revises)."""
    merged: pl.DataFrame | None = None
    for statement, function in SHEETS.items():
        raw = sheets.get(statement)
        if has_no_columns(raw):
            continue
        frame = to_polars(raw, source=function, context=context)
        check_columns(frame.columns, SHEET_KEYS, known=frame.columns, source=function, context=context)
        fields = [f for f, s in STATEMENT_FIELDS.items() if s == statement]
        picked = frame.select(
            as_date(pl.col("REPORT_DATE"), frame.schema["REPORT_DATE"]).alias("report_period"),
            as_date(pl.col("NOTICE_DATE"), frame.schema["NOTICE_DATE"]).alias("announcement_date"),
            (as_date(pl.col("UPDATE_DATE"), frame.schema["UPDATE_DATE"]) if "UPDATE_DATE" in frame.columns
             else pl.lit(None, pl.Date)).alias("update_date"),
            *(_field(frame, name) for name in fields),
        ).unique("report_period", keep="first")  # fmt: skip
        if merged is None:
            merged = picked
            continue
        merged = merged.join(picked, on="report_period", how="full", coalesce=True, suffix="_r").with_columns(
            pl.min_horizontal("announcement_date", "announcement_date_r").alias("announcement_date"),
            pl.max_horizontal("update_date", "update_date_r").alias("update_date"),
        ).drop("announcement_date_r", "update_date_r")  # fmt: skip
    if merged is None:
        return pl.DataFrame(schema=FINANCIALS)
    frame = merged.filter(pl.col("report_period").is_not_null() & pl.col("announcement_date").is_not_null())
    frame = frame.with_columns(pl.lit(symbol.canonical).alias("symbol"), pl.col("announcement_date").alias("known_at"),
                               pl.coalesce("update_date", "announcement_date").alias("update_date"))  # fmt: skip
    for name in STATEMENT_FIELDS:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Float64).alias(name))
    return frame.select(list(FINANCIALS)).cast(FINANCIALS).sort("report_period")  # type: ignore[arg-type]


def _field(frame: pl.DataFrame, name: str) -> pl.Expr:
    present = [c for c in FIELD_SOURCES[name] if c in frame.columns]
    if not present:
        return pl.lit(None, pl.Float64).alias(name)
    return pl.coalesce([pl.col(c).cast(pl.Float64, strict=False) for c in present]).alias(name)
