"""A drop-in to the letter: what code written against scikit-learn's KMeans and
MiniBatchKMeans reads besides the results (verbose lines, warnings and where
they point, messages, private attributes), checked against scikit-learn itself.
scikit-learn's own test module runs in ``test_sklearn_suite.py``."""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.cluster as skc
import sklearn.metrics as skm
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

import kmeanskit as kk

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _verbose_lines(estimator, X, capsys):
    capsys.readouterr()
    estimator.fit(X)
    return capsys.readouterr().out.splitlines()


def _split_numbers(lines):
    """Each line as (its text with numbers replaced by #, its numbers)."""
    return [(_NUMBER.sub("#", line), [float(x) for x in _NUMBER.findall(line)]) for line in lines]


@pytest.mark.parametrize("tol", [1e-2, 0.0])
@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_kmeans_verbose_lines_are_sklearns(algorithm, tol, capsys):
    X = np.random.RandomState(0).normal(size=(3000, 6))
    params = dict(n_clusters=5, init="random", n_init=2, random_state=0, tol=tol, verbose=1)
    ours = _verbose_lines(kk.KMeans(algorithm=algorithm, **params), X, capsys)
    # scikit-learn's Lloyd prints what its Elkan prints, with a final period.
    theirs = _verbose_lines(skc.KMeans(algorithm="lloyd", **params), X, capsys)
    assert ours[0] == "Initialization complete"
    assert sum(line == "Initialization complete" for line in ours) == 2
    assert any(line.startswith("Converged at iteration") for line in ours)
    ours, theirs = _split_numbers(ours), _split_numbers(theirs)
    assert [text for text, _ in ours] == [text for text, _ in theirs]
    for (_, a), (_, b) in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9)


def test_minibatch_verbose_lines_are_sklearns(capsys):
    X, _, centers = make_blobs(n_samples=600, centers=3, random_state=0, return_centers=True)
    params = dict(n_clusters=3, init="random", n_init=2, batch_size=50, random_state=0, verbose=1, max_iter=5)
    ours = _split_numbers(_verbose_lines(kk.MiniBatchKMeans(**params), X, capsys))
    theirs = _split_numbers(_verbose_lines(skc.MiniBatchKMeans(**params), X, capsys))
    # Batches are drawn differently (randint, not choice): the lines and the
    # inits' inertias (the same draws) are scikit-learn's, not the later numbers.
    assert [text for text, _ in ours[:4]] == [text for text, _ in theirs[:4]]
    np.testing.assert_allclose(ours[1][1], theirs[1][1], rtol=1e-9)
    np.testing.assert_allclose(ours[3][1], theirs[3][1], rtol=1e-9)
    assert {text for text, _ in ours} <= {text for text, _ in theirs} | {
        "Converged (small centers change) at step #/#",
        "Converged (lack of improvement in inertia) at step #/#",
        "[MiniBatchKMeans] Reassigning # cluster centers.",
    }


@pytest.mark.parametrize("Estimator", [kk.KMeans, kk.MiniBatchKMeans])
def test_verbose_zero_prints_nothing(Estimator, capsys):
    X = np.random.RandomState(0).normal(size=(300, 3))
    Estimator(3, random_state=0, n_init=2, init="random").fit(X)
    assert capsys.readouterr().out == ""


