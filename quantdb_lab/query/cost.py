"""What a question will cost upstream, said before it is spent, with a cap the user can lift.

A question over the whole market (or a big sector) on a rate-limited provider such as akshare may need one
upstream call per missing series: ``estimate`` asks the Lab's own load planner (``lab.plan``, a dry run) what
each series lacks and the throttle (``lab.throttle.limit_for``) how fast each host family may be called, so the
figure is the one the loader will really spend: calls, and minutes at the rate limit. ``ask(...,
max_calls=N)`` sets the cap (``DEFAULT_MAX_CALLS``); ``max_calls=None`` lifts it. Providers without a network
(the simulated market, replays: the "local" family) cost nothing and are never capped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidRequestError

DEFAULT_MAX_CALLS = 200
LOCAL_RATE = 1000.0  # calls per second above which a family is local (no network): not worth estimating


@dataclass(frozen=True, slots=True)
class Cost:
    calls: int
    seconds: float
    families: dict[str, int]
    series: int  # symbols that need at least one call

    def describe(self) -> str:
        minutes = self.seconds / 60.0
        pace = ", ".join(f"{n} on {family}" for family, n in sorted(self.families.items()))
        return (f"{self.calls} upstream calls for {self.series} securities ({pace}), about {minutes:.1f} minutes at "
                f"the rate limit")  # fmt: skip


class CostLimitError(InvalidRequestError):
    """Answering would cost more upstream calls than the cap allows."""


def estimate(lab, symbols: list[str], start: date, end: date, adjust: str) -> Cost | None:
    """The upstream calls loading ``symbols`` would make now, or None when the provider is local."""
    provider, throttle = lab.provider, lab.throttle
    families = {s: provider.host_family(parse_symbol(s)) for s in symbols}
    if all(throttle.limit_for(f).per_second >= LOCAL_RATE for f in set(families.values())):
        return None
    calls: Counter[str] = Counter()
    needy = 0
    for symbol in symbols:
        fetches = len(lab.plan(symbol, start=start, end=end, adjust=adjust).fetches)
        if fetches:
            calls[families[symbol]] += fetches
            needy += 1
    seconds = sum(n / throttle.limit_for(family).per_second for family, n in calls.items())
    return Cost(sum(calls.values()), seconds, dict(calls), needy)


def check(lab, symbols: list[str], start: date, end: date, adjust: str, max_calls: int | None) -> str | None:
    """Raise CostLimitError over the cap; else a note of the cost when there is one (None when free)."""
    cost = estimate(lab, symbols, start, end, adjust)
    if cost is None or cost.calls == 0:
        return None
    if max_calls is not None and cost.calls > max_calls:
        raise CostLimitError(f"answering needs {cost.describe()}, over the cap of {max_calls}: ask again with "
                             f"max_calls={cost.calls} (or max_calls=None) to spend it, or narrow the question "
                             "to a sector, an index or a shorter period")  # fmt: skip
    return f"fetched what was missing: {cost.describe()}"
