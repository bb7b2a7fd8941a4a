"""KPrototypes and KModes: the NumPy reference from the same start, the promises, tables and errors."""

import warnings

import numpy as np
import pandas as pd
import pytest

from kmeanskit import KModes, KPrototypes, UnseenCategoryWarning

from .kprototypes_reference import kprototypes, mixed_costs

LEVELS = (3, 4, 2)


def _mixed(n=600, p=3, k=4, seed=0, noise=0.25):
    """Mixed blobs: numeric Gaussian blobs and categories that mostly follow the blob (else random)."""
    rng = np.random.RandomState(seed)
    truth = rng.randint(0, k, n)
    num = rng.uniform(-5, 5, size=(k, p))[truth] + rng.normal(size=(n, p))
    cat = np.column_stack([
        np.where(rng.uniform(size=n) < noise, rng.randint(0, m, n), truth % m) for m in LEVELS
    ]).astype(np.int32)
    w = rng.uniform(0.5, 2.0, n)
    return num, cat, w, truth


def _frame(num, cat):
    """A DataFrame: numeric columns x0.., categorical columns c0.. holding strings 'L<code>'."""
    frame = pd.DataFrame(num, columns=[f"x{f}" for f in range(num.shape[1])])
    for c in range(cat.shape[1]):
        frame[f"c{c}"] = np.char.add("L", cat[:, c].astype(str)).astype(object)
    return frame


def _init_table(num, cat, rows):
    """Initial centers in the table's layout (numbers, then category values) from some rows."""
    init = np.empty((len(rows), num.shape[1] + cat.shape[1]), dtype=object)
    init[:, : num.shape[1]] = num[rows] + 0.1
    init[:, num.shape[1] :] = np.char.add("L", cat[rows].astype(str))
    return init


# ------------------------------------------------------- the reference
@pytest.mark.parametrize("weighted", [False, True])
def test_kprototypes_matches_numpy_reference_from_same_start(weighted):
    num, cat, w, _ = _mixed()
    w = w if weighted else np.ones(len(num))
    rows = [0, 1, 2, 5]
    gamma = 1.3
    kp = KPrototypes(4, gamma=gamma, init=_init_table(num, cat, rows), tol=0).fit(
        _frame(num, cat), sample_weight=w if weighted else None
    )
    labels, centers_num, modes, cost, n_iter, history = kprototypes(
        num, cat, w, num[rows] + 0.1, cat[rows], gamma, LEVELS
    )
    np.testing.assert_array_equal(kp.labels_, labels)
    np.testing.assert_allclose(kp.cluster_centers_[:, :3].astype(float), centers_num, rtol=1e-12)
    assert kp.cluster_centers_[:, 3:].tolist() == np.char.add("L", modes.astype(str)).tolist()
    assert kp.inertia_ == pytest.approx(cost, rel=1e-12)
    assert kp.n_iter_ == n_iter
    np.testing.assert_allclose(kp.inertia_history_, history, rtol=1e-12)
    assert [levels.tolist() for levels in kp.categories_] == [[f"L{c}" for c in range(m)] for m in LEVELS]


def test_kmodes_matches_numpy_reference_from_same_start():
    _, cat, w, _ = _mixed(seed=3)
    rows = [0, 7, 9]
    km = KModes(3, init=cat[rows], tol=0).fit(cat, sample_weight=w)
    labels, _, modes, cost, n_iter, _ = kprototypes(np.empty((len(cat), 0)), cat, w, np.empty((3, 0)), cat[rows],
                                                    1.0, LEVELS)
    np.testing.assert_array_equal(km.labels_, labels)
    assert km.cluster_centers_.astype(int).tolist() == modes.tolist()
    assert km.inertia_ == pytest.approx(cost, rel=1e-12)
    assert km.n_iter_ == n_iter
    assert km.gamma_ == 1.0


