import numpy as np

from quantdb_lab.store.coverage import Coverage, missing_runs


def test_normalise_merges_overlapping_and_touching():
    cov = Coverage.from_pairs([[10, 12], [5, 7], [13, 15], [8, 8], [20, 21]])
    assert cov.to_pairs() == [[5, 8], [10, 15], [20, 21]]


def test_covered_mask():
    cov = Coverage.from_pairs([[5, 7], [10, 12]])
    days = np.array([4, 5, 7, 8, 9, 10, 12, 13])
    assert cov.covered(days).tolist() == [False, True, True, False, False, True, True, False]


def test_missing_runs_group_consecutive_sessions_only():
    # sessions with a holiday gap between 3 and 10: still one run when both sides are missing
    sessions = np.array([1, 2, 3, 10, 11, 14, 15])
    cov = Coverage.from_pairs([[11, 11]])
    assert missing_runs(sessions, cov) == [(1, 10), (14, 15)]
    assert missing_runs(sessions, Coverage.from_pairs([[0, 20]])) == []
    assert missing_runs(sessions, Coverage.empty()) == [(1, 15)]


def test_add_ignores_empty_interval():
    assert Coverage.empty().add(5, 4).to_pairs() == []
