"""Results carry their own provenance (issue 19): each frame a read returns describes that read, whatever was read
after it, instead of a ``lab.last_*`` attribute the next call overwrites. Expected values are the requests' own
symbols and the simulated provider's call counts, not the code under test."""

from __future__ import annotations

import gc

import polars as pl
import pytest

from quantdb_lab.loader.provenance import ResultProvenance, provenance_of
from quantdb_lab.providers.registry import source_id
from tests.support.sim import calls, d, make_lab

pytestmark = pytest.mark.filterwarnings("ignore::quantdb_lab.errors.SyntheticDataWarning")


def test_two_reads_one_after_the_other_each_keep_their_own_provenance(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    cold = lab.bars("600519", start="2025-01-02", end="2025-03-31", adjust="qfq")
    other = lab.bars("000001.SZ", start="2025-02-03", end="2025-02-28", adjust="")
    warm = lab.bars("600519", start="2025-01-02", end="2025-03-31", adjust="qfq")
    assert calls(provider) == 2  # the third read is served from the cache
    first, second, third = (frame.quantdb.provenance for frame in (cold, other, warm))
    assert [p.symbol for p in first.series] == ["600519.SH"] and first.adjust == "qfq"
    assert [p.symbol for p in second.series] == ["000001.SZ"] and second.adjust == ""
    assert (second.series[0].start, second.series[0].end) == (d("2025-02-03"), d("2025-02-28"))
    assert not first.from_cache and first.upstream_calls == 1 and first.fetched
    assert third.from_cache and third.upstream_calls == 0 and not third.fetched
    assert first.synthetic and first.sources == (source_id(provider),) and first.dataset == "bars"
    assert not first.partial and first.skipped == {}


def test_many_symbol_reads_keep_their_series_and_what_they_left_out(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    with pytest.warns(Warning, match="left out"):
        frame = lab.bars(["600519", "000001.SZ", "NOTASYMBOL"], start="2025-03-03", end="2025-03-31")
    alone = lab.bars("600000", start="2025-03-03", end="2025-03-31")
    origin = frame.quantdb.provenance
    assert sorted(p.symbol for p in origin.series) == ["000001.SZ", "600519.SH"]
    assert list(origin.skipped) == ["NOTASYMBOL"] and origin.partial
    assert any("left out" in text for text in origin.warnings)
    assert [p.symbol for p in alone.quantdb.provenance.series] == ["600000.SH"]


def test_dataset_reads_minute_bars_and_the_portfolio_carry_their_own(tmp_path):
    lab, _, _ = make_lab(tmp_path, now="2025-06-06 16:00")
    minutes = lab.bars("600519", freq="1min", start="2025-06-03", end="2025-06-06")
    pool = lab.read("limit_up_pool", start="2025-06-03", end="2025-06-06")
    daily = lab.bars("510300", start="2025-06-02", end="2025-06-06")
    assert minutes.quantdb.provenance.dataset == "bars_1min"
    assert [p.symbol for p in minutes.quantdb.provenance.series] == ["600519.SH"]
    assert pool.quantdb.provenance.dataset == "limit_up_pool"
    assert [p.symbol for p in daily.quantdb.provenance.series] == ["510300.SH"]
    result = lab.portfolio(["600519", "000001.SZ"], start="2025-06-02", end="2025-06-06", progress=False)
    assert sorted(p.symbol for p in result.frame.quantdb.provenance.series) == ["000001.SZ", "600519.SH"]
    assert [p.symbol for p in daily.quantdb.provenance.series] == ["510300.SH"]  # unchanged by the portfolio


def test_a_frame_derived_from_a_result_is_a_new_frame_without_it(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    frame = lab.bars("600519", start="2025-03-03", end="2025-03-31")
    assert isinstance(provenance_of(frame), ResultProvenance)
    assert frame.filter(pl.col("close") > 0).quantdb.provenance is None
    assert pl.DataFrame({"a": [1]}).quantdb.provenance is None
    table = frame.quantdb.provenance.frame()
    assert table["symbol"].to_list() == ["600519.SH"] and {"from_cache", "upstream_calls", "source"} <= set(table.columns)


def test_the_binding_does_not_keep_frames_alive(tmp_path):
    import weakref

    from quantdb_lab.loader import provenance

    lab, _, _ = make_lab(tmp_path)
    frame = lab.bars("600519", start="2025-03-03", end="2025-03-31")
    gc.collect()  # frames other tests left behind
    before = provenance.bound()
    ref = weakref.ref(frame)
    del frame
    gc.collect()
    assert ref() is None and provenance.bound() == before - 1


def test_synthesis_reports_travel_with_the_filled_frame(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    frame = lab.bars("600519", start="2025-01-02", end="2025-04-30", adjust="")
    holed = frame.filter(~pl.col("date").is_in([d("2025-03-12"), d("2025-03-13")]))
    filled = lab.synthesize(holed, start="2025-01-02", end="2025-04-30", reference="none")
    plain = lab.synthesize(frame, start="2025-01-02", end="2025-04-30", reference="none")
    reports = filled.quantdb.provenance.synthesis
    assert [(r.start, r.end, r.accepted) for r in reports] == [(d("2025-03-12"), d("2025-03-13"), True)]
    assert filled.quantdb.provenance.synthetic and filled["is_synthetic"].sum() == 2
    assert plain.quantdb.provenance.synthesis == () and [(r.start, r.end) for r in reports] != []  # each its own
    from_symbol = lab.synthesize("600519", start="2025-01-02", end="2025-04-30", adjust="", reference="none")
    assert [p.symbol for p in from_symbol.quantdb.provenance.series] == ["600519.SH"]


def test_a_portfolio_frame_names_the_symbols_that_failed(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    provider.faults.permanent_symbols = {"000001.SZ"}
    result = lab.portfolio(["600519", "000001.SZ"], start="2025-03-03", end="2025-03-31", progress=False)
    origin = result.frame.quantdb.provenance
    assert [p.symbol for p in origin.series] == ["600519.SH"] and list(origin.skipped) == ["000001.SZ"]
    assert origin.partial and origin.warnings == ("1 of 2 symbols failed",)
