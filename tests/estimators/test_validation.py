"""The fast paths of parameter and input validation give scikit-learn's results,
errors and warnings: the common case is recognised, anything else is validated
by scikit-learn (kmeanskit/_estimators/validation.py)."""

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.utils._param_validation import InvalidParameterError, validate_parameter_constraints
from sklearn.utils.validation import validate_data

from kmeanskit import KMeans, MiniBatchKMeans
from kmeanskit._estimators import validation
from kmeanskit._estimators.validation import plain_float_array


@pytest.fixture
def X():
    return np.random.RandomState(0).randn(60, 3)


@pytest.fixture
def counted(monkeypatch):
    """The number of times scikit-learn's parameter validation runs."""
    calls = []

    def counting(*args, **kwargs):
        calls.append(args[1])
        return validate_parameter_constraints(*args, **kwargs)

    monkeypatch.setattr(validation, "validate_parameter_constraints", counting)
    monkeypatch.setattr(validation, "_remembered", {})
    return calls


# ------------------------------------------------------------------ parameters
def test_a_setting_that_passed_is_not_validated_again(X, counted):
    KMeans(3, random_state=0).fit(X)
    KMeans(3, random_state=0).fit(X)
    KMeans(3, random_state=1).fit(X)
    assert len(counted) == 2  # the second setting (random_state=1) once


def test_a_changed_parameter_is_validated_with_sklearns_message(X, counted):
    km = KMeans(3, random_state=0).fit(X)
    km.n_clusters = 0
    with pytest.raises(InvalidParameterError) as error:
        km.fit(X)
    assert str(error.value) == (
        "The 'n_clusters' parameter of KMeans must be an int in the range [1, inf). Got 0 instead."
    )
    km.set_params(n_clusters=3, tol=-1.0)
    with pytest.raises(InvalidParameterError, match=r"The 'tol' parameter of KMeans must be a float in the range"):
        km.fit(X)
    assert len(counted) == 3


def test_a_refused_setting_is_refused_every_time(X, counted):
    for _ in range(2):
        with pytest.raises(InvalidParameterError, match="The 'algorithm' parameter of KMeans"):
            KMeans(3, algorithm="fast").fit(X)
    assert len(counted) == 2


def test_values_of_other_types_are_always_validated(X, counted):
    # numpy scalars, RandomState instances and arrays: scikit-learn decides every time
    for _ in range(2):
        KMeans(np.int64(3), random_state=np.random.RandomState(0)).fit(X)
    KMeans(3, init=X[:3], random_state=0).fit(X)
    KMeans(3, init=X[:3], random_state=0).fit(X)
    assert len(counted) == 4


def test_the_key_holds_the_type(X, counted):
    """``True == 1`` but a bool is not an int: each is validated on its own."""
    KMeans(3, random_state=0, verbose=0).fit(X)
    KMeans(3, random_state=0, verbose=False).fit(X)
    assert len(counted) == 2
    assert counted[1]["verbose"] is False


def test_each_class_keeps_its_own_settings(X, counted):
    KMeans(3, random_state=0).fit(X)
    MiniBatchKMeans(3, random_state=0, n_init=1).fit(X)
    MiniBatchKMeans(3, random_state=0, n_init=1).fit(X)
    assert len(counted) == 2


def test_skip_parameter_validation_keeps_its_meaning(X):
    # scikit-learn validates nothing under the setting: a negative tol runs (and stops strictly)
    with sklearn.config_context(skip_parameter_validation=True):
        KMeans(3, tol=-1.0, random_state=0).fit(X)
    with pytest.raises(InvalidParameterError, match="The 'tol' parameter of KMeans"):
        KMeans(3, tol=-1.0, random_state=0).fit(X)


# ----------------------------------------------------------------------- input
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_plain_array_is_returned_as_validate_data_returns_it(X, dtype):
    X = X.astype(dtype)
    ours, theirs = KMeans(), KMeans()
    out = plain_float_array(ours, X, dtype=[np.float64, np.float32], order="C", copy=False)
    assert out is X
    assert validate_data(theirs, X, dtype=[np.float64, np.float32], order="C", copy=False) is X
    assert ours.n_features_in_ == theirs.n_features_in_ == 3


@pytest.mark.parametrize(
    "make",
    [
        lambda X: np.asfortranarray(X),
        lambda X: X[:, :2],
        lambda X: X.astype(np.int64),
        lambda X: X.astype(np.float16),
        lambda X: X.astype(">f8"),
        lambda X: X.astype(np.float32),  # not the one dtype asked for
        lambda X: np.where(np.arange(3) == 1, np.nan, X),
        lambda X: np.where(np.arange(3) == 1, np.inf, X),
        lambda X: X[:0],
        lambda X: X[:, :0],
        lambda X: X[0],
        lambda X: X.tolist(),
        lambda X: pd.DataFrame(X),
        lambda X: X.view(np.matrix),
    ],
)
def test_anything_else_goes_to_sklearn(X, make):
    assert plain_float_array(KMeans(), make(X), dtype=np.float64) is None


