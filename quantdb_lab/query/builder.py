"""From what the parser found in a question to a validated plan: the intent, the measure, the universe, the
thresholds, and the defaults it had to assume (listed in ``assumptions``).

Rules (choices, so written down):

* A correlation word makes a correlation of the two series named (any two of stocks, indices, sectors and
  commodities). "unusual"/"spike" words make spikes; a threshold in multiples ("3x") is a volume spike, in
  sigmas a price move, in percent a one-day move when the question says "in a day" or names one day, else a
  ranking of period returns that pass it ("up more than 20% this month").
* Move verbs ("jumped", "plunged", the Chinese sharp rise/fall words) are price moves in that direction, unless
  the question ranks ("the most", a top N): then they only set the order.
* One security (or a few with no compare word) and a measure is a ``measure`` plan: "Moutai's drawdown this year".
* Beta is against the index the question names, else the CSI 300 (said in ``assumptions``).
"""

from __future__ import annotations

from typing import Any

from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.query.periods import Period, PeriodParser
from quantdb_lab.query.plan import plan_from_dict
from quantdb_lab.query.vocabulary import Vocabulary

DEFAULT_PERIOD = {"rank": ("month", 1), "compare": ("year", 1), "spikes": ("session", 5),
                  "correlation": ("year", 1), "show": ("year", 1), "measure": ("year", 1)}  # fmt: skip
DEFAULT_THRESHOLD = {"volume": (3.0, "x"), "price": (3.0, "sigma")}  # x the prior 20-session median; sigmas
DEFAULT_BENCHMARK = "000300.SH"
_FALLS = frozenset({"fell", "fall", "fallen", "losers", "down the most", "dropped", "declined", "lost"})


def _securities(found: dict) -> list[str]:
    return found["symbols"] + found["indices"]


def _intent(found: dict) -> str | None:
    screen = found.get("screen") or {}
    if screen.get("filters") or screen.get("by") or (screen.get("show") and found["symbols"]):
        return "screen"
    intents, metrics = found["intents"], set(found["metrics"])
    ranks = "rank" in intents or bool(found["n"])
    threshold = found["threshold"]
    if "correlation" in intents:
        return "correlation"
    if threshold is not None:
        unit = threshold[1]
        if unit in ("x", "sigma") or found["single_day"] or _one_day(found):
            return "spikes"
        return "rank"
    if "spikes" in intents:
        return "spikes"
    if "moves" in intents and not ranks:
        return "spikes"
    charted = "show" in intents and metrics <= {"price"}
    if "compare" in intents:
        if charted:  # "plot A vs B": a chart of both, not a table
            return "show"
        if found["commodities"] and _securities(found):
            return "correlation"
        return "compare"
    if ranks:
        return "rank"
    securities = _securities(found)
    measured = metrics - {"price"}
    if "show" in intents and not found["sectors"] and not measured & {"drawdown", "sharpe", "beta"}:
        return "show"
    if securities and measured and not found["sectors"]:
        if len(securities) >= 2 and not (measured == {"beta"} and found["indices"]):
            return "compare"
        return "measure"
    if "show" in intents and not found["sectors"]:
        return "show"
    if (securities or found["commodities"]) and not found["sectors"]:
        return "show" if found["period"] is not None or "measure" not in intents else None
    if found["sectors"] and (measured or "moves" in intents):
        return "rank"
    return None


def _one_day(found: dict) -> bool:
    period: Period | None = found["period"]
    return period is not None and period.start == period.end


