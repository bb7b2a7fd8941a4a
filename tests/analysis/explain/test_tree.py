"""IMM and ExKMC threshold trees: the papers' definitions, checked against brute force on tiny data."""

import numpy as np
import pytest

from kmeanskit._analysis.explain.tree import shortest_between, squared_distances, threshold_tree


def _nearest(X, centers):
    return squared_distances(X, centers).argmin(axis=1)


def _tiny(seed, n=24, d=3, k=4):
    """Rows on a coarse grid (many ties), centers the means of a nearest-center split."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, d)) * 2) / 2
    centers = X[rng.choice(n, size=k, replace=False)] + rng.normal(scale=0.01, size=(k, d))
    y = _nearest(X, centers)
    centers = np.array([X[y == c].mean(axis=0) if np.any(y == c) else centers[c] for c in range(k)])
    return X, _nearest(X, centers), centers


# --------------------------------------------------------------------------- references


def _imm_reference(Z, y, C):
    """IMM as the paper's Algorithm 1 states it, by enumeration: a nested tuple tree.

    Every candidate cut t (a value of a row or a center, min <= t < max of the
    node's centers) is tried; mistakes are counted row by row. Ties: fewest
    mistakes, then the first feature, then the lowest t (the module's rule).
    """

    def build(rows, centers):
        if len(centers) == 1:
            return ("leaf", centers[0])
        best = None
        for j in range(Z.shape[1]):
            low, high = min(C[c, j] for c in centers), max(C[c, j] for c in centers)
            for t in sorted({Z[r, j] for r in rows} | {C[c, j] for c in centers}):
                if not low <= t < high:
                    continue
                mistakes = sum((Z[r, j] <= t) != (C[y[r], j] <= t) for r in rows)
                if best is None or mistakes < best[0]:
                    best = (mistakes, j, t)
        mistakes, j, t = best
        kept = [r for r in rows if (Z[r, j] <= t) == (C[y[r], j] <= t)]
        left = build([r for r in kept if Z[r, j] <= t], [c for c in centers if C[c, j] <= t])
        right = build([r for r in kept if Z[r, j] > t], [c for c in centers if C[c, j] > t])
        return ("split", j, mistakes, frozenset(c for c in centers if C[c, j] <= t), left, right)

    return build(list(range(Z.shape[0])), list(range(C.shape[0])))


def _as_nested(tree, C, node=0):
    if tree.feature[node] < 0:
        return ("leaf", int(tree.value[node]))
    j, t = int(tree.feature[node]), tree.threshold[node]
    centers_left = frozenset(int(c) for c in _centers_below(tree, node) if C[c, j] <= t)
    return ("split", j, int(tree.mistakes[node]), centers_left,
            _as_nested(tree, C, tree.left[node]), _as_nested(tree, C, tree.right[node]))


def _centers_below(tree, node):
    stack, out = [node], []
    while stack:
        n = stack.pop()
        if tree.feature[n] < 0:
            out.append(tree.value[n])
        else:
            stack += [tree.left[n], tree.right[n]]
    return out


def _surrogate_cost(tree, Z, D):
    """Sum over rows of the squared distance to the center of their leaf."""
    return D[np.arange(Z.shape[0]), tree.predict(Z)].sum()


# --------------------------------------------------------------------------- IMM


@pytest.mark.parametrize("seed", range(8))
def test_imm_is_the_papers_algorithm_on_tiny_data(seed):
    X, y, C = _tiny(seed)
    tree = threshold_tree(X, y, C, X, C)
    assert _as_nested(tree, C) == _imm_reference(X, y, C)
    # Each cut sits where the reference's does: the same rows and centers on each side.
    assert tree.n_leaves == C.shape[0]
    assert sorted(tree.value[tree.feature < 0]) == list(range(C.shape[0]))


@pytest.mark.parametrize("seed", range(6))
def test_imm_with_two_clusters_is_the_single_cut_with_fewest_mistakes(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 4)) * [1, 2, 0.5, 1]
    C = np.stack([X[:30].mean(axis=0), X[30:].mean(axis=0) + 0.3])
    y = _nearest(X, C)
    tree = threshold_tree(X, y, C, X, C)
    assert tree.n_leaves == 2
    brute = min(
        int(np.sum((X[:, j] <= t) != (C[y, j] <= t)))
        for j in range(4) for t in np.concatenate([X[:, j], C[:, j]]) if C[:, j].min() <= t < C[:, j].max()
    )
    assert tree.n_mistakes == brute
    # The tree's clusters are the cut's two sides: mistaken rows are those the cut sends away.
    assert int(np.sum(tree.predict(X) != y)) == brute


def test_separated_axis_aligned_blobs_give_exact_rules():
    rng = np.random.default_rng(0)
    corners = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    X = np.concatenate([c + rng.normal(scale=1.0, size=(100, 2)) for c in corners])
    y = np.repeat(np.arange(4), 100)
    C = np.array([X[y == c].mean(axis=0) for c in range(4)])
    tree = threshold_tree(X, y, C, X, C)
    assert tree.n_leaves == 4 and tree.n_mistakes == 0
    assert np.array_equal(tree.predict(X), y)
    internal = tree.feature >= 0
    # Every cut falls in the gap between the blobs, at a short number.
    assert np.all((tree.threshold[internal] > 3) & (tree.threshold[internal] < 7))


def test_a_cluster_without_rows_still_gets_its_leaf():
    X = np.array([[0.0], [0.1], [5.0], [5.1]])
    C = np.array([[0.05], [2.5], [5.05]])
    y = _nearest(X, C)
    tree = threshold_tree(X, y, C, X, C)
    assert tree.n_leaves == 3 and sorted(tree.value[tree.feature < 0]) == [0, 1, 2]


def test_centers_equal_on_every_feature_share_one_leaf():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    C = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 2, 1])
    tree = threshold_tree(X, y, C, X, C)
    assert tree.n_leaves == 2


# --------------------------------------------------------------------------- ExKMC


@pytest.mark.parametrize("seed", range(5))
def test_exkmc_adds_the_cut_that_lowers_the_surrogate_cost_most(seed):
    X, y, C = _tiny(seed, n=40, k=3)
    D = squared_distances(X, C)
    imm = threshold_tree(X, y, C, X, C)
    grown = threshold_tree(X, y, C, X, C, max_leaves=4)
    assert grown.method == "ExKMC"
    # Brute force over every leaf of the IMM tree, feature and cut between distinct values.
    leaves = imm.apply(X)
    base = _surrogate_cost(imm, X, D)
    best = base
    for leaf in np.unique(leaves):
        rows = np.flatnonzero(leaves == leaf)
        current = D[rows, imm.value[leaf]].sum()
        for j in range(X.shape[1]):
            for t in np.unique(X[rows, j])[:-1]:
                left, right = D[rows[X[rows, j] <= t]].sum(axis=0), D[rows[X[rows, j] > t]].sum(axis=0)
                if left.argmin() != right.argmin():  # a cut whose sides share a center adds no rule
                    best = min(best, base - current + left.min() + right.min())
    if best < base - 1e-9:
        assert grown.n_leaves == 4
        assert _surrogate_cost(grown, X, D) == pytest.approx(best, rel=1e-12)
    else:
        assert grown.n_leaves == 3


def test_exkmc_surrogate_cost_falls_as_leaves_are_added():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    C = X[:5].copy()
    y = _nearest(X, C)
    D = squared_distances(X, C)
    costs = [_surrogate_cost(threshold_tree(X, y, C, X, C, max_leaves=m), X, D) for m in range(5, 16)]
    assert all(b <= a for a, b in zip(costs[:-1], costs[1:], strict=True))
    assert costs[-1] < costs[0]
    assert threshold_tree(X, y, C, X, C, max_leaves=5).method == "IMM"


# --------------------------------------------------------------------------- thresholds


@pytest.mark.parametrize(("low", "high", "expected"), [
    (51987.25, 52011.0, 52000.0),
    (3.2, 6.8, 5.0),
    (2.4, 2.5, 2.45),
    (-1.5, 2.0, 0.0),
    (0.000123, 0.000124, 0.0001235),
    (7.0, 7.0000001, 7.0),
])
def test_thresholds_are_the_shortest_number_in_the_gap(low, high, expected):
    value = shortest_between(low, high)
    assert low <= value < high
    assert value == pytest.approx(expected)


# --------------------------------------------------------------------------- the authors' code

# Trees of the authors' implementation (the ExKMC package 0.0.3 of Frost et al., its
# pure-Python cut finder), centers = the class means, labels = nearest center, in preorder:
# (feature, threshold) for a cut (left: x[feature] <= threshold), ("leaf", cluster).
# Then its fidelity and `Tree.score` / inertia (the cost ratio).
AUTHORS = {
    ("iris", 3): ([(2, 1.9), ("leaf", 0), (2, 4.9), ("leaf", 1), ("leaf", 2)], 143, 1.0121565237650436),
    ("iris", 6): ([(2, 1.9), ("leaf", 0), (2, 4.9), (0, 6.7), ("leaf", 1), ("leaf", 2), (1, 2.2), ("leaf", 1),
                   (0, 5.7), ("leaf", 1), ("leaf", 2)], 148, 0.9812551383688783),
    ("wine", 3): ([(11, -0.6944775011192956), ("leaf", 2), (12, -0.09201040054860007), ("leaf", 1), ("leaf", 0)],
                  166, 1.0434094925809863),
    ("wine", 6): ([(11, -0.6944775011192956), (9, -0.7734740098006752), ("leaf", 1), ("leaf", 2),
                   (12, -0.09201040054860007), (6, -1.4349391788196466), ("leaf", 2), ("leaf", 1),
                   (5, -1.4342667729689884), ("leaf", 2), ("leaf", 0)], 174, 1.0006809548351387),
}


def _authors_predict(preorder, X):
    """Route the rows of X down a preorder tree."""

    def walk(i, rows, out):
        node = preorder[i]
        if node[0] == "leaf":
            out[rows] = node[1]
            return i + 1
        feature, threshold = node
        left = rows[X[rows, feature] <= threshold]
        after_left = walk(i + 1, left, out)
        return walk(after_left, rows[X[rows, feature] > threshold], out)

    out = np.full(X.shape[0], -1)
    walk(0, np.arange(X.shape[0]), out)
    return out


@pytest.mark.parametrize(("name", "leaves"), sorted(AUTHORS))
def test_imm_and_exkmc_give_the_authors_trees(name, leaves):
    from sklearn.datasets import load_iris, load_wine

    data = load_iris() if name == "iris" else load_wine()
    X = data.data.astype(np.float64)
    if name == "wine":
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    C = np.array([X[data.target == c].mean(axis=0) for c in range(3)])
    y = _nearest(X, C)
    preorder, n_agree, cost_ratio = AUTHORS[(name, leaves)]
    tree = threshold_tree(X, y, C, X, C, max_leaves=leaves)
    predicted = tree.predict(X)
    # The same cuts (thresholds placed differently in the same gaps): every row in the same cluster.
    np.testing.assert_array_equal(predicted, _authors_predict(preorder, X))
    assert tree.n_leaves == leaves
    assert sorted(int(f) for f in tree.feature if f >= 0) == sorted(n[0] for n in preorder if n[0] != "leaf")
    assert int(np.sum(predicted == y)) == n_agree
    inertia = _nearest_cost(X, C, y)
    cost = sum(((X[predicted == c] - X[predicted == c].mean(axis=0)) ** 2).sum() for c in range(3))
    assert cost / inertia == pytest.approx(cost_ratio, rel=1e-12)


def _nearest_cost(X, C, y):
    return float(((X - C[y]) ** 2).sum())
