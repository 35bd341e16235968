"""The collector (issue 19 item 3): every closed session of the followed forgetful datasets captured before the
upstream drops it, within the shared rate limit, resumable, with a report; lost gaps recorded once and said."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from quantdb_lab.domain.datasets import Dataset, register
from quantdb_lab.errors import ProviderSchemaError
from quantdb_lab.lab import Lab
from quantdb_lab.prefetch.collector import Collector, collect, followed, targets_for
from quantdb_lab.providers.fetchers import Fetcher
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from quantdb_lab.store.records import SeriesKey
from quantdb_lab.throttle import RateLimit
from tests.support.sim import MARKET, make_lab

FRIDAY = "2025-06-06 16:00"
MINUTES = register(Dataset(
    name="test_forgetful_minutes", title="test 1-minute bars (the upstream keeps 5 sessions)",
    schema={"symbol": pl.String(), "time": pl.Datetime("us", "Asia/Shanghai"), "close": pl.Float64()},
    index="timestamp", index_column="time", unique_index=True, fetch_unit="session", upstream_sessions=5,
    capability="test_forgetful_minutes",
))  # fmt: skip


class Counting(SimulatedProvider):
    """The simulated provider, recording every (capability, symbol, date) asked for; serves the test minutes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: list[tuple[str, str | None, date]] = []
        self.mislabel: date | None = None  # serve the dragon-tiger list labelled with this (non-session) date

    def fetchers(self):
        table = super().fetchers()
        for name, fetcher in list(table.items()):
            table[name] = Fetcher(self._counted(name, fetcher.fetch), fetcher.host_family)
        table["test_forgetful_minutes"] = Fetcher(self._counted("test_forgetful_minutes", self._minutes),
                                                  self.host_family)  # fmt: skip
        return table

    def _counted(self, name, fetch):
        def counted(symbol, start, end, **kwargs):
            self.asked.append((name, None if symbol is None else symbol.canonical, start))
            frame = fetch(symbol, start, end, **kwargs)
            if name == "dragon_tiger" and self.mislabel is not None and frame.height:
                frame = frame.with_columns(pl.lit(self.mislabel).alias("date"))
            return frame

        return counted

    def _minutes(self, symbol, start, end):
        now = self._now()
        keep = MARKET.calendar.session_days(date(2025, 1, 1), now.date())[-5:]
        days = [d for d in MARKET.calendar.sessions(start, end) if (d - date(1970, 1, 1)).days in keep]
        frames = [MARKET.intraday_path(symbol, d, now=now).select("symbol", "time", "close") for d in days]
        return pl.concat(frames) if frames else pl.DataFrame(schema=MINUTES.schema)


def lab_at(tmp_path, now=FRIDAY, **kwargs):
    lab, _, clock = make_lab(tmp_path, now=now)
    provider = Counting(MARKET, faults=Faults(), clock=clock)
    return Lab(tmp_path / "cache", provider=provider, clock=clock, **kwargs), provider, clock


def asked(provider, name):
    return [entry for entry in provider.asked if entry[0] == name]


def test_what_the_user_reads_is_followed_and_each_closed_session_is_captured_once(tmp_path):
    lab, provider, clock = lab_at(tmp_path)
    lab.read("dragon_tiger", start="2025-06-03", end="2025-06-06")
    lab.read("test_forgetful_minutes", "600519", start="2025-06-05")
    lab.read("test_forgetful_minutes", "000001", start="2025-06-05")
    names = sorted((t.dataset.name, str(t.symbol)) for t in followed(lab))
    assert names == [("dragon_tiger", "None"), ("test_forgetful_minutes", "000001.SZ"),
                     ("test_forgetful_minutes", "600519.SH")]  # fmt: skip
    clock.advance(3 * 86400)  # Monday 16:00: Monday is a closed session now
    provider.asked.clear()
    report = lab.collect()
    monday = date(2025, 6, 9)
    assert sorted(provider.asked) == sorted([("dragon_tiger", None, monday), ("test_forgetful_minutes", "000001.SZ", monday),
                                             ("test_forgetful_minutes", "600519.SH", monday)])  # fmt: skip
    assert report.captured == 3 and report.calls == 3 and report.forgotten == 0
    assert report.present == 4 + 2 + 2  # what the reads had stored
    again = lab.collect()
    assert again.calls == 0 and again.captured == 0 and len(provider.asked) == 3
    assert lab.read("dragon_tiger", start=monday, end=monday)["date"].unique().to_list() == [monday]


def test_an_open_session_is_not_collected(tmp_path):
    lab, provider, _ = lab_at(tmp_path, now="2025-06-06 10:30")  # Friday, trading
    report = collect(lab, ["dragon_tiger"], since=date(2025, 6, 4))
    assert [entry[2] for entry in asked(provider, "dragon_tiger")] == [date(2025, 6, 4), date(2025, 6, 5)]
    assert report.session == date(2025, 6, 5)


