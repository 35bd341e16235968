"""Cross-sectional qfq/hfq (loader.market_adjust) against hand-computed values: the frame a store read returns
(several chunks, one per segment) must come back adjusted, with the raw frame it was given left untouched."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantdb_lab.loader.market_adjust import adjust_cross_section
from quantdb_lab.store.segments import SID

D1, D2, D3 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)


def raw(null_change: bool) -> pl.DataFrame:
    """Two series over three days in (date, symbol) order, as two chunks (two segments)."""
    rows = {"symbol": ["A", "B", "A", "B", "A", "B"], "date": [D1, D1, D2, D2, D3, D3],
            "open": [10.0, 20.0, 9.0, 21.0, 9.5, 10.0], "high": [10.5, 20.5, 9.6, 21.5, 9.9, 10.4],
            "low": [9.8, 19.5, 8.9, 20.5, 9.1, 9.8], "close": [10.0, 20.0, 9.0, 21.0, 9.5, 10.2],
            "change": [None if null_change else 0.1, 0.2, -1.0, 1.0, 0.5, -10.8],
            "pct_change": [0.01, 0.01, -0.1, 0.05, 0.0556, -0.514]}  # fmt: skip
    frame = pl.DataFrame(rows).with_columns(pl.Series(SID, [1, 2, 1, 2, 1, 2], dtype=pl.UInt32))
    return pl.concat([frame.slice(0, 2), frame.slice(2)], rechunk=False)


# A: ex-date D2, factor 1.1 (prev close 10.0 / reference 10/1.1); B: ex-date D3, factor 2.0 (reference 10.5)
EVENTS = pl.DataFrame({"symbol": ["A", "B"], "date": [D2, D3], "factor": [1.1, 2.0], "reference": [10 / 1.1, 10.5],
                       SID: [1, 2]}, schema_overrides={SID: pl.UInt32})  # fmt: skip


@pytest.mark.parametrize("null_change", [False, True])
@pytest.mark.parametrize("how", ["qfq", "hfq"])
def test_cross_section_adjustment_matches_hand_computed_values_and_leaves_the_input_alone(how, null_change):
    frame = raw(null_change)
    before = frame.clone()
    got = adjust_cross_section(frame, EVENTS, how, reference=D3)
    # multipliers per row: hfq = product of factors on or before the day; qfq = that / product up to D3
    hfq = [1.0, 1.0, 1.1, 1.0, 1.1, 2.0]
    total = {"A": 1.1, "B": 2.0}
    m = hfq if how == "hfq" else [x / total[s] for x, s in zip(hfq, before["symbol"])]
    change = before["change"].to_list()
    pct = before["pct_change"].to_list()
    change[2], pct[2] = 9.0 - 10 / 1.1, 9.0 / (10 / 1.1) - 1.0  # A's event row: against the reference
    change[5], pct[5] = 10.2 - 10.5, 10.2 / 10.5 - 1.0  # B's
    expected = before.with_columns(
        *(pl.Series(c, [v * k for v, k in zip(before[c].to_list(), m)]) for c in ("open", "high", "low", "close")),
        pl.Series("change", [None if v is None else v * k for v, k in zip(change, m)], dtype=pl.Float64),
        pl.Series("pct_change", pct),
    )
    assert_frame_equal(got, expected, check_exact=False, rel_tol=1e-12)
    assert_frame_equal(frame, before)  # the raw frame (kept in the store's memory) is not written through


def test_adjusted_columns_are_chunked_like_the_rest_so_a_later_select_copies_nothing():
    """polars rechunks every column of a frame whose columns' chunks disagree at its next select: for a whole
    market, a second copy of the cross-section. The adjusted columns keep the input's chunks."""
    frame = raw(False)
    got = adjust_cross_section(frame, EVENTS, "qfq", reference=D3)
    assert {tuple(got[c].chunk_lengths()) for c in got.columns} == {tuple(frame["close"].chunk_lengths())}
