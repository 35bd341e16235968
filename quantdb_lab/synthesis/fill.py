"""Fill the gaps of one series: pick the method, draw, build the bars, score them, refuse the poor ones.

Frames in, frames out. Real rows are returned as they came (bit for bit, only sorted by date); synthetic rows
are added with ``is_synthetic = True`` and ``close_lo``/``close_hi``, the band at ``level`` around each
synthetic close. ``draw="mean"`` fills with the posterior median of the close (``exp`` of the mean log price:
the estimate that minimises absolute error); ``draw="sample"`` with one path from the same posterior.

Refusal is per gap, never per series: a gap longer than ``max_gap`` sessions, or whose fill scores below
``min_score``, stays missing and its report names the cause ("too long", "jump across the gap", ...: see
``validate``); the series' other gaps are filled. Malformed input (several symbols, duplicate dates, bad
settings, a reference frame without ``date``/``close``) raises :class:`InvalidRequestError`.

The state-space fill also uses the right anchor's open (``statespace``: the last missing close is that open
less one overnight move); an open that is missing, not positive or outside the day's low..high is not used.
A reference is used for a gap only if it has a close on every session from the gap's left anchor to its right
anchor; one without says nothing about those days, so that gap is filled without it (its loading is NaN in the
report, and a note says so) rather than as if the reference had not moved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import day_number
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidRequestError, QuantdbError
from quantdb_lab.synthesis.bridge import bridge_moments, bridge_sample, context_sigma
from quantdb_lab.synthesis.gaps import Gap, Suspensions, check_series, find_gaps
from quantdb_lab.synthesis.ohlcv import DayShapes, build_bars, day_shapes, invariants_hold
from quantdb_lab.synthesis.statespace import fit_statespace
from quantdb_lab.synthesis.validate import (
    DAILY_LIMITS,
    FREE_SESSIONS,
    WIDEST_LIMIT,
    FillReport,
    refusal_reason,
    score_fill,
    vol_ratio,
)

METHODS = ("statespace", "bridge")
DRAWS = ("mean", "sample")
FLAG_COLUMNS = ("is_synthetic", "close_lo", "close_hi")
#: one reference frame (``date``, ``close``), several (an index and a sector: one loading each), or none
References = pl.DataFrame | Sequence[pl.DataFrame] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SynthesisConfig:
    method: str = "statespace"  # "statespace" (random walk around the references, conditioned on both anchors and the right one's open) or "bridge" (baseline)
    draw: str = "mean"  # "mean" best estimate, "sample" one path from the same model
    seed: int | None = None  # sample draws are deterministic for a given seed (None: fresh entropy)
    level: float = 0.9  # coverage of the close_lo..close_hi band
    min_score: float = 0.9  # fills scoring below are refused (per gap)
    max_gap: int = 10  # longer gaps (sessions between the anchors) are refused
    context: int = 60  # sessions of context taken on each side of a gap
    min_context: int = 20  # real returns needed for full marks on the context component
    max_band: float = 0.5  # widest acceptable (close_hi - close_lo) / close
    fill_suspensions: bool = False  # known suspensions are not gaps unless this is set

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidRequestError(f"method must be one of {METHODS}, not {self.method!r}")
        if self.draw not in DRAWS:
            raise InvalidRequestError(f"draw must be one of {DRAWS}, not {self.draw!r}")
        if not 0.0 < self.level < 1.0:
            raise InvalidRequestError(f"level must lie strictly between 0 and 1, not {self.level}")
        if not 0.0 <= self.min_score <= 1.0:
            raise InvalidRequestError(f"min_score must lie in [0, 1], not {self.min_score}")
        if self.max_gap < 1 or self.context < 2:
            raise InvalidRequestError("max_gap must be >= 1 and context >= 2")


@dataclass(frozen=True, slots=True)
class Synthesis:
    frame: pl.DataFrame  # real rows plus the accepted synthetic rows
    reports: tuple[FillReport, ...]
    gaps: tuple[Gap, ...]

    @property
    def refused(self) -> tuple[FillReport, ...]:
        return tuple(r for r in self.reports if not r.accepted)


@dataclass
class _Series:
    """One series laid on the session grid: log closes (NaN where missing) and the aligned reference."""

    frame: pl.DataFrame
    grid: list[date]
    pos: dict[date, int]
    y: np.ndarray
    x: np.ndarray | None  # the references' log closes, one column each, NaN where a reference has none
    limit: float | None  # the security's daily price limit (see ``validate``)
    opens: np.ndarray  # the series' log opens, NaN where missing or outside the day's low..high
    x_opens: np.ndarray | None  # the references' log opens, NaN where a reference has none
    shapes_cache: dict = field(default_factory=dict)


def _layout(frame: pl.DataFrame, sessions: Iterable[date], references: References) -> _Series:
    dates = frame["date"].to_list()
    first, last = dates[0], dates[-1]
    grid = sorted({d for d in sessions if first <= d <= last} | set(dates))
    pos = {d: i for i, d in enumerate(grid)}
    y = np.full(len(grid), np.nan)
    y[[pos[d] for d in dates]] = np.log(frame["close"].to_numpy().astype(float))
    opens = np.full(len(grid), np.nan)
    opens[[pos[d] for d in dates]] = _log_opens(frame)
    refs = _as_list(references)
    columns = [_on_grid(ref, grid) for ref in refs]
    open_columns = [_on_grid(ref, grid, "open") for ref in refs]
    stack = (lambda cs: np.column_stack(cs) if cs else None)  # noqa: E731
    return _Series(frame, grid, pos, y, stack(columns), opens=opens, x_opens=stack(open_columns), limit=_limit(frame))


def _log_opens(frame: pl.DataFrame) -> np.ndarray:
    """Log opens, NaN where the open is missing, not positive or outside the day's low..high."""
    if "open" not in frame.columns:
        return np.full(frame.height, np.nan)
    opens = frame["open"].cast(pl.Float64).fill_null(np.nan).to_numpy().astype(float)
    ok = np.isfinite(opens) & (opens > 0)
    for bound, keep in (("low", np.greater_equal), ("high", np.less_equal)):
        if bound in frame.columns:
            limit = frame[bound].cast(pl.Float64).fill_null(np.nan).to_numpy().astype(float)
            ok &= ~np.isfinite(limit) | keep(opens, limit)
    return np.where(ok, np.log(np.where(ok, opens, 1.0)), np.nan)


