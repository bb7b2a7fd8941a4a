"""KPrototypes and KModes with ``missing="ignore"``: the mixed objective over the observed entries."""

import numpy as np
import pandas as pd
import pytest

from kmeanskit import KModes, KPrototypes

from .kprototypes_reference import MISSING, kprototypes, mixed_costs
from .test_kprototypes import LEVELS, _frame, _init_table, _mixed


def _gaps(num, cat, share=0.2, seed=0):
    """``(num, cat)`` with a share of entries removed at random (NaN, MISSING); every row keeps one."""
    rng = np.random.RandomState(seed)
    num, cat = num.copy(), cat.copy()
    num[rng.uniform(size=num.shape) < share] = np.nan
    cat[rng.uniform(size=cat.shape) < share] = MISSING
    empty = np.isnan(num).all(axis=1) & (cat == MISSING).all(axis=1)
    cat[empty, 0] = 0
    return num, cat


def _gappy_frame(num, cat):
    """:func:`_frame` with None for a missing category (NaN stays NaN in the numeric columns)."""
    frame = _frame(num, np.where(cat == MISSING, 0, cat))
    for c in range(cat.shape[1]):
        frame.loc[cat[:, c] == MISSING, f"c{c}"] = None
    return frame


def _modes(est):
    """The fitted modes as codes (the categories are 'L<code>')."""
    return np.array([[int(v[1:]) for v in row] for row in est.cluster_centers_[:, est.categorical_]])


# ------------------------------------------------------- complete data: the complete path
@pytest.mark.parametrize("init", ["k-means++", "Huang", "Cao", "random"])
def test_complete_data_gives_the_same_bits_as_missing_error(init):
    num, cat, w, _ = _mixed(seed=1)
    X = _frame(num, cat)
    a = KPrototypes(4, init=init, random_state=0).fit(X, sample_weight=w)
    b = KPrototypes(4, init=init, random_state=0, missing="ignore").fit(X, sample_weight=w)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.cluster_centers_.tolist() == b.cluster_centers_.tolist()
    assert np.float64(a.inertia_).tobytes() == np.float64(b.inertia_).tobytes()
    assert a.inertia_history_.tobytes() == b.inertia_history_.tobytes()
    assert a.transform(X).tobytes() == b.transform(X).tobytes()


# ------------------------------------------------------- the reference, with gaps
@pytest.mark.parametrize("weighted", [False, True])
def test_kprototypes_with_gaps_matches_numpy_reference_from_same_start(weighted):
    num, cat, w, _ = _mixed(noise=0.4)
    num, cat = _gaps(num, cat, 0.25)
    w = w if weighted else np.ones(len(num))
    rows = [0, 1, 2, 5]
    init = _init_table(np.nan_to_num(num), np.where(cat == MISSING, 0, cat), rows)
    gamma = 1.3
    kp = KPrototypes(4, gamma=gamma, init=init, tol=0, missing="ignore").fit(
        _gappy_frame(num, cat), sample_weight=w if weighted else None
    )
    labels, centers_num, modes, cost, n_iter, history = kprototypes(
        num, cat, w, init[:, :3].astype(float), np.where(cat == MISSING, 0, cat)[rows], gamma, LEVELS
    )
    assert n_iter > 2
    np.testing.assert_array_equal(kp.labels_, labels)
    np.testing.assert_allclose(kp.cluster_centers_[:, :3].astype(float), centers_num, rtol=1e-12)
    np.testing.assert_array_equal(_modes(kp), modes)
    assert kp.inertia_ == pytest.approx(cost, rel=1e-12)
    assert kp.n_iter_ == n_iter
    np.testing.assert_allclose(kp.inertia_history_, history, rtol=1e-12)


def test_kmodes_with_gaps_matches_numpy_reference_from_same_start():
    _, cat, w, _ = _mixed(seed=3, noise=0.5)
    _, cat = _gaps(np.zeros((len(cat), 0)), cat, 0.3, seed=3)
    rows = [0, 7, 9]
    start = np.where(cat == MISSING, 0, cat)[rows]
    X = np.where(cat == MISSING, np.nan, cat.astype(float))  # integer codes, NaN where missing
    km = KModes(3, init=start, tol=0, missing="ignore").fit(X, sample_weight=w)
    labels, _, modes, cost, n_iter, _ = kprototypes(np.empty((len(cat), 0)), cat, w, np.empty((3, 0)), start, 1.0,
                                                    LEVELS)
    np.testing.assert_array_equal(km.labels_, labels)
    assert km.cluster_centers_.astype(float).astype(int).tolist() == modes.tolist()
    assert km.inertia_ == pytest.approx(cost, rel=1e-12)
    assert km.n_iter_ == n_iter


