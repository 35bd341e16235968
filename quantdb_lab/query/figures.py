"""One plotly figure per intent (plotly is imported here, on first use of the query layer's charts)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from quantdb_lab.query.execute import Outcome
from quantdb_lab.query.plan import QueryPlan

WIDTH, HEIGHT = 900, 440


def figure(plan: QueryPlan, outcome: Outcome, title: str) -> go.Figure:
    fig = {"rank": _rank, "compare": _compare, "spikes": _spikes, "correlation": _correlation,
           "show": _show, "measure": _compare, "screen": _screen}[plan.intent](plan, outcome)  # fmt: skip
    # No named template: copying one costs tens of milliseconds per figure, a sixth of the answer's budget.
    fig.update_layout(title=title, width=WIDTH, height=HEIGHT, margin={"l": 60, "r": 30, "t": 60, "b": 50})
    return fig


def _scale(metric: str) -> float:
    return 100.0 if metric in ("return", "volatility", "turnover", "drawdown") else 1.0


def _label(metric: str) -> str:
    return {"return": "return (%)", "volatility": "annualised volatility (%)", "turnover": "mean turnover (%)",
            "volume": "mean daily volume (shares)", "price": "close", "drawdown": "maximum drawdown (%)",
            "sharpe": "Sharpe ratio (annualised)", "beta": "beta"}[metric]  # fmt: skip


def _rank(plan: QueryPlan, out: Outcome) -> go.Figure:
    data = out.data.reverse()  # plotly draws horizontal bars bottom-up: first rank on top
    labels = [f"{n} ({s})" if n and n != s else s for s, n in zip(data["symbol"], data["name"], strict=True)]
    values = [v * _scale(plan.metric) for v in data["value"].to_list()]
    colors = ["#2a9d8f" if v >= 0 else "#e76f51" for v in values]
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", marker_color=colors))
    fig.update_layout(xaxis_title=_label(plan.metric))
    return fig


def _compare(plan: QueryPlan, out: Outcome) -> go.Figure:
    fig = go.Figure()
    for symbol in out.facts["order"]:
        part = out.data.filter(pl.col("symbol") == symbol)
        if part.height:
            name = part["name"][0]
            fig.add_bar(x=part["window"].to_list(), y=[v * _scale(plan.metric) if v is not None else None
                                                       for v in part["value"].to_list()],
                        name=f"{name} ({symbol})" if name != symbol else symbol)  # fmt: skip
    fig.update_layout(barmode="group", yaxis_title=_label(plan.metric))
    return fig


def _spikes(plan: QueryPlan, out: Outcome) -> go.Figure:
    data = out.data.head(30)
    column, label = ("ratio", "volume / prior 20-session median") if plan.metric == "volume" else ("z", "move in sigmas")
    if plan.metric == "price" and plan.threshold_unit == "pct":
        data = data.with_columns((pl.col("daily_return") * 100).alias("pct"))
        column, label = "pct", "daily move (%)"
    x = [f"{s} {d}" for s, d in zip(data["symbol"], data["date"], strict=True)]
    fig = go.Figure(go.Bar(x=x, y=data[column].to_list(), marker_color="#e9c46a"))
    fig.add_hline(y=plan.threshold or 0, line_dash="dot", annotation_text="threshold")
    if plan.metric == "price":
        fig.add_hline(y=-(plan.threshold or 0), line_dash="dot")
    fig.update_layout(yaxis_title=label)
    return fig


def _correlation(plan: QueryPlan, out: Outcome) -> go.Figure:
    joined = out.series
    assert joined is not None
    dates = joined["date"].to_list()
    fig = go.Figure()
    fig.add_scatter(x=dates, y=((1 + joined["left"]).cum_prod()).to_list(), name=out.facts["left"], mode="lines")
    fig.add_scatter(x=dates, y=((1 + joined["right"]).cum_prod()).to_list(), name=out.facts["right"], mode="lines")
    fig.add_scatter(x=dates, y=joined["rolling_corr"].to_list(), name="rolling correlation", mode="lines",
                    yaxis="y2", line={"dash": "dot", "color": "#555"})  # fmt: skip
    fig.update_layout(yaxis={"title": "growth of 1"}, legend={"orientation": "h", "y": -0.15},
                      yaxis2={"title": "correlation", "overlaying": "y", "side": "right", "range": [-1, 1]})  # fmt: skip
    return fig


def _show(plan: QueryPlan, out: Outcome) -> go.Figure:
    frame = out.data
    symbols = out.facts["order"]
    fig = go.Figure()
    if len(symbols) == 1 and plan.metric == "price":
        fig.add_candlestick(x=frame["date"].to_list(), open=frame["open"].to_list(), high=frame["high"].to_list(),
                            low=frame["low"].to_list(), close=frame["close"].to_list(), name=symbols[0])  # fmt: skip
        fig.update_layout(xaxis_rangeslider_visible=False, yaxis_title="price")
        return fig
    column = {"price": "normalised", "return": "normalised", "volume": "volume", "turnover": "turnover"}.get(plan.metric, "normalised")
    for symbol in symbols:
        part = frame.filter(pl.col("symbol") == symbol)
        fig.add_scatter(x=part["date"].to_list(), y=part[column].to_list(), name=symbol, mode="lines")
    fig.update_layout(yaxis_title="close / first close" if column == "normalised" else column)
    return fig


def _screen(plan: QueryPlan, out: Outcome) -> go.Figure:
    data = out.data.reverse()  # first row on top
    labels = [f"{n} ({s})" if n and n != s else s for s, n in zip(data["symbol"], data["name"], strict=True)]
    fig = go.Figure(go.Bar(x=data["value"].to_list(), y=labels, orientation="h", marker_color="#457b9d"))
    fig.update_layout(xaxis_title=out.facts["field"])
    return fig