def test_kmodes_is_kprototypes_without_numeric_columns():
    _, cat, w, _ = _mixed(seed=4)
    km = KModes(4, random_state=0).fit(cat, sample_weight=w)
    kp = KPrototypes(4, categorical=[0, 1, 2], random_state=0).fit(cat, sample_weight=w)
    np.testing.assert_array_equal(km.labels_, kp.labels_)
    assert km.inertia_ == kp.inertia_
    assert km.cluster_centers_.tolist() == kp.cluster_centers_.tolist()


def test_empty_cluster_takes_the_farthest_row():
    num, cat, w, _ = _mixed(n=300, seed=5)
    init = _init_table(num, cat, [0, 1, 2, 3])
    init[3, :3] = 1e6  # nothing is nearest to it: empty after the first pass
    kp = KPrototypes(4, gamma=1.0, init=init, tol=0).fit(_frame(num, cat), sample_weight=w)
    start = num[[0, 1, 2, 3]] + 0.1
    start[3] = 1e6
    labels, centers_num, _, cost, _, _ = kprototypes(num, cat, w, start, cat[[0, 1, 2, 3]], 1.0, LEVELS)
    np.testing.assert_array_equal(kp.labels_, labels)
    assert np.bincount(kp.labels_, minlength=4).min() > 0
    np.testing.assert_allclose(kp.cluster_centers_[:, :3].astype(float), centers_num, rtol=1e-12)
    assert kp.inertia_ == pytest.approx(cost, rel=1e-12)


