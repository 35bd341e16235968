"""Periods in questions, resolved to inclusive ``(start, end)`` dates relative to ``today``.

Rules (documented here because they are choices; the Chinese forms live in ``vocabulary.json`` under
``patterns``, with their English equivalents named here):

* "the last/past N days" and the Chinese "recent N days" forms count **trading sessions** (researchers mean
  the last five days as five sessions); weeks, months and years are calendar spans ending today: "over the
  last month" is today minus one month plus a day through today.
* With "the" ("over the last month", "the past year") a span is trailing; bare "last month", "last quarter",
  "last year" (and the Chinese "previous month/quarter", "last year" words) mean the previous **calendar**
  month, quarter or year.
* "YTD", "year to date", "this year" (and the Chinese "this year", "since the start of the year"): 1 January
  through today. "2024" or "2024" with the Chinese year character: the calendar year.
* "Q3" or the Chinese "third quarter" without a year: the latest third quarter that has begun.
* Explicit dates: 2024-01-31, 2024/1/31, 20240131 and the Chinese year-month-day form; months 2024-03,
  "March 2024"; ranges "from A to B", "between A and B", "A to B" and the Chinese from/to forms; "since A".
* Half-years: "H1 2024", "the first half of 2024" and the Chinese upper/lower half-year words; without a year,
  the latest half that has begun (in June, the first half of this year; the second half: last year's).
* Months and month ranges without a year ("in May", "from January to March", the Chinese "1 to 6 month"
  form): the latest such span that has begun. "since March" starts on the latest 1 March.
* "since the start of 2024", the Chinese "start of 2024 since" form, and any period followed by the Chinese
  since/until-now words: from the period's first day through today.
* "yesterday" and "the day before yesterday" (and the Chinese words) are the previous sessions; "today" is today.
* An end after today is cut to today; a start after today is an error (no future data).
"""

from __future__ import annotations

import calendar as month_calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from quantdb_lab.query.vocabulary import Vocabulary

MONTHS = {name.lower(): i for i, name in enumerate(month_calendar.month_name) if name}
MONTHS |= {name.lower(): i for i, name in enumerate(month_calendar.month_abbr) if name}
MONTHS["sept"] = 9
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY = r"\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{4}\.\d{1,2}\.\d{1,2}|(?<!\d)\d{8}(?!\d)"
_POINT = rf"(?:{_DAY}|\d{{4}}-\d{{1,2}}|(?:{_MONTH})\s+\d{{4}}|\d{{4}})"
_EN_NUM = r"\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|fifty|a"
_UNITS = {"day": "session", "days": "session", "trading day": "session", "trading days": "session",
          "session": "session", "sessions": "session", "week": "week", "weeks": "week", "month": "month",
          "months": "month", "quarter": "quarter", "quarters": "quarter", "year": "year", "years": "year"}  # fmt: skip
_UNIT = "|".join(sorted(_UNITS, key=len, reverse=True))

