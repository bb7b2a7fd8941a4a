"""One answer for k, with its reason, from the methods that held up on the k-selection suite.

The rule (measured on ``benchmarks/k_selection.py``: 42 data sets with a known
k, see ``benchmarks/README.md``; each method alone was right on 49% to 95% of
them, this rule on all):

1. **No cluster structure** (k = 1) when the gap statistic's curve is highest
   at k = 1 (its ``globalSEmax`` rule answers 1: no k clusters the data better
   than uniform reference data does), or when both the gap's ``firstSEmax``
   rule and prediction strength answer 1.
2. Otherwise a vote among prediction strength, the gap statistic (its own
   rule, when it names a k >= 2), the silhouette and Calinski-Harabasz; the k
   with most votes wins. A tie goes to prediction strength's k when it is among
   the tied (it measures whether the clusters can be reproduced), else to
   the smaller k.

For KPrototypes and KModes (tables with categorical columns) only prediction
strength and the silhouette (under their dissimilarity) vote: no gap, so no
k = 1. On the 21 tables of ``python -m benchmarks k-selection --mixed`` the
rule was right on 16, and on 48 of 63 over three draws of them (a vote of
three with the elbow: 46).

Davies-Bouldin and the elbow are left out of the vote: on the suite they were
wrong more often than the voters and added no right answer. When the user ran
none of the voters, the most frequent recommendation of the methods run is
the answer.
"""

from kmeanskit._analysis.selection.gap import gap_k
from kmeanskit._analysis.selection.prediction_strength import PS_THRESHOLD

__all__ = ["VOTERS", "choose_k", "join_words"]

#: The methods that vote for best_k, in the order ties are broken and reasons listed.
VOTERS = ("prediction_strength", "gap", "silhouette", "calinski_harabasz")

NAMES = {
    "elbow": "the elbow",
    "silhouette": "the silhouette",
    "gap": "the gap statistic",
    "prediction_strength": "prediction strength",
    "calinski_harabasz": "Calinski-Harabasz",
    "davies_bouldin": "Davies-Bouldin",
}


def choose_k(ks, recommended, gap_curve, gap_rule, sample_note=None, left_out=None):
    """``best_k`` and the sentence that says why.

    Parameters
    ----------
    ks : list of int
        The ks tried, increasing.
    recommended : dict
        Method -> k or None, as in ``SelectKResult.recommended``.
    gap_curve : pandas.DataFrame or None
        Gap and s_k over k = 1 and the ks (None without the gap).
    gap_rule : str or None
        The rule behind ``recommended["gap"]``.
    sample_note : str or None
        Which estimates used a sample, appended to the reason.
    left_out : str or None
        Which methods were not run, and why, appended to the reason.

    Returns
    -------
    best_k : int or None
        None only when no method run recommended any k.
    reason : str
    """
    best_k, reason = _no_structure(ks, recommended, gap_curve)
    if best_k is None:
        best_k, reason = _vote(recommended, gap_rule)
    for note in (sample_note, left_out):
        if note:
            reason += f" ({note[0].upper()}{note[1:]}.)"
    return best_k, reason


def _span(ks):
    return f"{ks[0]} to {ks[-1]}" if len(ks) > 1 else f"{ks[0]}"


def _no_structure(ks, recommended, gap_curve):
    if gap_curve is None:
        return None, ""
    tried = [k for k in ks if k != 1]
    global_k = gap_k(gap_curve.index, gap_curve["gap"], gap_curve["gap_se"], "globalSEmax")
    first_k = gap_k(gap_curve.index, gap_curve["gap"], gap_curve["gap_se"], "firstSEmax")
    strength = recommended.get("prediction_strength")
    gap_says = (
        f"the gap statistic is highest at k = 1 (no k from {_span(tried)} clusters the data better than "
        "uniform reference data, within one standard error)"
    )
    ps_says = (
        f"prediction strength finds no k from {_span(tried)} whose clusters one half of the data "
        f"predicts in the other (all below {PS_THRESHOLD})"
    )
    if global_k == 1:
        also = f", and {ps_says}" if strength == 1 else ""
        return 1, f"k = 1, no cluster structure: {gap_says}{also}."
    if first_k == 1 and strength == 1:
        return 1, (
            f"k = 1, no cluster structure: {ps_says}, and the gap statistic's first maximum is at k = 1."
        )
    return None, ""


def _vote(recommended, gap_rule):
    voters = [m for m in VOTERS if m in recommended]
    if not voters:  # none of the voters was run: the most frequent recommendation
        voters = list(recommended)
    votes = {m: recommended[m] for m in voters if recommended[m] is not None and recommended[m] != 1}
    if not votes:
        run = ", ".join(NAMES[m] for m in recommended)
        return None, f"no answer: none of the methods run ({run}) recommended a k of 2 or more."
    counts = {}
    for k in votes.values():
        counts[k] = counts.get(k, 0) + 1
    top = max(counts.values())
    tied = sorted(k for k, c in counts.items() if c == top)
    strength = votes.get("prediction_strength")
    if len(tied) == 1:
        best_k, why = tied[0], ""
    elif strength in tied:
        best_k, why = strength, "; the tie goes to prediction strength, which measures whether the clusters reproduce"
    else:
        best_k, why = tied[0], "; the tie goes to the smaller k"
    agree = [_label(m, gap_rule) for m, k in votes.items() if k == best_k]
    others = [f"{_label(m, gap_rule)} {_k_text(recommended[m])}" for m in voters if m not in votes or votes[m] != best_k]
    verb = "points" if len(agree) == 1 else ("both point" if len(agree) == 2 else "all point")
    if len(agree) == len(voters):
        return best_k, f"k = {best_k}: {join_words(agree)} {verb} to {best_k}{why}."
    return best_k, f"k = {best_k}: {join_words(agree)} {verb} to {best_k} ({join_words(others)}){why}."


def _label(method, gap_rule):
    return f"the gap statistic by {gap_rule}" if method == "gap" and gap_rule else NAMES[method]


def _k_text(k):
    return "found none" if k is None else ("says 1" if k == 1 else f"says {k}")


def join_words(items):
    """["a", "b", "c"] -> "a, b and c"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
