"""Volume units on every path that stores or serves daily bars, not only ``lab.bars`` of one symbol: a unit
switch (Eastmoney's volume in shares where lots were expected, replayed by the simulated akshare upstream or the
simulated provider) is corrected as it enters the cache and listed in the provenance of every read of those rows.

Expected volumes come from the upstream's own raw answer: the volume column of the akshare frame is in lots
(x100 -> shares) except on the quirk days, where it is already in shares (i.e. the provider's x100 reading / 100).
"""

from __future__ import annotations

import warnings

import polars as pl
import pytest

from quantdb_lab.domain.clock import FixedClock
from quantdb_lab.lab import Lab
from quantdb_lab.loader import batch
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from tests.support.sim import MARKET, at, d

QUIRK = (d("2025-05-07"), d("2025-05-08"))
NOW = "2025-06-06 16:00"
VOLUME = 6  # the akshare bar frame's volume column (date, code, open, close, high, low, volume, ...)


def _unit_note(origin) -> str | None:  # noqa: ANN001
    found = [n for n in origin.notes if "volume of" in n and "another unit" in n]
    return found[0] if found else None


@pytest.fixture
def akshare_lab(tmp_path):
    pytest.importorskip("akshare")
    from quantdb_lab.providers.akshare import AkshareProvider, SimulatedAkshare

    clock = FixedClock(at(NOW))
    upstream = SimulatedAkshare(SimulatedProvider(MARKET, faults=Faults(), clock=clock), clock=clock,
                                unit_quirk_days=QUIRK)  # fmt: skip
    with upstream.patch(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield Lab(tmp_path / "cache", provider=AkshareProvider(timeout=10), clock=clock), upstream


def _expected_shares(upstream, code: str, start: str, end: str) -> pl.DataFrame:  # noqa: ANN001
    raw = pl.from_pandas(upstream.stock_zh_a_hist(symbol=code, period="daily", start_date=start.replace("-", ""),
                                                  end_date=end.replace("-", ""), adjust=""))  # fmt: skip
    days = pl.Series(raw[:, 0]).cast(pl.Utf8).str.slice(0, 10).str.to_date()
    lots = pl.Series(raw[:, VOLUME]).cast(pl.Float64)
    quirk = days.is_in(list(QUIRK))
    shares = pl.select(pl.when(quirk).then(lots * 100 / 100).otherwise(lots * 100)).to_series()
    return pl.DataFrame({"date": days, "volume": shares})


def test_lab_read_of_daily_bars_corrects_at_ingest_and_lists_it(akshare_lab):
    lab, upstream = akshare_lab
    expected = _expected_shares(upstream, "600519", "2025-04-01", "2025-05-30")
    frame = lab.read("bars", "600519", start="2025-04-01", end="2025-05-30")
    assert frame.select("date", "volume").equals(expected)
    note = _unit_note(frame.quantdb.provenance.series[0])
    assert note is not None and "2025-05-07, 2025-05-08" in note
    again = lab.read("bars", "600519", start="2025-04-01", end="2025-05-30")  # warm
    assert _unit_note(again.quantdb.provenance.series[0]) is not None
    bars = lab.bars("600519", start="2025-04-01", end="2025-05-30", adjust="")  # the same stored rows
    assert bars.select("date", "volume").equals(expected)
    assert _unit_note(bars.quantdb.provenance.series[0]) is not None
    april = lab.read("bars", "600519", start="2025-04-01", end="2025-04-30")
    assert _unit_note(april.quantdb.provenance.series[0]) is None  # no corrected row in range: no note


def test_a_warm_cross_section_lists_each_series_correction(tmp_path):
    clock = FixedClock(at(NOW))
    provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock, unit_quirk_days=QUIRK)
    symbols = [s for s in MARKET.symbols("stock") if MARKET.listing_date(s) < d("2024-06-01")][: batch.MARKET_READ_MIN + 2]
    truth = {s: MARKET.bars(s, d("2025-05-07"), d("2025-05-08"), now=at(NOW))["volume"].to_list() for s in symbols}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab(tmp_path / "cache", provider=provider, clock=clock)
        cold = lab.bars(symbols, start="2025-04-01", end="2025-05-30", adjust="")
        assert all(_unit_note(p) is not None for p in cold.quantdb.provenance.series)
        for adjust in ("", "", "hfq", "hfq"):  # warm: one cross-section from the store's segments (then memory)
            lab.bars(symbols, start="2025-04-01", end="2025-05-30", adjust=adjust)  # hfq: the history from listing
            lab.compact()
            warm = lab.bars(symbols, start="2025-04-01", end="2025-05-30", adjust=adjust)
            assert all(p.from_cache for p in warm.quantdb.provenance.series)
            missing = [p.symbol for p in warm.quantdb.provenance.series if _unit_note(p) is None]
            assert missing == [], f"{len(missing)} series served without their unit note (adjust={adjust!r})"
    quirk_rows = cold.filter(pl.col("date").is_in(list(QUIRK))).sort("symbol", "date")
    assert {s: quirk_rows.filter(pl.col("symbol") == s)["volume"].to_list() for s in symbols} == truth


