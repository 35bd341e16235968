"""Pure pieces of the many-upstreams work: session provenance runs, the cross-check, source slots."""

from __future__ import annotations

import threading
from datetime import date

import polars as pl

from quantdb_lab.loader.failover import served_by, source_at, with_run
from quantdb_lab.portfolio.spread import SourceSlots
from quantdb_lab.quality.sources import compare_sources


def test_runs_replace_what_a_later_fetch_covers_and_merge_neighbours():
    runs = with_run((), "eastmoney", 100, 200)
    runs = with_run(runs, "sina", 150, 250)
    assert runs == (("eastmoney", 100, 149), ("sina", 150, 250))
    runs = with_run(runs, "sina", 251, 260)
    assert runs == (("eastmoney", 100, 149), ("sina", 150, 260))
    runs = with_run(runs, "tencent", 120, 130)
    assert runs == (("eastmoney", 100, 119), ("tencent", 120, 130), ("eastmoney", 131, 149), ("sina", 150, 260))
    assert source_at(runs, 125, "x") == "tencent" and source_at(runs, 99, "x") == "x"


def test_served_by_clips_runs_to_the_read():
    day = date(2024, 1, 1).toordinal() - date(1970, 1, 1).toordinal()
    runs = (("eastmoney", day, day + 9), ("sina", day + 10, day + 30))
    assert served_by(runs, date(2024, 1, 5), date(2024, 1, 15)) == (
        ("eastmoney", date(2024, 1, 5), date(2024, 1, 10)), ("sina", date(2024, 1, 11), date(2024, 1, 15)))


def bars(closes, volumes, start=2):
    n = len(closes)
    return pl.DataFrame({
        "symbol": ["600000.SH"] * n, "date": [date(2024, 1, start + i) for i in range(n)],
        "open": closes, "high": [c + 0.1 for c in closes], "low": [c - 0.1 for c in closes], "close": closes,
        "volume": volumes,
    })  # fmt: skip


def test_prices_within_one_cent_agree_and_a_cent_and_a_half_does_not():
    ours = bars([10.00, 10.10, 10.20], [1e6, 2e6, 3e6])
    assert compare_sources(ours, bars([10.01, 10.09, 10.20], [1e6, 2e6, 3e6]), ours_name="a", theirs_name="b").is_empty()
    found = compare_sources(ours, bars([10.00, 10.115, 10.20], [1e6, 2e6, 3e6]), ours_name="eastmoney", theirs_name="sina")
    assert found["date"].to_list() == [date(2024, 1, 3)]
    assert found["detail"][0].startswith("sina and eastmoney disagree: close 10.115 vs 10.1")


def test_volume_in_lots_against_shares_is_named():
    found = compare_sources(bars([10.0, 10.1], [1e6, 2e6]), bars([10.0, 10.1], [1e4, 2e4]), ours_name="eastmoney",
                            theirs_name="tencent")  # fmt: skip
    assert found.height == 2 and "tencent volume is 0.01 x eastmoney's" in found["detail"][0]


def test_no_common_session_is_no_issue():
    assert compare_sources(bars([10.0], [1.0]), bars([11.0], [1.0], start=9), ours_name="a", theirs_name="b").is_empty()


def test_slots_rotate_and_never_exceed_each_sources_share():
    slots = SourceSlots({"eastmoney": 2, "sina": 1, "tencent": 1})
    order = []
    for _ in range(4):
        with slots.take() as name:
            order.append(name)
    assert set(order) == {"eastmoney", "sina", "tencent"}
    held, peak, lock = {}, {}, threading.Lock()

    def work():
        with slots.take() as name:
            with lock:
                held[name] = held.get(name, 0) + 1
                peak[name] = max(peak.get(name, 0), held[name])
            threading.Event().wait(0.01)
            with lock:
                held[name] -= 1

    threads = [threading.Thread(target=work) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak["eastmoney"] <= 2 and peak["sina"] <= 1 and peak["tencent"] <= 1