def test_empty_cluster_with_gaps_takes_the_farthest_row():
    num, cat, w, _ = _mixed(n=300, seed=5)
    num, cat = _gaps(num, cat, 0.2, seed=5)
    init = _init_table(np.nan_to_num(num), np.where(cat == MISSING, 0, cat), [0, 1, 2, 3])
    init[3, :3] = 1e6  # nothing is nearest to it: empty after the first pass
    kp = KPrototypes(4, gamma=1.0, init=init, tol=0, missing="ignore").fit(_gappy_frame(num, cat), sample_weight=w)
    labels, centers_num, modes, cost, _, _ = kprototypes(
        num, cat, w, init[:, :3].astype(float), np.where(cat == MISSING, 0, cat)[[0, 1, 2, 3]], 1.0, LEVELS
    )
    np.testing.assert_array_equal(kp.labels_, labels)
    assert np.bincount(kp.labels_, minlength=4).min() > 0
    np.testing.assert_allclose(kp.cluster_centers_[:, :3].astype(float), centers_num, rtol=1e-12)
    np.testing.assert_array_equal(_modes(kp), modes)
    assert kp.inertia_ == pytest.approx(cost, rel=1e-12)


@pytest.mark.parametrize("init", ["k-means++", "Huang", "Cao", "random"])
@pytest.mark.parametrize("seed", [0, 1])
def test_objective_over_observed_entries_never_increases(init, seed):
    num, cat, w, _ = _mixed(seed=seed, noise=0.6)
    num, cat = _gaps(num, cat, 0.3, seed=seed)
    kp = KPrototypes(6, init=init, n_init=1, random_state=seed, tol=0, missing="ignore").fit(
        _gappy_frame(num, cat), sample_weight=w
    )
    history = kp.inertia_history_
    assert history.size > 1
    assert np.all(np.diff(history) <= 1e-12 * history[0])
    # inertia_ is the objective of labels_ at the final centers, labels_ the nearest center over observed entries
    D = mixed_costs(num, cat, kp.cluster_centers_[:, :3].astype(float), _modes(kp), kp.gamma_)
    np.testing.assert_array_equal(kp.labels_, D.argmin(axis=1))
    assert kp.inertia_ == pytest.approx(float((w * D.min(axis=1)).sum()), rel=1e-12)
    assert kp.inertia_ <= history[-1] * (1 + 1e-12)


def test_integer_weights_equal_repetition_with_gaps():
    num, cat, _, _ = _mixed(n=200, seed=8)
    num, cat = _gaps(num, cat, 0.2, seed=8)
    w = np.random.RandomState(8).randint(1, 4, len(num))
    init = _init_table(np.nan_to_num(num), np.where(cat == MISSING, 0, cat), [0, 1, 2, 3])
    weighted = KPrototypes(4, gamma=1.0, init=init, tol=0, missing="ignore").fit(
        _gappy_frame(num, cat), sample_weight=w.astype(float)
    )
    repeated = np.repeat(np.arange(len(num)), w)
    copies = KPrototypes(4, gamma=1.0, init=init, tol=0, missing="ignore").fit(
        _gappy_frame(num[repeated], cat[repeated])
    )
    np.testing.assert_array_equal(weighted.labels_, copies.labels_[np.cumsum(w) - 1])
    np.testing.assert_allclose(weighted.cluster_centers_[:, :3].astype(float),
                               copies.cluster_centers_[:, :3].astype(float), rtol=1e-12)
    assert weighted.cluster_centers_[:, 3:].tolist() == copies.cluster_centers_[:, 3:].tolist()
    assert weighted.inertia_ == pytest.approx(copies.inertia_, rel=1e-12)


def test_gamma_and_seeding_fill_use_the_observed_entries():
    num, cat, w, _ = _mixed(seed=2)
    num, cat = _gaps(num, cat, 0.2, seed=2)
    kp = KPrototypes(4, random_state=0, missing="ignore").fit(_gappy_frame(num, cat), sample_weight=w)
    stds = []
    for f in range(num.shape[1]):
        seen = ~np.isnan(num[:, f])
        mean = np.average(num[seen, f], weights=w[seen])
        stds.append(np.sqrt(np.average((num[seen, f] - mean) ** 2, weights=w[seen])))
    assert kp.gamma_ == pytest.approx(0.5 * np.mean(stds), rel=1e-12)
    assert not pd.isna(pd.DataFrame(kp.cluster_centers_)).any().any()


# ------------------------------------------------------- promises
@pytest.mark.parametrize("cls", ["KPrototypes", "KModes"])
def test_same_bits_at_any_thread_count_with_gaps(cls, at_thread_counts):
    num, cat, w, _ = _mixed(n=40_000, p=6, seed=7, noise=0.5)  # above the serial kernels' size
    num, cat = _gaps(num, cat, 0.2, seed=7)
    X = _gappy_frame(num, cat)
    if cls == "KModes":  # three times the rows: above the serial kernels' size with 3 columns
        X = X[["c0", "c1", "c2"]].copy()
        X.loc[X.isna().all(axis=1), "c0"] = "L0"  # (a row needs an observed category)
        X, w = pd.concat([X] * 3, ignore_index=True), np.tile(w, 3)

    def run():
        est = (KPrototypes if cls == "KPrototypes" else KModes)(6, random_state=0, missing="ignore")
        est.fit(X, sample_weight=w)
        return est.labels_, est.cluster_centers_, est.inertia_, est.transform(X[:500])

    a, b = at_thread_counts(run)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1].tolist() == b[1].tolist()
    assert np.float64(a[2]).tobytes() == np.float64(b[2]).tobytes()
    assert a[3].tobytes() == b[3].tobytes()


