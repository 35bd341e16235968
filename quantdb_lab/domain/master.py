"""The security master on a past day, from today's list and the events (``domain.pit.SECURITY_EVENTS``).

Pure: ``securities_as_of(current, events, day)``. A stock is in the market on ``day`` if it had listed by then and
not yet delisted: today's list for those still listed (their ``list_date``), the events for those gone since
(the exchanges' delisting lists carry each one's listing and delisting dates). Its name, ST status and board are
those of its latest event on or before ``day``; with none by then, the ``former_name`` of its first later event
(the name it carried until that change: SZSE's change list starts with a stock's first rename, not its
listing), else today's list's (a source without name history). ST status without an ST event is read off that
name (``ST``/``*ST`` prefix).

``st_board`` (snapshots of the exchanges' risk-warning board: ``date symbol name``, what Eastmoney lists as ST
and *ST on the day it was captured) is evidence too, from its latest capture on or before ``day`` unless an ST
event is dated later: on the board there means ST (``st_since`` the designation's event, else the first
capture of its unbroken run on the board: never earlier than the truth) with the board's name, off it means
not ST. Before the first capture it says nothing.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from quantdb_lab.domain.pit import ST_EVENTS

MASTER_AS_OF: dict[str, pl.DataType] = {
    "symbol": pl.String(), "name": pl.String(), "industry": pl.String(), "board": pl.String(),
    "list_date": pl.Date(), "is_st": pl.Boolean(), "st_since": pl.Date(),
}  # fmt: skip


def securities_as_of(current: pl.DataFrame, events: pl.DataFrame, day: date, *,
                     st_board: pl.DataFrame | None = None) -> pl.DataFrame:  # fmt: skip
    """The market as it was on ``day`` (``MASTER_AS_OF``), delisted stocks included, sorted by symbol."""
    if "former_name" not in events.columns:  # stored before the column existed
        events = events.with_columns(pl.lit(None, pl.String).alias("former_name"))
    seen = events.filter(pl.col("date") <= day).sort("date", maintain_order=True)
    # the name a stock carried on ``day`` when its first event comes later: that event's name before
    carried = events.filter(pl.col("date") > day).sort("date", maintain_order=True).group_by("symbol").agg(
        pl.col("former_name").first().alias("carried_name"))
    dates = seen.group_by("symbol").agg(
        pl.col("date").filter(pl.col("event") == "listed").first().alias("listed_on"),
        pl.col("date").filter(pl.col("event") == "delisted").first().alias("delist_date"),
        pl.col("name").last().alias("event_name"), pl.col("board").last().alias("event_board"),
        pl.col("date").last().alias("event_date"),
        pl.col("industry").drop_nulls().last().alias("event_industry"),
        pl.col("event").filter(pl.col("event").is_in([*ST_EVENTS, "st_removed"])).last().alias("st_event"),
        pl.col("date").filter(pl.col("event").is_in([*ST_EVENTS, "st_removed"])).last().alias("st_date"),
    )  # fmt: skip
    base = current.select("symbol", "name", "industry", "board", "list_date")
    merged = base.join(dates, on="symbol", how="full", coalesce=True).join(carried, on="symbol", how="left")
    listed = pl.coalesce("list_date", "listed_on")
    name = pl.coalesce("event_name", "carried_name", "name")
    is_st = pl.col("st_event").is_in(list(ST_EVENTS)).fill_null(name.str.contains(r"^\*?ST").fill_null(False))
    frame = merged.with_columns(
        listed.alias("list_date"), name.alias("name"), pl.coalesce("industry", "event_industry").alias("industry"),
        pl.coalesce("event_board", "board").alias("board"), is_st.alias("is_st"),
        pl.when(pl.col("st_event").is_in(list(ST_EVENTS))).then(pl.col("st_date")).alias("st_since"),
    )  # fmt: skip
    evidence = _board_evidence(st_board, day) if st_board is not None else None
    if evidence is not None:
        frame = _with_board(frame.join(evidence[1], on="symbol", how="left"), evidence[0])
    alive = (pl.col("list_date").is_null() | (pl.col("list_date") <= day)) & pl.col("delist_date").is_null()
    # a later delisting is not known on ``day``: nothing about it is returned
    return frame.filter(alive).select(list(MASTER_AS_OF)).cast(MASTER_AS_OF).sort("symbol")  # type: ignore[arg-type]


def _board_evidence(board: pl.DataFrame, day: date) -> tuple[date, pl.DataFrame] | None:
    """The latest capture on or before ``day`` and, per stock on it, the first capture of its unbroken run
    (``board_since``) and its name there (``board_name``); None before the first capture."""
    seen = board.filter(pl.col("date") <= day)
    if seen.is_empty():
        return None
    days = seen["date"].unique().sort()
    order = pl.DataFrame({"date": days, "_i": range(days.len())})
    ranked = seen.join(order, on="date").sort("symbol", "_i").with_columns(
        (pl.col("_i") - pl.int_range(pl.len()).over("symbol")).alias("_run"))  # constant within an unbroken run
    current = ranked.filter(pl.col("_i").max().over("symbol") == days.len() - 1)
    on_board = current.filter(pl.col("_run") == pl.col("_run").last().over("symbol")).group_by("symbol").agg(
        pl.col("date").min().alias("board_since"), pl.col("name").last().alias("board_name"))
    return days[-1], on_board


def _with_board(frame: pl.DataFrame, captured: date) -> pl.DataFrame:
    """ST status (and the name of a stock on the board) from the capture of ``captured`` where no ST event is
    dated later."""
    newer = pl.col("st_date").is_null() | (pl.col("st_date") <= captured)
    on = pl.col("board_since").is_not_null()
    since = pl.when(pl.col("st_event").is_in(list(ST_EVENTS))).then(pl.col("st_date")).otherwise(pl.col("board_since"))
    named = on & (pl.col("event_date").is_null() | (pl.col("event_date") <= captured))
    return frame.with_columns(
        pl.when(newer).then(on).otherwise(pl.col("is_st")).alias("is_st"),
        pl.when(newer & on).then(since).when(newer).then(None).otherwise(pl.col("st_since")).alias("st_since"),
        pl.when(newer & named).then(pl.col("board_name")).otherwise(pl.col("name")).alias("name"),
    )  # fmt: skip