def _limit(frame: pl.DataFrame) -> float | None:
    if "symbol" not in frame.columns:
        return WIDEST_LIMIT
    try:
        return DAILY_LIMITS.get(parse_symbol(str(frame["symbol"][0])).board)
    except QuantdbError:  # a symbol the parser does not know: the widest A-share limit
        return WIDEST_LIMIT


def _as_list(references: References) -> list[pl.DataFrame]:
    if references is None:
        return []
    if isinstance(references, pl.DataFrame):
        return [references]
    if isinstance(references, Sequence) and all(isinstance(r, pl.DataFrame) for r in references):
        return list(references)
    raise InvalidRequestError("reference must be a frame (date, close), a sequence of such frames, or None")


def _on_grid(reference: pl.DataFrame, grid: list[date], column: str = "close") -> np.ndarray:
    """The reference's log close (or open) on the grid, NaN on the days it has no positive one (an open: none
    at all if the frame has no ``open`` column)."""
    if not {"date", "close"} <= set(reference.columns) or reference.schema["date"] != pl.Date:
        raise InvalidRequestError("a reference frame needs a pl.Date column 'date' and a column 'close'")
    if column not in reference.columns:
        return np.full(len(grid), np.nan)
    ref = (
        pl.DataFrame({"date": grid}, schema={"date": pl.Date})
        .join(reference.select("date", pl.col(column).cast(pl.Float64)).unique("date", keep="last"), on="date", how="left")
        .with_columns(pl.when(pl.col(column) > 0).then(pl.col(column).log()).alias("x"))
    )
    return ref["x"].fill_nan(None).to_numpy().astype(float)  # nulls become NaN


def _clusters(gaps: list[Gap], series: _Series, context: int) -> list[list[Gap]]:
    """Gaps near enough to share one model fit (their context windows overlap)."""
    groups: list[list[Gap]] = []
    for gap in gaps:
        if groups and series.pos[gap.before] - series.pos[groups[-1][-1].after] < 2 * context:
            groups[-1].append(gap)
        else:
            groups.append([gap])
    return groups


def _rng(seed: int | None, day: date, stream: int) -> np.random.Generator:
    return np.random.default_rng(None if seed is None else [seed, day_number(day), stream])


def _too_long(gap: Gap, config: SynthesisConfig) -> FillReport:
    reason = refusal_reason("too long", f"{gap.length} sessions missing in a row, more than max_gap={config.max_gap}")
    return FillReport(start=gap.start, end=gap.end, sessions=len(gap.sessions), span=gap.length,
                      method=config.method, draw=config.draw, score=0.0, accepted=False, reason=reason,
                      cause="too long")  # fmt: skip


