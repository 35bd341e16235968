"""Plotly charts inside the dashboards that reach the browser under Voila as well as in JupyterLab.

A ``go.FigureWidget`` reaches a page by two routes: the state it was built with, which the page reads when it
connects, and edit messages (addTraces, restyle, relayout, ...) sent as the figure changes, which only a page
already connected receives. Voila runs the whole notebook before the page connects to the kernel, so edits made
before that (``add_trace`` on a FigureWidget not yet on screen, or a restyle) are lost: the page draws the
figure as it was built, and later edits aim at trace indices it does not have ("indices must be valid indices
for gd.data"). And while a page is still loading a FigureWidget's model (plotly's 5 MB script, evaluated once
per FigureWidget, can take seconds), an edit message to it waits for the load and is dropped when that takes
more than anywidget's 2 s ("[anywidget] Failed to initialize model").

So a widget builds each chart as a plain ``go.Figure``, wraps the first one with ``figure_widget`` and shows
every later one with ``show_figure``. Under our Voila server (plotly's script named by URL, loaded once per page)
that always replaces the FigureWidget. Elsewhere it edits the FigureWidget in place only once a page has drawn
it (its model is loaded) and the traces line up (same number, same types); the state a page reads on
connecting is then refreshed too. Otherwise a new FigureWidget built from the figure, so carrying all of it from the start,
replaces the old one in its container and the old one is closed.
"""

from __future__ import annotations

import json
import os
import sys
from copy import deepcopy
from functools import cache
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from quantdb_lab.config import PLOTLY_ESM_ENV

# Where a FigureWidget keeps the state a connecting page reads (plotly refreshes them the same way when a
# FigureWidget is displayed directly), and the messages its page view sends once it has drawn the figure.
_STATE = ("_widget_data", "_widget_layout", "_data", "_layout_obj")
_DRAWN_REPORTS = ["_js2py_layoutDelta", "_js2py_traceDeltas"]
# Imported by jsonschema (plotly -> nbformat -> jsonschema) only to check "iri" strings, it compiles 38 grammars
# as it loads: 1 s in a fresh kernel, 7-8 s in a dashboard kernel after a portfolio read (measured), which made the
# first chart the slowest part of a page. A dashboard kernel never validates IRIs, so it goes without.
_IRI_GRAMMARS = "rfc3987_syntax"


def _import_figure_widget_for_dashboards() -> None:
    """Load plotly's FigureWidget with jsonschema's IRI format checker left out (dashboard kernels only)."""
    if "jsonschema" in sys.modules or _IRI_GRAMMARS in sys.modules:
        return
    sys.modules[_IRI_GRAMMARS] = None  # type: ignore[assignment]  # an import of it raises ImportError
    try:
        go.FigureWidget  # noqa: B018  # plotly's lazy import, jsonschema with it
    finally:
        del sys.modules[_IRI_GRAMMARS]  # anything that asks for it later imports it as usual


def _loader(path: str) -> str:
    """A small module that imports plotly's script from ``path`` on the page's own origin and passes it on: the page
    may be opened at 127.0.0.1 or at localhost (two origins; a module from the other one is refused), and anywidget
    imports a string that is not an absolute URL as module source."""
    return (f"const plotly = await import(new URL({json.dumps(path)}, window.location.origin).href);\n"
            "export default plotly.default;\n")  # fmt: skip


@cache
def _shared_script_class(where: str) -> type[go.FigureWidget]:
    """A FigureWidget whose front-end script is the module at ``where`` (an absolute URL, or a path on the page's
    server): loaded once per page, however many charts."""
    _import_figure_widget_for_dashboards()
    esm = where if where.startswith(("http://", "https://")) else _loader(where)
    return type("FigureWidget", (go.FigureWidget,), {"_esm": esm, "__module__": __name__})


def widget_class() -> type[go.FigureWidget]:
    """plotly's FigureWidget, or under our Voila server one naming plotly's script by address (loaded once a page)."""
    where = os.environ.get(PLOTLY_ESM_ENV, "")
    return _shared_script_class(where) if where.startswith(("http://", "https://", "/")) else go.FigureWidget


def figure_widget(figure: go.Figure) -> go.FigureWidget:
    """A FigureWidget holding ``figure`` from the start, that notes when a page has drawn it."""
    widget = widget_class()(figure)
    widget._qdb_drawn = False
    widget.observe(_note_drawn, names=_DRAWN_REPORTS)
    return widget


def drawn(figure: go.FigureWidget) -> bool:
    """True once a page has drawn ``figure`` (so its model there is loaded and takes edits)."""
    return bool(getattr(figure, "_qdb_drawn", False))


def show_figure(container: widgets.Box, current: go.FigureWidget, figure: go.Figure) -> go.FigureWidget:
    """Show ``figure`` where ``current`` is in ``container``; returns the FigureWidget now shown there."""
    same_traces = [t.type for t in current.data] == [t.type for t in figure.data]
    # Under our Voila server plotly's script is loaded once per page, so a new FigureWidget costs little there and
    # carries its whole state from the start: always replace (in-place edits after a first one were seen dropped
    # in the browser, "Error setting state", leaving a stale chart). Elsewhere (JupyterLab, where each new
    # FigureWidget evaluates the 5 MB script again) edit in place once the chart is drawn.
    shared_script = widget_class() is not go.FigureWidget
    if same_traces and not shared_script and drawn(current) and all(hasattr(current, name) for name in _STATE):
        with current.batch_update():
            for trace, new in zip(current.data, figure.data, strict=True):
                _assign(trace, new.to_plotly_json())
            _assign(current.layout, figure.layout.to_plotly_json())
        _refresh_state(current)
        return current
    if not any(child is current for child in container.children):
        raise ValueError("the figure shown is not a child of the container")
    replacement = figure_widget(figure)
    container.children = tuple(replacement if child is current else child for child in container.children)
    current.close()
    return replacement


def _note_drawn(change: dict[str, Any]) -> None:
    if change["new"]:
        change["owner"]._qdb_drawn = True


def _assign(target: Any, props: dict[str, Any]) -> None:
    """Make ``target`` (a trace or the layout) hold exactly ``props``: changed keys set, missing ones cleared."""
    old = target.to_plotly_json()
    changes = {key: value for key, value in props.items() if key != "type" and not _same(old.get(key), value)}
    changes.update({key: None for key in old if key not in props and key not in ("type", "uid")})
    if changes:
        target.update(changes, overwrite=True)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # arrays compare element by element
        return False


def _refresh_state(figure: go.FigureWidget) -> None:
    """Make the state a page reads when it connects match the figure, without a message to the pages already
    connected: they have the edits, and plotly's front end fails on a whole ``_widget_data`` sent to a drawn
    chart ("Error setting state"), after which it drops every later edit (a stale chart). The trait values are
    written in place, so only a page reading the state (connecting) sees them."""
    figure._trait_values["_widget_data"] = deepcopy(figure._data)
    figure._trait_values["_widget_layout"] = deepcopy(figure._layout_obj._props)
