"""AskWidget and ``%qdb ask`` without a browser, on the simulated market."""

from __future__ import annotations

import pytest
import traitlets
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from quantdb_lab.query import Answer
from quantdb_lab.ui.widgets import AskWidget
from tests.support.sim import make_lab

QUESTION = "Compare the volatility of 600519 and 000858 this year"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    return make_lab(tmp_path_factory.mktemp("widget"))[0]


def test_submit_shows_plan_insights_table_and_chart(lab):
    widget = AskWidget(lab, question=QUESTION)
    answer = widget.submit()
    assert isinstance(answer, Answer) and widget.state == "answered" and widget.answer is answer
    assert "compare volatility" in widget.plan_view.value
    assert answer.insights[0][:20] in widget.insights_view.value.replace("&#x27;", "'")
    assert "<table" in widget.table_view.value and "cache hit rate" in widget.metrics_view.value
    assert len(widget.chart.data) == 2  # one bar series per security


def test_examples_fill_the_box_and_ask(lab):
    widget = AskWidget(lab)
    example = widget.example_box.options[1][1]
    widget.example_box.value = example
    assert widget.question == example and widget.state == "answered"


def test_declined_questions_and_bad_input(lab):
    widget = AskWidget(lab)
    assert widget.submit("Top 10 fintech stocks last month").ok is False
    assert widget.state == "declined" and "fintech" in widget.plan_view.value and "Try:" in widget.insights_view.value
    assert widget.submit("   ") is None and widget.state == "error"
    assert widget.submit("x" * 600) is None and "500" in widget.message
    with pytest.raises(traitlets.TraitError):
        widget.state = "thinking"


@pytest.fixture
def shell(tmp_path, monkeypatch):
    monkeypatch.setenv("QUANTDB_LAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("QUANTDB_LAB_PROVIDER", "simulated")
    ip = InteractiveShell()
    ip.run_line_magic("load_ext", "quantdb_lab")
    yield ip
    InteractiveShell.clear_instance()


def test_the_ask_magic_returns_an_answer(shell):
    answer = shell.run_line_magic("qdb", f'ask "{QUESTION}"')
    assert isinstance(answer, Answer) and answer.ok and answer.plan.intent == "compare"
    chinese = shell.run_line_magic("qdb", "ask 贵州茅台和五粮液今年的波动率对比")
    assert chinese.ok and chinese.plan.metric == "volatility"
    with pytest.raises(UsageError, match="give a question"):
        shell.run_line_magic("qdb", "ask")