def _usable(series: _Series, cluster: list[Gap], lo: int, x: np.ndarray) -> tuple[list[int], list[str]]:
    """The reference columns with a close on every session from each gap's left anchor to its right anchor,
    and a note for each one left out."""
    keep, notes = [], []
    for k in range(x.shape[1]):
        lacking = [series.grid[lo + i] for gap in cluster
                   for i in range(series.pos[gap.before] - lo, series.pos[gap.after] - lo + 1) if not np.isfinite(x[i, k])]  # fmt: skip
        if lacking:
            days = ", ".join(str(day) for day in lacking[:3]) + (" ..." if len(lacking) > 3 else "")
            notes.append(f"reference {k + 1} has no close on {days}: this fill is made without it")
        else:
            keep.append(k)
    return keep, notes


def _fill_cluster(series: _Series, cluster: list[Gap], config: SynthesisConfig) -> list[tuple[FillReport, pl.DataFrame | None]]:
    n = len(series.grid)
    lo = max(0, series.pos[cluster[0].before] - config.context)
    hi = min(n - 1, series.pos[cluster[-1].after] + config.context)
    y, x = series.y[lo : hi + 1], None if series.x is None else series.x[lo : hi + 1]
    sigma, context_returns = context_sigma(y)
    mean = np.full(len(y), np.nan)
    var = np.full(len(y), np.nan)
    path = None
    beta, notes = (), ()
    if config.method == "statespace":
        keep, notes = _usable(series, cluster, lo, x) if x is not None else ([], [])
        used = x[:, keep] if keep else None
        x_opens = series.x_opens[lo : hi + 1][:, keep] if keep else None
        fit = fit_statespace(y, used, opens=series.opens[lo : hi + 1], x_opens=x_opens)
        mean, var, sigma, notes = fit.mean, fit.var, fit.sigma, (*notes, *fit.notes)
        if x is not None:  # one loading per reference given, NaN for those left out of this fill
            full = np.full(x.shape[1], np.nan)
            full[keep] = fit.beta
            beta = tuple(float(b) for b in full)
        x = used
        if config.draw == "sample":
            path = fit.sample(_rng(config.seed, cluster[0].start, 0))
        if used is None:
            notes = (*notes, "no reference series: filled from the series alone")
    context_frame = series.frame.filter(pl.col("date").is_between(series.grid[lo], series.grid[hi]))
    shapes = day_shapes(context_frame)
    out = []
    for gap in cluster:
        a, b = series.pos[gap.before] - lo, series.pos[gap.after] - lo
        if config.method == "bridge":
            mean[a + 1 : b], var[a + 1 : b] = bridge_moments(y[a], y[b], b - a, sigma)
            if config.draw == "sample":
                path = np.full(len(y), np.nan)
                path[a + 1 : b] = bridge_sample(y[a], y[b], b - a, sigma, _rng(config.seed, gap.start, 0))
        used_beta = tuple(b for b in beta if np.isfinite(b))
        out.append(_gap_rows(series, gap, lo, mean, var, path, sigma, used_beta, x, shapes, context_returns,
                             notes, config, beta))  # fmt: skip
    return out


def _gap_rows(series, gap, lo, mean, var, path, sigma, beta, x, shapes: DayShapes, context_returns, notes, config,
              all_beta):
    a, b = series.pos[gap.before] - lo, series.pos[gap.after] - lo
    wanted = {series.pos[d] - lo for d in gap.sessions}
    from scipy.stats import norm  # deferred: importing the Lab stays light

    z = float(norm.ppf(0.5 + config.level / 2.0))
    chosen = [i for i in range(a + 1, b) if i in wanted]
    logs = np.array([(path if path is not None else mean)[i] for i in chosen])
    sd = np.sqrt(np.array([var[i] for i in chosen]))
    centre = np.array([mean[i] for i in chosen])
    closes, band_lo, band_hi = np.exp(logs), np.exp(centre - z * sd), np.exp(centre + z * sd)
    prev = np.concatenate([[np.exp(series.y[series.pos[gap.before]])], closes[:-1]])
    columns = build_bars(closes, prev, shapes, draw=config.draw, rng=_rng(config.seed, gap.start, 1))
    ok = invariants_hold(columns) and (config.draw == "sample" or bool(np.all((band_lo <= closes) & (closes <= band_hi))))
    stretch = np.array([a, *chosen, b])
    logs_all = np.concatenate([[series.y[lo + a]], logs, [series.y[lo + b]]])
    residuals = np.diff(logs_all) - (np.diff(x[stretch], axis=0) @ np.asarray(beta) if x is not None and beta else 0.0)
    width = float(np.max((band_hi - band_lo) / np.exp(centre)))
    listing = series.frame["date"].to_list().index(gap.before) < FREE_SESSIONS  # maybe unlimited sessions
    score, components, cause, detail = score_fill(
        move=float(series.y[lo + b] - series.y[lo + a]), returns=b - a, limit=None if listing else series.limit,
        band_width=width, context_returns=context_returns, invariants=ok, min_context=config.min_context,
        max_band=config.max_band, level=config.level,
    )  # fmt: skip
    accepted = score >= config.min_score
    report = FillReport(
        start=gap.start, end=gap.end, sessions=len(gap.sessions), span=gap.length, method=config.method,
        draw=config.draw, score=score, accepted=accepted, reason="" if accepted else refusal_reason(cause, detail),
        cause="" if accepted else cause, components=components, vol_ratio=vol_ratio(residuals, sigma),
        band_width=width, sigma=sigma, beta=all_beta, context_returns=context_returns, notes=tuple(notes),
    )  # fmt: skip
    dates = [series.grid[lo + i] for i in chosen]
    return report, _rows(series.frame, dates, columns, band_lo, band_hi)


