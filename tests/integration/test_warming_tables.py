"""The warmer refreshes the reference tables a user reads every day (prefetch.tables): the security master that
every sector question reads is fresh before the first question of the morning, and a table read once is not
refreshed (one read is no habit)."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta

from quantdb_lab.prefetch import Warmer
from tests.support.sim import MARKET, make_lab

warnings.filterwarnings("ignore", category=DeprecationWarning)
SESSIONS = MARKET.calendar.sessions(datetime(2025, 6, 9).date(), datetime(2025, 6, 20).date())


def at(day, hour: int, minute: int = 0) -> datetime:
    from tests.support.sim import at as exchange_time

    return exchange_time(f"{day.isoformat()} {hour:02d}:{minute:02d}")


def securities_calls(provider) -> int:
    return provider.calls["fetch_securities"]


def morning_reads_and_nightly_warming(lab, clock, days) -> None:
    """Each session: the master read at 09:30 (a sector question), then a warming pass at 16:30."""
    for day in days:
        clock.current = at(day, 9, 30)
        lab.securities()
        clock.current = at(day, 16, 30)
        Warmer(lab, peers=None, daily_calls=50).run_once()


def test_a_table_read_every_morning_is_refreshed_the_night_before(tmp_path):
    lab, provider, clock = make_lab(tmp_path, now="2025-06-09 09:30")
    morning_reads_and_nightly_warming(lab, clock, SESSIONS[:4])
    # read on 4 of 4 active days: 4 / 5 = 0.8, above the price of a call, so the fourth night refreshed it
    (table,) = [v for v in Warmer(lab, peers=None).plan() if v.prediction.kind == "table"]
    assert table.prediction.symbol == "securities" and table.prediction.confidence == 0.8
    assert table.calls == 0 and table.why_not == "already warm"
    clock.current = at(SESSIONS[4], 9, 30)
    before = securities_calls(provider)
    lab.securities()
    assert securities_calls(provider) == before  # the morning's read made no call
    entries = [e for e in lab.tracking.ledger.entries() if e.get("kind") == "table"]
    assert entries and entries[-1]["symbol"] == "securities" and entries[-1]["uses"] >= 1


def test_a_table_read_once_is_not_refreshed(tmp_path):
    lab, provider, clock = make_lab(tmp_path, now="2025-06-09 09:30")
    morning_reads_and_nightly_warming(lab, clock, SESSIONS[:1])
    plan = [v for v in Warmer(lab, peers=None).plan() if v.prediction.kind == "table"]
    assert [v.prediction.confidence for v in plan] == [0.5] and not plan[0].chosen  # 1 / 2: below 0.7
    clock.current = at(SESSIONS[1], 9, 30)
    before = securities_calls(provider)
    lab.securities()
    assert securities_calls(provider) == before + 1  # stale since the close: the read refreshes it


def test_the_warmers_refresh_is_not_logged_as_a_read(tmp_path):
    lab, _, clock = make_lab(tmp_path, now="2025-06-09 09:30")
    morning_reads_and_nightly_warming(lab, clock, SESSIONS[:4])
    log = lab.tracking.usage_frame(every_dataset=True).filter(dataset="reference")
    stamps = sorted(log["ts"].to_list())
    assert len(stamps) == 4 and all(ts[11:16] == "09:30" for ts in stamps)  # the 16:30 refreshes are not reads
    assert timedelta(days=0) < datetime.fromisoformat(stamps[-1]) - datetime.fromisoformat(stamps[0])
