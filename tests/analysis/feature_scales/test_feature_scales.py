"""A warning when features on scales that differ by orders of magnitude are clustered unscaled."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans, select_k
from kmeanskit._analysis.feature_scales import FeatureScaleWarning, scale_spread, warn_if_unscaled


@pytest.fixture(scope="module")
def customers():
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "income": rng.normal(50_000, 10_000, 400),
        "age": rng.normal(40, 12, 400),
        "churn_rate": rng.normal(0.2, 0.1, 400),
        "constant": np.ones(400),
    })


def test_the_message_names_the_two_extremes_and_the_order_of_magnitude(customers):
    with pytest.warns(FeatureScaleWarning) as caught:
        message = warn_if_unscaled(customers, remedy="scale them (--scale standard)")
    assert len(caught) == 1 and str(caught[0].message) == message
    sd_income, sd_rate = customers["income"].std(ddof=0), customers["churn_rate"].std(ddof=0)
    assert message == (
        f"features differ in scale by 10^{int(np.floor(np.log10(sd_income / sd_rate)))} "
        f"(income: sd {sd_income:.2g}, churn_rate: sd {sd_rate:.2g}); K-Means uses Euclidean distance, "
        "so the largest scale dominates: scale them (--scale standard)"
    ).replace("e+04", "e4")
    assert message.startswith("features differ in scale by 10^5 (income: sd 1e4, churn_rate: sd 0.093)")


def test_no_warning_for_comparable_scales_or_constant_features():
    X = load_iris().data  # standard deviations 0.4 to 1.8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_if_unscaled(X) is None
        assert warn_if_unscaled(StandardScaler().fit_transform(X)) is None
        # A constant column (sd 0) is no scale; one feature cannot differ from another.
        assert warn_if_unscaled(np.column_stack([np.arange(10.0) * 1e6, np.zeros(10)])) is None
    assert scale_spread(np.arange(10.0).reshape(-1, 1)) is None


def test_the_threshold_is_two_orders_of_magnitude():
    base = np.random.default_rng(1).normal(size=(200, 1))
    below = np.column_stack([base * 99, base[::-1]])
    above = np.column_stack([base * 101, base[::-1]])
    assert scale_spread(below)[0] == pytest.approx(99)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_if_unscaled(below) is None
    with pytest.warns(FeatureScaleWarning, match=r"by 10\^2 \(x0: sd 93, x1: sd 0.92\)"):
        warn_if_unscaled(above)


def test_select_k_warns_on_raw_x_but_not_through_a_scaling_pipeline(customers):
    X = customers.drop(columns="constant")
    with pytest.warns(FeatureScaleWarning, match=r"income: sd .*churn_rate: sd .*scale them"):
        select_k(X, [2, 3], methods=["silhouette"], random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FeatureScaleWarning)
        select_k(X, [2, 3], methods=["silhouette"], random_state=0,
                 estimator=make_pipeline(StandardScaler(), KMeans(random_state=0)))


def test_kmeans_itself_stays_silent_like_scikit_learns(customers):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FeatureScaleWarning)
        KMeans(3, random_state=0).fit(customers)