def _rows(frame: pl.DataFrame, dates: list[date], columns: dict[str, np.ndarray], lo, hi) -> pl.DataFrame:
    data: dict[str, object] = {}
    for name, dtype in frame.schema.items():
        if name == "date":
            data[name] = pl.Series(name, dates, dtype=pl.Date)
        elif name == "symbol":
            data[name] = pl.Series(name, [frame["symbol"][0]] * len(dates), dtype=dtype)
        elif name in columns:
            values = np.where(np.isfinite(columns[name]), columns[name], np.nan)
            data[name] = pl.Series(name, values).fill_nan(None).cast(dtype, strict=False)
        elif name not in FLAG_COLUMNS:
            data[name] = pl.Series(name, [None] * len(dates), dtype=dtype)
    return pl.DataFrame(data).with_columns(
        pl.lit(True).alias("is_synthetic"), pl.Series("close_lo", lo), pl.Series("close_hi", hi)
    )


def _flagged(frame: pl.DataFrame) -> pl.DataFrame:
    """Real rows with the flag columns (kept as they are if the frame was filled before)."""
    flags = {
        "is_synthetic": pl.lit(False),
        "close_lo": pl.lit(None, dtype=pl.Float64),
        "close_hi": pl.lit(None, dtype=pl.Float64),
    }
    return frame.with_columns(value.alias(name) for name, value in flags.items() if name not in frame.columns)


def fill_gaps(
    frame: pl.DataFrame,
    sessions: Iterable[date],
    *,
    reference: References = None,
    suspensions: Suspensions = (),
    listed: tuple[date | None, date | None] = (None, None),
    config: SynthesisConfig = SynthesisConfig(),
) -> Synthesis:
    """Fill what can be filled; refused gaps stay missing and their reports say why (never raises for them)."""
    check_series(frame)
    frame = frame.sort("date")
    sessions = list(sessions)
    gaps = find_gaps(frame["date"], sessions, suspensions=suspensions,
                     fill_suspensions=config.fill_suspensions, listed=listed)  # fmt: skip
    if not gaps:
        return Synthesis(_flagged(frame), (), ())
    series = _layout(frame, sessions, reference)
    reports: list[FillReport] = []
    rows = []
    fillable = []
    for gap in gaps:
        if gap.length > config.max_gap:
            reports.append(_too_long(gap, config))
        else:
            fillable.append(gap)
    for cluster in _clusters(fillable, series, config.context):
        for report, synthetic in _fill_cluster(series, cluster, config):
            reports.append(report)
            if report.accepted and synthetic is not None:
                rows.append(synthetic)
    reports.sort(key=lambda r: r.start)
    real = _flagged(frame)
    filled = pl.concat([real, *(r.select(real.columns) for r in rows)], how="vertical").sort("date") if rows else real
    return Synthesis(filled, tuple(reports), tuple(gaps))


def refusals_text(reports: Sequence[FillReport]) -> str:
    """One line naming each refused gap and its reason, e.g. for a warning."""
    refused = [r for r in reports if not r.accepted]
    listing = "; ".join(f"{r.start}..{r.end}: {r.reason}" for r in refused)
    return f"{len(refused)} of {len(reports)} gap(s) left unfilled: {listing}"
