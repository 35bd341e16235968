"""Live adjustment canary for a bank stock (ICBC, 601398: a cash dividend or two every year): off by default, run
with QUANTDB_LAB_LIVE=1 on a networked machine (``-s`` prints the findings; QUANTDB_LAB_CANARY_OUT=<file> writes
them as JSON). The first online run settles what the offline data could not:

* the basis of Eastmoney's unadjusted change on ex-dates: the previous close (what the shared 2026 rows show,
  and what ``AkshareProvider.factor_source = "actions"`` assumes) or the ex-rights reference price;
* whether Eastmoney's hfq is affine (the inverse of its qfq map: ``domain.actions.eastmoney_adjust``) or
  multiplicative, and whether its qfq is the affine map of its own dividend table;
* that our factors from the dividend table are plausible ex-rights factors and that the Lab's qfq over live
  akshare is the raw price times them.
"""

from __future__ import annotations

import json
import os
import warnings
from datetime import date

import numpy as np
import polars as pl
import pytest

from quantdb_lab.domain.actions import eastmoney_adjust, events_from_actions
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.akshare import AkshareProvider

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(os.environ.get("QUANTDB_LAB_LIVE") != "1", reason="live canary: set QUANTDB_LAB_LIVE=1"),
]
SYMBOL = parse_symbol(os.environ.get("QUANTDB_LAB_CANARY_SYMBOL", "601398"))  # another bank or payer: same checks
START = date(2019, 1, 1)


@pytest.fixture(scope="module")
def live():
    provider = AkshareProvider(timeout=30)
    today = date.today()
    series = {adjust: provider.fetch_daily_bars(SYMBOL, START, today, adjust=adjust) for adjust in ("", "qfq", "hfq")}
    actions = provider.fetch_corporate_actions(SYMBOL)
    findings: dict[str, object] = {"symbol": SYMBOL.canonical, "fetched": today.isoformat()}
    yield series, actions, findings
    print(json.dumps(findings, indent=1, default=str))
    if os.environ.get("QUANTDB_LAB_CANARY_OUT"):
        with open(os.environ["QUANTDB_LAB_CANARY_OUT"], "w", encoding="utf-8") as out:
            json.dump(findings, out, indent=1, default=str)


def test_the_dividend_table_gives_plausible_factors(live):
    series, actions, findings = live
    raw = series[""]
    events = events_from_actions(actions, raw)
    findings["events"] = events.select("date", "factor", "reference").rows()
    assert events.height >= 5, "ICBC has paid a dividend every year since 2019"
    assert events["factor"].is_between(1.005, 1.15).all()


def test_the_basis_of_eastmoneys_unadjusted_change(live):
    series, actions, findings = live
    raw = series[""].with_columns(pl.col("close").shift(1).alias("prev"))
    events = events_from_actions(actions, series[""])
    on_ex = raw.join(events, on=["symbol", "date"]).with_columns((pl.col("close") - pl.col("change")).alias("pre"))
    previous = int(((on_ex["pre"] - on_ex["prev"]).abs() <= 0.0051).sum())
    reference = int(((on_ex["pre"] - on_ex["reference"]).abs() <= 0.0101).sum())
    findings["change_basis"] = {"ex_dates": on_ex.height, "against_previous_close": previous,
                                "against_reference": reference}  # fmt: skip
    basis = "actions" if previous >= reference else "bars"
    assert basis == AkshareProvider.factor_source, (
        f"Eastmoney's change is against the {'previous close' if basis == 'actions' else 'reference price'} on "
        f"{max(previous, reference)} of {on_ex.height} ex-dates: set AkshareProvider.factor_source = {basis!r}"
    )


def test_eastmoneys_qfq_and_hfq_against_the_affine_model(live):
    series, actions, findings = live
    raw = series[""]
    out = {}
    for adjust in ("qfq", "hfq"):
        theirs = series[adjust].select("date", pl.col("close").alias("em"))
        model = eastmoney_adjust(raw, actions, adjust).select("date", pl.col("close").alias("model"))  # type: ignore[arg-type]
        both = theirs.join(model, on="date").join(raw.select("date", "close"), on="date")
        affine_error = float((both["em"] - both["model"]).abs().max())
        # multiplicative would keep em / raw constant between ex-dates: its spread inside the last year says
        recent = both.filter(pl.col("date") >= both["date"].max().replace(year=both["date"].max().year - 1))
        ratio = (recent["em"] / recent["close"]).to_numpy()
        out[adjust] = {"rows": both.height, "max_abs_error_vs_affine_model": affine_error,
                       "ratio_spread_last_year": float(np.ptp(ratio))}  # fmt: skip
    findings["eastmoney_adjusted"] = out
    findings["hfq_is_affine"] = out["hfq"]["max_abs_error_vs_affine_model"] <= 0.0201
    assert out["qfq"]["max_abs_error_vs_affine_model"] <= 0.0201, "Eastmoney's qfq is not the affine map of its table"


def test_the_labs_qfq_over_live_akshare_is_raw_times_the_factors(tmp_path, live):
    series, actions, _ = live
    from quantdb_lab.lab import Lab

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab(tmp_path, provider="akshare")
        qfq = lab.bars(SYMBOL, start="2023-01-01", end="2023-12-31", adjust="qfq")
        raw = lab.bars(SYMBOL, start="2023-01-01", end="2023-12-31", adjust="")
    events = events_from_actions(actions, series[""])
    later = [float(events.filter(pl.col("date") > day)["factor"].product() or 1.0) for day in raw["date"]]
    assert qfq["close"].to_numpy() == pytest.approx(raw["close"].to_numpy() / np.array(later), rel=1e-9)


def test_the_market_wide_tables_give_the_symbols_own_factors(live):
    """``stock_fhps_em`` (one reporting period of every stock) and ``stock_pg_em`` are what a qfq read over
    akshare builds its factors from: for the bank, the same ex-dates and factors as its own table."""
    from quantdb_lab.domain.actions import report_periods

    series, actions, findings = live
    raw = series[""]
    provider = AkshareProvider(timeout=60)
    periods = report_periods(raw["date"][0], raw["date"][-1])
    tables = [provider.fetch_dividend_period(p) for p in periods] + [provider.fetch_rights_issues()]
    findings["market_table_rows"] = [t.height for t in tables]
    mine = pl.concat(tables).filter(pl.col("symbol") == SYMBOL.canonical)
    market = events_from_actions(mine, raw).filter(pl.col("date") >= raw["date"][0] + (date(2020, 7, 1) - START))
    own = events_from_actions(actions, raw).filter(pl.col("date").is_in(market["date"].to_list()))
    findings["market_events"] = market.select("date", "factor").rows()
    assert market.height >= 4 and market["date"].to_list() == own["date"].to_list()
    assert market["factor"].to_numpy() == pytest.approx(own["factor"].to_numpy(), rel=1e-9)