def test_a_team_mate_reading_the_shared_series_gets_the_correction_listed(tmp_path, monkeypatch):
    """The corrections travel with the series: a second researcher who pulls the first one's corrected rows from
    the team store sees the note and can revert, without any upstream call."""
    pytest.importorskip("deltalake")
    pytest.importorskip("moto")
    import uuid

    from quantdb_lab.quality.units import revert
    from quantdb_lab.store.layered import LayeredStore
    from quantdb_lab.store.series_store import SeriesStore
    from tests.support.s3 import CREDENTIALS, MotoServer
    from tests.support.team import BUCKET, shared

    clock = FixedClock(at(NOW))

    def researcher(name: str, store):  # noqa: ANN001, ANN202
        provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock, unit_quirk_days=QUIRK)
        backend = LayeredStore(SeriesStore(tmp_path / name, source=provider.source), store)
        return Lab(tmp_path / name, provider=provider, clock=clock, store=backend), provider

    with MotoServer() as server, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server.create_bucket(BUCKET)
        for key, value in CREDENTIALS.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
        url = f"s3://{BUCKET}/{uuid.uuid4().hex}"
        source = SimulatedProvider(MARKET, unit_quirk_days=QUIRK).source
        first, _ = researcher("a", shared(server.endpoint, url, source=source))
        first.bars("600519", start="2025-04-01", end="2025-05-30", adjust="")
        second, provider = researcher("b", shared(server.endpoint, url, source=source))
        frame = second.bars("600519", start="2025-04-01", end="2025-05-30", adjust="")
        assert provider.calls["fetch_daily_bars"] == 0
        truth = MARKET.bars("600519.SH", d("2025-04-01"), d("2025-05-30"), now=at(NOW))
        assert frame["volume"].to_list() == truth["volume"].to_list()
        note = _unit_note(frame.quantdb.provenance.series[0])
        assert note is not None and "2025-05-07, 2025-05-08" in note
        received = revert(frame, second._engine.loader.units.corrections("600519.SH"))
        quirk = received.filter(pl.col("date").is_in(list(QUIRK)))
        assert quirk["volume"].to_list() == [v * 100 for v in truth.filter(pl.col("date").is_in(list(QUIRK)))["volume"]]
        assert quirk["turnover"].to_list() == [0.0, 0.0]  # as the upstream sent it


def test_corrections_an_older_cache_kept_in_the_reference_store_are_still_listed(tmp_path):
    """Before the corrections moved into the series' metadata they were kept as ``units_<symbol>`` in the
    reference store: such a cache's corrected rows are still listed and revertible."""
    from datetime import datetime

    from quantdb_lab.quality.units import CORRECTIONS
    from quantdb_lab.store.reference_store import ReferenceStore

    clock = FixedClock(at(NOW))
    provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab(tmp_path / "cache", provider=provider, clock=clock)
        lab.bars("600519", start="2025-04-01", end="2025-05-30", adjust="")
        old = pl.DataFrame({"date": [d("2025-05-07")], "volume_received": [123.0], "turnover_received": [0.0],
                            "volume": [1.23], "factor": [0.01]}, schema=CORRECTIONS)  # fmt: skip
        base = lab._engine.store.base
        ReferenceStore(base / "reference", provider.name).write("units_600519.SH", old, datetime(2025, 6, 6))
        lab = Lab(tmp_path / "cache", provider=provider, clock=clock)  # the older cache, opened by this version
        frame = lab.bars("600519", start="2025-05-01", end="2025-05-30", adjust="")
        assert "2025-05-07" in (_unit_note(frame.quantdb.provenance.series[0]) or "")
        assert lab._engine.loader.units.corrections("600519.SH")["volume_received"].to_list() == [123.0]


def test_a_portfolio_fetch_serves_the_corrected_rows_and_lists_them(tmp_path):
    clock = FixedClock(at(NOW))
    provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock, unit_quirk_days=QUIRK)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab(tmp_path / "cache", provider=provider, clock=clock)
        for _ in range(2):  # cold, then warm
            result = lab.portfolio(["600519", "000001.SZ"], start="2025-04-01", end="2025-05-30", adjust="",
                                   progress=False)  # fmt: skip
            frame = result.frame() if callable(getattr(result, "frame", None)) else result.frame
            for symbol in ("600519.SH", "000001.SZ"):
                truth = MARKET.bars(symbol, d("2025-04-01"), d("2025-05-30"), now=at(NOW))
                assert frame.filter(pl.col("symbol") == symbol)["volume"].to_list() == truth["volume"].to_list()
                assert _unit_note(result.provenance[symbol]) is not None


