"""The usage log: bounded on disk, switchable off, one line per distinct request a day, safe to append from
several processes at once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date

import pytest

from quantdb_lab.store.usage_log import UsageLog
from tests.support.sim import make_lab

DAY = date(2025, 6, 11)


def _line(i: int) -> dict:
    return {"ts": "2025-06-11T20:00:00+08:00", "symbol": f"{i:06d}.SZ", "adjust": "qfq", "n": i}


def test_rotation_keeps_the_log_bounded(tmp_path):
    log = UsageLog(tmp_path, max_bytes=3000)
    for i in range(400):
        log.record(i, DAY, lambda i=i: _line(i))
        if i % 10 == 9:
            log.flush()
    assert log.path.stat().st_size <= 3000 and log.backup.stat().st_size <= 3000
    rows = log.read()
    assert rows[-1]["n"] == 399  # the newest survive; the oldest were dropped with the older backup
    assert [r["n"] for r in rows] == sorted(r["n"] for r in rows)
    assert len(rows) < 400


def test_one_line_per_request_per_day(tmp_path):
    log = UsageLog(tmp_path)
    for _ in range(1000):
        log.record("same", DAY, lambda: _line(1))
    log.record("same", date(2025, 6, 12), lambda: _line(2))
    assert [r["n"] for r in log.read()] == [1, 2]


def test_torn_lines_are_skipped(tmp_path):
    log = UsageLog(tmp_path)
    log.record("a", DAY, lambda: _line(1))
    log.flush()
    with open(log.path, "a", encoding="utf-8") as handle:
        handle.write('{"ts": "2025-06-11T2')  # a crash mid-write
    assert [r["n"] for r in log.read()] == [1]


def test_disabled_log_records_nothing(tmp_path):
    log = UsageLog(tmp_path, enabled=False)
    assert log.record("a", DAY, lambda: _line(1)) is False
    assert log.read() == []


def test_lab_usage_frame_and_off_switches(tmp_path, monkeypatch):
    lab, _, _ = make_lab(tmp_path / "on")
    lab.bars(["600519", "000001.SZ"], start="2025-01-01", end="2025-03-31")
    lab.bars("600519", start="2025-01-01", end="2025-03-31")  # the same request again: not a new line
    usage = lab.usage()
    assert usage["symbol"].to_list() == ["600519.SH", "000001.SZ"]
    assert usage.row(0, named=True) | {"pid": 0} == {
        "ts": "2025-06-06T16:00:00+08:00", "symbol": "600519.SH", "adjust": "qfq", "start": "2025-01-01",
        "end": "2025-03-31", "first": "2025-01-01", "last": "2025-03-31", "mode": "research", "related": True,
        "cached": False, "calls": 1, "pid": 0, "batch": 2, "dataset": "bars",  # batch: asked with one other symbol
    }  # fmt: skip

    from quantdb_lab.lab import Lab

    off = Lab(tmp_path / "off", provider=lab.provider, clock=lab.clock, usage_log=False)
    off.bars("600519", start="2025-01-01", end="2025-03-31")
    assert off.usage().is_empty()
    monkeypatch.setenv("QUANTDB_LAB_USAGE_LOG", "0")
    env_off = Lab(tmp_path / "env-off", provider=lab.provider, clock=lab.clock)
    env_off.bars("600519", start="2025-01-01", end="2025-03-31")
    assert env_off.usage().is_empty()


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import date
    from pathlib import Path
    from quantdb_lab.store.usage_log import UsageLog
    log = UsageLog(Path(sys.argv[1]), max_bytes=10**9)
    for i in range(300):
        log.record(i, date(2025, 6, 11), lambda i=i: {"writer": int(sys.argv[2]), "n": i, "pad": "x" * 200})
        if i % 7 == 0:
            log.flush()
    log.flush()
    """
)


@pytest.mark.timeout(60)
def test_several_processes_append_whole_lines(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(w)]) for w in range(4)]
    assert all(p.wait(timeout=50) == 0 for p in procs)
    lines = (tmp_path / "usage.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]  # every line parses: no interleaving
    assert len(rows) == 1200
    for writer in range(4):
        assert [r["n"] for r in rows if r["writer"] == writer] == list(range(300))
