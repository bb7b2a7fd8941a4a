"""The silhouette under K-Prototypes' dissimilarity (squared Euclidean + gamma x mismatches), against a brute force."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_samples as sk_silhouette_samples

from kmeanskit import KModes, KPrototypes
from kmeanskit._analysis.metrics import silhouette_or_reason
from kmeanskit.metrics import mixed_silhouette_samples, mixed_silhouette_score


def brute_force(numeric, categorical, labels, gamma):
    """Rousseeuw's definition, row by row, from the full dissimilarity matrix."""
    n = len(labels)
    numeric = np.zeros((n, 0)) if numeric is None else np.asarray(numeric, dtype=np.float64)
    categorical = np.zeros((n, 0), dtype=object) if categorical is None else np.asarray(categorical, dtype=object)
    d = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            d[i, j] = np.sum((numeric[i] - numeric[j]) ** 2) + gamma * np.sum(categorical[i] != categorical[j])
    labels = np.asarray(labels)
    out = np.zeros(n)
    for i in range(n):
        own = labels == labels[i]
        if own.sum() == 1:
            continue
        a = d[i, own].sum() / (own.sum() - 1)
        b = min(d[i, labels == c].mean() for c in np.unique(labels) if c != labels[i])
        out[i] = 0.0 if max(a, b) == 0 else (b - a) / max(a, b)
    return out, d


rng = np.random.default_rng(7)


@pytest.mark.parametrize("p, q, k, gamma, shift", [
    (3, 2, 4, 0.7, 0.0),     # mixed
    (2, 1, 2, 2.5, 1e4),     # far from the origin
    (0, 3, 3, 1.0, 0.0),     # categories alone (K-Modes: Hamming)
    (4, 0, 3, 1.0, 0.0),     # numbers alone: squared Euclidean
])
def test_matches_the_brute_force_definition(p, q, k, gamma, shift):
    n = 90
    numeric = rng.normal(size=(n, p)) * np.linspace(0.5, 3, p) + shift if p else None
    categorical = rng.choice(["north", "south", "east"], size=(n, q)).astype(object) if q else None
    labels = rng.integers(0, k, n)
    labels[:k] = np.arange(k)
    expected, d = brute_force(numeric, categorical, labels, gamma)
    got = mixed_silhouette_samples(numeric, categorical, labels, gamma=gamma)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9 * (1 + shift**2) / 1e4 if shift else 1e-12)
    assert got == pytest.approx(sk_silhouette_samples(d, labels, metric="precomputed"), rel=1e-9, abs=1e-9)


def test_singletons_and_duplicate_rows_follow_rousseeuw():
    numeric = np.array([[0.0], [0.0], [0.0], [3.0], [9.0]])
    categorical = np.array([["a"], ["a"], ["a"], ["b"], ["b"]], dtype=object)
    labels = [0, 0, 0, 1, 2]  # clusters 1 and 2 are single rows: 0
    expected, _ = brute_force(numeric, categorical, labels, 1.5)
    got = mixed_silhouette_samples(numeric, categorical, labels, gamma=1.5)
    assert got.tolist() == pytest.approx(expected.tolist()) and got[3] == got[4] == 0.0 and got[0] == 1.0


def test_a_kprototypes_fit_is_scored_in_its_own_cost():
    n = 150
    group = np.repeat([0, 1, 2], n // 3)
    frame = pd.DataFrame({"amount": group * 3.0 + rng.normal(0, 1, n),
                          "store": np.array(["n", "s", "e"], dtype=object)[group]})
    model = KPrototypes(3, random_state=0).fit(frame)
    expected, _ = brute_force(frame[["amount"]], frame[["store"]], model.labels_, model.gamma_)
    score = mixed_silhouette_score(frame[["amount"]], frame[["store"]], model.labels_, gamma=model.gamma_)
    assert score == pytest.approx(expected.mean(), rel=1e-12) and score > 0.7
    # The summary of the fit: the same number, through the model's categorical_ and gamma_.
    assert silhouette_or_reason(frame, model.labels_, categorical=model.categorical_, gamma=model.gamma_) == (
        pytest.approx(score, rel=1e-12), None)


def test_a_sample_is_the_rows_silhouette_score_draws():
    n = 200
    categorical = rng.choice(list("abcd"), size=(n, 2)).astype(object)
    numeric = rng.normal(size=(n, 2))
    labels = rng.integers(0, 3, n)
    rows = np.random.RandomState(5).permutation(n)[:60]
    assert mixed_silhouette_score(numeric, categorical, labels, gamma=0.5, sample_size=60, random_state=5) == (
        pytest.approx(brute_force(numeric[rows], categorical[rows], labels[rows], 0.5)[0].mean(), rel=1e-12))
    score, note = silhouette_or_reason(pd.DataFrame({"x": numeric[:, 0], "c": categorical[:, 0]}), labels,
                                       categorical=[1], gamma=0.5, sample_size=60, random_state=5)
    assert note == "estimated on a random sample of 60 of 200 rows"
    assert score == mixed_silhouette_score(numeric[:, :1], categorical[:, :1], labels, gamma=0.5, sample_size=60,
                                           random_state=5)


def test_kmodes_hamming_silhouette():
    X = np.array([["a", "x"], ["a", "x"], ["a", "y"], ["b", "z"], ["b", "z"], ["c", "z"]], dtype=object)
    model = KModes(2, init="Cao").fit(X)
    expected, _ = brute_force(None, X, model.labels_, 1.0)
    assert mixed_silhouette_samples(None, X, model.labels_) == pytest.approx(expected, rel=1e-12)


def test_gaps_and_constant_tables_are_reasons_in_a_summary():
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0, 4.0], "c": ["a", "b", "a", "b"]})
    assert silhouette_or_reason(frame, [0, 0, 1, 1], categorical=[1]) == (
        None, "not computed: rows with missing values have no full dissimilarities")
    constant = pd.DataFrame({"x": [1.0] * 4, "c": ["a"] * 4})
    assert silhouette_or_reason(constant, [0, 0, 1, 1], categorical=[1]) == (
        None, "undefined for constant data (every distance is 0)")


