"""The predictor: which requests a researcher is likely to make next, scored and explained.

A pure function of the usage log, the calendar, the time and (optionally) groups of peers from the security
master: the same inputs give the same predictions, so the rules are tested as tables (tests/unit/test_predictor.py).
A confidence reads as "the probability that this request comes before the next close". Every prediction ends at
the latest closed session: after the close the warmer fetches that session for what will be asked next.

1. Tracking (recency x frequency). A series (symbol, adjust) last asked "up to now" (end open, or at the
   latest session) is extended. Confidence is a recency-weighted share of the user's active days since the
   series was first asked, with a Laplace prior: ``(sum w*x + 1) / (sum w + 2)``, weights halving every
   ``HALF_LIFE`` active days; today counts for a series asked today, never against one not asked yet. Asked
   once: 0.67 (below the default 0.7: one-off looks are not warmed); two days running: 0.74; daily for a week:
   0.82. A request with a fixed past end reads final data and is never extended.
2. Co-requests. Series asked in one burst (same kernel, gaps under ``BURST_GAP``) on ``CO_MIN_DAYS`` days or more:
   B scores ``P(B|A) * p(A)``, ``P(B|A) = (days together + 1) / (days of A + 2)``, with ``p(A) = 1`` once A was
   asked today and B not yet (B is then minutes away).
3. Peers, for requests made in a mode with ``prefetch_related``: every member of a group (sector, index) of
   which the user studied at least ``PEER_MIN_SHARE`` (and two members) over the last ``PEER_DAYS`` active days
   scores ``0.5 + 0.5 * share``, the share taken over the members listed by the study's start (one listed later
   could not be read over the span, and leaving it out says nothing about the study). One stock of a 30-stock
   sector warms nothing; a sector study warms the rest.
   A group left untouched on a day the user was active is dropped: the study has moved on. Members not yet
   studied are rule ``peer rest``, the studied ones ``peer``: outcomes are learned apart for each.
4. Market hours (trading mode's use). Series asked while the market was open on recent days are needed at the
   next open: 0.75 after one day, 0.9 after more; ready by the open, so only the live bar is fetched then.
5. Cross-sections. A call that asked ``UNIVERSE_MIN`` symbols or more (``batch`` in the usage log: "top 10
   tech stocks last month" reads a whole sector) is one question about the universe, not that many requests:
   its members feed none of the rules above (the chance that any one member is asked again is low), and the
   universe is one prediction, made only when its latest ask read up to now. Asked on ``k`` of the ``n``
   active days since its first ask (today counts only once asked): ``k / (n + 1)``, the mean of a uniform
   Beta(1, 1) prior on the daily repeat updated by the ``k - 1`` repeats in ``n - 1`` later days: asked once
   0.5 (below the price of a call: one question warms nothing), daily for four days 0.8. Asks of one universe on different days are
   matched by overlap (Jaccard >= ``UNIVERSE_MATCH``); a universe covering a peer group is named after it.
6. Time of day. Each prediction carries ``ready_by``: the user's usual time of first request (median over
   active days) at its next occurrence, the next open for rule 4, now for rule 2's same-day case. The warmer
   works in ``ready_by`` order, then by confidence.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final

import polars as pl

from quantdb_lab.domain.calendar import SESSION_OPEN, TradingCalendar
from quantdb_lab.domain.clock import to_exchange_time

LOOKBACK_DAYS: Final = 10  # active days of the log considered
HALF_LIFE: Final = 3.0  # active days for a day's weight to halve
BURST_GAP: Final = timedelta(minutes=10)
CO_MIN_DAYS: Final = 2
PEER_DAYS: Final = 2
PEER_MIN_SHARE: Final = 0.2
OPEN_RECENT_DAYS: Final = 5
UNIVERSE_MIN: Final = 50  # symbols in one call that make it a cross-section question
UNIVERSE_MATCH: Final = 0.8
MIN_CONFIDENCE: Final = 0.3  # lower scores are dropped (kept above zero to show near misses in the panel)

PREDICTION_SCHEMA = {
    "symbol": pl.String(), "adjust": pl.String(), "start": pl.Date(), "end": pl.Date(),
    "confidence": pl.Float64(), "reason": pl.String(), "ready_by": pl.Datetime("us", "Asia/Shanghai"),
    "dataset": pl.String(), "kind": pl.String(), "members": pl.Int64(),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Prediction:
    symbol: str
    adjust: str
    start: date | None
    end: date
    confidence: float
    reason: str
    ready_by: datetime | None = None
    dataset: str = "daily_bars"
    # the rule of the best contribution: tracked, co-request, peer, peer rest, open, universe; table
    kind: str = "tracked"
    members: tuple[str, ...] = ()  # a universe prediction's symbols (``symbol`` is then its label)

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.members or (self.symbol,)


@dataclass(frozen=True, slots=True)
class Peers:
    """Named groups of symbols, e.g. ``{"sector:Financials": (...), "index:000300.SH": (...)}``, and the listing
    dates known (``listed``: a member listed after a study's start leaves the studied share, rule 3)."""

    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    listed: Mapping[str, date] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Use:
    ts: datetime
    day: date
    symbol: str
    adjust: str
    start: date | None
    tracks: bool  # asked up to the latest session at the time
    market_open: bool
    related: bool
    pid: int
    batch: int

    @property
    def series(self) -> tuple[str, str]:
        return (self.symbol, self.adjust)


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _parse(rows: Iterable[Mapping[str, Any]], calendar: TradingCalendar, now: datetime) -> list[_Use]:
    uses = []
    for row in rows:
        ts = row["ts"]
        ts = to_exchange_time(ts if isinstance(ts, datetime) else datetime.fromisoformat(ts))
        if ts > now:
            continue  # pure in ``now``: the future of the log is invisible
        state = calendar.state(ts)
        end = _date(row.get("end"))
        uses.append(
            _Use(
                ts=ts,
                day=ts.date(),
                symbol=row["symbol"],
                adjust=row.get("adjust") or "",
                start=_date(row.get("start")),
                tracks=end is None or (state.latest is not None and end >= state.latest),
                market_open=state.open_now,
                related=bool(row.get("related", False)),
                pid=int(row.get("pid") or 0),
                batch=int(row.get("batch") or 1),
            )
        )
    return sorted(uses, key=lambda u: (u.ts, u.symbol, u.adjust))


def latest_closed(calendar: TradingCalendar, now: datetime) -> date | None:
    """The latest session whose bar is final at ``now``."""
    state = calendar.state(now)
    if state.latest is None or state.latest_final:
        return state.latest
    return calendar.previous_session(state.latest)


def _usual_time(uses: list[_Use]) -> time | None:
    firsts: dict[date, datetime] = {}
    for use in uses:
        firsts.setdefault(use.day, use.ts)
    if len(firsts) < 2:
        return None
    minute = int(statistics.median(ts.hour * 60 + ts.minute for ts in firsts.values()))
    return time(minute // 60, minute % 60)


def _next_at(habit: time | None, now: datetime, weekdays_only: bool) -> datetime | None:
    if habit is None:
        return None
    candidate = now.replace(hour=habit.hour, minute=habit.minute, second=0, microsecond=0)
    while candidate <= now or (weekdays_only and candidate.weekday() >= 5):
        candidate += timedelta(days=1)
    return candidate


def _next_open(calendar: TradingCalendar, now: datetime) -> datetime:
    today = now.date()
    day = today if calendar.is_session(today) and now.time() < SESSION_OPEN else calendar.next_session(today)
    return now.replace(year=day.year, month=day.month, day=day.day, hour=SESSION_OPEN.hour,
                       minute=SESSION_OPEN.minute, second=0, microsecond=0)  # fmt: skip


class _Scores:
    """Contributions per series; the best one decides start and confidence, every reason is kept."""

    def __init__(self) -> None:
        self._by: dict[tuple[str, str], list[tuple[float, date | None, str, datetime | None, str]]] = defaultdict(list)

    def add(self, series: tuple[str, str], confidence: float, start: date | None, reason: str, ready_by,
            kind: str) -> None:  # fmt: skip
        if confidence >= MIN_CONFIDENCE:
            self._by[series].append((confidence, start, reason, ready_by, kind))

    def predictions(self, end: date) -> list[Prediction]:
        out = []
        for (symbol, adjust), parts in self._by.items():
            parts.sort(key=lambda p: -p[0])
            best = parts[0]
            start = best[1] if best[1] is None or best[1] <= end else None
            readies = [p[3] for p in parts if p[3] is not None]
            out.append(
                Prediction(
                    symbol=symbol,
                    adjust=adjust,
                    start=start,
                    end=end,
                    confidence=round(best[0], 3),
                    reason="; ".join(dict.fromkeys(p[2] for p in parts)),
                    ready_by=min(readies) if readies else None,
                    kind=best[4],
                )
            )
        return sorted(
            out, key=lambda p: (p.ready_by.timestamp() if p.ready_by else math.inf, -p.confidence, p.symbol, p.adjust)
        )


def predict(
    log: pl.DataFrame | Iterable[Mapping[str, Any]],
    calendar: TradingCalendar,
    now: datetime,
    *,
    peers: Peers | None = None,
) -> list[Prediction]:
    """Scored predictions of the next requests, in the order a warmer should load them."""
    now = to_exchange_time(now)
    rows = log.to_dicts() if isinstance(log, pl.DataFrame) else log
    target = latest_closed(calendar, now)
    uses = _parse(rows, calendar, now)
    if target is None or not uses:
        return []
    days = sorted({u.day for u in uses}, reverse=True)[:LOOKBACK_DAYS]  # most recent first
    index = {day: i for i, day in enumerate(days)}
    uses = [u for u in uses if u.day in index]
    today = now.date()
    crowd = [u for u in uses if u.batch >= UNIVERSE_MIN]
    uses = [u for u in uses if u.batch < UNIVERSE_MIN]
    weekdays_only = all(day.weekday() < 5 for day in days)
    habit_at = _next_at(_usual_time(uses), now, weekdays_only)
    scores = _Scores()

    by_series: dict[tuple[str, str], list[_Use]] = defaultdict(list)
    for use in uses:
        by_series[use.series].append(use)
    asked_on = {series: {u.day for u in group} for series, group in by_series.items()}
    latest_use = {series: group[-1] for series, group in by_series.items()}
    tracked = {series for series, use in latest_use.items() if use.tracks}

    # 1. tracking
    own: dict[tuple[str, str], float] = {}
    for series in tracked:
        first = index[min(asked_on[series])]
        num = den = 0.0
        for day in days[: first + 1]:
            hit = day in asked_on[series]
            if day == today and not hit:
                continue  # the day is not over: no evidence against
            weight = 0.5 ** (index[day] / HALF_LIFE)
            num += weight * hit
            den += weight
        own[series] = (num + 1.0) / (den + 2.0)
        n = len(asked_on[series])
        scores.add(series, own[series], latest_use[series].start,
                   f"tracked: asked on {n} of the last {first + 1} active day(s)", habit_at, "tracked")  # fmt: skip

    # 2. co-requests
    bursts: dict[tuple[int, int], set[tuple[str, str]]] = defaultdict(set)
    burst_day: dict[tuple[int, int], date] = {}
    counter, previous = 0, None
    for use in sorted(uses, key=lambda u: (u.pid, u.ts)):
        if previous is None or use.pid != previous.pid or use.ts - previous.ts > BURST_GAP:
            counter += 1
        bursts[(use.pid, counter)].add(use.series)
        burst_day[(use.pid, counter)] = use.day
        previous = use
    together: dict[tuple[tuple[str, str], tuple[str, str]], set[date]] = defaultdict(set)
    for key, members in bursts.items():
        for a in members:
            for b in members:
                if a != b:
                    together[(a, b)].add(burst_day[key])
    for (a, b), co_days in together.items():
        if len(co_days) < CO_MIN_DAYS or b not in tracked:
            continue
        if today in asked_on[a] and today not in asked_on[b]:  # A was just asked: B is likely minutes away
            past = len(asked_on[a] - {today})
            confidence, ready = (len(co_days - {today}) + 1) / (past + 2), now
        else:
            confidence, ready = own.get(a, 0.0) * (len(co_days) + 1) / (len(asked_on[a]) + 2), habit_at
        scores.add(b, confidence, latest_use[b].start,
                   f"asked with {a[0]} on {len(co_days)} of its {len(asked_on[a])} days", ready, "co-request")  # fmt: skip

    # 3. peers of what is being studied
    if peers is not None:
        recent = set(days[:PEER_DAYS])
        studied = [u for u in uses if u.related and u.day in recent]
        for group, members in sorted(peers.groups.items()):
            if not members:
                continue
            seen = [u for u in studied if u.symbol in members]
            if not seen:
                continue
            seed = seen[-1]  # the latest study decides the span and adjustment peers are read with
            studied_members = {u.symbol for u in seen}
            eligible = _listed_by(members, peers.listed, seed.start) | studied_members  # a studied one counts
            studied_n = len(studied_members)
            share = studied_n / len(eligible)
            if studied_n < 2 or share < PEER_MIN_SHARE:
                continue
            if today in days and all(u.day != today for u in seen):
                continue  # active today, this group untouched: the study has moved on
            confidence = 0.5 + 0.5 * share
            listed_by = f" listed by {seed.start}" if len(eligible) < len(members) else ""
            reason = f"peer in {group}: {studied_n} of {len(eligible)}{listed_by} studied recently"
            for member in members:  # the rest of the group is its own rule: learned apart from the studied part
                kind = "peer" if member in studied_members else "peer rest"
                scores.add((member, seed.adjust), confidence, seed.start, reason, habit_at, kind)

    # 4. needed while the market is open
    recent_open = set(days[:OPEN_RECENT_DAYS])
    open_days: dict[tuple[str, str], set[date]] = defaultdict(set)
    for use in uses:
        if use.market_open and use.day in recent_open:
            open_days[use.series].add(use.day)
    if open_days:
        ready_open = _next_open(calendar, now)
        for series, on in open_days.items():
            if series in tracked:
                scores.add(series, 0.9 if len(on) >= 2 else 0.75, latest_use[series].start,
                           f"used while the market was open on {len(on)} day(s)", ready_open, "open")  # fmt: skip

    out = scores.predictions(target)
    return out + _universes(crowd, days, index, today, target, peers, habit_at)


def _listed_by(members: tuple[str, ...], listed: Mapping[str, date], start: date | None) -> set[str]:
    """Members listed on or before ``start`` (unknown listing dates count as listed): those a study from
    ``start`` could have read in full; one listed later is no evidence that the study left it out."""
    if start is None:
        return set(members)
    return {m for m in members if m not in listed or listed[m] <= start}


def _universes(crowd: list[_Use], days: list[date], index: dict[date, int], today: date, target: date,
               peers: Peers | None, ready_by: datetime | None) -> list[Prediction]:  # fmt: skip
    """Rule 5: each distinct cross-section asked, as one prediction when its latest ask read up to now."""
    asks: dict[tuple, list[_Use]] = defaultdict(list)
    for use in crowd:
        asks[(use.day, use.pid, use.start, use.adjust, use.batch)].append(use)
    universes: list[tuple[frozenset[str], list[list[_Use]]]] = []  # latest ask first
    for group in sorted(asks.values(), key=lambda g: max(u.ts for u in g), reverse=True):
        members = frozenset(u.symbol for u in group)
        match = next((u for u in universes if len(u[0] & members) / len(u[0] | members) >= UNIVERSE_MATCH), None)
        if match is None:
            universes.append((members, [group]))
        else:
            match[1].append(group)
    out = []
    for members, groups in universes:
        latest = groups[0]
        if not all(u.tracks for u in latest):
            continue  # a fixed past end reads final data: asking again is served from the cache
        asked = {g[0].day for g in groups}
        confidence, opportunities = repeat_confidence(asked, days, index, today)
        if confidence < MIN_CONFIDENCE:
            continue
        label = _label(members, peers)
        seed = latest[0]
        out.append(Prediction(
            symbol=label, adjust=seed.adjust, start=seed.start if seed.start is None or seed.start <= target else None,
            end=target, confidence=round(confidence, 3), kind="universe", ready_by=ready_by,
            reason=f"universe: {len(members)} symbols asked together on {len(asked)} of the last {opportunities} active day(s)",
            members=tuple(sorted(members)),
        ))  # fmt: skip
    return out


def repeat_confidence(asked: set[date], days: list[date], index: dict[date, int],
                      today: date) -> tuple[float, int]:  # fmt: skip
    """Rule 5's score of something asked on the days ``asked`` (``days``: the active days, latest first; ``index``
    their positions): ``k / (n + 1)`` over the ``n`` active days since its first ask (today only once asked);
    also returns ``n``."""
    first = index[min(asked)]
    opportunities = first + 1 - (today in days[: first + 1] and today not in asked)
    return len(asked) / (opportunities + 1), opportunities


def _label(members: frozenset[str], peers: Peers | None) -> str:
    if peers is not None:
        for group, symbols in sorted(peers.groups.items()):
            if symbols and len(members & set(symbols)) >= UNIVERSE_MATCH * max(len(members), len(symbols)):
                return f"universe {group}"
    return f"universe of {len(members)} symbols"


def predictions_frame(predictions: Iterable[Prediction]) -> pl.DataFrame:
    rows = [
        {"symbol": p.symbol, "adjust": p.adjust, "start": p.start, "end": p.end, "confidence": p.confidence,
         "reason": p.reason, "ready_by": p.ready_by, "dataset": p.dataset, "kind": p.kind,
         "members": len(p.symbols)}
        for p in predictions
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=PREDICTION_SCHEMA)
