"""best_k and its reason: the combination rule on given recommendations and gap curves."""

import numpy as np
import pandas as pd
import pytest

from kmeanskit._analysis.selection.answer import VOTERS, choose_k

KS = list(range(2, 7))


def _curve(gap, se=0.05):
    return pd.DataFrame({"gap": gap, "gap_se": np.full(len(gap), se)}, index=pd.Index(range(1, len(gap) + 1), name="k"))


# Gap peaks at 4 (k = 1 well below): structure; at 1 globally: none; first maximum at 1, global later: ambiguous.
PEAK_AT_4 = _curve([0.1, 0.5, 0.7, 0.9, 0.8, 0.75])
PEAK_AT_1 = _curve([0.5, 0.3, 0.35, 0.3, 0.32, 0.31])
FIRST_AT_1 = _curve([0.40, 0.30, 0.35, 0.50, 0.45, 0.44])


def _rec(gap, ps, sil, ch, elbow=None, db=None):
    return {"elbow": elbow, "silhouette": sil, "gap": gap, "prediction_strength": ps,
            "calinski_harabasz": ch, "davies_bouldin": db}


def test_all_voters_agree():
    best, reason = choose_k(KS, _rec(4, 4, 4, 4, elbow=3, db=5), PEAK_AT_4, "firstSEmax")
    assert best == 4
    assert reason == ("k = 4: prediction strength, the gap statistic by firstSEmax, the silhouette and "
                      "Calinski-Harabasz all point to 4.")


def test_the_majority_wins_and_the_others_are_named():
    best, reason = choose_k(KS, _rec(4, 4, 3, 4), PEAK_AT_4, "firstSEmax")
    assert best == 4
    assert reason == ("k = 4: prediction strength, the gap statistic by firstSEmax and Calinski-Harabasz all "
                      "point to 4 (the silhouette says 3).")


def test_a_tie_goes_to_prediction_strength_then_to_the_smaller_k():
    best, reason = choose_k(KS, _rec(5, 3, 5, 3), PEAK_AT_4, "globalSEmax")
    assert best == 3
    assert reason == ("k = 3: prediction strength and Calinski-Harabasz both point to 3 (the gap statistic by "
                      "globalSEmax says 5 and the silhouette says 5); the tie goes to prediction strength, "
                      "which measures whether the clusters reproduce.")
    best, reason = choose_k(KS, _rec(6, 1, 2, None), PEAK_AT_4, "firstSEmax")
    assert best == 2 and reason.endswith("; the tie goes to the smaller k.")
    assert "prediction strength says 1" in reason and "Calinski-Harabasz found none" in reason


def test_no_structure_when_the_gap_peaks_at_1():
    best, reason = choose_k(KS, _rec(1, 1, 3, 6), PEAK_AT_1, "firstSEmax")
    assert best == 1
    assert reason == (
        "k = 1, no cluster structure: the gap statistic is highest at k = 1 (no k from 2 to 6 clusters the "
        "data better than uniform reference data, within one standard error), and prediction strength finds "
        "no k from 2 to 6 whose clusters one half of the data predicts in the other (all below 0.8)."
    )


def test_no_structure_when_the_first_gap_maximum_and_prediction_strength_say_1():
    best, reason = choose_k(KS, _rec(1, 1, 4, 4), FIRST_AT_1, "firstSEmax")
    assert best == 1 and reason.startswith("k = 1, no cluster structure: prediction strength finds no k")
    # prediction strength sees clusters: the gap's first maximum alone does not decide, the vote does
    best, reason = choose_k(KS, _rec(1, 4, 4, 5), FIRST_AT_1, "firstSEmax")
    assert best == 4 and "the gap statistic by firstSEmax says 1" in reason


def test_without_the_gap_k1_is_out_of_reach_and_without_voters_the_others_decide():
    assert choose_k(KS, _rec(None, 1, 3, 3), None, None)[0] == 3
    best, reason = choose_k(KS, {"elbow": 3, "davies_bouldin": 3}, None, None)
    assert best == 3 and reason == "k = 3: the elbow and Davies-Bouldin both point to 3."
    best, reason = choose_k(KS, {"elbow": None}, None, None)
    assert best is None and reason == "no answer: none of the methods run (the elbow) recommended a k of 2 or more."


def test_the_sample_is_said():
    _, reason = choose_k(KS, _rec(4, 4, 4, 4), PEAK_AT_4, "firstSEmax",
                         "silhouette and gap on a random sample of 10,000 of 50,000 rows")
    assert reason.endswith("all point to 4. (Silhouette and gap on a random sample of 10,000 of 50,000 rows.)")


def test_voters_are_the_methods_that_held_up():
    assert VOTERS == ("prediction_strength", "gap", "silhouette", "calinski_harabasz")


@pytest.mark.parametrize("gap_rule", ["firstSEmax", "Tibs2001SEmax"])
def test_the_gap_rule_is_named(gap_rule):
    assert f"the gap statistic by {gap_rule}" in choose_k(KS, _rec(4, 4, 4, 4), PEAK_AT_4, gap_rule)[1]
