"""What a prediction is worth, and what warming it costs, in upstream calls.

* Expected value: ``p * calls`` - the foreground calls (and their waits) saved if the request comes, with
  ``p`` the rule's confidence updated by the outcomes of its kind (``prefetch.outcomes``).
* Cost: ``calls * (price + ban risk)``. ``price`` (the warmer's ``threshold``, 0.7) is what a call spent ahead
  is worth against one saved later: it costs time at the rate limit (``seconds``) and, unused, is pure waste.
  The ban risk grows with the day's warming spend on the host: ``RISK * spent / BAN_CALLS`` per call
  (averaged over the prediction's own calls), so the 1000th call of a day needs a surer prediction than the
  first. ``BAN_CALLS`` is a scale, not a known limit (akshare's hosts publish none): about where a day of
  extra calls starts to matter to a host that bans. The budget itself is a hard cap, apart from the risk.

``choose`` spends the budget on the best value per call first (the highest ``p``), skips what does not fit
the budget left (a universe, whose members are each worth ``p``, is warmed in part), and takes nothing whose
expected value falls below its cost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final

from quantdb_lab.prefetch.predict import Prediction

RISK: Final = 0.2  # extra price per call once BAN_CALLS warming calls were spent today
BAN_CALLS: Final = 1000


@dataclass(frozen=True, slots=True)
class Valued:
    prediction: Prediction
    probability: float
    calls: int  # upstream calls warming it would make now (0: already warm)
    seconds: float = 0.0  # those calls at the host's rate limit
    ban_risk: float = 0.0  # in calls
    expected_value: float = 0.0  # in calls saved
    cost: float = 0.0  # in calls
    chosen: bool = False
    why_not: str = ""
    parts: tuple[Any, ...] = ()  # the requests still to fetch


def price(valued: Valued, *, threshold: float, spent: int, ban_calls: int, per_second: float | None) -> Valued:
    calls = valued.calls
    risk = RISK * calls * (spent + calls / 2) / ban_calls  # the mean over its calls
    return replace(valued, seconds=calls / per_second if per_second else 0.0, ban_risk=risk,
                   expected_value=valued.probability * calls, cost=calls * threshold + risk)  # fmt: skip


def order(valued: list[Valued]) -> list[Valued]:
    """Best value per call first; ties: sooner needed, fewer calls, then by name (deterministic)."""
    return sorted(valued, key=lambda v: (-v.probability, v.prediction.ready_by is None,
                                         v.prediction.ready_by or 0, v.calls, v.prediction.symbol))  # fmt: skip


def choose(valued: list[Valued], *, threshold: float, remaining: int, per_day: int,
           per_second: float | None = None, ban_calls: int = BAN_CALLS) -> list[Valued]:  # fmt: skip
    """Every prediction, in value order, priced at the spend reached when its turn comes, marked ``chosen``
    or with ``why_not``. The chosen calls never add up past ``remaining``."""
    spent, left, out = per_day - remaining, remaining, []
    for item in order(valued):
        parts = item.parts if item.calls <= left or not item.prediction.members else _fits(item.parts, left)
        note = ""
        if parts != item.parts and parts:  # a universe's members are worth p each: as many as the budget allows
            note = f"{len(parts)} of {len(item.parts)} members: the rest is past today's budget"
            item = replace(item, parts=parts, calls=sum(n for _, n in parts))
        item = price(item, threshold=threshold, spent=spent, ban_calls=ban_calls, per_second=per_second)
        if item.calls == 0:
            item = replace(item, why_not="already warm")
        elif item.expected_value < item.cost:
            item = replace(item, why_not="expected value below cost")
        elif item.calls > left:
            item = replace(item, why_not=f"needs {item.calls} calls, {left} left in today's budget")
        else:
            item = replace(item, chosen=True, why_not=note)
            spent, left = spent + item.calls, left - item.calls
        out.append(item)
    return out


def _fits(parts: tuple[Any, ...], left: int) -> tuple[Any, ...]:
    taken, total = [], 0
    for part in parts:
        if total + part[1] > left:
            break
        taken.append(part)
        total += part[1]
    return tuple(taken)
