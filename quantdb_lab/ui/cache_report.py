"""``lab.stats()`` and provenance turned into rows and small HTML tables: the cache monitor's logic, no widgets.

Shared by the cache monitor widget and the JupyterLab extension's JSON endpoint, so both show the same numbers.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from quantdb_lab.domain.datasets import datasets
from quantdb_lab.loader.stats import Provenance


def human_bytes(count: float) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.0%}"


def summary(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The headline numbers, JSON-ready."""
    breakers = [row["breaker"] for row in stats.get("throttle", [])]
    return {
        "mode": stats["mode"],
        "provider": stats["provider"],
        "series": stats["series"],
        "rows_on_disk": stats["rows_on_disk"],
        "bytes_on_disk": stats["bytes_on_disk"],
        "hits": stats["hits"],
        "misses": stats["misses"],
        "hit_rate": stats["hit_rate"],
        "upstream_calls_total": stats["upstream_calls_total"],
        "upstream_calls_all_kernels": sum(row.get("calls", 0) for row in stats.get("throttle", [])),
        "breaker": next((state for state in ("open", "half_open") if state in breakers), "closed"),
    }


def dataset_rows(stats: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per stored dataset, with what the registry says of it: its title and how many sessions the
    upstream itself keeps (the cache holds what it has since forgotten: minute bars, daily pools)."""
    known = datasets()
    rows = []
    for name, usage in sorted(stats.get("by_dataset", {}).items()):
        record = known.get(name)
        keeps = "" if record is None else ("all" if record.upstream_sessions is None else f"{record.upstream_sessions} sessions")
        rows.append({"dataset": name, "title": record.title if record else "", **usage, "upstream keeps": keeps})
    return rows


def collection_rows(stats: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The datasets whose upstream forgets: what the cache captured before it did, and what was lost."""
    return [{"dataset": row["dataset"], "upstream keeps": f"{row['upstream_keeps']} sessions",
             "series": row["series"], "captured": row["sessions_captured"], "lost": row["sessions_lost"],
             "newest": row["newest"] or ""} for row in stats.get("collection", [])]  # fmt: skip


def throttle_rows(stats: Mapping[str, Any]) -> list[dict[str, Any]]:
    keep = ("host_family", "breaker", "tokens", "burst", "rate", "in_flight", "calls", "retries", "failures", "trips")
    return [{key: row.get(key) for key in keep} for row in stats.get("throttle", [])]


def provenance_rows(history: Iterable[Provenance]) -> list[dict[str, Any]]:
    """Newest first."""
    return [
        {
            "symbol": p.symbol,
            "adjust": p.adjust or "none",
            "range": f"{p.start} .. {p.end}",
            "rows": p.rows,
            "source": "stale cache" if p.stale else ("cache" if p.from_cache else "upstream"),
            "calls": p.upstream_calls,
            "ms": round(p.seconds * 1000, 1),
        }
        for p in reversed(list(history))
    ]


def html_table(rows: Sequence[Mapping[str, Any]], *, empty: str = "nothing yet", css_class: str = "") -> str:
    if not rows:
        return f'<p class="{css_class}"><i>{html.escape(empty)}</i></p>'
    head = "".join(f"<th>{html.escape(str(key))}</th>" for key in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(value))}</td>" for value in row.values()) + "</tr>" for row in rows
    )
    return f'<table class="qdb-table {css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def summary_html(stats: Mapping[str, Any], refreshed: datetime) -> str:
    head = summary(stats)
    cells = [
        ("mode", head["mode"]),
        ("provider", head["provider"]),
        ("series cached", head["series"]),
        ("on disk", human_bytes(head["bytes_on_disk"])),
        ("hit rate", f"{percent(head['hit_rate'])} ({head['hits']} hits, {head['misses']} misses)"),
        ("upstream calls", f"{head['upstream_calls_total']} this kernel, {head['upstream_calls_all_kernels']} all kernels"),
        ("breaker", head["breaker"]),
    ]
    items = "".join(f"<li><b>{html.escape(k)}:</b> <span>{html.escape(str(v))}</span></li>" for k, v in cells)
    stamp = html.escape(refreshed.strftime("%H:%M:%S"))
    return f'<ul class="qdb-summary">{items}</ul><p class="qdb-refreshed">refreshed at {stamp}</p>'


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
