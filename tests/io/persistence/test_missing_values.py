"""A KMeans fitted with missing='ignore' keeps its policy through a model file."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans, load, save


@pytest.fixture(scope="module")
def gappy():
    X, _ = make_blobs(n_samples=400, n_features=4, centers=3, random_state=0)
    X[np.random.RandomState(0).uniform(size=X.shape) < 0.2] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 0.0
    return X


@pytest.mark.parametrize("pipeline", [False, True])
def test_round_trip_predicts_rows_with_gaps(tmp_path, gappy, pipeline):
    model = KMeans(3, random_state=0, missing="ignore")
    if pipeline:  # StandardScaler passes NaN through (scikit-learn ignores it in fit, keeps it in transform)
        model = make_pipeline(StandardScaler(), model)
    model.fit(gappy)
    path = tmp_path / "gaps.kmk"
    save(model, path, X=gappy)
    loaded = load(path)
    final = loaded[-1] if pipeline else loaded
    assert final.missing == "ignore"
    np.testing.assert_array_equal(loaded.predict(gappy), model.predict(gappy))
    np.testing.assert_array_equal(loaded.transform(gappy[:20]), model.transform(gappy[:20]))
    assert loaded.score(gappy) == model.score(gappy)


def test_round_trip_of_a_default_model_still_refuses_gaps(tmp_path, gappy):
    X = np.nan_to_num(gappy)
    model = KMeans(3, random_state=0).fit(X)
    save(model, tmp_path / "m.kmk")
    loaded = load(tmp_path / "m.kmk")
    assert loaded.missing == "error"
    with pytest.raises(ValueError, match=r"Or pass missing='ignore' to KMeans to cluster on the observed entries\.$"):
        loaded.predict(gappy)
