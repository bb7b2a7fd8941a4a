"""explain_clusters: differences in original units, descriptions, rules in original units, rendering."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans, KMedians, explain_clusters
from kmeanskit._analysis.explain.differences import NOTHING_STANDS_OUT


@pytest.fixture(scope="module")
def iris():
    return load_iris(as_frame=True).data


@pytest.fixture(scope="module")
def iris_model(iris):
    return make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(iris)


def _blobs(seed=0):
    """Four axis-aligned blobs on features of very different scales, plus a noise feature."""
    rng = np.random.default_rng(seed)
    corners = np.array([[20_000.0, 25.0], [80_000.0, 25.0], [20_000.0, 60.0], [80_000.0, 60.0]])
    rows = np.concatenate([c + rng.normal(scale=[3_000.0, 2.0], size=(150, 2)) for c in corners])
    frame = pd.DataFrame(rows, columns=["income", "age"])
    frame["noise"] = rng.normal(size=len(frame))
    return frame


def test_differences_are_welch_tests_in_original_units(iris, iris_model):
    explanation = explain_clusters(iris_model, iris)
    labels = iris_model.predict(iris)
    values = iris.to_numpy()
    sd = values.std(axis=0, ddof=1)
    for cluster in range(3):
        part = explanation.differences.xs(cluster, level="cluster")
        inside, rest = values[labels == cluster], values[labels != cluster]
        expected = stats.ttest_ind(inside, rest, equal_var=False)
        for j, name in enumerate(iris.columns):
            row = part.loc[name]
            assert row["cluster_mean"] == pytest.approx(inside[:, j].mean())
            assert row["rest_mean"] == pytest.approx(rest[:, j].mean())
            assert row["difference_sd"] == pytest.approx((inside[:, j].mean() - rest[:, j].mean()) / sd[j])
            assert row["t_statistic"] == pytest.approx(expected.statistic[j])
            assert row["p_value"] == pytest.approx(expected.pvalue[j], rel=1e-9, abs=1e-300)
        # Strongest first.
        strength = part["difference_sd"].abs().to_numpy()
        assert np.all(strength[:-1] >= strength[1:])


def test_descriptions_name_the_strongest_significant_features(iris, iris_model):
    explanation = explain_clusters(iris_model, iris)
    setosa = int(np.bincount(iris_model.predict(iris.iloc[:50])).argmax())
    # Setosa: the small petals, -2.0 and -1.9 sd of the whole data's spread.
    assert explanation.descriptions[setosa].startswith("petal length (cm) -2.0 sd, petal width (cm) -1.9 sd")
    for line in explanation.descriptions:
        terms = line.split(", ")
        assert len(terms) <= 3
        for term in terms:
            assert re.fullmatch(r".+ [+-]\d+\.\d sd", term), term
    strict = explain_clusters(iris_model, iris, min_sd=10)
    assert strict.descriptions == [NOTHING_STANDS_OUT] * 3
    single = explain_clusters(iris_model, iris, max_features=1)
    assert all(", " not in line for line in single.descriptions)


def test_no_feature_stands_out_when_clusters_differ_by_noise_only():
    # One real split on x0; x1 is noise: x1 never enters a description.
    rng = np.random.default_rng(3)
    X = np.column_stack([np.r_[rng.normal(0, 1, 200), rng.normal(8, 1, 200)], rng.normal(size=400)])
    model = KMeans(2, random_state=0).fit(X)
    explanation = explain_clusters(model, X, feature_names=["signal", "noise"])
    assert all(d.startswith("signal ") and "noise" not in d for d in explanation.descriptions)


def test_one_cluster_has_nothing_to_stand_apart_from():
    X = np.random.default_rng(0).normal(size=(50, 2))
    explanation = explain_clusters(KMeans(1, random_state=0).fit(X), X)
    assert explanation.descriptions == [NOTHING_STANDS_OUT]
    assert explanation.rules == ["every row"]
    assert explanation.fidelity == 1.0 and explanation.cost_ratio == pytest.approx(1.0)


def test_separated_blobs_rules_in_original_units_with_fidelity_one():
    frame = _blobs()
    model = make_pipeline(StandardScaler(), KMeans(4, random_state=0)).fit(frame)
    explanation = explain_clusters(model, frame)
    assert explanation.n_leaves == 4 and explanation.method == "IMM"
    assert explanation.fidelity == 1.0 and explanation.n_mistakes == 0
    assert explanation.cost_ratio == pytest.approx(1.0, rel=1e-12)
    assert explanation.rule_space == "original units" and explanation.rule_space_note is None
    for rule in explanation.rules:
        # "income <= 50,000 and age <= 40": thresholds in the gaps, written in original units.
        for name, number in re.findall(r"(income|age|noise) (?:<=|>) ([-\d,.]+)", rule):
            assert name != "noise"
            value = float(number.replace(",", ""))
            assert (30_000 < value < 70_000) if name == "income" else (35 < value < 50), rule
    labels = model.predict(frame)
    assert np.array_equal(explanation.tree_labels, labels)
    # The rules read on the raw table give the tree's clusters.
    assert np.array_equal(explanation.tree.predict(frame.to_numpy()), labels)


def test_rules_are_the_same_cuts_with_or_without_the_pipeline(iris, iris_model):
    scaler, kmeans = iris_model[0], iris_model[-1]
    scaled = scaler.transform(iris)
    with_pipeline = explain_clusters(iris_model, iris)
    with_scaler = explain_clusters(kmeans, scaled, scaler=scaler, feature_names=list(iris.columns))
    in_model_space = explain_clusters(kmeans, scaled)
    for other in (with_scaler, in_model_space):
        assert np.array_equal(other.tree.feature, with_pipeline.tree.feature)
        assert np.array_equal(other.tree_labels, with_pipeline.tree_labels)
    assert with_scaler.rules == with_pipeline.rules
    assert np.allclose(with_scaler.differences.to_numpy(dtype=float),
                       with_pipeline.differences.to_numpy(dtype=float), rtol=1e-9, atol=1e-12)
    # Thresholds map to each other through the scaler (each within its gap).
    internal = with_pipeline.tree.feature >= 0
    thresholds = with_pipeline.tree.threshold[internal]
    assert np.all(thresholds == np.round(thresholds, 2))  # iris is measured to 0.1 cm


def test_pca_pipeline_falls_back_to_the_features_the_model_sees(iris):
    model = make_pipeline(StandardScaler(), PCA(2, random_state=0), KMeans(3, random_state=0)).fit(iris)
    explanation = explain_clusters(model, iris)
    assert "PCA" in explanation.rule_space_note and "not in original units" in explanation.rule_space_note
    assert explanation.rule_space.startswith("the model's features")
    assert set(re.findall(r"pca\d", " ".join(explanation.rules))) <= {"pca0", "pca1"}
    # Differences stay in original units.
    assert list(explanation.differences.index.get_level_values("feature").unique()) != []
    assert set(explanation.differences.index.get_level_values("feature")) == set(iris.columns)


def test_more_leaves_with_exkmc_bring_the_tree_closer_to_kmeans(iris, iris_model):
    imm = explain_clusters(iris_model, iris)
    grown = explain_clusters(iris_model, iris, max_leaves=6)
    assert grown.method == "ExKMC" and 3 < grown.n_leaves <= 6
    assert grown.fidelity > imm.fidelity
    assert grown.cost_ratio < imm.cost_ratio
    several = [rule for rule in grown.rules if " or " in rule]
    assert several and all(rule.startswith("(") for rule in several)


def test_feature_names_come_from_the_model_for_an_array(iris, iris_model):
    explanation = explain_clusters(iris_model, iris.to_numpy())
    assert explanation.feature_names == list(iris.columns)
    reordered = iris[iris.columns[::-1]]
    assert explain_clusters(iris_model, reordered).feature_names == list(iris.columns)


def test_renders_as_text_html_and_json(iris, iris_model):
    explanation = explain_clusters(iris_model, iris)
    text = str(explanation)
    for cluster in range(3):
        assert explanation.descriptions[cluster] in text and explanation.rules[cluster] in text
    assert "fidelity" in text and "cost ratio" in text and "Welch" in text
    assert repr(explanation) == (
        f"ClusterExplanation(n_clusters=3, n_samples=150, method='IMM', n_leaves=3, "
        f"fidelity={explanation.fidelity:.3f}, cost_ratio={explanation.cost_ratio:.3f})"
    )
    page = explanation._repr_html_()
    assert "<table>" in page and "&lt;=" in page and "petal length (cm)" in page
    payload = json.loads(json.dumps(explanation.to_dict(top=2), allow_nan=False))
    assert payload["n_leaves"] == 3 and payload["method"] == "IMM"
    assert [c["rule"] for c in payload["clusters"]] == explanation.rules
    assert all(len(c["differences"]) == 2 for c in payload["clusters"])
    leaves = [node for node in payload["tree"] if node["cluster"] is not None]
    assert sorted(node["cluster"] for node in leaves) == [0, 1, 2]


def test_bad_input_is_named(iris, iris_model):
    with pytest.raises(ValueError, match=r"max_leaves must be None or at least the number of clusters \(3\), got 2"):
        explain_clusters(iris_model, iris, max_leaves=2)
    with pytest.raises(TypeError, match="max_leaves must be None or an integer, got 4.0"):
        explain_clusters(iris_model, iris, max_leaves=4.0)
    with pytest.raises(ValueError, match=r"alpha must be a number in \(0, 1\], got 0"):
        explain_clusters(iris_model, iris, alpha=0)
    with pytest.raises(ValueError, match="max_features must be a positive integer, got 0"):
        explain_clusters(iris_model, iris, max_features=0)
    with pytest.raises(NotFittedError, match="before explaining its clusters"):
        explain_clusters(KMeans(3), iris)
    X = iris.to_numpy()
    with pytest.raises(ValueError, match="KMedians clusters by L1"):
        explain_clusters(KMedians(3, random_state=0).fit(X), X)
    bad = iris.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        explain_clusters(iris_model, bad)
    with pytest.raises(ValueError, match="lacks the feature columns"):
        explain_clusters(iris_model, iris.drop(columns=iris.columns[0]))
    with pytest.raises(TypeError, match="scaler is for a model fitted on scaled data"):
        explain_clusters(iris_model, iris, scaler=StandardScaler().fit(iris))


def test_differences_stay_exact_far_from_the_origin():
    from fractions import Fraction

    from kmeanskit._analysis.explain.differences import cluster_differences

    rng = np.random.default_rng(0)
    X = 1e8 + rng.normal(size=(500, 1))
    labels = rng.integers(0, 4, 500)
    found = cluster_differences(X, labels, 4, ["far"])
    for cluster in range(4):
        inside = [Fraction(v) for v in X[labels == cluster, 0]]
        rest = [Fraction(v) for v in X[labels != cluster, 0]]
        exact = float(sum(inside) / len(inside) - sum(rest) / len(rest))
        # A difference of about 0.01 on values of 1e8: every digit kept (NumPy's means keep 7 of them).
        assert found.loc[(cluster, "far"), "difference"] == pytest.approx(exact, rel=1e-12)


def test_welch_tests_match_scipy_on_degenerate_sides():
    from kmeanskit._analysis.explain.differences import cluster_differences

    X = np.column_stack([np.r_[np.zeros(5), np.ones(5)], np.full(10, 3.0), np.arange(10.0)])
    labels = np.r_[np.zeros(5, dtype=int), np.ones(4, dtype=int), 2]
    found = cluster_differences(X, labels, 3, ["step", "constant", "ramp"])
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = stats.ttest_ind(X[labels == 0], X[labels != 0], equal_var=False)
    part = found.xs(0, level="cluster").loc[["step", "constant", "ramp"]]
    np.testing.assert_allclose(part["t_statistic"], expected.statistic, rtol=1e-12)
    np.testing.assert_allclose(part["p_value"], expected.pvalue, rtol=1e-12)
    # A cluster of one row has no test.
    assert found.xs(2, level="cluster")["p_value"].isna().all()
