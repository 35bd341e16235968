"""Issue 24: after one whole-universe question the warmer spent 294 calls, 95% never used. Reproduced on the
simulated market with the ~290 stocks listed before 2025 as one "sector": the question reads every member once, the researcher then looks at
15 of them. A cross-section question is one prediction about the universe, not 300 predictions."""

from __future__ import annotations

import warnings

from quantdb_lab.prefetch import Peers, Warmer
from tests.support.sim import MARKET, calls, make_lab

warnings.filterwarnings("ignore", category=DeprecationWarning)
UNIVERSE = sorted(s for s in MARKET.symbols("stock") if MARKET.listing_date(s).year < 2025)
DAY = 24 * 3600


def _after_one_question(tmp_path, end):
    lab, provider, clock = make_lab(tmp_path, now="2025-06-09 16:00")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab.bars(UNIVERSE, start="2025-05-01", end=end)  # "top 10 tech stocks last month": one call, 300 symbols
    return lab, provider, clock


def test_one_whole_universe_question_does_not_warm_the_universe(tmp_path):
    lab, provider, clock = _after_one_question(tmp_path, "2025-05-30")
    clock.advance(DAY)  # after the next close: the nightly pass
    before = calls(provider)
    report = Warmer(lab, peers=Peers({"sector:Technology": tuple(UNIVERSE)})).run_once()
    spent = calls(provider) - before
    clock.advance(4 * 3600)
    lab.bars(UNIVERSE[:15], start="2025-05-01")  # the researcher drills into 15 of them
    warming = lab.stats()["warming"]
    assert spent <= 30, f"{spent} warming calls after one cross-section question (issue 24: 294)"
    assert report.calls == spent
    assert not warming["warming_calls"] or warming["wasted_share"] <= 0.30, warming


def test_an_open_ended_universe_question_is_one_prediction(tmp_path):
    lab, _, clock = _after_one_question(tmp_path, None)  # "... this month": up to now
    clock.advance(DAY)
    read = tuple(sorted(lab.usage()["symbol"]))  # a few members have no bars in the span: not read
    assert len(read) > 250
    plan = Warmer(lab, peers=Peers({"sector:Technology": tuple(UNIVERSE)}), daily_calls=200).plan()
    assert [(v.prediction.kind, v.prediction.symbols) for v in plan] == [("universe", read)]
    universe = plan[0]
    assert universe.prediction.symbol == "universe sector:Technology"
    assert universe.probability == 0.5  # asked on 1 of 1 day: uniform prior on the daily repeat, no outcomes yet
    assert universe.calls == 200  # the members the day's budget can hold: each is worth p
    assert not universe.chosen and universe.why_not == "expected value below cost"  # p = 0.5 < 0.7 a call
