"""The silhouette of a clustering's summary: a score, or why there is none (fit, report, evaluate)."""

import numpy as np
import pytest

from kmeanskit._analysis.metrics import clustering_metrics, silhouette_or_reason, silhouette_score

rng = np.random.default_rng(0)
X = rng.normal(size=(300, 3))
labels = rng.integers(0, 3, 300)


def test_exact_below_the_sample_size_and_sampled_above():
    assert silhouette_or_reason(X, labels) == (silhouette_score(X, labels), None)
    score, note = silhouette_or_reason(X, labels, sample_size=100, random_state=4)
    assert score == silhouette_score(X, labels, sample_size=100, random_state=4)
    assert note == "estimated on a random sample of 100 of 300 rows"


def test_a_sample_drawn_elsewhere_is_named():
    score, note = silhouette_or_reason(X, labels, sample_size=None, sampled_from=12_000)
    assert score == silhouette_score(X, labels) and note == "estimated on a random sample of 300 of 12,000 rows"
    assert silhouette_or_reason(X, np.zeros(300), sampled_from=12_000) == (
        None, "undefined on a random sample of 300 of 12,000 rows")


@pytest.mark.parametrize("data, labelling, reason", [
    (X, np.zeros(300, dtype=int), "undefined with a single (non-empty) cluster"),
    (X[:5], np.arange(5), "undefined when every row is alone in its cluster"),
    (np.ones((6, 2)), np.array([0, 0, 1, 1, 2, 2]), "undefined for constant data (every distance is 0)"),
])
def test_undefined_says_why(data, labelling, reason):
    assert silhouette_or_reason(data, labelling) == (None, reason)


def test_a_sample_in_one_cluster_is_undefined_not_an_error():
    labelling = np.zeros(300, dtype=int)
    labelling[0] = 1
    score, note = silhouette_or_reason(X, labelling, sample_size=2, random_state=0)
    assert score is None and note == "undefined on a random sample of 2 of 300 rows"


def test_the_summary_leaves_out_what_is_undefined():
    found = clustering_metrics(X, np.zeros(300, dtype=int), X[:1])
    assert found["silhouette"] is None and found["calinski_harabasz"] is None and found["davies_bouldin"] is None
    assert found["cluster_sizes"] == [300] and found["silhouette_note"].startswith("undefined")