def _fit_warning(make_fit, category):
    """The one warning of ``category`` that ``make_fit()`` emits."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_fit()
    found = [w for w in caught if issubclass(w.category, category)]
    assert len(found) == 1, [str(w.message) for w in caught]
    return found[0]


X3 = np.random.RandomState(0).normal(size=(100, 3))


@pytest.mark.parametrize(
    "make_fit, category, message",
    [
        (lambda: kk.KMeans(1, algorithm="elkan").fit(X3), RuntimeWarning,
         "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' instead."),
        (lambda: kk.KMeans(2, init=X3[:2], n_init=3).fit(X3), RuntimeWarning,
         "Explicit initial center position passed: performing only one init in KMeans instead of n_init=3."),
        (lambda: kk.MiniBatchKMeans(2, init=X3[:2], n_init=3).fit(X3), RuntimeWarning,
         "Explicit initial center position passed: performing only one init in MiniBatchKMeans instead of "
         "n_init=3."),
        (lambda: kk.MiniBatchKMeans(2, init=X3[:2], n_init=3).partial_fit(X3), RuntimeWarning,
         "Explicit initial center position passed: performing only one init in MiniBatchKMeans instead of "
         "n_init=3."),
        (lambda: kk.MiniBatchKMeans(5, init_size=3, random_state=0).fit(X3), RuntimeWarning,
         "init_size=3 should be larger than n_clusters=5. Setting it to min(3*n_clusters, n_samples)"),
        (lambda: kk.KMeans(3, random_state=0).fit(np.repeat(X3[:2], 5, axis=0)), ConvergenceWarning,
         "Number of distinct clusters (2) found smaller than n_clusters (3). Possibly due to duplicate points in X."),
    ],
)
def test_warnings_say_sklearns_words_at_the_callers_line(make_fit, category, message):
    caught = _fit_warning(make_fit, category)
    assert str(caught.message) == message
    assert caught.filename == __file__  # the line that called fit, not a frame inside kmeanskit or scikit-learn


def test_minibatch_leaves_clusters_empty_silently_as_sklearn():
    # scikit-learn warns of "distinct clusters" in KMeans only; its MiniBatchKMeans
    # leaves clusters empty without a word.
    X = np.repeat(X3[:2], 5, axis=0)  # 2 distinct points, 3 clusters
    for module in (skc, kk):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = module.MiniBatchKMeans(3, random_state=0).fit(X)
        assert np.unique(model.labels_).size == 2
        assert [str(w.message) for w in caught] == []


# Invalid values of every parameter scikit-learn's KMeans and MiniBatchKMeans
# validate (kmeanskit's own parameters, such as ``missing``, are not compared).
_INVALID = {
    "n_clusters": [0, -1, 2.5, "3", None, 101],
    "init": ["kmeans", 3],
    "n_init": [0, -2, "x", 1.5, None],
    "max_iter": [0, -1, 1.5, None],
    "tol": [-1.0, "x", None],
    "verbose": [-1, "x", 1.5],
    "random_state": ["x", -1, 1.5],
    "copy_x": ["x", 2, None],
    "algorithm": ["full", None, 1],
    "batch_size": [0, -1, 1.5, None],
    "compute_labels": ["x", 2, None],
    "max_no_improvement": [-1, 1.5, "x"],
    "init_size": [0, -1, 1.5, "x"],
    "reassignment_ratio": [-0.1, "x", None],
}
_OPTIONS = re.compile(r"\{[^{}]*\}")


def _error(make_fit):
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is compared
        make_fit()
    return type(caught.value), str(caught.value)


@pytest.mark.parametrize(
    "name, param, value",
    [(name, param, value) for name in ("KMeans", "MiniBatchKMeans")
     for param, values in _INVALID.items() if param in getattr(skc, name)().get_params() for value in values],
)
def test_invalid_parameter_errors_are_sklearns(name, param, value):
    params = {param: value} if param == "n_clusters" else {"n_clusters": 3, param: value}
    their_type, theirs = _error(lambda: getattr(skc, name)(**params).fit(X3))
    our_type, ours = _error(lambda: getattr(kk, name)(**params).fit(X3))
    assert our_type is their_type
    # The same sentence; where kmeanskit accepts more values (algorithm="auto",
    # "hamerly"; init="k-means||", "auto") its set of allowed strings holds scikit-learn's.
    assert _OPTIONS.sub("{}", ours) == _OPTIONS.sub("{}", theirs)
    for their_set, our_set in zip(_OPTIONS.findall(theirs), _OPTIONS.findall(ours), strict=True):
        assert set(eval(their_set)) <= set(eval(our_set))  # sets of str literals, printed by scikit-learn


def test_elkan_with_one_cluster_runs_lloyd():
    with pytest.warns(RuntimeWarning, match="Using 'lloyd' instead"):
        elkan = kk.KMeans(1, algorithm="elkan", random_state=0).fit(X3)
    lloyd = kk.KMeans(1, algorithm="lloyd", random_state=0).fit(X3)
    np.testing.assert_array_equal(elkan.cluster_centers_, lloyd.cluster_centers_)
    assert elkan.inertia_ == lloyd.inertia_


@pytest.mark.parametrize(
    "init, n_init, expected",
    [("k-means++", "auto", 1), ("random", "auto", None), (X3[:3], "auto", 1), ("random", 4, 4), (X3[:3], 4, 1)],
)
@pytest.mark.parametrize("name", ["KMeans", "MiniBatchKMeans"])
def test_n_init_attribute_is_sklearns(name, init, n_init, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours = getattr(kk, name)(3, init=init, n_init=n_init, random_state=0).fit(X3)
        theirs = getattr(skc, name)(3, init=init, n_init=n_init, random_state=0).fit(X3)
    assert ours._n_init == theirs._n_init
    if expected is not None:
        assert ours._n_init == expected


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("name", ["KMeans", "MiniBatchKMeans"])
def test_init_centroids_draws_sklearns_rows(name, init, dtype):
    # The same signature and, for the same seed, the same rows as scikit-learn's.
    X, _ = make_blobs(n_samples=500, n_features=4, centers=6, random_state=1)
    X = (X - X.mean(axis=0)).astype(dtype)  # a fit seeds on mean-centered data
    w = np.random.RandomState(2).uniform(0.5, 2.0, size=X.shape[0]).astype(dtype)
    kwargs = dict(
        X=X, x_squared_norms=np.einsum("ij,ij->i", X, X), init=init, sample_weight=w, init_size=200,
        n_centroids=5,
    )
    ours = getattr(kk, name)(8)._init_centroids(random_state=np.random.RandomState(3), **kwargs)
    theirs = getattr(skc, name)(8)._init_centroids(random_state=np.random.RandomState(3), **kwargs)
    assert ours.shape == (5, 4) and ours.dtype == dtype
    np.testing.assert_array_equal(ours, theirs)


def test_init_centroids_callable_and_array():
    km = kk.KMeans(3)
    rs = np.random.RandomState(0)
    kwargs = dict(X=X3, x_squared_norms=None, random_state=rs, sample_weight=np.ones(100))
    np.testing.assert_array_equal(km._init_centroids(init=X3[:3], **kwargs), X3[:3])
    np.testing.assert_array_equal(km._init_centroids(init=lambda X, k, random_state: X[-k:], **kwargs), X3[-3:])
    with pytest.raises(ValueError, match=r"does not match the number of clusters 3"):
        km._init_centroids(init=lambda X, k, random_state: X[:2], **kwargs)
    with pytest.raises(ValueError, match=r"scikit-learn's values of init.*got init='k-means\|\|'"):
        km._init_centroids(init="k-means||", **kwargs)


@pytest.mark.parametrize("init", [X3[:2], lambda X, k, random_state: X[:2]], ids=["array", "callable"])
@pytest.mark.parametrize("name", ["KMeans", "MiniBatchKMeans"])
def test_wrong_init_shape_extends_sklearns_message(name, init):
    with pytest.raises(ValueError) as theirs:
        getattr(skc, name)(3, init=init, n_init=1).fit(X3)
    with pytest.raises(ValueError) as ours:
        getattr(kk, name)(3, init=init, n_init=1).fit(X3)
    # scikit-learn's sentence, then what is expected.
    assert str(ours.value).startswith(str(theirs.value)[:-1] + ": ")
    assert str(ours.value).endswith("for n_clusters=3 and n_features=3; expected (3, 3).")


def test_x_squared_norms_length_extends_sklearns_message():
    with pytest.raises(ValueError) as theirs:
        skc.kmeans_plusplus(X3, 3, x_squared_norms=np.ones(7))
    with pytest.raises(ValueError) as ours:
        kk.kmeans_plusplus(X3, 3, x_squared_norms=np.ones(7))
    assert str(ours.value) == str(theirs.value)[:-1] + ": x_squared_norms has shape (7,); expected (100,)."
    with pytest.raises(ValueError, match=r"one squared norm per sample, of shape \(100,\); got shape \(100, 2\)"):
        kk.kmeans_plusplus(X3, 3, x_squared_norms=np.ones((100, 2)))


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix, sp.csr_array])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["KMeans", "MiniBatchKMeans"])
def test_transform_puts_a_center_at_exactly_zero(name, dtype, container):
    # scikit-learn gets 0 only when X is the centers array itself (euclidean_distances'
    # X-is-Y case); a copy of the centers, or a training row equal to a center, gets
    # the rounding of |x|^2 - 2 x.c + |c|^2 there. Here the difference decides.
    rng = np.random.RandomState(0)
    X = np.zeros((200, 20))
    for j in range(4):  # cluster j lives in features 5j..5j+4: centers stay sparse
        X[50 * j : 50 * (j + 1), 5 * j : 5 * (j + 1)] = rng.normal(3.0, 1.0, size=(50, 5))
    sparse = container is not np.asarray
    X = (X if sparse else X + 1e3).astype(dtype)  # dense: far from the origin, centered in fit and predict
    for seed in range(5):
        km = getattr(kk, name)(4, random_state=seed).fit(container(X))
        centers = container(km.cluster_centers_.copy())
        if sparse:
            assert centers.nnz < 0.5 * 4 * 20  # CSR rows, not densified
        distances = km.transform(centers)
        np.testing.assert_array_equal(np.diag(distances), 0.0)
        c = km.cluster_centers_.astype(np.float64)
        direct = np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2))
        np.testing.assert_allclose(distances, direct, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transform_is_sklearns_euclidean_distances_bit_for_bit(dtype, container):
    # Away from a center, transform is euclidean_distances(X, centers): the squared
    # norms it is given are those it would compute (float32: on float64 rows), and
    # blocks of rows (rows of several scikit-learn batches) change nothing.
    X, _ = make_blobs(n_samples=3000, n_features=30, centers=5, random_state=0)
    X[X < 2] = 0.0  # CSR stays sparse (42% stored), rows with more than eight entries and rows with fewer
    X = container(X.astype(dtype))
    km = kk.KMeans(5, n_init=1, random_state=0).fit(X)
    expected = skm.euclidean_distances(X, km.cluster_centers_)
    assert expected.dtype == dtype and expected.min() > 0
    assert km.transform(X).tobytes() == expected.tobytes()