def build(out: Any, found: dict, vocab: Vocabulary, periods: PeriodParser) -> None:
    """Set ``out.plan`` (or append to ``out.problems``) from ``found``."""
    intent = _intent(found)
    if intent is None:
        out.problems.append("could not tell what to compute (a ranking, a comparison, spikes, a correlation, "
                            "a measure or a chart)")
        return
    out.understood.insert(0, f"intent: {intent}")
    period: Period | None = found["period"]
    if period is None and intent == "screen":
        day = periods.sessions_back(1)
        period = Period(day, day, "the latest session")
        out.assumptions.append(f"no date given: as of the latest session ({day})")
    if period is None:
        unit, n = DEFAULT_PERIOD[intent]
        start, end = periods.resolve("trailing", {"n": str(n), "unit": unit}, "")
        label = f"the last {n} {'trading days' if unit == 'session' else unit}" if n > 1 else f"the last {unit}"
        period = Period(start, end, label)
        out.assumptions.append(f"no period given: used {label} ({start} to {end})")
    data: dict = {"intent": intent, "start": period.start.isoformat(), "end": period.end.isoformat(),
                  "period": period.label}  # fmt: skip
    if intent == "screen":
        figures = not (found["screen"]["filters"] or found["screen"]["by"])  # "market cap of 600519"
        if not _universe(out, found, data, one=figures) or not _screen(out, found, data):
            return
        _validate(out, data)
        return
    metric = _metric(out, found, intent)
    if metric is None:
        return
    data["metric"] = metric
    if metric == "beta":
        _benchmark(out, found, data)
    if intent in ("rank", "spikes") and not _universe(out, found, data):
        return
    builder = {"rank": _rank, "compare": _compare, "spikes": _spikes, "correlation": _correlation,
               "show": _show, "measure": _measure}[intent]  # fmt: skip
    if builder(out, found, data) is False:
        return
    _validate(out, data)


def _validate(out: Any, data: dict) -> None:
    try:
        out.plan = plan_from_dict(data)
    except InvalidRequestError as exc:
        out.problems.append(exc.reason.removeprefix("invalid query plan: "))


def _metric(out: Any, found: dict, intent: str) -> str | None:
    metrics = list(dict.fromkeys(found["metrics"]))
    threshold = found["threshold"]
    if intent == "spikes":
        if threshold is not None:
            return "volume" if threshold[1] == "x" else "price"
        metrics = ["volume" if m in ("volume", "turnover") else "price" for m in metrics if m != "volatility"]
        metrics = ["volume"] if "volume" in metrics else list(dict.fromkeys(metrics))  # "volume up": a volume spike
        if not metrics:
            return "price" if "moves" in found["intents"] or "spikes" not in found["intents"] else "volume"
    if intent == "correlation":
        return "return"
    if intent in ("rank", "compare", "measure") and len(metrics) > 1 and "price" in metrics:
        metrics.remove("price")  # "price performance": the performance is what is ranked
    if intent == "show" and len(metrics) > 1 and "return" in metrics and "price" in metrics:
        metrics.remove("price")
    if len(metrics) > 1 and "return" in metrics and set(metrics) & {"drawdown", "sharpe", "beta", "volatility"}:
        metrics.remove("return")  # "risk-adjusted return", "return volatility": the named measure
    if len(metrics) > 1:
        out.problems.append(f"several measures named ({', '.join(metrics)}); ask for one")
        return None
    if metrics:
        return metrics[0]
    default = {"rank": "return", "compare": "return", "spikes": "volume", "show": "price", "measure": "return"}[intent]
    if intent in ("rank", "compare", "spikes"):
        out.assumptions.append(f"no measure given: used {default}")
    return default


def _benchmark(out: Any, found: dict, data: dict) -> None:
    if found["indices"] and (data["intent"] != "rank" or len(found["indices"]) > 1 or found["sectors"]):
        data["benchmark"] = found["indices"].pop(0 if data["intent"] != "rank" else -1)
    else:
        data["benchmark"] = DEFAULT_BENCHMARK
        out.assumptions.append(f"beta against the CSI 300 ({DEFAULT_BENCHMARK}): no benchmark index named")


def _direction(found: dict) -> str:
    ways = found["directions"]
    if "down" in ways and "up" not in ways:
        return "down"
    if "up" in ways and "down" not in ways:
        return "up"
    return "any"


def _universe(out: Any, found: dict, data: dict, *, one: bool = False) -> bool:
    """The group ranked or screened; ``one``: a single named stock is a group (its figures asked for)."""
    sectors, indices, symbols = found["sectors"], found["indices"], found["symbols"]
    if len(sectors) + len(indices) > 1:
        out.problems.append("name one sector or one index to rank within")
        return False
    if sectors:
        data.update(universe="sector", sector=sectors[0])
    elif indices:
        data.update(universe="index", index=indices[0])
    elif len(symbols) >= 2 or (symbols and one):
        data.update(universe="symbols", symbols=symbols)
    elif symbols:
        out.problems.append("ranking needs a group of stocks, not one; name a sector, an index or several")
        return False
    else:
        data["universe"] = "market"
    if found["commodities"]:
        out.problems.append("a commodity cannot be ranked with stocks")
        return False
    return True


