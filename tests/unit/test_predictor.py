"""The predictor's rules as tables: usage log + calendar + now (+ peers) -> scored predictions.

Expected confidences are worked out by hand from the rules in the module docstring, e.g. two active days
running: (1 + 2^-1/3 + 1) / (1 + 2^-1/3 + 2) = 0.736.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.domain.clock import EXCHANGE_TZ
from quantdb_lab.prefetch.predict import Peers, latest_closed, predict

CAL = TradingCalendar.xshg()
# 2025-06-09 (Mon) .. 2025-06-13 (Fri) are sessions; 06-14/15 a weekend.


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EXCHANGE_TZ)


def use(ts: str, symbol: str = "A", *, adjust: str = "qfq", start: str | None = "2025-01-01", end: str | None = None,
        related: bool = True, pid: int = 1) -> dict:  # fmt: skip
    return {"ts": ts, "symbol": symbol, "adjust": adjust, "start": start, "end": end, "related": related, "pid": pid}


def by_symbol(predictions):
    return {p.symbol: p for p in predictions}


@pytest.mark.parametrize(
    ("now", "closed"),
    [
        ("2025-06-11 16:00", "2025-06-11"),  # after the bar is final
        ("2025-06-11 15:10", "2025-06-10"),  # the session's bar is not final yet
        ("2025-06-11 08:00", "2025-06-10"),  # before the open
        ("2025-06-14 12:00", "2025-06-13"),  # Saturday
    ],
)
def test_latest_closed_session(now, closed):
    assert latest_closed(CAL, at(now)) == date.fromisoformat(closed)


TRACKING = [
    # (log, now, expected confidence of A or None)
    ([use("2025-06-10T20:00:00+08:00")], "2025-06-11 16:00", 0.667),  # a one-off look: below 0.7
    ([use("2025-06-09T20:00:00+08:00"), use("2025-06-10T20:00:00+08:00")], "2025-06-11 16:00", 0.736),
    (
        [use(f"2025-06-{d:02d}T20:00:00+08:00") for d in (9, 10, 11, 12, 13)],
        "2025-06-14 10:00",
        round((1 + sum(0.5 ** (i / 3) for i in range(5))) / (2 + sum(0.5 ** (i / 3) for i in range(5))), 3),
    ),
    # asked on the 1st and 3rd of three active days (B keeps the middle day active)
    ([use("2025-06-09T20:00:00+08:00"), use("2025-06-10T20:00:00+08:00", "B"), use("2025-06-11T20:00:00+08:00")],
     "2025-06-12 16:00", 0.595),
    # today (06-11) is active but A is not asked yet: today does not count against it
    ([use("2025-06-09T20:00:00+08:00"), use("2025-06-10T20:00:00+08:00"), use("2025-06-11T09:00:00+08:00", "B")],
     "2025-06-11 16:00", 0.708),
    ([use("2025-06-10T20:00:00+08:00", end="2024-12-31")], "2025-06-11 16:00", None),  # final data: no extension
    ([use("2025-06-12T20:00:00+08:00")], "2025-06-11 16:00", None),  # the log's future is invisible
    ([], "2025-06-11 16:00", None),
]  # fmt: skip


@pytest.mark.parametrize(("log", "now", "expected"), TRACKING)
def test_tracking_scores_recency_and_frequency(log, now, expected):
    predictions = by_symbol(predict(log, CAL, at(now)))
    if expected is None:
        assert "A" not in predictions
        return
    a = predictions["A"]
    assert a.confidence == pytest.approx(expected, abs=0.001)
    assert (a.start, a.end, a.adjust) == (date(2025, 1, 1), latest_closed(CAL, at(now)), "qfq")
    assert a.reason.startswith("tracked")


def test_co_requested_symbol_is_predicted_right_after_its_partner():
    log = [use(f"2025-06-{d:02d}T20:00:00+08:00", "X") for d in (9, 10, 11, 12)]
    log += [use("2025-06-09T20:01:00+08:00", s) for s in ("A", "B")] + [use("2025-06-11T20:01:00+08:00", s) for s in ("A", "B")]
    log += [use("2025-06-13T19:00:00+08:00", "A")]  # today: A asked, B not yet
    b = by_symbol(predict(log, CAL, at("2025-06-13 19:05")))["B"]
    assert b.confidence == pytest.approx(0.75)  # (2 + 1) / (2 + 2)
    assert "asked with A on 2" in b.reason
    assert b.ready_by == at("2025-06-13 19:05")  # now: B is minutes away
    assert b.end == date(2025, 6, 13)


def test_one_co_request_is_not_a_habit():
    log = [use("2025-06-10T20:00:00+08:00", s) for s in ("A", "B")] + [use("2025-06-11T19:00:00+08:00", "A")]
    b = by_symbol(predict(log, CAL, at("2025-06-11 19:05"))).get("B")
    assert b is None or "asked with" not in b.reason


SECTOR = Peers({"sector:Fin": ("A", "B", "C", "D", "E"), "index:BIG": tuple("ABCDEFGHIJKLMNOPQRST")})

PEERS = [
    # (studied yesterday, related mode, expected confidence of the unstudied C or None)
    (("A", "B"), True, 0.7),  # 2 of 5: 0.5 + 0.5 * 0.4
    (("A", "B", "C", "D"), True, 0.9),
    (("A",), True, None),  # one stock of a sector is not a sector study
    (("A", "B"), False, None),  # the mode does not prefetch related series (trading)
]


@pytest.mark.parametrize(("studied", "related", "expected"), PEERS)
def test_peers_of_a_sector_being_studied(studied, related, expected):
    log = [use("2025-06-10T20:00:00+08:00", s, related=related, start="2024-06-01") for s in studied]
    predictions = by_symbol(predict(log, CAL, at("2025-06-11 16:00"), peers=SECTOR))
    if expected is None:
        assert "E" not in predictions
        return
    e = predictions["E"]
    assert e.confidence == pytest.approx(expected)
    assert (e.start, e.adjust) == (date(2024, 6, 1), "qfq")
    assert "peer in sector:Fin" in e.reason
    f = predictions.get("F")  # 2-4 of 20 index members: too thin a study to warm the index (at most 0.6)
    assert f is None or f.confidence == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("times", "expected"),
    [(("10:30",), 0.75), (("10:30", "13:15"), 0.9), (("20:00", "21:00"), None)],
)
def test_series_used_while_the_market_is_open_are_ready_by_the_next_open(times, expected):
    days = ("2025-06-11", "2025-06-12")
    log = [use(f"{day}T{t}:00+08:00", adjust="", related=False) for day, t in zip(days, times)]
    a = by_symbol(predict(log, CAL, at("2025-06-12 16:00")))["A"]
    if expected is None:
        assert "market was open" not in a.reason
        return
    assert a.confidence == pytest.approx(expected)
    assert a.ready_by == at("2025-06-13 09:30")
    assert a.end == date(2025, 6, 12)


@pytest.mark.parametrize(
    ("now", "ready_by"),
    [
        ("2025-06-11 16:00", "2025-06-12 09:10"),
        ("2025-06-12 08:00", "2025-06-12 09:10"),  # still ahead today
        ("2025-06-13 16:00", "2025-06-16 09:10"),  # Friday: the user never works weekends
    ],
)
def test_ready_by_follows_the_usual_time_of_day(now, ready_by):
    log = [use("2025-06-09T09:00:00+08:00"), use("2025-06-10T09:10:00+08:00"), use("2025-06-11T09:20:00+08:00")]
    log = [row for row in log if row["ts"] < at(now).isoformat()]
    assert predict(log, CAL, at(now))[0].ready_by == at(ready_by)


def test_order_is_ready_by_then_confidence_and_series_are_merged():
    log = [use(f"2025-06-{d:02d}T20:00:00+08:00", "A") for d in (9, 10, 11)]
    log += [use("2025-06-11T20:00:00+08:00", "B")]
    log += [use(f"2025-06-{d:02d}T10:30:00+08:00", "T", adjust="", related=False) for d in (10, 11)]
    predictions = predict(log, CAL, at("2025-06-11 21:00"))
    assert [p.symbol for p in predictions] == ["T", "A", "B"]  # T is due at the open, A and B at the usual 10:30
    assert len({(p.symbol, p.adjust) for p in predictions}) == len(predictions)


def test_accepts_the_lab_usage_frame():
    import polars as pl

    frame = pl.DataFrame([use("2025-06-09T20:00:00+08:00"), use("2025-06-10T20:00:00+08:00")])
    assert by_symbol(predict(frame, CAL, at("2025-06-11 16:00")))["A"].confidence == pytest.approx(0.736)


# -- rule 5: a cross-section question is one prediction (issue 24) ------------------------------------------
MARKET60 = tuple(f"S{i:02d}" for i in range(60))


def _question(ts, symbols=MARKET60, end=None):
    return [use(ts, s, end=end) | {"batch": len(symbols)} for s in symbols]


def test_a_cross_section_question_is_one_universe_prediction():
    log = _question("2025-06-10T20:00:00+08:00")
    predictions = predict(log, CAL, at("2025-06-11 16:00"), peers=Peers({"sector:Big": MARKET60}))
    assert [(p.kind, p.symbol, p.members, p.confidence) for p in predictions] == [
        ("universe", "universe sector:Big", MARKET60, 0.5)]  # asked on 1 of 1 day: 1 / (1 + 1)  # fmt: skip


def test_a_universe_asked_again_rises_and_one_with_a_fixed_past_end_is_final():
    log = _question("2025-06-10T20:00:00+08:00") + _question("2025-06-11T20:00:00+08:00", MARKET60[:55])
    (p,) = predict(log, CAL, at("2025-06-12 16:00"))
    # 2 of 2 days (55 of 60 overlap: Jaccard 0.92, one universe): 2 / (2 + 1); unnamed without peers
    assert (p.kind, p.confidence, p.symbol, len(p.members)) == ("universe", 0.667, "universe of 55 symbols", 55)
    assert predict(_question("2025-06-10T20:00:00+08:00", end="2025-05-30"), CAL, at("2025-06-11 16:00")) == []


def test_a_watchlist_beside_a_cross_section_keeps_its_own_tracking():
    log = [use(f"2025-06-{d:02d}T20:00:00+08:00", "S01") for d in (9, 10)] + _question("2025-06-10T20:00:00+08:00")
    predictions = by_symbol(predict(log, CAL, at("2025-06-11 16:00")))
    assert predictions["S01"].kind == "tracked" and predictions["S01"].confidence == 0.736  # the two own asks only
    assert set(predictions) == {"S01", "universe of 60 symbols"}


def test_the_studied_part_of_a_group_and_its_rest_are_separate_rules():
    log = [use("2025-06-10T20:00:00+08:00", s) for s in "ABC"]
    kinds = {p.symbol: p.kind for p in predict(log, CAL, at("2025-06-11 16:00"), peers=SECTOR)}
    # sector:Fin 3 of 5 studied (0.6 >= 0.2): all five at 0.8; index:BIG 3 of 20 (0.15 < 0.2): none
    assert kinds == {"A": "peer", "B": "peer", "C": "peer", "D": "peer rest", "E": "peer rest"}


def test_peer_share_counts_only_members_listed_before_the_study_start():
    # E listed after the study's start (2024-06-01): A, B of the 4 members listed by then are studied,
    # share 2/4 -> 0.5 + 0.5 * 0.5 = 0.75 (over all five members it would be 2/5 -> 0.7).
    peers = Peers({"sector:Fin": ("A", "B", "C", "D", "E")}, listed={"E": date(2024, 9, 2), "A": date(2010, 1, 4)})
    log = [use("2025-06-10T20:00:00+08:00", s, start="2024-06-01") for s in ("A", "B")]
    predictions = by_symbol(predict(log, CAL, at("2025-06-11 16:00"), peers=peers))
    assert predictions["C"].confidence == pytest.approx(0.75)
    assert predictions["E"].confidence == pytest.approx(0.75)  # still a member: its listing only leaves the share
    assert "2 of 4 listed by" in predictions["C"].reason


def test_peers_from_a_security_master_carry_listing_dates():
    import polars as pl

    from quantdb_lab.prefetch import peers_from_securities

    master = pl.DataFrame({"symbol": ["A", "B", "C"], "industry": ["Fin", "Fin", None],
                           "list_date": [date(2001, 1, 2), date(2024, 9, 2), date(2003, 3, 3)]})  # fmt: skip
    peers = peers_from_securities(master)
    assert dict(peers.groups) == {"sector:Fin": ("A", "B")}
    assert dict(peers.listed) == {"A": date(2001, 1, 2), "B": date(2024, 9, 2), "C": date(2003, 3, 3)}
