"""Learning from outcomes: how often each kind of prediction was used, and the score it earns next time.

Every warming load is a ledger entry tagged with its rule (``kind``: tracked, co-request, peer, open,
universe) and ``pred``, one id per rule and warming pass: the loads one rule chose in one pass stand or fall
together (a sector's 30 members are dropped together when the study moves on), so they are one observation,
not 30, and a universe warmed as one prediction is one observation, not 300. Once the session after the pass
has closed, it is settled: its hit is the share of its calls a foreground read used, its waste the rest. Per kind the hits and wastes add up in ``prefetch/outcomes.json``.

A rule's confidence ``c`` is a prior ``Beta(m c, m (1 - c))`` of strength ``m = PRIOR_STRENGTH``; the
outcomes of its kind update it: ``p = (m c + hits) / (m + hits + wastes)``. A kind that keeps wasting calls
sinks below the price of a call and stops being warmed; one that is always used rises.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, Final

from quantdb_lab.prefetch.jsonfile import read_json, update_json

PRIOR_STRENGTH: Final = 4.0
FILE_NAME: Final = "outcomes.json"
VERSION: Final = 1
MAX_SETTLED: Final = 5000  # prediction ids remembered as settled (the ledger keeps fewer entries than that)


def posterior(confidence: float, hits: float, wastes: float, strength: float = PRIOR_STRENGTH) -> float:
    return (strength * confidence + hits) / (strength + hits + wastes)


def settle(entries: Iterable[Mapping[str, Any]], latest_closed: date, done: set[str]) -> dict[str, tuple[str, float]]:
    """Predictions whose every load is older than the latest closed session, not yet in ``done``:
    ``{pred: (kind, hit share of its calls)}``."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for entry in entries:
        if entry.get("pred") and entry.get("kind"):
            groups[str(entry["pred"])].append(entry)
    out = {}
    for pred, group in groups.items():
        if pred in done or any(date.fromisoformat(str(e["warmed_at"])[:10]) >= latest_closed for e in group):
            continue
        calls = sum(int(e.get("calls", 0)) for e in group)
        used = sum(int(e.get("calls", 0)) for e in group if e.get("uses", 0))
        if calls:
            out[pred] = (str(group[0]["kind"]), used / calls)
    return out


class Outcomes:
    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / FILE_NAME

    def counts(self) -> dict[str, tuple[float, float]]:
        """``{kind: (hits, wastes)}`` settled so far."""
        kinds = read_json(self.path, VERSION).get("kinds", {})
        return {str(k): (float(v[0]), float(v[1])) for k, v in kinds.items() if isinstance(v, list) and len(v) == 2}

    def probability(self, kind: str, confidence: float) -> float:
        hits, wastes = self.counts().get(kind, (0.0, 0.0))
        return posterior(confidence, hits, wastes)

    def update(self, entries: Iterable[Mapping[str, Any]], latest_closed: date) -> dict[str, tuple[str, float]]:
        """Settle what can be settled from the warm ledger's entries; returns the predictions newly settled."""
        entries = list(entries)
        newly: dict[str, tuple[str, float]] = {}

        def change(data: dict[str, Any]) -> dict[str, Any]:
            settled = [str(p) for p in data.get("settled", [])]
            kinds = {k: list(v) for k, v in data.get("kinds", {}).items()}
            newly.update(settle(entries, latest_closed, set(settled)))
            for pred, (kind, hit) in newly.items():
                slot = kinds.setdefault(kind, [0.0, 0.0])
                slot[0] += hit
                slot[1] += 1.0 - hit
                settled.append(pred)
            return {"kinds": kinds, "settled": settled[-MAX_SETTLED:]}

        if any(e.get("pred") for e in entries):
            update_json(self.path, VERSION, change)
        return newly

    def rows(self, priors: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
        """Per kind: settled predictions, hit share and, given a rule's typical confidence, the learned score."""
        rows = []
        for kind, (hits, wastes) in sorted(self.counts().items()):
            n = hits + wastes
            row: dict[str, Any] = {"kind": kind, "settled": round(n, 1), "hit share": hits / n if n else None}
            if priors and kind in priors:
                row["prior"] = priors[kind]
                row["learned"] = posterior(priors[kind], hits, wastes)
            rows.append(row)
        return rows
