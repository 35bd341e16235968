"""The fault suite (issue 17): every scenario injects faults, then proves nothing wrong was served, nothing was
lost and no wait ran past its bound.

One module per area (``test_<area>.py``: throttle, upstream, team_store, inputs, exposure, ...). A scenario is a
test that takes the ``fault`` fixture and says what it did::

    def test_a_lease_that_is_not_json_is_quarantined(fault, ...):
        fault.inject()                      # once per fault put in (or fault.inject(3))
        with fault.wait("permit") as waited:  # times a wait that must stay bounded
            ...
        assert ...                          # nothing wrong, nothing lost: the test passing is "survived"

The suite records one row per scenario: ``scenario, area, injected, survived, longest_wait`` (seconds, the
longest ``fault.wait`` or ``fault.waited(s)``). With ``QUANTDB_LAB_FAULT_LOG=<file>`` the rows are appended to
that file as JSON lines (``benchmarks/bench_faults.py`` runs the suite so and prints the table); without it
pytest's terminal summary prints the counts. A scenario that is skipped (moto missing, say) is recorded as
skipped, never as survived.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import pytest

LOG_ENV = "QUANTDB_LAB_FAULT_LOG"


@dataclass
class FaultRecord:
    scenario: str
    area: str
    injected: int = 0
    longest_wait: float = 0.0
    waits: dict[str, float] = field(default_factory=dict)
    outcome: str = "not run"  # survived | failed | skipped

    @property
    def survived(self) -> bool:
        return self.outcome == "survived"


class FaultRecorder:
    """What one scenario injected and how long it waited (the ``fault`` fixture)."""

    def __init__(self, record: FaultRecord) -> None:
        self.record = record

    def inject(self, count: int = 1) -> None:
        self.record.injected += count

    def waited(self, seconds: float, what: str = "wait") -> None:
        self.record.waits[what] = max(self.record.waits.get(what, 0.0), seconds)
        self.record.longest_wait = max(self.record.longest_wait, seconds)

    @contextmanager
    def wait(self, what: str = "wait") -> Iterator[dict[str, float]]:
        """Time the body; the dict it yields holds ``seconds`` afterwards (also when the body raised)."""
        box: dict[str, float] = {}
        started = time.monotonic()
        try:
            yield box
        finally:
            box["seconds"] = time.monotonic() - started
            self.waited(box["seconds"], what)


_RECORDS: dict[str, FaultRecord] = {}


def _area(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return module.removeprefix("test_").removesuffix(".py")


@pytest.fixture
def fault(request: pytest.FixtureRequest) -> FaultRecorder:
    record = FaultRecord(request.node.nodeid.split("/faults/", 1)[-1], _area(request.node.nodeid))
    _RECORDS[request.node.nodeid] = record
    return FaultRecorder(record)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    record = _RECORDS.get(item.nodeid)
    if record is not None:
        if report.skipped:
            record.outcome = "skipped"
        elif report.failed:
            record.outcome = "failed"
        elif report.when == "call" and record.outcome == "not run":
            record.outcome = "survived"
        if report.when == "teardown":
            _write(record)
    return report


def _write(record: FaultRecord) -> None:
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({**asdict(record), "survived": record.survived}) + "\n")


def pytest_terminal_summary(terminalreporter) -> None:
    records = list(_RECORDS.values())
    if not records:
        return
    injected = sum(r.injected for r in records)
    survived = sum(r.survived for r in records)
    longest = max((r.longest_wait for r in records), default=0.0)
    terminalreporter.write_line(
        f"fault suite: {len(records)} scenarios, {injected} faults injected, {survived} survived with nothing "
        f"wrong or lost, longest wait {longest:.2f} s"
    )
