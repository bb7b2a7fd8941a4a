"""Explainable threshold trees for a K-Means clustering: IMM and ExKMC.

:func:`threshold_tree` builds a binary tree whose every node tests one feature
against one threshold (``x[j] <= t`` goes left) and whose leaves name
clusters, so that each cluster is described by a rule a person can read.

- **IMM** (Iterative Mistake Minimization; Dasgupta, Frost, Moshkovitz and
  Rashtchian, "Explainable k-means and k-medians clustering", ICML 2020),
  top-down on the reference centers: at each node holding two or more
  centers, among the cuts ``x[j] <= t`` with ``t`` between the smallest and
  the largest of those centers on feature ``j``, the one with the fewest
  *mistakes* (rows sent to the other side than their own center) is taken;
  the mistaken rows leave the construction, the others follow their center.
  It stops at a node holding a single center: ``k`` leaves, one per cluster.
- **ExKMC** (Frost, Moshkovitz and Rashtchian, "ExKMC: Expanding Explainable
  k-Means Clustering", 2020) grows the IMM tree to more leaves: every row is
  routed down the tree and the cut that lowers the *surrogate cost* most
  (``sum over leaves of sum_{x in leaf} ||x - mu_leaf||^2``, each new leaf
  taking its cheapest reference center) is added, one at a time, until
  `max_leaves`. It stops earlier when no cut lowers that cost with two
  different centers on its sides (the authors' code goes on with cuts that
  do not: they add leaves, not accuracy).

Where this differs from the authors' code (the ExKMC package): an IMM node
whose remaining rows all belong to one center is still split until each leaf
holds one center, so that the tree has k leaves and every cluster a rule.

Cuts are found in NumPy from sorted values: IMM sorts the rows by each
feature once, at the root, and each node filters its parent's orders, so a
node of ``m`` rows costs ``O(m d)``; an ExKMC leaf sorts its rows,
``O(m d (log m + k))``. Which side a row is on depends
only on the order of the values of each feature, so a tree is built on the
*rule space* (original units, when the preprocessing maps each feature on its
own and monotonically) while the costs are measured in the model's space.
Every threshold is the shortest decimal number that gives the same cut.

Ties: the fewest mistakes (IMM) or the lowest cost (ExKMC) first, then the
lowest feature index, then the lowest threshold; among leaves of equal gain,
the one created first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ThresholdTree", "shortest_between", "squared_distances", "threshold_tree"]

# Rows per block when squared distances are formed: bounds the temporary (rows x k x d).
_DISTANCE_BLOCK = 4096


@dataclass
class ThresholdTree:
    """A binary tree of threshold cuts whose leaves are clusters.

    Nodes are numbered in order of creation, the root is 0. Arrays of shape
    (n_nodes,):

    Attributes
    ----------
    feature : ndarray of int
        Feature tested at an internal node (-1 at a leaf).
    threshold : ndarray of float
        Rows with ``x[feature] <= threshold`` go left (NaN at a leaf), in the
        rule space.
    left, right : ndarray of int
        Children of an internal node (-1 at a leaf).
    value : ndarray of int
        Cluster of a leaf (-1 at an internal node).
    mistakes : ndarray of int
        IMM nodes: the rows separated from their center by the node's cut (0
        at leaves and at cuts added by ExKMC).
    method : {"IMM", "ExKMC"}
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    mistakes: np.ndarray
    method: str
    n_clusters: int
    feature_names: list = field(default_factory=list)

    @property
    def n_leaves(self) -> int:
        """Number of leaves."""
        return int(np.sum(self.feature < 0))

    @property
    def n_mistakes(self) -> int:
        """Rows IMM separated from their center, summed over its cuts (the paper's count)."""
        return int(self.mistakes.sum())

    def apply(self, Z) -> np.ndarray:
        """The leaf (node index) of each row of `Z`, of shape (n_samples, n_features) in the rule space."""
        Z = np.asarray(Z, dtype=np.float64)
        node = np.zeros(Z.shape[0], dtype=np.int64)
        active = np.flatnonzero(self.feature[node] >= 0)
        while active.size:
            at = node[active]
            go_left = Z[active, self.feature[at]] <= self.threshold[at]
            node[active] = np.where(go_left, self.left[at], self.right[at])
            active = active[self.feature[node[active]] >= 0]
        return node

    def predict(self, Z) -> np.ndarray:
        """The cluster the tree gives each row of `Z` (rule space)."""
        return self.value[self.apply(Z)]

    def paths(self) -> dict:
        """Leaf -> the cuts from the root to it, as ``(feature, "<=" or ">", threshold)``."""
        out, stack = {}, [(0, [])]
        while stack:
            node, path = stack.pop()
            if self.feature[node] < 0:
                out[node] = path
                continue
            j, t = int(self.feature[node]), float(self.threshold[node])
            stack.append((int(self.right[node]), [*path, (j, ">", t)]))
            stack.append((int(self.left[node]), [*path, (j, "<=", t)]))
        return dict(sorted(out.items()))