@pytest.mark.parametrize("numeric, categorical, labels, gamma, message", [
    ([[1.0], [np.nan], [2.0]], [["a"], ["b"], ["a"]], [0, 1, 1], 1.0, "numeric contains NaN or infinite values"),
    ([[1.0], [2.0], [3.0]], [["a"], [None], ["a"]], [0, 1, 1], 1.0, "categorical contains missing values"),
    ([[1.0], [2.0], [3.0]], [["a"], ["b"]], [0, 1, 1], 1.0, "numeric has 3 rows and categorical 2"),
    ([[1.0], [2.0], [3.0]], [["a"], ["b"], ["a"]], [0, 0, 0], 1.0, "undefined for a single cluster"),
    ([[1.0], [2.0], [3.0]], [["a"], ["b"], ["a"]], [0, 1, 1], 0.0, "gamma must be a positive finite number"),
    ([[1.0], [1.0], [1.0]], [["a"], ["a"], ["a"]], [0, 1, 1], 1.0, "undefined for constant data"),
    (None, None, [0, 1, 1], 1.0, "no column between them"),
])
def test_bad_input_is_named(numeric, categorical, labels, gamma, message):
    if numeric is None and categorical is None:
        numeric = np.empty((3, 0))
    with pytest.raises(ValueError, match=message):
        mixed_silhouette_samples(numeric, categorical, labels, gamma=gamma)


def test_no_part_at_all_and_a_single_cluster_are_named_in_the_users_terms():
    with pytest.raises(ValueError, match=r"^numeric and categorical are both None; give at least one of them\.$"):
        mixed_silhouette_samples(None, None, [0, 1, 1])
    with pytest.raises(ValueError, match=r"labels has 1 distinct value \('grp'\); it needs at least 2 clusters"):
        mixed_silhouette_samples([[1.0], [2.0], [3.0]], [["a"], ["b"], ["a"]], ["grp"] * 3)
    with pytest.raises(ValueError, match=r"labels has 1 distinct value \(7\); it needs at least 2 clusters"):
        mixed_silhouette_samples([[1.0], [2.0], [3.0]], None, [7, 7, 7])


def test_only_the_sample_is_read_and_a_gap_elsewhere_still_says_why(monkeypatch):
    from kmeanskit._analysis import metrics

    n = 2_000
    frame = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(list("abc"), n).astype(object)})
    labels = rng.integers(0, 3, n)
    read = []
    table_columns = metrics.table_columns
    monkeypatch.setattr(metrics, "table_columns", lambda X, **kw: (read.append(len(X)), table_columns(X, **kw))[1])
    score, note = silhouette_or_reason(frame, labels, categorical=[1], gamma=0.5, sample_size=100, random_state=3)
    assert read == [100] and note == "estimated on a random sample of 100 of 2,000 rows"
    # The rows and the bits of the sample drawn from the whole table's parts.
    assert score == mixed_silhouette_score(frame[["x"]], frame[["c"]], labels, gamma=0.5, sample_size=100,
                                           random_state=3)
    rows = np.random.RandomState(3).permutation(n)[:100]
    outside = np.setdiff1d(np.arange(n), rows)[0]
    frame.loc[outside, "c"] = None
    assert silhouette_or_reason(frame, labels, categorical=[1], sample_size=100, random_state=3) == (
        None, "not computed: rows with missing values have no full dissimilarities")
