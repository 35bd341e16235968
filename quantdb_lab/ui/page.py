"""What a dashboard page shows besides its widgets: a banner when the data is synthetic, formatted tables, facts.

A dashboard is read by someone who did not write it: results are tables with number formats (thousands
separators, fixed decimals, fractions as percentages, dates as dates, no quoted strings, no dtype row), never
a raw repr, a JSON dump or a path. Each helper returns an object Jupyter and Voila display as HTML.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import polars as pl

from quantdb_lab.ui.chart_style import palette, title

_TABLE = "border-collapse:collapse;font-size:13px;margin:6px 0 12px 0"
_CELL = "padding:3px 10px;border-bottom:1px solid #e6e6e6"


class Html:
    """A piece of HTML a notebook displays as such (its repr is the text, never the markup)."""

    def __init__(self, markup: str, text: str = "") -> None:
        self.markup, self.text = markup, text

    def _repr_html_(self) -> str:
        return self.markup

    def __repr__(self) -> str:
        return self.text or "<html>"


def cell(value: Any, *, percent: bool = False, decimals: int = 2) -> str:
    """One value as a person reads it: ``1,234``, ``12.35``, ``5.1%``, ``2024-03-05``, ``yes``, ``–``."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:.{decimals}%}" if percent else f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{max(decimals - 1, 1)}%}" if percent else f"{value:,.{decimals}f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, pl.Series)):
        return ", ".join(cell(v) for v in value) or "–"
    return str(value)


def table(rows: pl.DataFrame | Iterable[Mapping[str, Any]], *, percent: Iterable[str] = (),
          decimals: Mapping[str, int] | None = None, caption: str = "", limit: int = 50,
          headers: Mapping[str, str] | None = None) -> Html:  # fmt: skip
    """An HTML table: ``percent`` names the columns holding fractions (shown as %), ``decimals`` per column."""
    frame = rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(list(rows))
    percent, decimals, headers = set(percent), dict(decimals or {}), dict(headers or {})
    numeric = {c for c, t in frame.schema.items() if t.is_numeric()}
    head = "".join(
        f'<th style="{_CELL};text-align:{"right" if c in numeric else "left"}">{html.escape(headers.get(c, c))}</th>'
        for c in frame.columns
    )
    body = []
    for row in frame.head(limit).iter_rows(named=True):
        tds = "".join(
            f'<td style="{_CELL};text-align:{"right" if c in numeric else "left"}">'
            f"{html.escape(cell(v, percent=c in percent, decimals=decimals.get(c, 2)))}</td>"
            for c, v in row.items()
        )
        body.append(f"<tr>{tds}</tr>")
    more = f"<p><i>{frame.height - limit:,} more rows not shown</i></p>" if frame.height > limit else ""
    heading = f"<caption style='text-align:left;font-weight:600;padding:4px 0'>{html.escape(caption)}</caption>" if caption else ""
    markup = f'<table class="qdb-table" style="{_TABLE}">{heading}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>{more}'
    return Html(markup, f"table of {frame.height} rows")


def facts(items: Mapping[str, Any], *, percent: Iterable[str] = ()) -> Html:
    """``label: value`` pairs on one line each, values formatted like table cells."""
    percent = set(percent)
    lines = "".join(
        f"<li><b>{html.escape(k)}:</b> {html.escape(cell(v, percent=k in percent))}</li>" for k, v in items.items()
    )
    return Html(f'<ul class="qdb-facts" style="margin:4px 0 10px 0">{lines}</ul>', "facts")


def note(text: str) -> Html:
    """A sentence for the reader (e.g. why a section is empty), never a path or a debugging value."""
    return Html(f'<p class="qdb-note" style="color:#555"><i>{html.escape(text)}</i></p>', text)


def banner(lab: Any) -> Html:
    """The data's origin at the top of a page: a clear warning when it is synthetic (the simulated market)."""
    provider = lab.provider
    if getattr(provider, "synthetic", False):
        colour = palette().synthetic
        markup = (
            f'<div class="qdb-banner qdb-banner-synthetic" style="border-left:6px solid {colour};'
            f'background:#fff4e5;padding:8px 12px;margin:6px 0 12px 0;font-size:14px">'
            f"<b>{html.escape(title('synthetic_data'))}</b> — every price on this page comes from the simulated market "
            f"(<code>{html.escape(provider.name)}</code>), not from an exchange. Set the provider to "
            f"<code>akshare</code> for real data.</div>"
        )
        return Html(markup, "synthetic data")
    markup = (
        '<div class="qdb-banner qdb-banner-real" style="border-left:6px solid #1f4e79;background:#eef4fa;'
        f'padding:8px 12px;margin:6px 0 12px 0;font-size:14px">Data from <b>{html.escape(provider.name)}</b>, '
        "through the local cache.</div>"
    )
    return Html(markup, f"data from {provider.name}")