def test_a_killed_collection_resumes_without_losing_or_refetching_a_session(tmp_path):
    lab, provider, _ = lab_at(tmp_path)
    since = date(2025, 5, 12)
    sessions = MARKET.calendar.sessions(since, date(2025, 6, 6))
    budget = {"left": 7}

    def killed_after_seven(_family):
        if budget["left"] == 0:
            raise KeyboardInterrupt  # a kill between two calls (a kill inside a write: the store's atomic files)
        budget["left"] -= 1
        return True

    targets = targets_for(["dragon_tiger"], None, since, lab)
    first = Collector(lab, targets, before_call=killed_after_seven).run()
    assert first.stopped and first.interrupted and first.calls == 7
    assert first.rows[0]["captured"] == 7  # the interrupted series still reports what it captured
    second = Collector(lab, targets).run()
    days = [entry[2] for entry in asked(provider, "dragon_tiger")]
    assert days == sessions  # every session once, in order: nothing lost, nothing fetched twice
    assert second.rows[0]["present"] == 7 and second.rows[0]["captured"] == len(sessions) - 7


def test_a_gap_the_upstream_forgot_is_recorded_once_and_said_by_reads(tmp_path):
    lab, provider, _ = lab_at(tmp_path)
    report = collect(lab, ["test_forgetful_minutes"], ["600519"], since=date(2025, 5, 26))
    kept = MARKET.calendar.sessions(date(2025, 5, 26), date(2025, 6, 6))
    assert report.captured == 5 and report.forgotten == len(kept) - 5  # the upstream keeps 5 sessions
    meta = lab._engine.store.read_meta(SeriesKey("test_forgetful_minutes", "600519.SH"))
    assert meta.lost and not meta.lost.subtract(meta.lost.subtract(meta.coverage))  # lost and stored are apart
    again = collect(lab, ["test_forgetful_minutes"], ["600519"], since=date(2025, 5, 26))
    assert again.calls == 0 and again.forgotten == len(kept) - 5 and len(provider.asked) == 5  # never asked for
    frame = lab.read("test_forgetful_minutes", "600519", start="2025-05-26")
    assert any("lost" in note for note in frame.quantdb.provenance.series[0].notes)


def test_collection_keeps_to_the_shared_rate_limit(tmp_path):
    lab, provider, clock = lab_at(tmp_path, limits={"local": RateLimit(per_second=2.0, burst=1)})
    before = clock.now()
    report = collect(lab, ["dragon_tiger"], since=date(2025, 5, 26))
    elapsed = (clock.now() - before).total_seconds()
    assert report.calls == len(MARKET.calendar.sessions(date(2025, 5, 26), date(2025, 6, 6)))
    assert elapsed >= (report.calls - 1) / 2.0 * 0.99  # the FixedClock advances by every wait


def test_rows_on_a_non_trading_date_are_refused_for_a_list_that_carries_its_own_dates(tmp_path):
    lab, provider, _ = lab_at(tmp_path)
    provider.mislabel = date(2025, 6, 7)  # a Saturday
    with pytest.raises(ProviderSchemaError, match="no trading session"):
        lab.read("dragon_tiger", start="2025-06-06", end="2025-06-06")
    assert lab._engine.store.read_meta(SeriesKey("dragon_tiger", "market")) is None  # nothing stored


def test_the_pool_read_through_the_lab_is_on_its_sessions(tmp_path):
    lab, provider, _ = lab_at(tmp_path)
    frame = lab.read("limit_up_pool", start="2025-05-26", end="2025-06-06")
    days = set(frame["date"].to_list())
    assert days <= set(MARKET.calendar.sessions(date(2025, 5, 26), date(2025, 6, 6)))
    assert [entry[2] for entry in asked(provider, "limit_up_pool")] == MARKET.calendar.sessions(date(2025, 5, 26),
                                                                                                 date(2025, 6, 6))
    assert lab.read("limit_up_pool", start="2025-05-26", end="2025-06-06").equals(frame)  # empty days covered once
    assert len(asked(provider, "limit_up_pool")) == len(MARKET.calendar.sessions(date(2025, 5, 26), date(2025, 6, 6)))


def test_nothing_followed_collects_nothing(tmp_path):
    lab, provider, _ = lab_at(tmp_path)
    report = lab.collect()
    assert report.rows == [] and provider.asked == []
    assert "0 session(s) captured" in report.summary()


def test_the_cli_collects_and_reports(tmp_path, capsys):
    from quantdb_lab.cli import main

    status = main(["--cache-dir", str(tmp_path / "c"), "--provider", "simulated", "collect",
                   "--dataset", "dragon_tiger", "--sessions", "3"])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0 and "captured" in out and "dragon_tiger" in out


