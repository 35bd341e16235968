"""``AskWidget``: type a question (or pick an example), see the plan, the insights, the table and the chart.

A thin view over ``lab.ask``: state lives in validated traits (``question``, ``state``, ``answer``) and
``submit()`` is what the Ask button and Enter do, so tests drive it without a browser. The answer's chart is
copied into a ``go.Figure`` and shown through ``show_figure`` (see ``figure_view``), never by adding traces to
a FigureWidget, whose additions never reach a page that connects later (Voila).
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
import traitlets

from quantdb_lab import Lab
from quantdb_lab.errors import QuantdbError
from quantdb_lab.query import Answer
from quantdb_lab.query.vocabulary import vocabulary
from quantdb_lab.ui import chart_style as style
from quantdb_lab.ui import page
from quantdb_lab.ui.widgets.figure_view import figure_widget, show_figure

STATES = ("idle", "working", "answered", "declined", "error")
TABLE_ROWS = 20


def examples() -> list[str]:
    data = vocabulary().data["examples"]
    return [*data["en"], *data["zh"]]


class AskWidget(widgets.VBox):
    """``AskWidget(lab)``; with no Lab, one is made from the environment on the first question."""

    question = traitlets.Unicode("")
    state = traitlets.Unicode("idle")
    message = traitlets.Unicode("")
    answer = traitlets.Instance(Answer, allow_none=True)

    def __init__(self, lab: Lab | None = None, *, question: str = "", **kwargs: Any) -> None:
        self.lab = lab
        self.text_box = widgets.Text(value=question, placeholder="Ask about the market, e.g. " + examples()[0],
                                     layout=widgets.Layout(width="640px"))  # fmt: skip
        self.example_box = widgets.Dropdown(options=[("Examples...", ""), *[(e, e) for e in examples()]], value="",
                                            layout=widgets.Layout(width="640px"))  # fmt: skip
        self.ask_button = widgets.Button(description="Ask", button_style="primary", icon="search")
        self.plan_view = widgets.HTML("")
        self.insights_view = widgets.HTML("")
        self.table_view = widgets.HTML("")
        self.metrics_view = widgets.HTML("")
        self.chart = figure_widget(answer_chart(None))
        super().__init__(children=[widgets.HBox([self.text_box, self.ask_button]), self.example_box, self.plan_view,
                                   self.insights_view, self.chart, self.table_view, self.metrics_view], **kwargs)  # fmt: skip
        self.ask_button.on_click(lambda _button: self.submit())
        self.text_box.continuous_update = False
        self.text_box.observe(self._on_enter, names="value")  # Enter commits the text (continuous_update off)
        self.example_box.observe(self._on_example, names="value")

    @traitlets.validate("state")
    def _valid_state(self, proposal: Any) -> str:
        if proposal["value"] not in STATES:
            raise traitlets.TraitError(f"state must be one of {STATES}, not {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("question")
    def _valid_question(self, proposal: Any) -> str:
        value = proposal["value"].strip()
        if len(value) > 500:
            raise traitlets.TraitError("a question has at most 500 characters")
        return value

    def _on_enter(self, change: Any) -> None:
        if change["new"].strip() and change["new"].strip() != self.question:
            self.submit()

    def _on_example(self, change: Any) -> None:
        if change["new"]:
            self.text_box.value = change["new"]  # submits through _on_enter

    def submit(self, question: str | None = None) -> Answer | None:
        """Ask the text box's question (or ``question``); returns the Answer, or None on an error."""
        text = question if question is not None else self.text_box.value
        try:
            self.question = text
        except traitlets.TraitError as exc:
            return self._fail(str(exc))
        if not self.question:
            return self._fail("type a question or pick an example")
        if self.state == "working":
            return None
        self.state, self.message = "working", ""
        self.ask_button.disabled = True
        try:
            if self.lab is None:
                self.lab = Lab()
            answer = self.lab.ask(self.question)
        except QuantdbError as exc:
            return self._fail(str(exc))
        finally:
            self.ask_button.disabled = False
        self.answer = answer
        self.state = "answered" if answer.ok else "declined"
        return answer

    def _fail(self, message: str) -> None:
        self.message, self.state = message, "error"
        self.plan_view.value = f"<span style='color:#b00'>{html.escape(message)}</span>"

    @traitlets.observe("answer")
    def _render(self, change: Any) -> None:
        answer: Answer | None = change["new"]
        if answer is None:
            return
        e = html.escape
        if answer.plan is not None:
            self.plan_view.value = f"<b>Plan</b> ({e(answer.planner)}): {e(answer.plan.describe())}"
        else:
            self.plan_view.value = "<b>Not answered:</b> " + e("; ".join(answer.problems))
        lines = answer.insights + [f"Assumed: {a}" for a in answer.assumptions] + [f"Note: {n}" for n in answer.notes]
        lines += [f"Try: {s}" for s in answer.suggestions]
        self.insights_view.value = "<ul>" + "".join(f"<li>{e(line)}</li>" for line in lines) + "</ul>"
        self.table_view.value = answer_table(answer).markup if answer.data.height else ""
        rate = "n/a" if answer.cache_hit_rate is None else f"{answer.cache_hit_rate:.0%}"
        self.metrics_view.value = (f"<span style='color:#666'>{answer.execution_time * 1000:.0f} ms, cache hit rate "
                                   f"{rate}, {answer.upstream_calls} upstream calls</span>")  # fmt: skip
        self.chart = show_figure(self, self.chart, answer_chart(answer))


PERCENT_METRICS = ("return", "volatility", "turnover", "drawdown")  # the query layer's fractions


def answer_table(answer: Answer) -> page.Html:
    """The answer's rows as a formatted table: fractions as percentages, prices and ratios with two decimals."""
    fractions = {"daily_return"} | ({"value"} if answer.plan is not None and answer.plan.metric in PERCENT_METRICS else set())
    return page.table(answer.data.head(TABLE_ROWS), percent=fractions & set(answer.data.columns))


def answer_view(answer: Answer) -> page.Html:
    """What a page shows of one answer: the question, the plan, the insights, the cost, the table."""
    e = html.escape
    parts = [f"<p><b>{e(answer.question)}</b></p>"]
    if answer.plan is not None:
        parts.append(f"<p><i>{e(answer.plan.describe())}</i></p>")
    lines = [*answer.insights, *(f"Assumed: {a}" for a in answer.assumptions), *(f"Note: {n}" for n in answer.notes)]
    parts.append("<ul>" + "".join(f"<li>{e(line)}</li>" for line in lines) + "</ul>" if lines else "")
    if answer.problems:
        parts.append("<p><b>Not answered:</b> " + e("; ".join(answer.problems)) + "</p>")
    if answer.suggestions:
        parts.append("<p><b>Try:</b> " + e(" · ".join(answer.suggestions)) + "</p>")
    rate = "n/a" if answer.cache_hit_rate is None else f"{answer.cache_hit_rate:.0%}"
    parts.append(f"<p style='color:#666'>{answer.execution_time * 1000:,.0f} ms · cache hit rate {rate} · "
                 f"{answer.upstream_calls} upstream calls</p>")  # fmt: skip
    if answer.data.height:
        parts.append(answer_table(answer).markup)
    return page.Html("".join(parts), answer.question)


def answer_chart(answer: Answer | None) -> go.Figure:
    """A copy of the answer's chart at the widget's width (an empty chart when there is none)."""
    if answer is None or answer.figure is None:
        return go.Figure(layout=style.base_layout("", height=420))
    figure = style.restyle(go.Figure(answer.figure))
    figure.update_layout(width=style.WIDTH)
    return figure
