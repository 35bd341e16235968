"""A few sentences computed from an outcome: who led, by how much, what stands out. Numbers only from data."""

from __future__ import annotations

import polars as pl

from quantdb_lab.query.execute import Outcome
from quantdb_lab.query.plan import QueryPlan

UNITS = {"return": "pct", "volatility": "pct", "turnover": "pct", "volume": "shares", "price": "price",
         "drawdown": "pct", "sharpe": "ratio", "beta": "ratio"}
NAMES = {"drawdown": "maximum drawdown", "sharpe": "Sharpe ratio"}


def fmt(metric: str, value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    kind = UNITS.get(metric, "price")
    if kind == "pct":
        return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"
    if kind == "shares":
        return f"{value / 1e6:,.2f}M shares"
    if kind == "ratio":
        return f"{value:.2f}"
    return f"{value:,.2f}"


def _who(row: dict) -> str:
    name = row.get("name")
    return f"{name} ({row['symbol']})" if name and name != row["symbol"] else row["symbol"]


def insights(plan: QueryPlan, outcome: Outcome) -> list[str]:
    return {"rank": _rank, "compare": _compare, "spikes": _spikes, "correlation": _correlation,
            "show": _show, "measure": _measure, "screen": _screen}[plan.intent](plan, outcome)  # fmt: skip


def _name(plan: QueryPlan) -> str:
    if plan.metric == "beta":
        return f"beta against {plan.benchmark or '000300.SH'}"
    return NAMES.get(plan.metric, plan.metric)


def _measure(plan: QueryPlan, out: Outcome) -> list[str]:
    rows = out.data.to_dicts()
    if not rows:
        return ["No bars in the period: nothing to measure."]
    text = []
    for row in rows:
        value = fmt(plan.metric, row["value"], signed=plan.metric == "return")
        text.append(f"{_who(row)}: {_name(plan)} {value} from {row['first_date']} to {row['last_date']} "
                    f"({row['bars']} sessions; return {fmt('return', row['return'], signed=True)}).")
    if plan.metric == "sharpe":
        text.append("Sharpe ratio: mean daily return over its standard deviation, annualised, risk-free rate 0.")
    if plan.metric == "drawdown":
        text.append("Maximum drawdown: the largest fall from a running peak of the close inside the period.")
    return text


def _rank(plan: QueryPlan, out: Outcome) -> list[str]:
    rows = out.data.to_dicts()
    facts, metric = out.facts, plan.metric
    if not rows:
        return [f"None of the {facts['members']} securities of {facts['universe']} had enough bars to rank."]
    signed = metric == "return"
    word = "highest" if plan.order == "desc" else "lowest"
    lead = rows[0]
    text = [(f"{_who(lead)} had the {word} {_name(plan)} in {facts['universe']}: {fmt(metric, lead['value'], signed=signed)} "
            f"from {lead['first_date']} to {lead['last_date']}.")]
    if len(rows) > 1:
        gap = lead["value"] - rows[1]["value"]
        gap_text = f"{abs(gap) * 100:.1f} percentage points" if UNITS[metric] == "pct" else fmt(metric, abs(gap))
        text.append(f"It {'led' if plan.order == 'desc' else 'trailed'} {_who(rows[1])} by {gap_text}.")
    if facts.get("median") is not None:
        text.append(f"The median of the {facts['ranked']} ranked securities was {fmt(metric, facts['median'], signed=signed)}"
                    + (f"; {facts['rising']} of them rose." if metric == "return" else "."))
        last = rows[-1]
        if metric != "return" and facts["median"]:
            text.append(f"Number {last['rank']}, {_who(last)}, was at {last['value'] / facts['median']:.1f}x the median.")
    return text


def _compare(plan: QueryPlan, out: Outcome) -> list[str]:
    data, metric = out.data, plan.metric
    windows = data["window"].unique(maintain_order=True).to_list()
    overall = "all seasons" if "all seasons" in windows else windows[-1]
    rows = data.filter(pl.col("window") == overall).sort("value", descending=True, nulls_last=True).to_dicts()
    if len(rows) < 2:
        return ["Not enough data to compare: fewer than two securities had bars in the window."]
    top, low = rows[0], rows[-1]
    signed = metric == "return"
    scope = "across the earnings seasons" if overall == "all seasons" else f"from {plan.start} to {plan.end}"
    text = [(f"{_who(top)} had the higher {metric} {scope}: {fmt(metric, top['value'], signed=signed)} against "
            f"{fmt(metric, low['value'], signed=signed)} for {_who(low)}.")]
    if metric == "return":
        text.append(f"The gap is {(top['value'] - low['value']) * 100:.1f} percentage points.")
    elif low["value"]:
        text.append(f"That is {top['value'] / low['value']:.2f}x.")
    if overall == "all seasons":
        seasons = [w for w in windows if w != "all seasons"]
        wins = 0
        for window in seasons:
            part = data.filter(pl.col("window") == window).sort("value", descending=True, nulls_last=True)
            wins += int(part.height > 0 and part["symbol"][0] == top["symbol"])
        text.append(f"{_who(top)} was higher in {wins} of {len(seasons)} seasons.")
    return text


def _spikes(plan: QueryPlan, out: Outcome) -> list[str]:
    data, facts = out.data, out.facts
    what = "volume spikes" if plan.metric == "volume" else "unusual price moves"
    way = {"up": " up", "down": " down"}.get(plan.direction, "")
    rule = (f"volume at least {plan.threshold:g}x its prior 20-session median" if plan.metric == "volume"
            else f"a daily move{way} of at least {plan.threshold:g}%" if plan.threshold_unit == "pct"
            else f"a daily return{way} of at least {plan.threshold:g} standard deviations of the prior 60 sessions")  # fmt: skip
    if data.is_empty():
        return [(f"No {what} in {facts['universe']} ({facts['members']} securities, {facts['days']} sessions): "
                f"no day had {rule}.")]
    text = [(f"{data['symbol'].n_unique()} securities of {facts['universe']} had {data.height} {what} over "
            f"{facts['days']} sessions ({rule}).")]
    row = data.row(0, named=True)
    if plan.metric == "volume":
        text.append(f"The largest: {_who(row)} on {row['date']} traded {row['ratio']:.1f}x its usual volume, "
                    f"with the price {fmt('return', row['daily_return'], signed=True)} that day.")
    elif "z" in row:
        text.append(f"The largest: {_who(row)} on {row['date']} moved {fmt('return', row['daily_return'], signed=True)}, "
                    f"{abs(row['z']):.1f} standard deviations.")
    else:
        text.append(f"The largest: {_who(row)} on {row['date']} moved {fmt('return', row['daily_return'], signed=True)}.")
    return text


def _strength(corr: float) -> str:
    size = abs(corr)
    word = "strong" if size >= 0.6 else "moderate" if size >= 0.3 else "weak" if size >= 0.1 else "no meaningful"
    return f"{word} {'positive' if corr > 0 else 'negative'}" if word != "no meaningful" else word


def _correlation(plan: QueryPlan, out: Outcome) -> list[str]:
    f = out.facts
    text = [(f"Daily returns of {f['left']} and {f['right']} had a correlation of {f['corr']:.2f} over {f['days']} "
            f"common trading days ({_strength(f['corr'])}).")]
    text.append(f"A 1% move in the first went with a {f['beta']:.2f}% move in the second on average (beta).")
    text.append(f"Over the period the first returned {fmt('return', f['left_total'], signed=True)} and the second "
                f"{fmt('return', f['right_total'], signed=True)}.")
    rolling = out.data["rolling_corr"].drop_nulls()
    if rolling.len():
        text.append(f"The rolling correlation ranged from {rolling.min():.2f} to {rolling.max():.2f}.")
    return text


def _show(plan: QueryPlan, out: Outcome) -> list[str]:
    text = []
    for row in out.facts["summary"].to_dicts():
        text.append(f"{_who(row)}: {row['first_close']:,.2f} on {row['first_date']} to {row['last_close']:,.2f} on "
                    f"{row['last_date']} ({fmt('return', row['return'], signed=True)}), annualised volatility "
                    f"{fmt('volatility', row['value'])}.")
    frame = out.data
    for symbol in out.facts["order"]:
        part = frame.filter(pl.col("symbol") == symbol)
        if part.height:
            high = part.sort("close", descending=True).row(0, named=True)
            text.append(f"{symbol} peaked at {high['close']:,.2f} on {high['date']}.")
    return text


def _field(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if name in ("roe", "gross_margin", "net_margin"):
        return f"{value * 100:.1f}%"
    if name in ("total_mv", "float_mv"):
        return f"{value / 1e8:,.1f} hundred million CNY"
    return f"{value:.2f}"


def _screen(plan: QueryPlan, out: Outcome) -> list[str]:
    rows, facts = out.data.to_dicts(), out.facts
    rule = " and ".join(plan.filters)
    passing = f"{facts['passed']} of the {facts['members']} stocks of {facts['universe']}"
    if not rows:
        return [f"None of the {facts['members']} stocks of {facts['universe']} passed {rule or 'the screen'} "
                f"as of {facts['as_of']}."]
    key, lead = facts["field"], rows[0]
    if plan.universe == "symbols" and not rule:  # figures of named stocks ("market cap of 600519")
        return [f"{_who(row)}: {key} {_field(key, row['value'])} as of {facts['as_of']}." for row in rows]
    text = [f"{passing} " + (f"passed {rule}" if rule else "had a value") + f" as of {facts['as_of']}."]
    word = "highest" if facts["descending"] else "lowest"
    text.append(f"{_who(lead)} had the {word} {key}: {_field(key, lead['value'])}.")
    return text