def test_a_scan_of_corrected_rows_says_so(tmp_path):
    """``lab.scan`` is a LazyFrame with no provenance: the correction of rows it can serve is said in a warning
    (one per scan, naming the series and days), and the rows are the corrected ones."""
    from quantdb_lab.errors import CorrectedDataWarning

    clock = FixedClock(at(NOW))
    provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock, unit_quirk_days=QUIRK)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab(tmp_path / "cache", provider=provider, clock=clock)
        lab.bars(["600519", "000001.SZ"], start="2025-04-01", end="2025-05-30", adjust="")
    with pytest.warns(CorrectedDataWarning, match="2025-05-07, 2025-05-08") as caught:
        rows = lab.scan("bars", start="2025-05-01", end="2025-05-30").collect()
    said = next(w.message for w in caught if isinstance(w.message, CorrectedDataWarning))
    assert set(said.symbols) == {"600519.SH", "000001.SZ"}
    truth = MARKET.bars("600519.SH", d("2025-05-07"), d("2025-05-08"), now=at(NOW))["volume"].to_list()
    got = rows.filter((pl.col("symbol") == "600519.SH") & pl.col("date").is_in(list(QUIRK))).sort("date")
    assert got["volume"].to_list() == truth
    with warnings.catch_warnings():
        warnings.simplefilter("error", CorrectedDataWarning)
        lab.scan("bars", start="2025-04-01", end="2025-04-30").collect()  # no corrected row: nothing to say


def test_a_first_read_too_short_to_judge_says_so_and_is_judged_once_the_series_grows(tmp_path):
    """A cold read of the two quirk days alone stores too few rows to judge a unit switch against (neighbours are
    needed): the read says its volumes are unjudged, and the next fetch that gives the series enough rows judges
    the stored ones too, so the 100x rows are corrected and listed rather than kept forever."""
    clock = FixedClock(at(NOW))
    provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock, unit_quirk_days=QUIRK)
    truth = MARKET.bars("600519.SH", d("2025-04-01"), d("2025-05-30"), now=at(NOW))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab(tmp_path / "cache", provider=provider, clock=clock)
        short = lab.bars("600519", start="2025-05-07", end="2025-05-08", adjust="")
        assert any("not judged" in n for n in short.quantdb.provenance.series[0].notes)
        frame = lab.bars("600519", start="2025-04-01", end="2025-05-30", adjust="")
    assert frame["volume"].to_list() == truth["volume"].to_list()
    origin = frame.quantdb.provenance.series[0]
    note = _unit_note(origin)
    assert note is not None and "2025-05-07, 2025-05-08" in note
    assert not any("not judged" in n for n in origin.notes)


EM = __import__("pathlib").Path(__file__).resolve().parents[2].parent / "shared" / "data" / "akshare_em_daily"


@pytest.mark.skipif(not EM.is_dir(), reason="../shared/data is absent")
def test_the_real_switch_of_2026_01_27_is_corrected_through_lab_read(tmp_path):
    from quantdb_lab.providers.replay import ReplayProvider

    raw = pl.read_csv(EM / "stock_data" / "601398.csv", infer_schema_length=0)
    days = raw[:, 0].str.slice(0, 10).str.to_date()
    lots = raw[:, VOLUME].cast(pl.Float64)
    quirk = [d("2026-01-27"), d("2026-01-28")]
    expected = lots.filter(days.is_in(quirk)).to_list()  # the file's "lots" there are shares: (x100) / 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab(tmp_path, provider=ReplayProvider(EM), clock=FixedClock(at("2026-08-11 16:00")), mode="research")
        frame = lab.read("bars", "601398", start="2026-01-27", end="2026-02-27")
    assert frame.filter(pl.col("date").is_in(quirk))["volume"].to_list() == expected
    note = _unit_note(frame.quantdb.provenance.series[0])
    assert note is not None and "2026-01-27, 2026-01-28" in note


def _minute_quirk(provider, session):  # noqa: ANN001, ANN202
    """The upstream sends one session's minute volumes in shares where lots were expected: 100x as read."""
    real = provider.fetch_minute_bars

    def fetch(symbol, start, end, **options):  # noqa: ANN001, ANN202
        frame = real(symbol, start, end, **options)
        hit = pl.col("time").dt.date() == session
        return frame.with_columns(pl.when(hit).then(pl.col("volume") * 100).otherwise(pl.col("volume")).alias("volume"))

    provider.fetch_minute_bars = fetch
    return real


