"""A-share earnings seasons: the statutory disclosure windows of periodic reports.

Listed companies must publish (CSRC rules on information disclosure; SSE/SZSE listing rules):

* the annual report within four months of the year end: **1 January - 30 April**;
* the first-quarter report within one month of the quarter end: **1 - 30 April** (inside the annual window);
* the interim (half-year) report within two months of 30 June: **1 July - 31 August**;
* the third-quarter report within one month of 30 September: **1 - 31 October**.

So the seasons are Jan-Apr (annual + Q1), Jul-Aug (interim) and October (Q3). Each company's actual report
dates would be finer; no provider here serves them yet, so "during earnings seasons" uses these windows for
every company alike, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

#: (label, first month, first day, last month, last day)
WINDOWS: Final = (
    ("Jan-Apr (annual and Q1 reports)", 1, 1, 4, 30),
    ("Jul-Aug (interim reports)", 7, 1, 8, 31),
    ("Oct (Q3 reports)", 10, 1, 10, 31),
)
DESCRIPTION: Final = ("A-share disclosure windows: annual and Q1 reports 1 Jan-30 Apr, interim reports "
                      "1 Jul-31 Aug, Q3 reports 1-31 Oct")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Season:
    label: str  # e.g. "2024 Jul-Aug (interim reports)"
    start: date
    end: date


def earnings_seasons(start: date, end: date) -> list[Season]:
    """The disclosure windows overlapping ``[start, end]``, clipped to it, in time order."""
    out = []
    for year in range(start.year, end.year + 1):
        for label, m1, d1, m2, d2 in WINDOWS:
            first, last = max(date(year, m1, d1), start), min(date(year, m2, d2), end)
            if first <= last:
                out.append(Season(f"{year} {label}", first, last))
    return out