def test_predict_and_transform_take_rows_with_gaps():
    num, cat, w, _ = _mixed(seed=9)
    kp = KPrototypes(4, random_state=0, missing="ignore").fit(_frame(num, cat))  # fitted on complete rows
    new_num, new_cat = _gaps(num[:100], cat[:100], 0.3, seed=9)
    X = _gappy_frame(new_num, new_cat)
    D = mixed_costs(new_num, new_cat, kp.cluster_centers_[:, :3].astype(float), _modes(kp), kp.gamma_)
    np.testing.assert_allclose(kp.transform(X), D, rtol=1e-12)
    np.testing.assert_array_equal(kp.predict(X), D.argmin(axis=1))
    assert kp.score(X, sample_weight=w[:100]) == pytest.approx(-float((w[:100] * D.min(axis=1)).sum()), rel=1e-12)


def test_missing_error_names_the_option():
    num, cat, _, _ = _mixed(n=50)
    X = _frame(num, cat)
    X.loc[7, "c1"] = None
    with pytest.raises(ValueError, match=r"\(index 4\) of X holds a missing value \(NaN or None\) in row 7 .*"
                                         r"\nOr pass missing='ignore' to KPrototypes to cluster on the observed "
                                         r"entries\.$"):
        KPrototypes(3).fit(X)
    kp = KPrototypes(3, random_state=0).fit(_frame(num, cat))
    X = _frame(num, cat)
    X.loc[2, "x0"] = np.nan
    with pytest.raises(ValueError, match=r"Numeric column 'x0' \(index 0\) of X contains NaN in row 2 .*"
                                         r"\nOr pass missing='ignore' to KPrototypes"):
        kp.predict(X)
    with pytest.raises(ValueError, match=r"missing='ignore' to KModes"):
        KModes(2).fit(np.array([["a", "x"], ["b", None], ["a", "y"]], dtype=object))
    with pytest.raises(ValueError, match=r"The 'missing' parameter of KPrototypes must be a str among "):
        KPrototypes(3, missing="drop").fit(_frame(num, cat))


def test_row_or_column_with_nothing_observed_is_refused():
    num, cat, _, _ = _mixed(n=50)
    X = _frame(num, cat).astype({"x0": float})
    X.loc[[3, 8], ["x0", "x1", "x2", "c0", "c1", "c2"]] = None
    with pytest.raises(ValueError, match=r"^2 row\(s\) of X have no observed entry \(every value is missing\): "
                                         r"row\(s\) 3, 8\."):
        KPrototypes(3, missing="ignore").fit(X)
    kp = KPrototypes(3, random_state=0, missing="ignore").fit(_frame(num, cat))
    with pytest.raises(ValueError, match=r"row\(s\) 3, 8\."):
        kp.predict(X)
    X = _frame(num, cat)
    X["x1"] = np.nan
    with pytest.raises(ValueError, match=r"^Numeric column 'x1' \(index 1\) of X has no observed value"):
        KPrototypes(3, missing="ignore").fit(X)
    X = _frame(num, cat)
    X["c2"] = None
    with pytest.raises(ValueError, match=r"^Categorical column 'c2' \(index 5\) of X has no observed value"):
        KPrototypes(3, missing="ignore").fit(X)


def test_missing_categories_of_every_kind_are_gaps():
    """None and NaN in object columns, NaN in a pandas Categorical, NaN among float codes: each is a gap."""
    _, cat, w, _ = _mixed(n=300, seed=11, noise=0.3)
    _, gappy = _gaps(np.zeros((300, 0)), cat, 0.2, seed=11)
    as_codes = np.where(gappy == MISSING, np.nan, gappy.astype(float))
    as_text = np.where(gappy == MISSING, None, np.char.add("L", gappy.astype(str)).astype(object))
    as_text[::7][as_text[::7] == None] = np.nan  # noqa: E711 (object array: elementwise)
    frame = pd.DataFrame(as_text, columns=["c0", "c1", "c2"]).astype("category")
    fits = [KModes(3, init="Cao", missing="ignore").fit(X, sample_weight=w) for X in (as_codes, as_text, frame)]
    for other in fits[1:]:
        np.testing.assert_array_equal(fits[0].labels_, other.labels_)
        assert fits[0].inertia_ == other.inertia_
    assert [levels.size for levels in fits[1].categories_] == list(LEVELS)


def test_init_array_with_a_gap_is_refused():
    num, cat, _, _ = _mixed(n=50)
    init = _init_table(num, cat, [0, 1, 2])
    init[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"Numeric column 'x0' \(index 0\) of X contains NaN in row 1"):
        KPrototypes(3, init=init, missing="ignore").fit(_frame(num, cat))
