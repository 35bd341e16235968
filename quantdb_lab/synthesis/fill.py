"""Fill the gaps of one series: pick the method, draw, build the bars, score them, refuse the poor ones.

Frames in, frames out. Real rows are returned as they came (bit for bit, only sorted by date); synthetic rows
are added with ``is_synthetic = True`` and ``close_lo``/``close_hi``, the band at ``level`` around each
synthetic close. ``draw="mean"`` fills with the posterior median of the close (``exp`` of the mean log price:
the estimate that minimises absolute error); ``draw="sample"`` with one path from the same posterior.

Refusals raise :class:`QualityGateError` (a fill is a data-quality decision, not a malformed request): a gap
longer than ``max_gap`` sessions, or a fill scoring below ``min_score``. The error carries the per-gap
reports in ``.reports``. Malformed input (several symbols, duplicate dates, bad settings) raises
:class:`InvalidRequestError`. ``fill_gaps`` returns the reports instead of raising, for views that show them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import day_number
from quantdb_lab.errors import InvalidRequestError, QualityGateError
from quantdb_lab.synthesis.bridge import bridge_moments, bridge_sample, context_sigma
from quantdb_lab.synthesis.gaps import Gap, Suspensions, check_series, find_gaps
from quantdb_lab.synthesis.ohlcv import DayShapes, build_bars, day_shapes, invariants_hold
from quantdb_lab.synthesis.statespace import fit_statespace
from quantdb_lab.synthesis.validate import FillReport, score_fill

METHODS = ("statespace", "bridge")
DRAWS = ("mean", "sample")
FLAG_COLUMNS = ("is_synthetic", "close_lo", "close_hi")
#: one reference frame (``date``, ``close``), several (an index and a sector: one loading each), or none
References = pl.DataFrame | Sequence[pl.DataFrame] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SynthesisConfig:
    method: str = "statespace"  # "statespace" (Kalman smoother, uses the reference) or "bridge" (baseline)
    draw: str = "mean"  # "mean" best estimate, "sample" one path from the same model
    seed: int | None = None  # sample draws are deterministic for a given seed (None: fresh entropy)
    level: float = 0.9  # coverage of the close_lo..close_hi band
    min_score: float = 0.9  # fills scoring below are refused
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
    x: np.ndarray | None  # the references' log closes, one column each
    shapes_cache: dict = field(default_factory=dict)


def _layout(frame: pl.DataFrame, sessions: Iterable[date], references: References) -> _Series:
    dates = frame["date"].to_list()
    first, last = dates[0], dates[-1]
    grid = sorted({d for d in sessions if first <= d <= last} | set(dates))
    pos = {d: i for i, d in enumerate(grid)}
    y = np.full(len(grid), np.nan)
    y[[pos[d] for d in dates]] = np.log(frame["close"].to_numpy().astype(float))
    columns = [column for ref in _as_list(references) if (column := _on_grid(ref, grid)) is not None]
    return _Series(frame, grid, pos, y, np.column_stack(columns) if columns else None)


def _as_list(references: References) -> list[pl.DataFrame]:
    if references is None:
        return []
    if isinstance(references, pl.DataFrame):
        return [references]
    if isinstance(references, Sequence) and all(isinstance(r, pl.DataFrame) for r in references):
        return list(references)
    raise InvalidRequestError("reference must be a frame (date, close), a sequence of such frames, or None")


def _on_grid(reference: pl.DataFrame, grid: list[date]) -> np.ndarray | None:
    """The reference's log close on the grid; None if it lacks the columns or has no usable close."""
    if not {"date", "close"} <= set(reference.columns):
        return None
    ref = (
        pl.DataFrame({"date": grid}, schema={"date": pl.Date})
        .join(reference.select("date", pl.col("close").cast(pl.Float64)), on="date", how="left")
        .with_columns(pl.when(pl.col("close") > 0).then(pl.col("close").log()).alias("x"))
    )
    values = ref["x"].fill_nan(None).forward_fill().backward_fill()
    # Days the reference lacks carry its last level: no reference move is assumed there.
    return values.to_numpy().astype(float) if values.null_count() == 0 else None


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


def _refusal(gap: Gap, config: SynthesisConfig, reason: str) -> FillReport:
    return FillReport(start=gap.start, end=gap.end, sessions=len(gap.sessions), span=gap.length,
                      method=config.method, draw=config.draw, score=0.0, accepted=False, reason=reason)  # fmt: skip


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
        fit = fit_statespace(y, x)
        mean, var, sigma, beta, notes = fit.mean, fit.var, fit.sigma, fit.beta, fit.notes
        if config.draw == "sample":
            path = fit.sample(_rng(config.seed, cluster[0].start, 0))
        if x is None:
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
        out.append(_gap_rows(series, gap, lo, mean, var, path, sigma, beta, x, shapes, context_returns,
                             notes, config))  # fmt: skip
    return out


def _gap_rows(series, gap, lo, mean, var, path, sigma, beta, x, shapes: DayShapes, context_returns, notes, config):
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
    score, components, ratio, reason = score_fill(
        residuals=residuals, sigma=sigma, draw=config.draw, band_width=width, context_returns=context_returns,
        invariants=ok, min_context=config.min_context, max_band=config.max_band,
    )  # fmt: skip
    accepted = score >= config.min_score
    report = FillReport(
        start=gap.start, end=gap.end, sessions=len(gap.sessions), span=gap.length, method=config.method,
        draw=config.draw, score=score, accepted=accepted,
        reason="" if accepted else f"score {score:.3f} below {config.min_score}: {reason}",
        components=components, vol_ratio=ratio, band_width=width, sigma=sigma, beta=beta,
        context_returns=context_returns, notes=tuple(notes),
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
            reports.append(_refusal(gap, config, f"gap of {gap.length} sessions is longer than max_gap={config.max_gap}"))
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


def synthesize(
    frame: pl.DataFrame,
    sessions: Iterable[date],
    *,
    reference: References = None,
    suspensions: Suspensions = (),
    listed: tuple[date | None, date | None] = (None, None),
    config: SynthesisConfig = SynthesisConfig(),
) -> Synthesis:
    """Like :func:`fill_gaps` but all or nothing: any refused gap raises :class:`QualityGateError`."""
    result = fill_gaps(frame, sessions, reference=reference, suspensions=suspensions, listed=listed, config=config)
    if result.refused:
        raise refusal_error(result, symbol=frame["symbol"][0] if "symbol" in frame.columns and frame.height else None)
    return result


def refusal_error(result: Synthesis, *, symbol: str | None = None, mode: str | None = None) -> QualityGateError:
    """The error for a synthesis with refused gaps, naming each and carrying the reports."""
    refused = result.refused
    listing = "; ".join(f"{r.start}..{r.end}: {r.reason}" for r in refused)
    error = QualityGateError(
        f"refused to fill {len(refused)} of {len(result.reports)} gap(s): {listing}",
        symbol=symbol, start=refused[0].start, end=refused[-1].end, mode=mode,
    )  # fmt: skip
    error.reports = result.reports  # type: ignore[attr-defined]  # for views that show every score
    return error
