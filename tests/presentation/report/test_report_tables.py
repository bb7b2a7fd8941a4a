"""The report on tables with categorical columns (KPrototypes, KModes) and with gaps (missing='ignore')."""

import html
import re

import numpy as np
import pandas as pd
import pytest

from kmeanskit import KMeans, KModes, KPrototypes, report
from kmeanskit.monitoring import drift_report

pytest.importorskip("matplotlib")


def mixed(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"amount": rng.normal(size=n), "age": rng.normal(40, 10, size=n),
                         "region": rng.choice(["north", "south", "east"], size=n),
                         "plan": pd.Categorical(rng.choice(["basic", "pro"], size=n))})


def text_of(path):
    """The page without its images, whose base64 may spell anything."""
    return re.sub(r'data:image/png;base64,[^"]+', "", path.read_text())


def no_nan_text(text):
    cells = re.findall(r">([^<>]*)<", text)
    return not any(re.search(r"\bnan\b", cell, flags=re.IGNORECASE) for cell in cells)


def test_kprototypes_report_shows_shares_tests_and_bars(tmp_path):
    frame = mixed()
    model = KPrototypes(3, random_state=0).fit(frame)
    drift = drift_report(model, mixed(200, seed=1), reference=frame)
    text = text_of(report(frame, model, tmp_path / "kp.html", drift=drift, ks=None, stability=None))
    for heading in ("Categorical columns", "Which categorical columns separate the clusters", "Level shares per cluster",
                    "Categorical columns per cluster", "Which features separate the clusters", "Drift"):
        assert f">{heading}<" in text, heading
    assert "Cramer&#x27;s V" in text and "chi-square p" in text
    assert text.count("<img") == 2 and no_nan_text(text)  # the level shares, the silhouette diagram
    # The shares of region in cluster 0, as the table gives them.
    labels = model.predict(frame)
    share = np.mean(frame["region"][labels == 0] == "north")
    assert f"{100 * share:.1f}%" in text


def test_kmodes_report(tmp_path):
    frame = mixed()[["region", "plan"]]
    model = KModes(2, random_state=0).fit(frame)
    text = text_of(report(frame, model, tmp_path / "km.html"))
    assert ">Level shares per cluster<" in text and ">Which features separate the clusters<" not in text
    assert "mismatched categories" in text and no_nan_text(text)


def test_missing_ignore_report_shows_the_missing_shares(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3))
    X[rng.random(X.shape) < 0.15] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 0.0
    model = KMeans(3, missing="ignore", random_state=0).fit(X)
    text = text_of(report(X, model, tmp_path / "gaps.html"))
    assert ">Missing entries per cluster<" in text and "over the observed entries" in text
    missing = np.isnan(X[model.labels_ == 0, 0]).mean()
    assert f"{100 * missing:.1f}%" in text and no_nan_text(text)


def test_a_complete_table_with_a_missing_ignore_model_gets_the_full_report(tmp_path, monkeypatch):
    X = np.random.default_rng(4).normal(size=(120, 2))
    model = KMeans(2, missing="ignore", random_state=0).fit(X)
    text = text_of(report(X, model, tmp_path / "full.html", ks=None, stability=None))
    assert ">Silhouette<" in text and ">Missing entries per cluster<" not in text


def test_drift_of_features_with_gaps_reads_as_the_drift_summary_does(tmp_path):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 2))
    X[rng.random(400) < 0.05, 1] = np.nan
    model = KMeans(2, missing="ignore", random_state=0).fit(X)
    new = rng.normal(size=(300, 2))
    new[rng.random(300) < 0.5, 1] = np.nan  # the missing share moves
    drift = drift_report(model, new, reference=X)
    row = drift.features.set_index("feature").loc["x1"]
    assert row["missing_moved"]
    text = text_of(report(X, model, tmp_path / "drift.html", drift=drift))
    assert f"<strong>{html.escape(drift.headline)}</strong>" in text
    assert ">True<" not in text and ">False<" not in text  # flags as "yes" or blank, in both tables
    assert f"{100 * row['new_missing']:.1f}%" in text  # shares as percentages, in both tables


