"""Does each row continue the previous one? Breaks between the reported reference close and the previous
close are explained as a corporate action, as rows of another security, or reported as a change mismatch.

* A *break* is ``|close - change - previous close| > break_tol * previous close + a tick``: the source's own
  change disagrees with the close-to-close change.
* *Rows of another security* (``foreign_row``): a run of at most ``foreign_max_run`` rows that opens with a
  break and closes with one, whose implied free float (``volume / turnover``, a fingerprint of the security)
  differs from the series' rolling median by more than ``float_tol``, or whose level jump (over 5 %) reverts:
  the price after the run is nearer the price before it than the run's level was. A run may also
  reach the end of the series when its fingerprint differs throughout.
* *Corporate action* (info, not an anomaly): a break where the reference close is below the previous close
  by a plausible ex-rights factor (0.3 to 1), not part of a foreign run. With ``adjustment`` data (the
  cumulative hfq factor per row) or a dividend table (``quality.actions``) the factor must match the step in it;
  otherwise it is a change mismatch.
* *Change mismatch*: every other break (a reference close above the previous close no action produces).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from quantdb_lab.quality.issues import ERROR, INFO, WARNING, emit, empty_issues, fmt, text
from quantdb_lab.quality.params import QualityParams

_TICK = 0.011
_ACTION_BAND = (0.3, 1.0)


def with_breaks(ctx: pl.DataFrame, params: QualityParams, adjustment: pl.DataFrame | None) -> pl.DataFrame:
    """Add ``_ratio`` (reference / previous close), ``_break``, ``_fdev`` (fingerprint deviation, from
    ``volume.float_baseline``) and ``_step`` (expected ex-rights factor from the adjustment data, if given)."""
    prev, ref = pl.col("_prev"), pl.col("close") - pl.col("change")
    tol = params.break_tol * params.scale("change_mismatch") * prev + _TICK
    usable = (prev > 0) & (ref > 0) & pl.col("change").is_not_null()
    out = ctx.with_columns(
        pl.when(usable).then(ref / prev).alias("_ratio"),
        (usable & ((ref - prev).abs() > tol)).fill_null(False).alias("_break"),
        # turnover is reported in percent with two decimals: allow for that rounding on small turnovers
        ((pl.col("_float") / pl.col("_float_base")).log().abs() > params.float_tol + 1e-4 / pl.col("turnover"))
        .alias("_fdev"),
    )
    if "_step" in out.columns and (adjustment is None or adjustment.is_empty()):
        return out  # set from a dividend table (quality.actions)
    if adjustment is not None and not adjustment.is_empty():
        factors = adjustment.select(pl.col("symbol").cast(pl.String), "date", pl.col("factor").cast(pl.Float64))
        out = out.join(factors, on=["symbol", "date"], how="left").with_columns(
            (pl.col("factor").shift(1).over("symbol") / pl.col("factor")).alias("_step")
        ).drop("factor")
    else:
        out = out.with_columns(pl.lit(None, pl.Float64).alias("_step"))
    return out


def foreign_mask(ctx: pl.DataFrame, params: QualityParams, explained: np.ndarray | None = None) -> np.ndarray:
    """Boolean per row of ``ctx`` (as returned by ``with_breaks``): a row of another security.

    ``explained`` (optional, per row): breaks already accounted for by another finding (the bar after lost
    sessions or after a print beyond the price limit); they neither open nor close a run."""
    n = ctx.height
    mask = np.zeros(n, dtype=bool)
    is_break = ctx.get_column("_break").to_numpy()
    if explained is not None:
        is_break = is_break & ~explained
    breaks = np.flatnonzero(is_break)
    if not len(breaks):
        return mask
    sym = ctx.get_column("symbol").rank("dense").to_numpy()
    last_row = ctx.get_column("_n").to_numpy() - 1 - ctx.get_column("_i").to_numpy()  # rows left in symbol
    dev = ctx.get_column("_fdev").cast(pl.Float64).fill_null(np.nan).to_numpy()  # nan where unknown
    ratio = ctx.get_column("_ratio").to_numpy()
    prev = ctx.get_column("_prev").to_numpy()
    ref = (ctx.get_column("close") - ctx.get_column("change")).to_numpy()
    k = params.foreign_max_run
    b = 0
    while b < len(breaks):
        i = breaks[b]
        j = breaks[b + 1] if b + 1 < len(breaks) and sym[breaks[b + 1]] == sym[i] else -1
        if 0 < j - i <= k:
            if _is_foreign(dev[i:j], ratio[i], prev[i], ref[j]):
                mask[i:j] = True
                b += 2  # the exit break is explained by the run
                continue
        elif j == -1 and last_row[i] < k:
            known = dev[i:i + last_row[i] + 1]
            known = known[~np.isnan(known)]
            if len(known) and known.all():
                mask[i:i + last_row[i] + 1] = True
        b += 1
    return mask


def _is_foreign(dev: np.ndarray, entry_ratio: float, before: float, after_ref: float) -> bool:
    known = dev[~np.isnan(dev)]
    if len(known) and known.mean() >= 0.5:
        return True
    # two stocks can share a float by chance, never a price path: the level jumps and comes back
    jump = abs(np.log(entry_ratio))
    return bool(jump > 0.05 and abs(np.log(after_ref / before)) < 0.5 * jump)


def classify_breaks(ctx: pl.DataFrame, foreign: np.ndarray, params: QualityParams) -> pl.DataFrame:
    """Issues for foreign rows, corporate actions and change mismatches (see the module docstring)."""
    flagged = ctx.with_columns(
        pl.Series("_foreign", foreign),
    ).with_columns(
        (pl.col("_foreign").shift(1).over("symbol").fill_null(False) & ~pl.col("_foreign")).alias("_exit"),
    )
    issues = [empty_issues()]
    rows = flagged.filter(pl.col("_foreign"))
    detail = pl.when(pl.col("_float").is_not_null()).then(text(
        "row of another security: implied free float {}x the series' median (close {})",
        fmt(pl.col("_float") / pl.col("_float_base"), 2), "close",
    )).otherwise(text("row of another security: a level jump that reverts (close {})", "close"))
    issues.append(emit(rows, "foreign_row", ERROR, detail))
    breaks = flagged.filter(pl.col("_break") & ~pl.col("_foreign") & ~pl.col("_exit"))
    in_band = pl.col("_ratio").is_between(*_ACTION_BAND, closed="left")
    matches = (pl.col("_step") / pl.col("_ratio") - 1.0).abs() < 0.01
    action = in_band & pl.when(pl.col("_step").is_null()).then(True).otherwise(matches)
    confirmed = pl.when(pl.col("_step").is_not_null()).then(pl.lit(" (matches the adjustment data)")).otherwise(pl.lit(""))
    issues.append(emit(
        breaks.filter(action), "corporate_action", INFO,
        text("ex-rights: reference close {} vs previous close {} (factor {}){}",
                  fmt(pl.col("close") - pl.col("change"), 3), fmt(pl.col("_prev"), 3), fmt(pl.col("_ratio"), 4), confirmed),
    ))  # fmt: skip
    issues.append(emit(
        breaks.filter(~action), "change_mismatch", WARNING,
        text("reported change {} implies a previous close of {}, but it was {}",
                  "change", fmt(pl.col("close") - pl.col("change"), 3), "_prev"),
    ))  # fmt: skip
    return pl.concat(issues)
