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
    text = text_of(report(frame, model, tmp_path / "kp.html", drift=drift))
    for heading in ("Categorical columns", "Which categorical columns separate the clusters", "Level shares per cluster",
                    "Categorical columns per cluster", "Which features separate the clusters", "Drift"):
        assert f">{heading}<" in text, heading
    assert "Cramer&#x27;s V" in text and "chi-square p" in text
    assert text.count("<img") == 1 and no_nan_text(text)
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
    text = text_of(report(frame, model, tmp_path / "wide.html"))
    assert text.count("<img") == 1 and ">c17<" in text  # every column in the tables, the first 16 drawn
