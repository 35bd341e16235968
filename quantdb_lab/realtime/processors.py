"""Snapshot -> events, vectorised over the whole snapshot (polars frames, NumPy flags; see ``Pipeline``).

``Pipeline.process(snapshot)`` aligns the previous state (one row per symbol) with the snapshot, computes
every flag over all rows at once, and builds event objects only for the few flagged rows:

* ``PriceUpdate``: rows whose ``last`` changed (every row of the first snapshot), one event per snapshot;
* ``LimitHit``/``LimitRelease``: ``last`` reaches ``limit_up``/``limit_down`` (hit) or leaves it (release);
* ``Halt``: a symbol becomes ``halted`` (first seen halted counts);
* ``VolumeSpike``: the session's volume so far exceeds ``spike_ratio`` x the expected volume by this time of
  day (``baseline`` daily volume x ``expected_share(minute)``), once ``min_minutes`` have traded; once per
  symbol and session.

The expected share follows a typical A-share U-shaped intraday volume curve (heavy open, heavier close,
opening auction 2 %): an approximation stated here, not fitted.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import numpy as np
import polars as pl

from quantdb_lab.realtime.events import Event, Halt, LimitHit, LimitRelease, PriceUpdate, VolumeSpike
from quantdb_lab.realtime.session import elapsed_minutes

TOLERANCE: Final = 1e-6
_FIELDS = ("last", "up", "down", "halted", "spiked", "baseline")
_EMPTY = {"last": np.nan, "up": False, "down": False, "halted": False, "spiked": False, "baseline": np.nan}
_BASELINE = {"symbol": pl.String(), "baseline_volume": pl.Float64()}


def expected_share_curve() -> np.ndarray:
    """241 cumulative shares of a day's volume after 0..240 trading minutes (1.0 at 240)."""
    minutes = np.arange(1, 241)
    weight = 1.0 + 2.0 * np.exp(-minutes / 20.0) + 1.5 * np.exp(-(240 - minutes) / 15.0)
    weight *= 0.95 / weight.sum()
    curve = 0.02 + np.concatenate([[0.0], np.cumsum(weight)])
    curve[-1] = 1.0  # the closing auction
    return curve


EXPECTED_SHARE: Final = expected_share_curve()


class Pipeline:
    """Stateful across the snapshots of one session (a new session date resets it).

    The state is one array per field, row-aligned with the last snapshot's symbols, so a poll returning the same
    symbols in the same order (the usual case) needs no join. The flags are NumPy arithmetic on the snapshot's
    columns (zero-copy from polars): on a 5,500-row frame that is ~35 us against ~200 us for the same polars
    expressions, whose thread-pool fan-out also made the 99th percentile jump on a busy 2-core machine.
    Polars does the rest: the re-alignment join when the symbol set changes and the row selections.
    """

    def __init__(self, *, baseline: pl.DataFrame | None = None, spike_ratio: float = 3.0, min_minutes: int = 10):
        self.baseline = baseline if baseline is not None else pl.DataFrame(schema=_BASELINE)
        self.spike_ratio = spike_ratio
        self.min_minutes = min_minutes
        self.processed = 0
        self.reset()

    def reset(self) -> None:
        self._symbols: pl.Series | None = None
        self._state: dict[str, np.ndarray] = {}
        self._session: date | None = None

    def _aligned_state(self, symbols: pl.Series) -> dict[str, np.ndarray]:
        if self._symbols is not None and symbols.equals(self._symbols):
            return self._state
        keys = symbols.to_frame("symbol")
        old = pl.DataFrame({"symbol": self._symbols if self._symbols is not None else pl.Series([], dtype=pl.String),
                            **{k: self._state.get(k, []) for k in _FIELDS if k != "baseline"}})  # fmt: skip
        state = keys.join(old, on="symbol", how="left", maintain_order="left")
        baseline = keys.join(self.baseline.select("symbol", "baseline_volume"), on="symbol", how="left",
                             maintain_order="left")["baseline_volume"].cast(pl.Float64)  # fmt: skip
        self._symbols = symbols
        aligned = {k: state[k].fill_null(_EMPTY[k]).cast(pl.Float64 if k == "last" else pl.Boolean).to_numpy()
                   for k in _FIELDS if k != "baseline"}  # fmt: skip
        aligned["baseline"] = baseline.fill_null(np.nan).to_numpy()
        return aligned

    def process(self, snapshot: pl.DataFrame) -> list[Event]:
        if snapshot.is_empty():
            return []
        stamp = snapshot["time"].max()
        if self._session != stamp.date():
            self.reset()
            self._session = stamp.date()
        minute = elapsed_minutes(stamp)
        before = self._aligned_state(snapshot["symbol"])
        last = snapshot["last"].cast(pl.Float64).to_numpy()
        halted = snapshot["halted"].fill_null(False).to_numpy()
        volume = snapshot["volume"].cast(pl.Float64).to_numpy()
        with np.errstate(invalid="ignore"):  # NaN (no limit, no baseline, no price) compares False
            up = (last >= snapshot["limit_up"].to_numpy() - TOLERANCE) & ~halted
            down = (last <= snapshot["limit_down"].to_numpy() + TOLERANCE) & ~halted
            expected = before["baseline"] * float(EXPECTED_SHARE[minute])
            spike = (volume >= expected * self.spike_ratio) & (expected > 0) & ~before["spiked"]
        spike &= minute >= self.min_minutes
        changed = ~(last == before["last"])  # NaN before (first sight) counts as a change
        mask = (up != before["up"]) | (down != before["down"]) | (halted & ~before["halted"]) | spike
        events: list[Event] = []
        if changed.any():
            events.append(PriceUpdate(stamp, snapshot if changed.all() else snapshot.filter(pl.Series(changed))))
        for i in np.flatnonzero(mask):
            events.extend(_row_events(snapshot["symbol"][int(i)], stamp, i, last, volume, expected, up, down,
                                      halted, spike, before))  # fmt: skip
        self._state = {"last": last, "up": up, "down": down, "halted": halted, "spiked": before["spiked"] | spike,
                       "baseline": before["baseline"]}  # fmt: skip
        self.processed += 1
        return events


def _row_events(symbol, stamp, i, last, volume, expected, up, down, halted, spike, before) -> list[Event]:
    """Events of row ``i``: this snapshot's arrays against ``before``'s."""
    out: list[Event] = []
    if halted[i] and not before["halted"][i]:
        out.append(Halt(stamp, symbol))
    for side, now in (("up", up), ("down", down)):
        if now[i] and not before[side][i]:
            out.append(LimitHit(stamp, symbol, side, float(last[i])))
        elif before[side][i] and not now[i]:
            out.append(LimitRelease(stamp, symbol, side, float(last[i])))
    if spike[i]:
        out.append(VolumeSpike(stamp, symbol, float(volume[i]), float(expected[i]), float(volume[i] / expected[i])))
    return out
