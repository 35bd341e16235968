"""MultiModalWidget headless: price with sentiment-coloured news markers, macro and commodity panels below."""

from __future__ import annotations

import plotly.graph_objects as go

from quantdb_lab.ui.chart_style import GREEN, RED
from quantdb_lab.ui.widgets.multimodal import MultiModalWidget
from tests.support.sim import make_lab


def test_widget_panels_markers_and_refresh(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    widget = MultiModalWidget(lab, "600000.SH", start="2024-01-01", end="2024-06-28", include=["news", "cpi", "SC0"])
    figure = widget.figure
    assert isinstance(figure, go.FigureWidget)
    names = [t.name for t in figure.data]
    assert names == ["close", "news", "cpi", "sc0_close"]
    assert {figure.data[i].xaxis for i in range(4)} == {"x", "x2", "x3"}  # three rows
    assert figure.layout.xaxis.matches == "x3" or figure.layout.xaxis2.matches == "x3"  # shared x-axis
    sentiment = [float(t.split("sentiment ")[1].split("<br>")[0]) for t in figure.data[1].text]
    by_sign = {(s > 0) - (s < 0): c for s, c in zip(sentiment, figure.data[1].marker.color, strict=True)}
    assert by_sign[1] == RED and by_sign[-1] == GREEN  # positive news rises: red under the Chinese convention
    assert "include=" in widget.header.value
    widget.refresh("Energy", start="2024-01-01", end="2024-03-29")
    assert [t.name for t in widget.figure.data] == ["close", "sc0_close"]
    assert widget.figure in widget.children and "Energy" in widget.header.value


def test_show_button_applies_the_context_and_reports_errors(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    widget = MultiModalWidget(lab, "600000.SH", start="2024-01-01", end="2024-03-29", include=["cpi"])
    widget.target.value, widget.context.value = "000300.SH", "__auto__"
    widget.show.click()
    assert "index" in widget.header.value and [t.name for t in widget.figure.data][:1] == ["close"]
    assert len(widget.figure.data) == 1 + 4  # the default macro series of an index
    widget.target.value = "no such thing"
    widget.show.click()
    assert "InvalidRequestError" in widget.header.value
