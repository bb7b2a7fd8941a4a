"""The rules of R's cluster::maxSE on given Gap/SE curves, worked out from their definitions."""

import numpy as np
import pytest

from kmeanskit._analysis.selection import GAP_RULES, gap_k, max_se

# Gap(k) for k = 1..8, every s_k = 0.05: the five rules give five different answers.
#   firstmax:      the first local maximum, 0.38 at k = 4 (0.37 follows)
#   Tibs2001SEmax: the first k with f(k) >= f(k+1) - s(k+1): 0.30 >= 0.34 - 0.05 at k = 2
#   firstSEmax:    the first k with f(k) >= f(4) - s(4) = 0.33: 0.34 at k = 3
#   globalmax:     0.62 at k = 7
#   globalSEmax:   the first k with f(k) >= f(7) - s(7) = 0.57: 0.60 at k = 6
GAP = np.array([0.0, 0.30, 0.34, 0.38, 0.37, 0.60, 0.62, 0.61])
SE = np.full(8, 0.05)
KS = np.arange(1, 9)


@pytest.mark.parametrize(
    "rule, k",
    [("firstmax", 4), ("Tibs2001SEmax", 2), ("firstSEmax", 3), ("globalmax", 7), ("globalSEmax", 6)],
)
def test_each_rule_on_a_curve_where_they_all_disagree(rule, k):
    assert max_se(GAP, SE, rule) == k - 1  # 0-based, maxSE's answer minus one
    assert gap_k(KS, GAP, SE, rule) == k


def test_firstSEmax_is_the_default():
    assert GAP_RULES[0] == "firstSEmax"
    assert max_se(GAP, SE) == 2
    assert gap_k(KS, GAP, SE) == 3


def test_se_factor_scales_the_standard_errors():
    # firstSEmax with SE.factor = 2: threshold 0.38 - 0.10 = 0.28, first met at k = 2
    assert max_se(GAP, SE, "firstSEmax", se_factor=2) == 1
    # Tibs2001SEmax with SE.factor = 0: the first k with f(k) >= f(k+1): 0.38 >= 0.37 at k = 4
    assert max_se(GAP, SE, "Tibs2001SEmax", se_factor=0) == 3
    # globalSEmax with SE.factor = 0 is globalmax
    assert max_se(GAP, SE, "globalSEmax", se_factor=0) == 6


def test_a_growing_curve_falls_through_to_the_last_k():
    f, se = np.array([0.0, 0.1, 0.2]), np.full(3, 0.01)
    for rule in GAP_RULES:
        assert max_se(f, se, rule) == 2  # maxSE answers K
        assert gap_k([1, 2, 3], f, se, rule) is None  # and select_k says the maximum may lie further


def test_ties_and_flat_curves_answer_the_first_k():
    f, se = np.array([0.5, 0.5, 0.5]), np.zeros(3)
    for rule in GAP_RULES:
        assert max_se(f, se, rule) == 0  # diff(f) <= 0 at once; which.max takes the first maximum


def test_a_peak_at_k1_means_no_structure():
    f, se = np.array([0.20, 0.05, 0.10, 0.12]), np.full(4, 0.02)
    assert gap_k([1, 2, 3, 4], f, se, "globalSEmax") == 1
    assert gap_k([1, 2, 3, 4], f, se, "firstSEmax") == 1


def test_nan_entries_are_skipped_by_gap_k():
    assert gap_k([1, 2, 3, 4], [0.0, np.nan, 0.5, 0.4], [0.1, np.nan, 0.05, 0.05], "firstmax") == 3
    assert gap_k([2, 3], [np.nan, np.nan], [np.nan, np.nan]) is None


@pytest.mark.parametrize(
    "args, match",
    [
        (([0.1, 0.2], [0.1]), r"same positive length; got shapes \(2,\) and \(1,\)"),
        (([], []), "same positive length"),
        (([0.1, 0.2], [0.1, -0.1]), "se >= 0"),
        (([0.1, np.nan], [0.1, 0.1]), "got NaN"),
        (([0.1, 0.2], [0.1, 0.1], "best"), r"method must be one of \['firstSEmax'.*got 'best'"),
        (([0.1, 0.2], [0.1, 0.1], "firstSEmax", -1.0), "se_factor must be a finite number >= 0; got -1.0"),
    ],
)
def test_bad_arguments_are_named(args, match):
    with pytest.raises(ValueError, match=match):
        max_se(*args)