def test_the_background_warmer_collects_after_its_pass(tmp_path):
    from quantdb_lab.prefetch import Warmer

    lab, provider, clock = lab_at(tmp_path)
    lab.read("dragon_tiger", start="2025-06-05", end="2025-06-06")
    clock.advance(3 * 86400)
    provider.asked.clear()
    report = Warmer(lab, collect=True, peers=None, quiet=0.0).run_once()
    assert provider.asked == [("dragon_tiger", None, date(2025, 6, 9))]
    assert report.collected is not None and "1 session(s) captured" in report.collected
    budget = Warmer(lab, collect=True, peers=None, quiet=0.0, max_calls=0).run_once()
    assert budget.calls == 0


def test_quality_monitor_and_portfolio_know_the_event_lists(tmp_path):
    from quantdb_lab.ui import cache_report

    lab, provider, _ = lab_at(tmp_path)
    collect(lab, ["test_forgetful_minutes"], ["600519"], since=date(2025, 5, 26))
    issues = lab.dataset_quality("test_forgetful_minutes", "600519", start="2025-05-26")
    lost = issues.filter(pl.col("check") == "lost_session")
    kept = MARKET.calendar.sessions(date(2025, 5, 26), date(2025, 6, 6))
    assert lost["date"].to_list() == kept[:-5]  # each lost session said once, by quality too
    lhb = lab.read("dragon_tiger", start="2025-06-02", end="2025-06-06")
    assert lab.dataset_quality("dragon_tiger", start="2025-06-02", end="2025-06-06").is_empty()
    bad = lhb.with_columns(pl.col("net_buy") + 1e6)
    from quantdb_lab.domain.datasets import DRAGON_TIGER_LIST
    from quantdb_lab.quality.datasets import check_dataset

    days = MARKET.calendar.session_days(date(2025, 6, 2), date(2025, 6, 6))
    found = check_dataset(bad, DRAGON_TIGER_LIST, symbol="market", sessions=days, lost=days[:0])
    assert set(found["check"]) == {"net_buy_mismatch"} and found.height == lhb.height
    stats = lab.stats()
    rows = {row["dataset"]: row for row in cache_report.collection_rows(stats)}
    assert rows["test_forgetful_minutes"]["lost"] == len(kept) - 5 and rows["test_forgetful_minutes"]["captured"] == 5
    assert rows["dragon_tiger"]["captured"] == len(days) and rows["limit_up_pool"]["series"] == 0
    titles = {row["dataset"]: row["title"] for row in cache_report.dataset_rows(stats)}
    assert titles["dragon_tiger"] == DRAGON_TIGER_LIST.title
    symbols = lhb["symbol"].unique().sort().to_list()[:2]
    result = lab.portfolio(symbols + ["600519"], start="2025-06-02", end="2025-06-06", progress=False,
                           events=["dragon_tiger", "limit_up_pool"])  # fmt: skip
    assert set(result.events["dragon_tiger"]["symbol"]) == set(symbols)
    assert result.events["dragon_tiger"].equals(lhb.filter(pl.col("symbol").is_in(symbols)))
    assert "limit_up_pool" in result.events and not result.event_errors
    assert {p.symbol for p in result.frame.quantdb.provenance.series} == {*symbols, "600519.SH"}  # the bars, not the lists


def test_the_cli_portfolio_fetch_reads_the_event_lists(tmp_path, capsys):
    from quantdb_lab.cli import main

    folio = tmp_path / "folio.txt"
    folio.write_text("600519\n000001\n", encoding="utf-8")
    status = main(["--cache-dir", str(tmp_path / "c"), "--provider", "simulated", "fetch", "--portfolio", str(folio),
                   "--start", "2026-11-02", "--events", "dragon_tiger,limit_up_pool"])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0 and "dragon_tiger:" in out and "limit_up_pool:" in out


def test_a_read_of_the_whole_history_follows_from_what_the_upstream_kept_that_day(tmp_path):
    lab, provider, clock = lab_at(tmp_path)
    lab.read("limit_up_pool")  # no start: from the market's first session; the upstream keeps 20 sessions
    (target,) = followed(lab)
    assert target.since == MARKET.calendar.sessions(date(2025, 4, 1), date(2025, 6, 6))[-20]
    clock.advance(3 * 86400)
    report = lab.collect()
    assert report.forgotten == 0 and report.captured == 1  # Monday; decades before the first read are no gap


def test_the_registrys_minute_bars_join_the_collector_by_their_entry_alone(tmp_path):
    from quantdb_lab.domain.datasets import dataset

    minutes = dataset("bars_1min")
    assert minutes.forgets
    lab, provider, clock = lab_at(tmp_path)
    lab.bars(["600519", "000001"], start="2025-06-05", freq="1min")  # followed from this read
    clock.advance(3 * 86400)  # Monday's session closes
    provider.asked.clear()
    report = lab.collect()
    rows = {row["symbol"]: row for row in report.rows if row["dataset"] == "bars_1min"}
    assert set(rows) == {"600519.SH", "000001.SZ"}
    assert all(row["calls"] == 1 and row["captured"] == 1 for row in rows.values())  # one call per symbol
    again = lab.collect()
    assert again.calls == 0