def squared_distances(X, centers) -> np.ndarray:
    """Squared Euclidean distances, shape (n_samples, n_clusters), from differences (no cancellation)."""
    out = np.empty((X.shape[0], centers.shape[0]), dtype=np.float64)
    for start in range(0, X.shape[0], _DISTANCE_BLOCK):
        block = X[start:start + _DISTANCE_BLOCK]
        out[start:start + block.shape[0]] = ((block[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    return out


def shortest_between(low: float, high: float) -> float:
    """The number with the fewest significant digits in ``[low, high)``, nearest their middle.

    A cut between two neighbouring values ``low < high`` may sit anywhere in
    ``[low, high)``; this picks the one a person reads most easily (52,000
    rather than 51,987.25).
    """
    if not math.isfinite(high):
        return float(low)
    middle = low / 2 + high / 2
    if low <= 0.0 < high:
        return 0.0
    for digits in range(1, 18):
        candidate = float(f"{middle:.{digits - 1}e}")
        if low <= candidate < high:
            return candidate
    return float(low)


# --------------------------------------------------------------------------- IMM


def _imm_cut(Z, orders, y, Cz, centers):
    """The fewest-mistakes cut of an IMM node: (mistakes, feature, low, high) or None.

    `orders[j]` holds the node's rows sorted by feature j. A row x of center
    c is a mistake for the cut ``x_j <= t`` when t lies between x_j and c_j
    (``[min, max)``). As t rises past a row, the mistakes change by +1 when
    the row lies below its center (a mistake begins) and -1 when above (one
    ends); as t rises past a center c_j, its rows below stop being mistakes
    and those above start: ``n_c - #{x_j <= c_j} - #{x_j < c_j}``. The count
    at every t is then a cumulative sum along the sorted rows, plus the
    centers' jumps below t. Tried: every distinct value of a row or a center
    in ``[min_c c_j, max_c c_j)``; the lowest of the fewest wins, and the cut
    may sit anywhere from it up to the next value.
    """
    k = Cz.shape[0]
    best = None
    for j, order in enumerate(orders):
        on_centers = Cz[centers, j]
        c_low, c_high = on_centers.min(), on_centers.max()
        if c_low == c_high:
            continue
        x = Z[order, j]
        labels = y[order]
        own = Cz[labels, j]
        below, above = x < own, x > own
        steps = np.cumsum(below.astype(np.int64) - above)
        n_c = np.bincount(labels, minlength=k)
        jumps = n_c - np.bincount(labels[~above], minlength=k) - np.bincount(labels[below], minlength=k)
        center_order = np.argsort(on_centers, kind="stable")
        center_values = on_centers[center_order]
        center_steps = np.cumsum(jumps[centers][center_order])
        # Candidates: the last row of each run of equal values, and every center, inside the range.
        last = np.ones(x.size, dtype=bool)
        last[:-1] = x[:-1] != x[1:]
        at_rows = np.flatnonzero(last & (x >= c_low) & (x < c_high))
        in_range = center_values[center_values < c_high]
        thresholds = np.concatenate([x[at_rows], in_range])
        row_part = np.concatenate([steps[at_rows], _step_at(steps, np.searchsorted(x, in_range, side="right"))])
        center_part = _step_at(center_steps, np.searchsorted(center_values, thresholds, side="right"))
        mistakes = row_part + center_part
        fewest = mistakes.min()
        if best is None or fewest < best[0]:
            best = (int(fewest), j, float(thresholds[mistakes == fewest].min()))
    if best is None:
        return None
    n_mistakes, j, t = best
    x = Z[orders[j], j]
    above_rows = x[np.searchsorted(x, t, side="right"):]
    above_centers = Cz[centers, j][Cz[centers, j] > t]
    high = min(above_rows[0] if above_rows.size else np.inf, above_centers.min())
    return n_mistakes, j, t, float(high)


def _step_at(cumulative, counts):
    """``cumulative[counts - 1]``, 0 where `counts` is 0: a cumulative sum over the first `counts` items."""
    padded = np.concatenate([[0], cumulative])
    return padded[counts]


def _imm(Z, y, Cz, builder):
    """Grow the IMM tree into `builder`.

    Each node's rows are kept sorted by every feature (sorted once at the
    root, then filtered), so a node costs ``O(m d)`` after the root's sorts.
    """
    k = Cz.shape[0]
    Z = np.asfortranarray(Z)  # each feature contiguous: the rows of a node are gathered per feature
    index = np.int32 if Z.shape[0] < 2**31 else np.int64
    root = [np.argsort(Z[:, j], kind="stable").astype(index, copy=False) for j in range(Z.shape[1])]
    destination = np.empty(Z.shape[0], dtype=np.int8)
    stack = [(builder.new_node(), root, np.arange(k))]
    while stack:
        node, orders, centers = stack.pop()
        cut = _imm_cut(Z, orders, y, Cz, centers) if centers.size > 1 else None
        if cut is None:
            # One center (or centers equal on every feature): a leaf for the one with most rows.
            rows = orders[0] if orders else np.arange(Z.shape[0])
            counts = np.bincount(y[rows], minlength=k)[centers]
            builder.leaf(node, int(centers[np.argmax(counts)]))
            continue
        n_mistakes, j, low, high = cut
        t = shortest_between(low, high)
        rows = orders[0]
        row_left = Z[rows, j] <= t
        center_left = Cz[:, j] <= t
        kept = row_left == center_left[y[rows]]
        # 0: left, 1: right, 2: a mistake, dropped.
        destination[rows] = np.where(kept, np.where(row_left, 0, 1), 2)
        left, right = builder.split(node, j, t, n_mistakes)
        sides = [[], []]
        for order in orders:
            where = destination[order]
            sides[0].append(order[where == 0])
            sides[1].append(order[where == 1])
        # Pushed right first so that the left subtree is numbered first.
        stack.append((right, sides[1], centers[~center_left[centers]]))
        stack.append((left, sides[0], centers[center_left[centers]]))


# --------------------------------------------------------------------------- ExKMC


def _best_surrogate_cut(Z, rows, D, label):
    """The cut of a leaf (labelled `label`) lowering the surrogate cost most.

    Returns (gain, feature, low, high, (left label, right label)) or None. Each
    side takes its cheapest center; a cut whose two sides take the same center
    adds no rule and is not considered.
    """
    if rows.size < 2:
        return None
    costs = D[rows]
    totals = costs.sum(axis=0)
    current = totals[label]
    best = None
    for j in range(Z.shape[1]):
        order = np.argsort(Z[rows, j], kind="stable")
        values = Z[rows[order], j]
        valid = np.flatnonzero(values[:-1] < values[1:])
        if valid.size == 0:
            continue
        prefix = np.cumsum(costs[order], axis=0)[valid]
        suffix = totals - prefix
        left_label, right_label = prefix.argmin(axis=1), suffix.argmin(axis=1)
        split_cost = np.where(left_label != right_label, prefix.min(axis=1) + suffix.min(axis=1), np.inf)
        i = int(np.argmin(split_cost))
        if split_cost[i] < current and (best is None or split_cost[i] < best[0]):
            p = valid[i]
            best = (float(split_cost[i]), j, float(values[p]), float(values[p + 1]),
                    (int(left_label[i]), int(right_label[i])))
    if best is None:
        return None
    cost, j, low, high, labels = best
    return current - cost, j, low, high, labels


def _exkmc(Z, D, builder, max_leaves):
    """Add the cuts that lower the surrogate cost most, one at a time, up to `max_leaves` leaves.

    The IMM leaves keep their clusters (as in the authors' code), so every
    cluster keeps a rule; the two new leaves of a cut take their cheapest centers.
    """
    leaves = builder.apply_rows(Z)
    members = {leaf: np.flatnonzero(leaves == leaf) for leaf in builder.leaves()}
    cuts = {leaf: _best_surrogate_cut(Z, rows, D, builder.value[leaf]) for leaf, rows in members.items()}
    while len(members) < max_leaves:
        open_cuts = [(cut[0], leaf) for leaf, cut in cuts.items() if cut is not None]
        if not open_cuts:
            break
        gain = max(g for g, _ in open_cuts)
        leaf = min(leaf for g, leaf in open_cuts if g == gain)
        _, j, low, high, labels = cuts.pop(leaf)
        t = shortest_between(low, high)
        rows = members.pop(leaf)
        left, right = builder.split(leaf, j, t, 0)
        go_left = Z[rows, j] <= t
        for child, part, label in ((left, rows[go_left], labels[0]), (right, rows[~go_left], labels[1])):
            builder.leaf(child, label)
            members[child] = part
            cuts[child] = _best_surrogate_cut(Z, part, D, label)


class _Builder:
    """Growing arrays of nodes."""

    def __init__(self):
        self.feature, self.threshold, self.left, self.right, self.value, self.mistakes = [], [], [], [], [], []

    def new_node(self) -> int:
        for column, empty in ((self.feature, -1), (self.threshold, np.nan), (self.left, -1), (self.right, -1),
                              (self.value, -1), (self.mistakes, 0)):
            column.append(empty)
        return len(self.feature) - 1

    def leaf(self, node, cluster):
        self.feature[node], self.threshold[node], self.value[node] = -1, np.nan, cluster

    def split(self, node, j, t, n_mistakes):
        left, right = self.new_node(), self.new_node()
        self.feature[node], self.threshold[node], self.value[node] = j, t, -1
        self.left[node], self.right[node], self.mistakes[node] = left, right, n_mistakes
        return left, right

    def leaves(self):
        return [i for i, j in enumerate(self.feature) if j < 0]

    def tree(self, method, n_clusters, names) -> ThresholdTree:
        return ThresholdTree(
            feature=np.asarray(self.feature, dtype=np.int64),
            threshold=np.asarray(self.threshold, dtype=np.float64),
            left=np.asarray(self.left, dtype=np.int64),
            right=np.asarray(self.right, dtype=np.int64),
            value=np.asarray(self.value, dtype=np.int64),
            mistakes=np.asarray(self.mistakes, dtype=np.int64),
            method=method,
            n_clusters=n_clusters,
            feature_names=list(names),
        )

    def apply_rows(self, Z):
        return self.tree("IMM", 0, []).apply(Z)


def threshold_tree(Z, labels, rule_centers, Xt, centers, *, max_leaves=None, feature_names=(),
                   costs=None) -> ThresholdTree:
    """Build the IMM tree of a clustering, grown by ExKMC to `max_leaves` leaves.

    Private: the inputs are assumed valid (finite, matching shapes).

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_rule_features)
        The rows in the rule space (where the cuts are read).
    labels : ndarray of int of shape (n_samples,)
        The K-Means cluster of each row, 0 to k-1.
    rule_centers : ndarray of shape (n_clusters, n_rule_features)
        The reference centers in the rule space (same order per feature as
        the model's centers).
    Xt : ndarray of shape (n_samples, n_model_features)
        The rows in the model's space, where the ExKMC costs are measured.
    centers : ndarray of shape (n_clusters, n_model_features)
        The model's centers.
    max_leaves : int or None
        None or k: IMM alone. More: grown by ExKMC.
    feature_names : sequence of str
        Names of the rule-space features.
    costs : ndarray of shape (n_samples, n_clusters) or None
        The cost of each row to each center, for ExKMC; None: the squared
        Euclidean distances of `Xt` to `centers` (K-Prototypes gives its own).

    Returns
    -------
    ThresholdTree
    """
    k = rule_centers.shape[0]
    builder = _Builder()
    _imm(Z, labels, rule_centers, builder)
    method = "IMM"
    if max_leaves is not None and max_leaves > len(builder.leaves()):
        _exkmc(Z, squared_distances(Xt, centers) if costs is None else costs, builder, max_leaves)
        method = "ExKMC"
    return builder.tree(method, k, feature_names)