_HALF = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "1": 1, "2": 2}
EN_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("month_range", re.compile(rf"\b(?:from\s+|between\s+)?(?P<m1>{_MONTH})(?:\s+(?P<y1>\d{{4}}))?\s*(?:to|-|–|through|"
                               rf"thru|until|till|and)\s*(?P<m2>{_MONTH})\b(?:\s+(?P<y2>\d{{4}}))?")),
    ("half", re.compile(r"\b(?:(?P<y1>\d{4})\s*)?h(?P<h>[12])(?:\s*(?P<y2>\d{4}))?\b")),
    ("half", re.compile(r"\b(?:the\s+)?(?P<h>first|second|1st|2nd)\s+half(?:\s+of)?(?:\s+(?:the\s+)?(?P<y2>\d{4}|this year|"
                        r"last year|the year))?\b")),
    ("since_start", re.compile(r"\bsince\s+(?:the\s+)?(?:start|beginning|begin|outset|turn)\s+of\s+(?:the\s+)?"
                               r"(?P<y>\d{4}|this year|last year|year)\b")),
    ("since_start", re.compile(r"\bsince\s+early\s+(?P<y>\d{4})\b")),
    ("since_month", re.compile(rf"\bsince\s+(?P<m>{_MONTH})\b(?!\s+\d{{4}})")),
    ("in_month", re.compile(rf"\b(?:in|during|for|of|over)\s+(?P<m>{_MONTH})\b(?!\s+\d{{4}})(?!-)")),
    ("relative_day", re.compile(r"\b(?P<d>the day before yesterday|yesterday|today|this session|the latest session|"
                                r"last session|the last session|last trading day|the last trading day)\b")),
    ("range", re.compile(rf"(?:from|between)\s+(?P<a>{_POINT})\s+(?:to|and|until|till|through|thru|-)\s+"
                         rf"(?P<b>{_POINT}|today|now)")),
    ("range", re.compile(rf"(?P<a>{_DAY}|\d{{4}}-\d{{1,2}})\s*(?:to|-|~|until|through)\s*(?P<b>{_DAY}|\d{{4}}-\d{{1,2}}|today|now)")),
    ("since", re.compile(rf"since\s+(?P<a>{_POINT})")),
    ("trailing", re.compile(rf"(?:the\s+)(?:last|past|previous|recent|trailing)\s+(?:(?P<n>{_EN_NUM})\s+)?(?P<unit>{_UNIT})\b")),
    ("trailing", re.compile(rf"(?:past|trailing|recent)\s+(?:(?P<n>{_EN_NUM})\s+)?(?P<unit>{_UNIT})\b")),
    ("trailing", re.compile(rf"last\s+(?P<n>{_EN_NUM})\s+(?P<unit>{_UNIT})\b")),
    ("ytd", re.compile(r"\b(?:ytd|year[\s-]to[\s-]date|so far this year|this year so far|this year)\b")),
    ("previous", re.compile(r"\b(?:last|previous|prior)\s+(?:calendar\s+)?(?P<unit>week|month|quarter|year)\b")),
    ("current", re.compile(r"\bthis\s+(?P<unit>week|month|quarter)\b")),
    ("quarter", re.compile(r"\b(?:(?P<y1>\d{4})\s*)?q(?P<q>[1-4])(?:\s*(?:of\s+)?(?P<y2>\d{4}))?\b")),
    ("quarter", re.compile(r"\b(?P<q>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter(?:\s+(?:of\s+)?(?P<y2>\d{4}))?\b")),
    ("day", re.compile(rf"(?P<a>{_DAY})")),
    ("month", re.compile(rf"\b(?P<m>{_MONTH})\s+(?P<y>\d{{4}})\b|\b(?P<y3>\d{{4}})-(?P<m3>\d{{1,2}})\b")),
    ("year", re.compile(r"(?<![\d-])(?P<y>(?:19|20)\d{2})(?![\d-])")),
]
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}


_ORD = r"(?:st|nd|rd|th)?"
_WORD_DATES = [
    re.compile(rf"\b(?P<m>{_MONTH})\.?\s+(?P<d>\d{{1,2}}){_ORD}\b(?:,?\s*(?P<y>\d{{4}}))?"),
    re.compile(rf"\b(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<m>{_MONTH})\b(?:,?\s*(?P<y>\d{{4}}))?"),
]
_ZH_DAY = re.compile(r"(?P<y>\d{4})\u5e74(?P<m>\d{1,2})\u6708(?P<d>\d{1,2})(?:\u65e5|\u53f7)")
_ZH_SHORT_YEAR = re.compile(r"(?<![\d-])(?P<y>\d{2})(?=\u5e74)")


def iso_dates(text: str, today: date) -> str:
    """``text`` with dates written in words ("March 1", "1 January 2024", the Chinese year-month-day form) as
    ISO dates, and two-digit Chinese years ("24" + year) as four digits, so the period rules see one form.
    A day without a year is the latest such day on or before today."""

    def word(match: re.Match[str]) -> str:
        month, day = MONTHS[match.group("m")], int(match.group("d"))
        if not 1 <= day <= 31:
            return match.group(0)
        year = int(match.group("y")) if match.group("y") else today.year
        try:
            found = date(year, month, day)
            if not match.group("y") and found > today:
                found = date(year - 1, month, day)
        except ValueError:
            return match.group(0)
        return found.isoformat()

    for pattern in _WORD_DATES:
        text = pattern.sub(word, text)
    text = _ZH_DAY.sub(lambda m: f"{m.group('y')}-{int(m.group('m')):02d}-{int(m.group('d')):02d}", text)
    return _ZH_SHORT_YEAR.sub(lambda m: ("20" if int(m.group("y")) <= today.year % 100 else "19") + m.group("y"), text)


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date
    label: str