def _rank(out: Any, found: dict, data: dict) -> bool:
    if data["universe"] == "market" and found["sector_word"]:
        out.problems.append("ranking sectors against each other is not supported yet; name a sector to rank its "
                            "stocks (the top 10 bank stocks, say)")
        return False
    if len(set(found["n"])) > 1:
        out.problems.append(f"several numbers ({', '.join(map(str, found['n']))}); which N is meant?")
        return False
    falls = bool(found["metric_words"] & _FALLS) or (data["metric"] == "return" and _direction(found) == "down")
    data["order"] = "asc" if "asc" in found["orders"] or falls else "desc"
    if found["threshold"] is not None:
        value, unit = found["threshold"]
        data.update(threshold=value, threshold_unit=unit, metric="return")
        data["n"] = found["n"][0] if found["n"] else None
        return True
    data["n"] = found["n"][0] if found["n"] else 10
    if not found["n"]:
        out.assumptions.append("no N given: showing 10")
    return True


def _compare(out: Any, found: dict, data: dict) -> bool:
    securities = _securities(found)
    if found["sectors"] or found["commodities"]:
        out.problems.append("a comparison is between securities; for a sector ask for its top N instead")
        return False
    data["symbols"] = securities
    if found["earnings"]:
        data["window"] = "earnings_seasons"
    if len(securities) < 2:
        out.problems.append("name at least two securities to compare")
        return False
    return True


def _spikes(out: Any, found: dict, data: dict) -> bool:
    value, unit = found["threshold"] or DEFAULT_THRESHOLD[data["metric"]]
    data.update(threshold=value, threshold_unit=unit, direction=_direction(found))
    if found["n"]:
        data["n"] = found["n"][0]
    return True


def _correlation(out: Any, found: dict, data: dict) -> bool:
    commodities, indices, sectors, symbols = (list(found[k]) for k in ("commodities", "indices", "sectors", "symbols"))
    if len(commodities) > 2 or len(sectors) > 2:
        out.problems.append("a correlation is between two series")
        return False
    if commodities:
        data["commodity"] = commodities[0]
        if len(commodities) > 1:
            data["commodity2"] = commodities[1]
    if sectors:
        data["sector"] = sectors[0]
        if len(sectors) > 1:
            data["sector2"] = sectors[1]
    if indices:
        data["index"] = indices.pop(0)
    data["symbols"] = indices + symbols
    count = len(commodities) + len(sectors) + (1 if data.get("index") else 0) + len(data["symbols"])
    if count != 2:
        out.problems.append("a correlation needs two series: stocks, indices, sectors or commodities"
                            f" (found {count})")
        return False
    return True


def _show(out: Any, found: dict, data: dict) -> bool:
    if found["sectors"]:
        out.problems.append("a chart is of securities or a commodity; for a sector ask for its top N")
        return False
    if len(found["commodities"]) > 1:
        out.problems.append("show one commodity at a time")
        return False
    data["symbols"] = _securities(found)
    if found["commodities"]:
        data["commodity"] = found["commodities"][0]
    return True


def _measure(out: Any, found: dict, data: dict) -> bool:
    if found["sectors"] or found["commodities"]:
        out.problems.append("a measure is of securities; for a sector ask for its top N by that measure")
        return False
    data["symbols"] = _securities(found)
    return True


def _screen(out: Any, found: dict, data: dict) -> bool:
    screen = found["screen"]
    out.assumptions += screen["notes"]
    if found["metrics"] or found["threshold"] is not None:
        out.problems.append("a screen on valuation or fundamentals cannot also rank by a price measure; ask one")
        return False
    by = screen["by"]
    if by is None and not screen["filters"] and screen["show"]:  # figures of named stocks: ranked by the first
        by = screen["show"][0]
        if len(screen["show"]) > 1:
            out.assumptions.append(f"several figures asked ({', '.join(screen['show'])}): showing {by}")
    data.update(filters=screen["filters"], by=by, order=screen["order"] or "desc")
    numbers = ([screen["n"]] if screen["n"] else []) + found["n"]
    if len(set(numbers)) > 1:
        out.problems.append(f"several numbers ({', '.join(map(str, numbers))}); which N is meant?")
        return False
    data["n"] = numbers[0] if numbers else None
    if data["n"] is None and screen["by"]:
        data["n"] = 10
        out.assumptions.append("no N given: showing 10")
    return True
