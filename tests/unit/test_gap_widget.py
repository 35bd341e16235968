"""GapSynthesisWidget without a browser: gaps found, fill drawn with its band, sampled paths, scores, refusals."""

from __future__ import annotations

import polars as pl
import pytest
import traitlets

from quantdb_lab.ui.widgets.gaps import GapSynthesisWidget
from tests.support.sim import d, make_lab

DROPPED = [d("2024-03-05"), d("2024-03-06")]


@pytest.fixture
def held(tmp_path):
    lab, _provider, _clock = make_lab(tmp_path)
    frame = lab.bars("600519", start="2023-10-09", end="2024-06-28", adjust="")
    return lab, frame.filter(~pl.col("date").is_in(DROPPED))


def test_fill_draws_real_close_band_and_synthetic_points(held):
    lab, frame = held
    widget = GapSynthesisWidget(lab, frame=frame)
    filled = widget.fill()
    assert filled is not None and widget.gaps == DROPPED
    names = [trace.name for trace in widget.figure.data]
    assert names == ["real close", "90% band", "synthetic close"]
    band = widget.figure.data[1]
    assert band.fill == "toself" and len(band.x) == 4
    assert list(widget.figure.data[2].x) == DROPPED
    assert "accepted" in widget.scores.value and "1.000" in widget.scores.value
    assert "filled 2 session(s)" in widget.status.value


def test_sampled_paths_are_added_and_deterministic(held):
    lab, frame = held
    widget = GapSynthesisWidget(lab, frame=frame)
    first = widget.sample_paths(3)
    assert len(first) == 3
    assert [t.name for t in widget.figure.data][-3:] == ["sample 0", "sample 1", "sample 2"]
    again = GapSynthesisWidget(lab, frame=frame).sample_paths(1)
    assert again[0].equals(first[0])


def test_find_gaps_for_a_symbol_marks_suspended_sessions_only_on_request(tmp_path):
    lab, _provider, _clock = make_lab(tmp_path)
    widget = GapSynthesisWidget(lab, "000187.SZ", start=d("2024-09-02"), end=d("2024-12-31"))
    assert widget.find_gaps() == []  # the simulated suspension 2024-11-22..29 is not a gap
    widget.suspensions_box.value = True
    filled = widget.fill()
    assert filled is not None and widget.gaps[0] == d("2024-11-22") and len(widget.gaps) == 6


def test_refusal_shows_the_reason_and_scores(held):
    lab, frame = held
    longer = frame.filter(~pl.col("date").is_between(d("2024-04-01"), d("2024-04-30")))
    widget = GapSynthesisWidget(lab, frame=longer)
    filled = widget.fill()  # refusal is per gap: the long gap stays missing, with its reason
    assert not filled.filter(pl.col("date").is_between(d("2024-04-01"), d("2024-04-30")))["is_synthetic"].any()
    assert "refused" in widget.status.value and "too long" in widget.status.value
    assert "refused" in widget.scores.value


def test_traits_are_validated(held):
    lab, frame = held
    widget = GapSynthesisWidget(lab, frame=frame)
    with pytest.raises(traitlets.TraitError):
        widget.method = "linear"
    with pytest.raises(traitlets.TraitError):
        widget.level = 1.5
    with pytest.raises(traitlets.TraitError):
        widget.n_paths = 0
    widget.method_box.value = "bridge"
    assert widget.method == "bridge"


def test_each_gap_has_its_own_band_and_no_band_covers_a_real_session(held):
    lab, frame = held
    far_apart = frame.filter(pl.col("date") != d("2024-05-20"))  # a second gap, two months after the first
    widget = GapSynthesisWidget(lab, frame=far_apart)
    assert widget.fill() is not None and widget.gaps == [*DROPPED, d("2024-05-20")]
    band = next(t for t in widget.figure.data if t.fill == "toself")
    polygons, current = [], []
    for x in [*band.x, None]:  # plotly closes each None-separated segment on its own
        if x is None:
            polygons.append(current) if current else None
            current = []
        else:
            current.append(x)
    assert len(polygons) == 2
    real_days = far_apart["date"].to_list()
    for polygon in polygons:
        assert not [day for day in real_days if min(polygon) <= day <= max(polygon)], "a band covers real bars"
    for trace in widget.figure.data:  # nor does any line join the two gaps over the real bars between them
        if trace.name != "real close" and trace.mode and "lines" in trace.mode and trace.fill != "toself":
            segment = []
            for x in [*trace.x, None]:
                if x is None:
                    assert not segment or not [day for day in real_days if min(segment) < day < max(segment)]
                    segment = []
                else:
                    segment.append(x)