class PeriodError(ValueError):
    """A period was named but cannot be used (in the future, or two different periods)."""


def months_before(day: date, months: int) -> date:
    month = day.month - 1 - months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def quarter_span(year: int, quarter: int) -> tuple[date, date]:
    first = date(year, 3 * quarter - 2, 1)
    last_month = 3 * quarter
    return first, date(year, last_month, month_calendar.monthrange(year, last_month)[1])


class PeriodParser:
    """Finds at most one period in a question. ``sessions_back(n)`` gives the date of the n-th latest session
    on or before today (from the Lab's calendar)."""

    def __init__(self, vocab: Vocabulary, today: date, sessions_back: Callable[[int], date]) -> None:
        self.vocab = vocab
        self.today = today
        self.sessions_back = sessions_back

    def _number(self, text: str | None) -> int:
        if not text:
            return 1
        if text.isdigit():
            return int(text)
        value = self.vocab.numbers_en.get(text)
        if value is None:
            value = self.vocab.zh_number(text)
        if value is None:
            raise PeriodError(f"cannot read {text!r} as a number")
        return value

    def point(self, text: str, *, end: bool) -> date:
        """A date, month or year as the first (or, with ``end``, the last) day it covers."""
        text = text.strip()
        if text in ("today", "now") or text in self.vocab.data["patterns"]["zh_named"] and \
                self.vocab.data["patterns"]["zh_named"][text] == "today":  # fmt: skip
            return self.today
        zh = re.fullmatch(r"(\d{4})\D(?:(\d{1,2})\D(?:(\d{1,2})\D)?)?", text)
        if zh and not re.fullmatch(r"\d{4}-\d{1,2}(-\d{1,2})?", text):
            text = "-".join(g for g in zh.groups() if g)
        if re.fullmatch(r"\d{8}", text):
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        parts = re.split(r"[-/.\s]+", text)
        if parts[0] in MONTHS:
            parts = [parts[1], str(MONTHS[parts[0]])]
        numbers = [int(p) for p in parts]
        if len(numbers) == 3:
            return date(*numbers)
        if len(numbers) == 2:
            year, month = numbers
            return date(year, month, month_calendar.monthrange(year, month)[1] if end else 1)
        return date(numbers[0], 12, 31) if end else date(numbers[0], 1, 1)

    def _unit_span(self, n: int, unit: str) -> tuple[date, date]:
        today = self.today
        if unit == "session":
            return self.sessions_back(n), today
        if unit == "week":
            return today - timedelta(days=7 * n - 1), today
        months = {"month": n, "quarter": 3 * n, "year": 12 * n}[unit]
        return months_before(today, months) + timedelta(days=1), today

    def _previous(self, unit: str) -> tuple[date, date]:
        today = self.today
        if unit == "week":
            monday = today - timedelta(days=today.weekday())
            return monday - timedelta(days=7), monday - timedelta(days=1)
        if unit == "month":
            last = today.replace(day=1) - timedelta(days=1)
            return last.replace(day=1), last
        if unit == "quarter":
            q = (today.month - 1) // 3 + 1
            return quarter_span(today.year, q - 1) if q > 1 else quarter_span(today.year - 1, 4)
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)

    def _current(self, unit: str) -> tuple[date, date]:
        today = self.today
        if unit == "week":
            return today - timedelta(days=today.weekday()), today
        if unit == "month":
            return today.replace(day=1), today
        return quarter_span(today.year, (today.month - 1) // 3 + 1)[0], today

    def _quarter(self, q: int, year: int | None) -> tuple[date, date]:
        if year is None:
            year = self.today.year if quarter_span(self.today.year, q)[0] <= self.today else self.today.year - 1
        return quarter_span(year, q)

    def resolve(self, kind: str, groups: dict[str, str | None], phrase: str) -> tuple[date, date]:
        if kind == "range":
            return self.point(groups["a"], end=False), self.point(groups["b"], end=True)
        if kind == "since":
            return self.point(groups["a"], end=False), self.today
        if kind == "trailing":
            return self._unit_span(self._number(groups.get("n")), _UNITS.get(groups["unit"], groups["unit"]))
        if kind == "ytd":
            return date(self.today.year, 1, 1), self.today
        if kind == "previous":
            return self._previous(groups["unit"])
        if kind == "current":
            return self._current(groups["unit"])
        if kind == "quarter":
            q = groups["q"]
            quarter = _ORDINAL.get(q) or self.vocab.zh_number(q) or int(q)
            year = groups.get("y1") or groups.get("y2") or groups.get("y")
            return self._quarter(quarter, int(year) if year else None)
        if kind == "day":
            day = self.point(groups["a"], end=False)
            return day, day
        if kind == "month":
            y, m = groups.get("y") or groups.get("y3"), groups.get("m") or groups.get("m3")
            text = f"{y}-{MONTHS.get(m, m)}" if not str(m).isdigit() else f"{y}-{m}"
            return self.point(text, end=False), self.point(text, end=True)
        if kind == "year":
            year = int(groups["y"])
            if groups.get("m"):
                text = f"{year}-{int(groups['m'])}"
                return self.point(text, end=False), self.point(text, end=True)
            if groups.get("q"):
                return self._quarter(self.vocab.zh_number(groups["q"]) or int(groups["q"]), year)
            return date(year, 1, 1), date(year, 12, 31)
        if kind == "named":
            return self._named(groups["key"])
        if kind == "half":
            return self._half(_HALF[groups["h"]] if groups["h"] in _HALF else (1 if groups["h"] == "\u4e0a" else 2),
                              self._year_word(groups.get("y1") or groups.get("y2") or groups.get("which")))
        if kind == "month_range":
            return self._month_range(groups)
        if kind in ("since_month", "in_month"):
            month = MONTHS.get(str(groups["m"]).lower()) or int(groups["m"])
            first, last = self._latest_months(month, month, None)
            return (first, self.today) if kind == "since_month" else (first, last)
        if kind == "since_start":
            year = self._year_word(groups.get("y")) or self.today.year
            return date(year, 1, 1), self.today
        if kind == "relative_day":
            word = groups["d"]
            n = 3 if "before" in word else 2 if word in ("yesterday",) else 1
            day = self.sessions_back(n) if n > 1 else self.today
            return day, day
        raise PeriodError(f"unknown period kind {kind}")

    def _year_word(self, text: str | None) -> int | None:
        """A year named as digits (with or without the Chinese year character) or as this/last year."""
        if not text:
            return None
        digits = re.match(r"(\d{4})", text)
        if digits:
            return int(digits.group(1))
        named = self.vocab.data["patterns"]["zh_named"].get(text)
        if text in ("last year",) or named == "last_year":
            return self.today.year - 1
        return self.today.year

    def _half(self, half: int, year: int | None) -> tuple[date, date]:
        if year is None:
            year = self.today.year if date(self.today.year, 1 if half == 1 else 7, 1) <= self.today else self.today.year - 1
        return (date(year, 1, 1), date(year, 6, 30)) if half == 1 else (date(year, 7, 1), date(year, 12, 31))

    def _latest_months(self, first: int, last: int, year: int | None) -> tuple[date, date]:
        """Months ``first`` to ``last`` of ``year``, or without a year the latest such span that has begun."""
        if year is None:
            year = self.today.year if date(self.today.year, first, 1) <= self.today else self.today.year - 1
        end_year = year if last >= first else year + 1
        return date(year, first, 1), date(end_year, last, month_calendar.monthrange(end_year, last)[1])

    def _month_range(self, groups: dict) -> tuple[date, date]:
        m1, m2 = (MONTHS.get(str(groups[k]).lower()) or int(groups[k]) for k in ("m1", "m2"))
        y1, y2 = groups.get("y1"), groups.get("y2")
        if y1 and y2:
            return date(int(y1), m1, 1), self.point(f"{y2}-{m2}", end=True)
        return self._latest_months(m1, m2, int(y1 or y2) if (y1 or y2) else None)

    def _named(self, key: str) -> tuple[date, date]:
        if key == "ytd":
            return date(self.today.year, 1, 1), self.today
        if key == "last_year":
            return self._previous("year")
        if key.startswith("previous_"):
            return self._previous(key.removeprefix("previous_"))
        if key.startswith("this_"):
            return self._current(key.removeprefix("this_"))
        if key.startswith("trailing_"):  # e.g. trailing_6_month: "the last half year"
            _, n, unit = key.split("_")
            return self._unit_span(int(n), unit)
        if key in ("yesterday", "day_before"):
            day = self.sessions_back(2 if key == "yesterday" else 3)
            return day, day
        return self.today, self.today

    def zh_candidates(self, text: str) -> list[tuple[str, re.Match[str] | None, int, int, dict]]:
        """Chinese forms, as (kind, match, start, end, groups)."""
        patterns = self.vocab.patterns
        out = []
        for name, kind in (("zh_range", "range"), ("zh_since", "since"), ("zh_relative", "trailing"),
                           ("zh_quarter", "zh_quarter"), ("zh_year", "year"), ("zh_half", "half"),
                           ("zh_month_range", "month_range"), ("zh_month", "in_month"),
                           ("zh_year_start", "since_start")):  # fmt: skip
            for found in patterns[name].finditer(text):
                groups = dict(found.groupdict())
                if kind == "trailing":
                    groups["unit"] = self.vocab.units[groups["unit"]]
                if kind == "zh_quarter":
                    which = groups.get("which")
                    year = None
                    if which:
                        year = self.today.year if self.vocab.data["patterns"]["zh_named"][which] == "ytd" else self.today.year - 1
                    groups = {"q": groups["q"], "y": str(year) if year else None}
                    out.append(("quarter", found, found.start(), found.end(), groups))
                    continue
                out.append((kind, found, found.start(), found.end(), groups))
        for found in self.vocab.zh_named.find(text):
            out.append(("named", None, found.start, found.end, {"key": found.key}))
        return out

    def find(self, text: str) -> tuple[Period | None, list[tuple[int, int]]]:
        """The period named in ``text`` (lower case) and the spans it used; raises PeriodError when two
        different periods are named or the period lies in the future."""
        candidates = self.zh_candidates(text)
        for kind, pattern in EN_PATTERNS:
            for found in pattern.finditer(text):
                candidates.append((kind, found, found.start(), found.end(), found.groupdict()))
        candidates.sort(key=lambda c: (c[2], -(c[3] - c[2])))
        chosen, spans, taken = [], [], []
        since = self.vocab.patterns["zh_since_suffix"]
        for kind, _found, lo, hi, groups in candidates:
            if any(lo < b and hi > a for a, b in taken):
                continue
            try:
                span = self.resolve(kind, groups, text[lo:hi])
            except (ValueError, KeyError) as exc:
                raise PeriodError(f"cannot read the period {text[lo:hi]!r}: {exc}") from None
            suffix = since.match(text, hi)
            if suffix is not None and kind not in ("since", "since_start", "named", "trailing"):
                span, hi = (span[0], self.today), suffix.end()  # "... since then": through today
            taken.append((lo, hi))
            chosen.append((span, text[lo:hi].strip()))
            spans.append((lo, hi))
        if not chosen:
            return None, []
        distinct = {span for span, _ in chosen}
        if len(distinct) > 1:
            raise PeriodError("two different periods: " + " and ".join(repr(label) for _, label in chosen))
        (start, end), label = chosen[0]
        if start > self.today:
            raise PeriodError(f"{label!r} ({start}) is in the future; there is no data yet")
        return Period(start, min(end, self.today), label), spans