@pytest.mark.parametrize("init", ["k-means++", "Huang", "Cao", "random"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cost_never_increases(init, seed):
    num, cat, w, _ = _mixed(seed=seed, noise=0.6)
    kp = KPrototypes(6, init=init, n_init=1, random_state=seed, tol=0).fit(_frame(num, cat), sample_weight=w)
    history = kp.inertia_history_
    assert np.all(np.diff(history) <= 1e-9 * history[0])
    assert kp.inertia_ <= history[-1] * (1 + 1e-12)
    # inertia_ is the cost of labels_ with the final centers
    centers_num = kp.cluster_centers_[:, :3].astype(float)
    modes = np.array([[int(v[1:]) for v in row] for row in kp.cluster_centers_[:, 3:]])
    D = mixed_costs(num, cat, centers_num, modes, kp.gamma_)
    np.testing.assert_array_equal(kp.labels_, D.argmin(axis=1))
    assert kp.inertia_ == pytest.approx(float((w * D.min(axis=1)).sum()), rel=1e-12)


def test_finds_the_mixed_blobs():
    from sklearn.metrics import adjusted_rand_score

    num, cat, _, truth = _mixed(n=2000, seed=6, noise=0.1)
    kp = KPrototypes(4, random_state=0, n_init=5).fit(_frame(num, cat))
    assert adjusted_rand_score(truth, kp.labels_) > 0.9


# ------------------------------------------------------- promises
def _big():
    num, cat, w, _ = _mixed(n=40_000, p=6, seed=7, noise=0.5)  # above the serial kernels' size
    return _frame(num, cat), w


@pytest.mark.parametrize("cls", ["KPrototypes", "KModes"])
def test_same_bits_at_any_thread_count(cls, at_thread_counts):
    X, w = _big()
    if cls == "KModes":  # three times the rows: above the serial kernels' size with 3 columns
        X, w = pd.concat([X[["c0", "c1", "c2"]]] * 3, ignore_index=True), np.tile(w, 3)

    def run():
        est = (KPrototypes if cls == "KPrototypes" else KModes)(6, random_state=0).fit(X, sample_weight=w)
        return est.labels_, est.cluster_centers_, est.inertia_, est.transform(X[:500]), est.score(X[:500])

    a, b = at_thread_counts(run)
    labels, centers, inertia, distances, score = a
    np.testing.assert_array_equal(labels, b[0])
    assert centers.tolist() == b[1].tolist()  # object arrays: the same floats and category values
    assert np.float64(inertia).tobytes() == np.float64(b[2]).tobytes()
    assert distances.tobytes() == b[3].tobytes()
    assert np.float64(score).tobytes() == np.float64(b[4]).tobytes()


def test_same_random_state_same_result_and_inputs_untouched():
    num, cat, w, _ = _mixed()
    X = _frame(num, cat)
    X_before, w_before = X.copy(), w.copy()
    a = KPrototypes(4, init="Huang", random_state=3).fit(X, sample_weight=w)
    b = KPrototypes(4, init="Huang", random_state=3).fit(X, sample_weight=w)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.inertia_ == b.inertia_
    pd.testing.assert_frame_equal(X, X_before)
    assert w.tobytes() == w_before.tobytes()


def test_integer_weights_equal_repetition():
    num, cat, _, _ = _mixed(n=300, seed=8)
    counts = np.random.RandomState(0).randint(1, 4, len(num))
    init = _init_table(num, cat, [0, 1, 2, 3])
    weighted = KPrototypes(4, gamma=0.9, init=init, tol=0).fit(_frame(num, cat), sample_weight=counts)
    repeated = KPrototypes(4, gamma=0.9, init=init, tol=0).fit(
        _frame(np.repeat(num, counts, axis=0), np.repeat(cat, counts, axis=0))
    )
    np.testing.assert_array_equal(np.repeat(weighted.labels_, counts), repeated.labels_)
    np.testing.assert_allclose(
        weighted.cluster_centers_[:, :3].astype(float), repeated.cluster_centers_[:, :3].astype(float), rtol=1e-12
    )
    assert weighted.cluster_centers_[:, 3:].tolist() == repeated.cluster_centers_[:, 3:].tolist()
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-12)


# ------------------------------------------------------- the table
def test_gamma_defaults_to_huang_proposal():
    num, cat, w, _ = _mixed()
    kp = KPrototypes(4, random_state=0).fit(_frame(num, cat))
    assert kp.gamma_ == pytest.approx(0.5 * np.mean(num.std(axis=0)), rel=1e-12)
    kp = KPrototypes(4, random_state=0).fit(_frame(num, cat), sample_weight=w)
    mean = np.average(num, axis=0, weights=w)
    std = np.sqrt(np.average((num - mean) ** 2, axis=0, weights=w))
    assert kp.gamma_ == pytest.approx(0.5 * np.mean(std), rel=1e-12)
    assert KPrototypes(4, gamma=2.5, random_state=0).fit(_frame(num, cat)).gamma_ == 2.5


def test_dataframe_columns_by_dtype_name_and_index():
    num, cat, _, _ = _mixed(n=200)
    X = _frame(num, cat)
    X["c1"] = X["c1"].astype("category")
    X["c2"] = X["c2"].astype("string")
    by_dtype = KPrototypes(3, random_state=0).fit(X)
    by_name = KPrototypes(3, categorical=["c0", "c1", "c2"], random_state=0).fit(X)
    by_index = KPrototypes(3, categorical=[3, -2, 5], random_state=0).fit(X)
    for est in (by_name, by_index):
        np.testing.assert_array_equal(est.labels_, by_dtype.labels_)
        assert est.cluster_centers_.tolist() == by_dtype.cluster_centers_.tolist()
    assert by_dtype.categorical_.tolist() == [3, 4, 5]
    assert by_dtype.feature_names_in_.tolist() == ["x0", "x1", "x2", "c0", "c1", "c2"]
    assert [c.tolist() for c in by_dtype.categories_] == [[f"L{c}" for c in range(m)] for m in LEVELS]
    # the centers as a table: numbers and category values, in the table's column order
    centers = pd.DataFrame(by_dtype.cluster_centers_, columns=by_dtype.feature_names_in_)
    assert set(centers["c0"]) <= {"L0", "L1", "L2"}
    assert all(isinstance(v, float) for v in centers["x0"])


def test_object_array_columns_of_text_are_categorical():
    num, cat, _, _ = _mixed(n=200)
    X = _frame(num, cat).to_numpy(dtype=object)
    kp = KPrototypes(3, random_state=0).fit(X)
    assert kp.categorical_.tolist() == [3, 4, 5]
    np.testing.assert_array_equal(kp.labels_, KPrototypes(3, random_state=0).fit(_frame(num, cat)).labels_)


def test_pandas_categorical_keeps_its_level_order_for_ties():
    X = pd.DataFrame({
        "x": [0.0, 0.0, 10.0, 10.0],
        "c": pd.Categorical(["b", "a", "z", "z"], categories=["z", "b", "a"]),
    })
    kp = KPrototypes(2, gamma=1.0, init=[[0.0, "a"], [10.0, "z"]]).fit(X)
    assert kp.categories_[0].tolist() == ["z", "b", "a"]
    # cluster 0 holds 'b' and 'a' once each: the tie goes to the first level in categories_ ('b')
    assert kp.cluster_centers_.tolist() == [[0.0, "b"], [10.0, "z"]]


def test_predict_transform_score_on_the_training_table():
    num, cat, w, _ = _mixed()
    X = _frame(num, cat)
    kp = KPrototypes(4, random_state=0).fit(X, sample_weight=w)
    np.testing.assert_array_equal(kp.predict(X), kp.labels_)
    np.testing.assert_array_equal(kp.fit_predict(X, sample_weight=w), kp.labels_)
    D = kp.transform(X)
    assert D.shape == (len(X), 4) and D.dtype == np.float64
    np.testing.assert_array_equal(D.argmin(axis=1), kp.labels_)
    assert kp.score(X, sample_weight=w) == pytest.approx(-kp.inertia_, rel=1e-12)
    assert kp.get_feature_names_out().tolist() == [f"kprototypes{j}" for j in range(4)]


def test_unseen_category_matches_no_mode_and_is_counted():
    num, cat, _, _ = _mixed()
    kp = KPrototypes(4, random_state=0).fit(_frame(num, cat))
    new = _frame(num[:5], cat[:5])
    new.loc[[1, 3], "c2"] = "never"
    with pytest.warns(UnseenCategoryWarning, match=r"column 'c2' \(index 5\) of X: 2 rows.*adds gamma_="):
        D = kp.transform(new)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        known = kp.transform(_frame(num[:5], cat[:5]))
    modes = kp.cluster_centers_[:, 5]
    for i in (1, 3):
        # The row's own level matched some modes; 'never' matches none: gamma more for those centers.
        matched = modes == f"L{cat[i, 2]}"
        np.testing.assert_allclose(D[i], known[i] + kp.gamma_ * matched, rtol=1e-12)
    strict = KPrototypes(4, random_state=0, handle_unknown="error").fit(_frame(num, cat))
    with pytest.raises(ValueError, match=r"never seen during fit.*'c2'.*handle_unknown='error'"):
        strict.predict(new)


def test_kmodes_on_integer_codes_counts_an_unseen_code():
    _, cat, _, _ = _mixed()
    km = KModes(3, random_state=0).fit(cat)
    assert [levels.tolist() for levels in km.categories_] == [list(range(m)) for m in LEVELS]
    new = cat[:4].copy()
    new[2, 1] = 99
    with pytest.warns(UnseenCategoryWarning, match=r"column 1 of X: 1 rows"):
        D = km.transform(new)
    modes = km.cluster_centers_.astype(int)
    expected = (new[:, None, :] != modes[None, :, :]).sum(axis=2)
    np.testing.assert_array_equal(D, expected)


# ------------------------------------------------------- errors
def test_no_categorical_column_is_refused():
    num, _, _, _ = _mixed()
    with pytest.raises(ValueError, match=r"KPrototypes found no categorical column: pass categorical=\[\.\.\.\]"):
        KPrototypes(3).fit(num)
    with pytest.raises(ValueError, match="no categorical column"):
        KPrototypes(3).fit(pd.DataFrame(num, columns=["a", "b", "c"]))


def test_bad_categorical_parameter_is_named():
    num, cat, _, _ = _mixed(n=50)
    with pytest.raises(ValueError, match=r"categorical=\['nope'\]: 'nope' is not one of the column names"):
        KPrototypes(3, categorical=["nope"]).fit(_frame(num, cat))
    with pytest.raises(ValueError, match=r"categorical=\[9\]: column index 9 is out of range for 3 columns"):
        KPrototypes(3, categorical=[9]).fit(num)


def test_missing_category_names_the_column_and_row():
    num, cat, _, _ = _mixed(n=50)
    X = _frame(num, cat)
    X.loc[7, "c1"] = None
    with pytest.raises(ValueError, match=r"Categorical column 'c1' \(index 4\) of X holds a missing value "
                                         r"\(NaN or None\) in row 7 \(1 rows in all\)"):
        KPrototypes(3).fit(X)
    X = _frame(num, cat)
    X["c1"] = X["c1"].astype("category")
    X.loc[9, "c1"] = np.nan
    with pytest.raises(ValueError, match=r"'c1' \(index 4\) of X holds a missing value .* in row 9"):
        KPrototypes(3).fit(X)
    codes = cat.astype(float)
    codes[3, 0] = np.nan
    with pytest.raises(ValueError, match=r"Categorical column 0 of X holds a missing value .* in row 3"):
        KModes(3).fit(codes)


def test_single_level_is_refused():
    num, cat, _, _ = _mixed(n=50)
    X = _frame(num, cat)
    X["c0"] = "same"
    with pytest.raises(ValueError, match=r"Categorical column 'c0' \(index 3\) of X has a single level \('same'\)"):
        KPrototypes(3).fit(X)


def test_numeric_column_with_text_or_nan_is_named():
    num, cat, _, _ = _mixed(n=50)
    X = _frame(num, cat)
    X.loc[4, "x1"] = np.nan
    with pytest.raises(ValueError, match=r"Numeric column 'x1' \(index 1\) of X contains NaN in row 4 \(1 rows in all\); "
                                         r"KPrototypes needs finite numeric values.\nOr pass missing=.ignore. to KPrototypes"):
        KPrototypes(3).fit(X)
    X = _frame(num, cat).astype({"x1": object})
    X.loc[2, "x1"] = "abc"
    with pytest.raises(ValueError, match=r"Numeric column 'x1' \(index 1\) of X holds a value that is not a number"):
        KPrototypes(3, categorical=["c0", "c1", "c2"]).fit(X)


def test_init_array_is_checked():
    num, cat, _, _ = _mixed(n=50)
    init = _init_table(num, cat, [0, 1, 2])
    init[1, 4] = "L99"
    with pytest.raises(ValueError, match=r"init holds a category of column 'c1' \(index 4\) of X never seen in X: 'L99'"):
        KPrototypes(3, init=init).fit(_frame(num, cat))
    with pytest.raises(ValueError, match=r"The shape of the initial centers \(2, 6\) does not match the number of "
                                         r"clusters 3: init must have shape \(n_clusters, n_features\) for n_clusters=3 and "
                                         r"n_features=6; expected \(3, 6\)\."):
        KPrototypes(3, init=init[:2]).fit(_frame(num, cat))


def test_sparse_input_is_refused():
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="dense data is required"):
        KModes(2).fit(sp.csr_matrix(np.eye(4)))


# ------------------------------------------------------- seeding as kmodes defines it
def test_huang_and_cao_modes_are_those_of_kmodes():
    init_methods = pytest.importorskip("kmodes.util.init_methods")
    from kmodes.util.dissim import matching_dissim

    from kmeanskit._algorithms.mixed import MixedRows, cao_centers, huang_centers

    _, cat, _, _ = _mixed(n=300, seed=9)
    rows = MixedRows(np.empty((len(cat), 0)), cat, None, LEVELS, 1.0)
    for k in (2, 5):
        expected = init_methods.init_huang(cat, k, matching_dissim, np.random.RandomState(4))
        got = huang_centers(rows, k, np.random.RandomState(4), numeric=False)
        assert got.astype(int).tolist() == expected.astype(int).tolist()
        expected = init_methods.init_cao(cat, k, matching_dissim)
        got = cao_centers(rows, k, np.random.RandomState(0), numeric=False)
        assert got.astype(int).tolist() == expected.astype(int).tolist()
