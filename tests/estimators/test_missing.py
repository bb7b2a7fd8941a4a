"""KMeans(missing=...): scikit-learn's refusal by default, k-POD on the observed entries with 'ignore'."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import make_blobs
from sklearn.impute import SimpleImputer
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from kmeanskit import KMeans

from ..algorithms.test_masked import kpod_reference

HINT = "Or pass missing='ignore' to KMeans to cluster on the observed entries."


def _remove(X, share, seed=0):
    rng = np.random.RandomState(seed)
    Xm = X.copy()
    Xm[rng.uniform(size=X.shape) < share] = np.nan
    empty = np.isnan(Xm).all(axis=1)
    Xm[empty, 0] = X[empty, 0]
    return Xm


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=3000, n_features=6, centers=5, cluster_std=1.5, random_state=0)
    return X, _remove(X, 0.2)


def _sk_message(X):
    with pytest.raises(ValueError) as info:
        SkKMeans(2).fit(X)
    return str(info.value)


def test_default_refuses_nan_with_scikit_learns_message_and_the_option(blobs):
    _, Xm = blobs
    with pytest.raises(ValueError) as info:
        KMeans(5).fit(Xm)
    assert str(info.value) == _sk_message(Xm) + "\n" + HINT
    model = KMeans(5, random_state=0).fit(blobs[0])
    for method in (model.predict, model.transform, model.score):
        with pytest.raises(ValueError, match=r"Input X contains NaN\.\n") as info:
            method(Xm)
        assert str(info.value).endswith(HINT)


@pytest.mark.parametrize("missing", ["error", "ignore"])
def test_infinity_is_refused_either_way(missing):
    X = np.ones((4, 2))
    X[1, 1] = np.inf
    with pytest.raises(ValueError, match=r"^Input X contains infinity or a value too large for dtype\('float64'\)\.$"):
        KMeans(2, missing=missing).fit(X)


def test_bad_value_of_missing():
    with pytest.raises(InvalidParameterError, match=r"The 'missing' parameter of KMeans must be a str among"):
        KMeans(2, missing="drop").fit(np.ones((4, 2)))


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_complete_data_are_clustered_bitwise_as_with_error(blobs, algorithm, dtype):
    X = blobs[0].astype(dtype) + 100.0  # far from the origin: the centered path
    a = KMeans(5, random_state=0, algorithm=algorithm).fit(X)
    b = KMeans(5, random_state=0, algorithm=algorithm, missing="ignore").fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_ and a.n_iter_ == b.n_iter_
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_matches_numpy_reference_from_the_same_centers(blobs, dtype, offset):
    """Far from the origin too (rows are shifted by the observed mean inside)."""
    _, Xm = blobs
    Xm = (Xm + offset).astype(dtype)
    init = np.nan_to_num(Xm[[0, 600, 1200, 1800, 2400]], nan=offset)
    km = KMeans(5, init=init, n_init=1, tol=0.0, missing="ignore").fit(Xm)
    labels, centers, inertia, history = kpod_reference(Xm.astype(np.float64), np.ones(len(Xm)), init)
    rtol = (1e-5 if dtype == np.float32 else 1e-12) * (1 + offset)
    np.testing.assert_array_equal(km.labels_, labels)
    np.testing.assert_allclose(km.cluster_centers_, centers, rtol=rtol, atol=rtol)
    assert km.inertia_ == pytest.approx(inertia, rel=rtol)
    assert km.cluster_centers_.dtype == dtype
    np.testing.assert_allclose(km.inertia_history_, history[: km.n_iter_], rtol=rtol)


def test_objective_history_never_increases(blobs):
    _, Xm = blobs
    km = KMeans(8, init="random", n_init=1, random_state=3, missing="ignore").fit(Xm)
    history = np.append(km.inertia_history_, km.inertia_)
    assert km.n_iter_ > 2
    assert np.all(np.diff(history) <= 1e-12 * history[:-1])


def test_agrees_with_the_full_data_fit_better_than_mean_imputation(blobs):
    X, Xm = blobs
    full = KMeans(5, random_state=0).fit(X).labels_
    ours = KMeans(5, random_state=0, missing="ignore").fit(Xm).labels_
    imputed = make_pipeline(SimpleImputer(), KMeans(5, random_state=0)).fit(Xm)[-1].labels_
    ari, ari_imputed = adjusted_rand_score(full, ours), adjusted_rand_score(full, imputed)
    assert ari >= 0.9
    assert ari > ari_imputed


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_inference_on_rows_with_gaps(blobs, offset):
    Xm = blobs[1] + offset
    km = KMeans(5, random_state=0, missing="ignore").fit(Xm)
    np.testing.assert_array_equal(km.predict(Xm), km.labels_)
    assert km.score(Xm) == pytest.approx(-km.inertia_, rel=1e-12)
    D = km.transform(Xm[:50])
    observed = ~np.isnan(Xm[:50])
    diff = np.where(observed[:, None, :], Xm[:50, None, :] - km.cluster_centers_[None], 0.0)
    np.testing.assert_allclose(D, np.sqrt((diff**2).sum(axis=2)), rtol=1e-12)
    # A complete row is assigned as by the ordinary path, and its distances are the full ones.
    complete = np.nan_to_num(Xm[:5], nan=1.0)
    np.testing.assert_allclose(km.transform(complete), np.linalg.norm(complete[:, None] - km.cluster_centers_, axis=2))


def test_float32_stays_float32(blobs):
    Xm = blobs[1].astype(np.float32)
    km = KMeans(5, random_state=0, missing="ignore").fit(Xm)
    assert km.cluster_centers_.dtype == np.float32
    assert km.transform(Xm).dtype == np.float32


def test_sample_weight_is_a_repeated_row(blobs):
    _, Xm = blobs
    Xs = Xm[:400]
    w = np.random.RandomState(1).randint(1, 3, len(Xs))
    init = np.nan_to_num(Xs[[0, 80, 160, 240, 320]], nan=0.0)
    a = KMeans(5, init=init, missing="ignore").fit(Xs, sample_weight=w.astype(float))
    b = KMeans(5, init=init, missing="ignore").fit(np.repeat(Xs, w, axis=0))
    np.testing.assert_array_equal(a.labels_, b.labels_[np.cumsum(w) - 1])
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-12)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-12)


def test_n_init_keeps_the_lowest_objective(blobs):
    _, Xm = blobs
    runs = [KMeans(12, n_init=1, init="random", random_state=s, missing="ignore").fit(Xm).inertia_ for s in range(4)]
    assert KMeans(12, n_init=4, init="random", random_state=0, missing="ignore").fit(Xm).inertia_ <= min(runs) * (1 + 1e-12)
    assert runs[0] == KMeans(12, n_init=1, init="random", random_state=0, missing="ignore").fit(Xm).inertia_


def test_same_seed_same_bits(blobs):
    _, Xm = blobs
    a = KMeans(5, random_state=7, missing="ignore").fit(Xm)
    b = KMeans(5, random_state=7, missing="ignore").fit(Xm.copy())
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_input_is_not_modified(blobs):
    _, Xm = blobs
    before = Xm.copy()
    KMeans(5, random_state=0, missing="ignore", copy_x=False).fit(Xm)
    np.testing.assert_array_equal(Xm, before)


def test_a_row_without_observed_entry_is_named():
    X = np.arange(20.0).reshape(10, 2)
    X[[3, 7]] = np.nan
    with pytest.raises(ValueError, match=r"^2 row\(s\) of X have no observed entry \(every value is NaN\): row\(s\) 3, 7\."):
        KMeans(2, missing="ignore").fit(X)
    km = KMeans(2, missing="ignore", random_state=0).fit(np.delete(X, [3, 7], axis=0))
    with pytest.raises(ValueError, match=r"row\(s\) 1\. "):
        km.predict(np.array([[1.0, np.nan], [np.nan, np.nan]]))


def test_many_empty_rows_are_counted():
    X = np.arange(40.0).reshape(20, 2)
    X[:8] = np.nan
    with pytest.raises(ValueError, match=r"8 row\(s\).*row\(s\) 0, 1, 2, 3, 4 and 3 more\."):
        KMeans(2, missing="ignore").fit(X)


def test_a_feature_without_observed_value_is_named():
    X = np.arange(30.0).reshape(10, 3)
    X[:, 1] = np.nan
    with pytest.raises(ValueError, match=r"^1 feature\(s\) of X have no observed value \(every value is NaN\): 1\."):
        KMeans(2, missing="ignore").fit(X)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"'b' \(column\(s\) 1\)"):
        KMeans(2, missing="ignore").fit(frame)


def test_sparse_with_nan_is_refused():
    X = sp.random(20, 5, density=0.3, format="csr", random_state=0)
    X.data[0] = np.nan
    with pytest.raises(ValueError, match=r"missing='ignore' clusters dense data, but X is a sparse matrix with 1 NaN"):
        KMeans(2, missing="ignore").fit(X)


def test_callable_and_array_init_with_gaps(blobs):
    _, Xm = blobs
    init = np.nan_to_num(Xm[[0, 600, 1200, 1800, 2400]], nan=0.0)
    a = KMeans(5, init=init, missing="ignore").fit(Xm)
    b = KMeans(5, init=lambda X, k, random_state: init, missing="ignore").fit(Xm)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    with pytest.raises(ValueError, match=r"init contains NaN"):
        KMeans(5, init=Xm[:5], missing="ignore").fit(Xm)


def test_the_allow_nan_tag_follows_the_option():
    assert KMeans(missing="ignore").__sklearn_tags__().input_tags.allow_nan
    assert not KMeans().__sklearn_tags__().input_tags.allow_nan