@pytest.mark.parametrize("freq", ["1min", "5min"])
def test_minute_bars_with_a_session_in_another_unit_are_corrected_and_listed(tmp_path, freq):
    clock = FixedClock(at(NOW))
    provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock)
    session = d("2025-06-04")
    real = _minute_quirk(provider, session)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab(tmp_path / "cache", provider=provider, clock=clock)
        from quantdb_lab.domain.symbols import parse_symbol

        frames = [lab.bars("600519", freq=freq, start="2025-06-02", end="2025-06-06") for _ in range(2)]  # cold, warm
        answer = real(parse_symbol("600519"), d("2025-06-02"), d("2025-06-06"), period=freq.removesuffix("min"))
    expected = answer.sort("time")["volume"].to_list()  # the upstream's rows before the 100x session
    for frame in frames:
        assert frame.sort("time")["volume"].to_list() == pytest.approx(expected)
        (note,) = [n for n in frame.quantdb.provenance.series[0].notes if "another unit" in n]
        assert "2025-06-04" in note and "x100" in note
    narrow = lab.bars("600519", freq=freq, start="2025-06-05", end="2025-06-06")
    assert not any("another unit" in n for n in narrow.quantdb.provenance.series[0].notes)


def test_coarser_bars_derived_from_corrected_minutes_list_the_correction(tmp_path):
    clock = FixedClock(at(NOW))
    provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock)
    _minute_quirk(provider, d("2025-06-04"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab(tmp_path / "cache", provider=provider, clock=clock)
        ones = lab.bars("600519", freq="1min", start="2025-06-02", end="2025-06-06")
        fives = lab.bars("600519", freq="5min", start="2025-06-02", end="2025-06-06")
    assert fives.quantdb.provenance.series[0].upstream_calls == 0  # aggregated from the stored 1-minute bars
    day = pl.col("time").dt.date() == d("2025-06-04")
    assert fives.filter(day)["volume"].sum() == pytest.approx(ones.filter(day)["volume"].sum())
    assert any("another unit" in n and "2025-06-04" in n for n in fives.quantdb.provenance.series[0].notes)


def test_an_older_caches_corrections_move_into_the_metadata_at_the_next_fetch(tmp_path):
    """A legacy ``units_<symbol>`` entry is taken into the series' metadata by the next fetch of the series and
    then removed: a stored row keeps its correction, a row fetched again (clean) loses it, so a revert never
    divides a good row."""
    from datetime import datetime

    from quantdb_lab.quality.units import CORRECTIONS
    from quantdb_lab.store.reference_store import ReferenceStore

    clock = FixedClock(at(NOW))
    provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab(tmp_path / "cache", provider=provider, clock=clock)
        lab.bars("600519", start="2025-04-01", end="2025-04-30", adjust="")
        old = pl.DataFrame({"date": [d("2025-04-10"), d("2025-05-07")], "volume_received": [123.0, 456.0],
                            "turnover_received": [0.0, 0.0], "volume": [1.23, 4.56], "factor": [0.01, 0.01]},
                           schema=CORRECTIONS)  # fmt: skip
        legacy = ReferenceStore(lab._engine.store.base / "reference", provider.name)
        legacy.write("units_600519.SH", old, datetime(2025, 6, 6))
        lab = Lab(tmp_path / "cache", provider=provider, clock=clock)  # an older cache's entry predates the Lab
        frame = lab.bars("600519", start="2025-04-01", end="2025-05-30", adjust="")  # fetches May, 05-07 clean
    units = lab._engine.loader.units.corrections("600519.SH")
    assert units["date"].to_list() == [d("2025-04-10")] and units["volume_received"].to_list() == [123.0]
    assert legacy.read("units_600519.SH") is None
    (note,) = [n for n in frame.quantdb.provenance.series[0].notes if "another unit" in n]
    assert "2025-04-10" in note and "2025-05-07" not in note


def test_an_answer_computed_on_corrected_rows_says_which_symbol_and_days(tmp_path):
    """lab.ask serves numbers computed from the bars; rows corrected at ingest are listed in its notes too."""
    clock = FixedClock(at(NOW))
    provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock, unit_quirk_days=QUIRK)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab(tmp_path / "cache", provider=provider, clock=clock)
        answer = lab.ask("Compare the volatility of 600519 and 000858 from 2025-04-01 to 2025-05-30", planner="rules")
    listed = [n for n in answer.notes if "another unit" in n]
    assert answer.data is not None and not answer.data.is_empty()
    assert listed and all("2025-05-07" in n and "2025-05-08" in n for n in listed)
    assert {s for s in ("600519.SH", "000858.SZ") if any(s in n for n in listed)} == {"600519.SH", "000858.SZ"}