def test_a_copy_asked_for_goes_to_sklearn(X):
    assert plain_float_array(KMeans(), X, dtype=np.float64, copy=True) is None
    assert plain_float_array(KMeans(), X, dtype=np.float64, order="F") is None


def test_array_api_dispatch_goes_to_sklearn(X, monkeypatch):
    # (the setting itself needs array_api_compat and SCIPY_ARRAY_API=1: read through get_config)
    monkeypatch.setattr(validation, "get_config", lambda: {**sklearn.get_config(), "array_api_dispatch": True})
    assert plain_float_array(KMeans(), X, dtype=np.float64) is None


def test_a_fit_on_an_array_forgets_the_names_of_a_fit_on_a_table(X):
    km = KMeans(3, random_state=0).fit(pd.DataFrame(X, columns=["a", "b", "c"]))
    assert list(km.feature_names_in_) == ["a", "b", "c"]
    km.fit(X)
    assert not hasattr(km, "feature_names_in_")
    assert km.n_features_in_ == 3


def test_predict_keeps_sklearns_warning_and_errors(X):
    km = KMeans(3, random_state=0).fit(pd.DataFrame(X, columns=["a", "b", "c"]))
    with pytest.warns(UserWarning, match="X does not have valid feature names, but KMeans was fitted with feature"):
        km.predict(X)
    km = KMeans(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 2 features, but KMeans is expecting 3 features as input"):
        km.predict(X[:, :2].copy())
    with pytest.raises(ValueError, match="Input X contains NaN.\nKMeans does not accept missing values"):
        km.predict(np.full((1, 3), np.nan))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        km.predict(X)


def test_results_are_those_of_the_validated_paths(X):
    """An array (fast path) and the same values as a list or in Fortran order (scikit-learn's path)."""
    fast = KMeans(4, random_state=0).fit(X)
    for other in (X.tolist(), np.asfortranarray(X)):
        slow = KMeans(4, random_state=0).fit(other)
        np.testing.assert_array_equal(fast.labels_, slow.labels_)
        np.testing.assert_array_equal(fast.cluster_centers_, slow.cluster_centers_)
        assert fast.inertia_ == slow.inertia_
        np.testing.assert_array_equal(fast.predict(X[:7]), fast.predict(X[:7].tolist()))
        np.testing.assert_array_equal(fast.transform(X[:7]), fast.transform(np.asfortranarray(X[:7])))
        assert fast.score(X) == fast.score(X.tolist())


def test_missing_ignore_on_complete_rows_takes_the_fast_path(X):
    km = KMeans(3, random_state=0, missing="ignore").fit(X)
    reference = KMeans(3, random_state=0).fit(X)
    np.testing.assert_array_equal(km.cluster_centers_, reference.cluster_centers_)
    gaps = X.copy()
    gaps[0, 1] = np.nan
    assert km.predict(gaps)[1:].tolist() == reference.predict(X)[1:].tolist()


def test_a_subclass_with_its_own_get_params_is_validated_on_them(X, counted):
    class Tagged(KMeans):
        def get_params(self, deep=True):
            return {**super().get_params(deep), "n_clusters": 0}

    with pytest.raises(InvalidParameterError, match="The 'n_clusters' parameter of Tagged"):
        Tagged(3).fit(X)


def test_huge_finite_values_go_to_sklearn_without_a_warning():
    X = np.full((4, 2), np.finfo(np.float32).max / 2, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plain_float_array(KMeans(), X, dtype=np.float32) is None
        assert validate_data(KMeans(), X, dtype=np.float32) is X


def test_a_class_made_at_run_time_is_forgotten_with_it(X):
    import gc
    import weakref

    class Made(KMeans):
        pass

    Made(3, random_state=0, n_init=1).fit(X)
    assert Made in validation._remembered
    gone = weakref.ref(Made)
    del Made
    gc.collect()
    assert gone() is None


def test_assume_finite_skips_the_finite_test_as_sklearn_does(X):
    gaps = X.copy()
    gaps[0, 0] = np.nan
    with sklearn.config_context(assume_finite=True):
        assert validate_data(KMeans(), gaps, dtype=np.float64) is gaps
        assert plain_float_array(KMeans(), gaps, dtype=np.float64) is gaps
    assert plain_float_array(KMeans(), gaps, dtype=np.float64) is None
