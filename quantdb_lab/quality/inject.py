"""Fault injection for measuring the checks: put known faults into (real) bars and say where they are. Pure.

``inject_faults(frame, ...)`` returns the damaged frame and the truth: one row per damaged (symbol, date)
with the fault ``kind``, the check that must find it (``expect``; null on the row after a fault, which only
may show consequences) and the checks allowed to fire (``allowed``: the row after a wrong close reports a
change that no longer matches, for instance). Every fault sits on consecutive market sessions (the union of
the frame's dates) with bars on the sessions either side, so a lost-sessions fault drops a run of consecutive
sessions and no fault touches a gap the series already has. Faults imitate
what real akshare data gets wrong (``../shared/data/README.md``); positions are spaced so faults never touch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from quantdb_lab.domain.schema import BARS
from quantdb_lab.domain.symbols import parse_symbol

# kind -> (check that must find it, checks allowed to fire on the fault rows and the row after)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "symbol_code": ("symbol_code", ()),
    "duplicate_date": ("duplicate_date", ()),
    "ohlc": ("ohlc_invariant", ("return_outlier",)),
    "nonpositive": ("nonpositive_price", ()),
    "missing_session": ("missing_session", ()),
    "price_limit": ("price_limit", ("change_mismatch", "return_outlier", "volume_spike", "volume_outlier")),
    "change_mismatch": ("change_mismatch", ("price_limit", "pct_change_mismatch")),
    "foreign_row": ("foreign_row", ("change_mismatch", "price_limit", "turnover_mismatch", "volume_spike",
                                    "volume_outlier", "return_outlier", "pct_change_mismatch", "corporate_action")),
    "volume_unit": ("volume_unit", ("turnover_mismatch",)),
    "turnover": ("turnover_mismatch", ()),
    "stale_bar": ("stale_bar", ("change_mismatch", "pct_change_mismatch", "return_outlier", "price_limit",
                                "corporate_action")),
    "return_outlier": ("return_outlier", ("volume_spike",)),
    "volume_outlier": ("volume_outlier", ()),
    "volume_spike": ("volume_spike", ("volume_outlier",)),
    "corporate_action": ("corporate_action", ()),
}
_LIMITS = {"main": 0.10, "chinext": 0.20, "star": 0.20, "beijing": 0.30}
_SPIKE_Z = 10.0  # robust sigmas of an injected return spike (the check's default threshold is 7)
_NUMERIC = ("open", "high", "low", "close", "volume", "amount", "turnover", "pct_change", "change")


def inject_faults(
    frame: pl.DataFrame, *, kinds: Sequence[str] = tuple(KINDS), per_kind: int = 50, seed: int = 0,
    margin: int = 25, spacing: int = 8,
) -> tuple[pl.DataFrame, pl.DataFrame]:  # fmt: skip
    """Damage ``frame`` (canonical symbols, one row per symbol and date) and return it with the truth."""
    rng = np.random.default_rng(seed)
    base = frame.sort("symbol", "date")
    cols = {c: base.get_column(c).to_numpy().astype(float).copy() for c in _NUMERIC}
    original = base.get_column("symbol").to_list()
    symbols = np.array(original, dtype=object)
    dates = base.get_column("date").to_list()
    sym_id = base.get_column("symbol").rank("dense").to_numpy()
    pos = base.select(pl.int_range(pl.len()).over("symbol")).to_series().to_numpy()
    size = base.select(pl.len().over("symbol")).to_series().to_numpy()
    taken = np.zeros(base.height, dtype=bool)
    keep = np.ones(base.height, dtype=bool)
    extra: list[int] = []
    truth: list[tuple[str, object, str, str, list[str]]] = []
    years = np.array([d.year for d in dates])
    year_id = sym_id.astype(np.int64) * 10_000 + years  # the check judges returns per (symbol, year)
    sigma = _robust_sigma(cols, year_id)
    # the market's sessions: the union of every series' dates (a lost-sessions fault is judged against it)
    session_no = base.select(pl.col("date").rank("dense")).to_series().to_numpy().astype(np.int64)

    def pick(run: int, ok=None) -> int | None:
        for _ in range(2000):  # rare eligible rows (calm return spikes) need many draws
            i = int(rng.integers(0, base.height))
            if pos[i] < margin or size[i] - pos[i] < margin + run or taken[max(i - spacing, 0): i + run + spacing].any():
                continue
            if ok is not None and not ok(i):
                continue
            taken[i - spacing: i + run + spacing] = True
            return i
        return None

    def note(kind: str, rows: range) -> None:
        """``rows`` must be found; the row after them may show consequences (its change breaks)."""
        expect, allowed = KINDS[kind]
        for r in rows:
            truth.append((kind, original[r], dates[r], expect, [expect, *allowed]))
        truth.append((kind, original[rows.stop], dates[rows.stop], None, [*allowed, expect]))

    coded: set[str] = set()
    for kind in kinds:
        for _ in range(per_kind):
            run = int(rng.integers(1, 4)) if kind in ("missing_session", "volume_unit") else 1
            run = int(rng.integers(1, 13)) if kind == "foreign_row" else run
            ok = _eligible(kind, cols, symbols, sigma, year_id, original)
            ok = _between_sessions(ok, session_no, run)
            i = pick(run, ok)
            if i is None:
                continue
            rows = range(i, i + run)
            if kind == "symbol_code":
                if original[i] in coded:
                    continue
                coded.add(original[i])
                code = original[i].split(".")[0]
                rows = range(i - pos[i], i + 1)  # every row up to here lost its zeros, as in the real files
                for r in rows:
                    symbols[r] = code.lstrip("0")
                truth.append((kind, original[i], dates[i], "symbol_code", ["symbol_code"]))
                continue
            if kind == "duplicate_date":
                extra.append(i)
            elif kind == "ohlc":
                cols["high"][i] = round(min(cols["open"][i], cols["close"][i]) * 0.97, 2)
            elif kind == "nonpositive":
                cols["low"][i] = 0.0
            elif kind == "missing_session":
                keep[i:i + run] = False
            elif kind == "price_limit":
                ref = cols["close"][i] - cols["change"][i]
                limit = _LIMITS.get(parse_symbol(original[i]).board, 0.10)
                close = round(ref * (1 + np.sign(rng.random() - 0.5) * (limit + rng.uniform(0.03, 0.08))), 2)
                _set_close(cols, i, close, ref)
            elif kind == "change_mismatch":
                prev = cols["close"][i - 1]
                cols["change"][i] = round(cols["change"][i] - prev * rng.uniform(0.03, 0.1), 2)
                cols["pct_change"][i] = cols["change"][i] / (cols["close"][i] - cols["change"][i])
            elif kind == "foreign_row":
                donor = _donor(base, symbols, dates, i, run, rng)
                if donor is None:
                    taken[i:i + run] = False
                    continue
                for k, r in enumerate(rows):
                    for c in _NUMERIC:
                        cols[c][r] = donor[c][k]
            elif kind == "volume_unit":
                cols["volume"][i:i + run] *= 100.0
                cols["turnover"][i:i + run] = 0.0
            elif kind == "turnover":
                cols["turnover"][i] *= rng.choice([rng.uniform(4, 10), 1 / rng.uniform(4, 10)])
            elif kind == "stale_bar":
                for c in _NUMERIC:
                    cols[c][i] = cols[c][i - 1]
            elif kind == "return_outlier":
                # a bad print: one bar moved by ``_SPIKE_Z`` robust sigmas of its own year, staying inside the
                # price limit; the next bar reports a change from it and so gives the move back
                ref = cols["close"][i] - cols["change"][i]
                move = np.exp(np.sign(rng.random() - 0.5) * _SPIKE_Z * sigma[year_id[i]])
                for c in ("open", "high", "low", "close"):
                    cols[c][i] = round(cols[c][i] * move, 2)
                _set_close(cols, i, cols["close"][i], ref)
                _set_close(cols, i + 1, cols["close"][i + 1], cols["close"][i])
            elif kind == "volume_outlier":
                for c in ("volume", "amount", "turnover"):
                    cols[c][i] /= 60.0
            elif kind == "volume_spike":
                for c in ("volume", "amount", "turnover"):
                    cols[c][i] *= 25.0
            elif kind == "corporate_action":
                # an ex-rights event: the exchange publishes one reference price rounded to the cent; every
                # later row is at the new level. Later rows are scaled *exactly* (not rounded again), so each
                # keeps its own change / pct_change relation and a real later ex-date keeps its own ratio.
                factor = float(rng.choice([0.5, 1 / 1.3, 0.97]))
                end = i - pos[i] + size[i]
                ex_ref = round(cols["close"][i - 1] * factor, 2)
                for c in ("open", "high", "low", "close", "change", "amount"):  # amount: the price level moves
                    cols[c][i:end] = cols[c][i:end] * factor
                _set_close(cols, i, cols["close"][i], ex_ref, digits=None)
            note(kind, rows)
    damaged = base.with_columns(pl.Series("symbol", symbols.astype(str)), *(pl.Series(c, cols[c]) for c in _NUMERIC))
    out = pl.concat([damaged.filter(pl.Series(keep)), damaged[extra]])  # a duplicate is an identical second row
    truth_frame = pl.DataFrame(truth, schema={"kind": pl.String, "symbol": pl.String, "date": pl.Date,
                                              "expect": pl.String, "allowed": pl.List(pl.String)}, orient="row")
    truth_frame = truth_frame.unique(["kind", "symbol", "date", "expect"], keep="first", maintain_order=True)
    return out.select(list(BARS)).sort("symbol", "date"), truth_frame


def _set_close(cols: dict[str, np.ndarray], i: int, close: float, ref: float, digits: int | None = 2) -> None:
    """Move row ``i``'s close (and high/low to contain it) and restate change and pct_change from ``ref``
    (``change`` rounded to ``digits``, as the source reports it; ``None``: kept exact)."""
    cols["close"][i] = close
    cols["high"][i] = max(cols["high"][i], close, cols["open"][i])
    cols["low"][i] = min(cols["low"][i], close, cols["open"][i])
    change = close - ref
    cols["change"][i] = change if digits is None else round(change, digits)
    cols["pct_change"][i] = round(change / ref, 4)


def _robust_sigma(cols: dict[str, np.ndarray], group: np.ndarray) -> dict[int, float]:
    """1.4826 x MAD of the log return against the reported reference close, per ``group`` (symbol-year)."""
    ref = cols["close"] - cols["change"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = np.log(cols["close"] / ref)
    out = {}
    for s in np.unique(group):
        r = ret[(group == s) & np.isfinite(ret)]
        out[int(s)] = float(1.4826 * np.median(np.abs(r - np.median(r)))) if len(r) >= 40 else np.inf
    return out


def _eligible(kind: str, cols, symbols, sigma, year_id, original):
    """Rows a fault of ``kind`` makes sense on (positive traded bars; spikes that stay under the limit)."""
    def ok(i: int) -> bool:
        window = slice(i - 2, i + 3)
        if (cols["volume"][window] <= 0).any() or (cols["low"][window] <= 0).any() or (cols["turnover"][window] <= 0).any():
            return False
        if kind == "symbol_code":
            return symbols[i].startswith("0")
        if kind == "return_outlier":
            # the moved bar must stay inside the price limit (else it is a price_limit fault) with room to spare
            move = np.exp(_SPIKE_Z * sigma[year_id[i]])
            ref = cols["close"][i] - cols["change"][i]
            limit = _LIMITS.get(parse_symbol(original[i]).board, 0.10) - 0.01
            return bool(ref > 0 and cols["high"][i] * move < ref * (1 + limit) and cols["low"][i] / move > ref * (1 - limit)
                        and year_id[i] == year_id[i + 1])
        return True
    return ok


def _between_sessions(ok, session_no: np.ndarray, run: int):
    """Also require rows ``i - 1 .. i + run`` to be consecutive market sessions, so a fault touches no gap the
    series already has (a suspension): lost rows are then one gap of ``run`` sessions, and a damaged bar on a
    suspension's edge cannot change how the suspension reads."""
    def lost_ok(i: int) -> bool:
        return bool(session_no[i + run] - session_no[i - 1] == run + 1) and ok(i)
    return lost_ok


def _donor(base: pl.DataFrame, symbols, dates, i: int, run: int, rng) -> dict[str, np.ndarray] | None:
    """``run`` rows of another symbol on the same dates (what Eastmoney served on 2026-03-20 and 2026-07-16)."""
    wanted = dates[i:i + run]
    others = [s for s in base["symbol"].unique(maintain_order=True).to_list() if s != base["symbol"][i]]
    for s in rng.permutation(others)[:20]:
        rows = base.filter((pl.col("symbol") == s) & pl.col("date").is_in(pl.Series(wanted).cast(pl.Date).implode()))
        if rows.height == run and (rows["volume"] > 0).all() and (rows["low"] > 0).all():
            return {c: rows[c].to_numpy() for c in _NUMERIC}
    return None