def test_many_categorical_columns_draw_the_first_sixteen(tmp_path):
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({f"c{j}": rng.choice(["a", "b", "c"], size=120) for j in range(18)})
    model = KModes(2, random_state=0).fit(frame)
    text = text_of(report(frame, model, tmp_path / "wide.html", ks=None, stability=None))
    assert text.count("<img") == 2 and ">c17<" in text  # every column in the tables, the first 16 drawn


def shops(n=240, seed=0):
    """Three groups: a store and a region that follow them (10% noise), an amount and an age."""
    rng = np.random.default_rng(seed)
    group = np.repeat([0, 1, 2], n // 3)
    store = np.array(["North", "South", "East"], dtype=object)[group]
    flip = rng.random(n) < 0.1
    store[flip] = rng.choice(["North", "South", "East", "West"], flip.sum())
    frame = pd.DataFrame({"store": store, "region": np.where(group == 2, "rural", "urban").astype(object),
                          "amount": np.array([50.0, 200.0, 120.0])[group] + rng.normal(0, 15, n),
                          "age": np.array([30.0, 45.0, 65.0])[group] + rng.normal(0, 5, n)})
    return frame, group


def test_a_kprototypes_report_has_the_sections_of_the_full_report_in_its_own_cost(tmp_path):
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    from kmeanskit import explain_clusters, select_k
    from kmeanskit._analysis.formatting import format_number
    from kmeanskit._analysis.metrics import silhouette_or_reason
    from kmeanskit._estimators.numeric_scaler import NumericScaler

    frame, group = shops()
    categorical = ("store", "region")
    model = Pipeline([("scale", NumericScaler(categorical=categorical)),
                      ("kprototypes", KPrototypes(3, categorical=categorical, random_state=0))]).fit(frame)
    path = report(frame, model, tmp_path / "kp.html", ks=[2, 3, 4], labels_true=group, stability=5)
    page = path.read_text()
    assert re.findall(r'<section id="(\w+)"', page) == [
        "data", "model", "selection", "clusters", "explanations", "silhouette", "metrics", "classes", "stability"]
    text = html.unescape(text_of(path))
    # The choice of k: select_k's answer and reason on the table, in the model's cost.
    selection = select_k(frame, [2, 3, 4], estimator=clone(model), random_state=0, progress=False)
    assert selection.best_k == 3 and f"<strong>Best k</strong>: {selection.reason}</p>" in text
    assert ">cost<" in text.split('id="selection"')[1].split("</table>")[0]  # the model's cost, named so
    # What sets each cluster apart: the explanation's words, levels as shares.
    explanation = explain_clusters(model, frame)
    for description in explanation.descriptions:
        assert description in text
    assert re.search(r"store = (North|South|East) \(\d+% of the cluster, \d+% overall\)", text)
    assert "fidelity" in text and "get their KPrototypes cluster from the rules" in text
    # The silhouette in the model's dissimilarity, its diagram, and what is left out and why.
    score, _ = silhouette_or_reason(model[0].transform(frame), model[-1].labels_, categorical=model[-1].categorical_,
                                    gamma=model[-1].gamma_)
    assert f"<td class=\"num\">{format_number(score, thousands=True)}</td>" in text
    assert 'alt="Silhouette diagram in the model&#x27;s dissimilarity"' in page
    assert ("Left out: the scatter plot of the rows on their first two principal components (a projection needs "
            "every column as a number, and categories have none") in text
    assert "Calinski-Harabasz, Davies-Bouldin" in text and "adjusted Rand index (ARI)" in text
    assert "mean Jaccard" in text and no_nan_text(text_of(path).split('id="selection"')[0])


def test_a_kprototypes_report_on_rows_with_gaps_explains_the_complete_rows_and_says_so(tmp_path):
    frame, _ = shops()
    frame.loc[[3, 50, 100], "age"] = np.nan
    frame.loc[7, "store"] = None
    model = KPrototypes(3, categorical=(0, 1), missing="ignore", random_state=0).fit(frame)
    text = html.unescape(text_of(report(frame, model, tmp_path / "gaps.html", ks=None, stability=None)))
    assert "the 236 of 240 rows without missing values (differences and rules need every value of a row)" in text
    assert "The silhouette is not computed: rows with missing values have no full dissimilarities." in text
    assert "store = " in text and ">What sets each cluster apart<" in text


def test_the_centers_of_a_pipeline_are_in_original_units(tmp_path):
    from sklearn.pipeline import Pipeline

    from kmeanskit._estimators.numeric_scaler import NumericScaler

    frame, _ = shops()
    categorical = ("store", "region")
    model = Pipeline([("scale", NumericScaler(categorical=categorical)),
                      ("kprototypes", KPrototypes(3, categorical=categorical, random_state=0))]).fit(frame)
    page = html.unescape(text_of(report(frame, model, tmp_path / "kp.html", ks=None, stability=None)))
    labels = model.predict(frame)
    centers = page.split("Sizes and centers")[1].split("</table>")[0]
    for cluster in range(3):  # K-Prototypes' numeric centers are their rows' means
        mean = frame["amount"][labels == cluster].mean()
        assert f">{mean:.4g}<" in centers or f">{mean:.1f}<" in centers, (mean, centers)


def test_a_kprototypes_report_of_an_array_is_written_with_its_cost_and_silhouette(tmp_path):
    from kmeanskit._analysis.formatting import format_number
    from kmeanskit._analysis.metrics import silhouette_or_reason

    frame, _ = shops()
    X = frame.to_numpy(dtype=object)
    model = KPrototypes(3, categorical=[0, 1], random_state=0).fit(X)
    text = html.unescape(text_of(report(X, model, tmp_path / "array.html", ks=None, stability=None)))
    assert f">{format_number(model.inertia_, thousands=True)}<" in text  # the cost, as the model gives it
    score, _ = silhouette_or_reason(X, model.labels_, categorical=model.categorical_, gamma=model.gamma_)
    assert f">{format_number(score, thousands=True)}<" in text
    assert ">What sets each cluster apart<" in text and "store = " not in text  # (no names: x0, x1, ...)


def test_a_kprototypes_report_of_an_array_with_gaps_explains_the_complete_rows(tmp_path):
    frame, _ = shops()
    frame.loc[[3, 50, 100], "age"] = np.nan
    frame.loc[7, "store"] = None
    X = frame.to_numpy(dtype=object)
    model = KPrototypes(3, categorical=(0, 1), missing="ignore", random_state=0).fit(X)
    text = html.unescape(text_of(report(X, model, tmp_path / "gaps.html", ks=None, stability=None)))
    assert "the 236 of 240 rows without missing values (differences and rules need every value of a row)" in text
    assert "The silhouette is not computed: rows with missing values have no full dissimilarities." in text


def test_a_mixed_pipeline_explain_refuses_gets_a_note_and_its_centers_are_not_called_original(tmp_path):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from kmeanskit import explain_clusters
    from kmeanskit._estimators.numeric_scaler import NumericScaler

    frame, _ = shops()
    categorical = ("store", "region")
    model = Pipeline([("same", FunctionTransformer()), ("scale", NumericScaler(categorical=categorical)),
                      ("kprototypes", KPrototypes(3, categorical=categorical, random_state=0))]).fit(frame)
    with pytest.raises(ValueError) as refused:
        explain_clusters(model, frame)
    page = html.unescape(text_of(report(frame, model, tmp_path / "kp.html", ks=None, stability=None)))
    explanations = page.split('id="explanations"')[1].split("</section>")[0]
    assert f"Not explained: {refused.value}" in explanations
    centers = page.split("Sizes and centers")[1].split("</table>")[1]
    assert ("The preprocessing is not a single NumericScaler, so the numeric centers are in the units the model "
            "clusters in.") in centers


def test_a_report_on_rows_with_categories_never_seen_at_fit_warns_of_them(tmp_path):
    from kmeanskit import UnseenCategoryWarning

    frame = mixed()
    model = KPrototypes(3, random_state=0).fit(frame)
    new = mixed(100, seed=1)
    new.loc[:4, "region"] = "west"  # five rows of a region the model never saw
    with pytest.warns(UnseenCategoryWarning, match=r"column 'region' \(index 2\) of X: 5 rows"):
        report(new, model, tmp_path / "kp.html", ks=None, stability=None)
