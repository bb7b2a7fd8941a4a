"""Plain NumPy references for the numba kernels (slow, obviously correct).

One function per kernel (or family of kernels: dense, CSR, from dots), named after it, computing in float64
what the kernel computes. Where a kernel's bits are promised (sums in row order, sequential slab sums), the
reference adds in that order too.
"""

import numpy as np
import scipy.sparse as sp


# ------------------------------------------------------------- distances
def sq_distances(X, centers):
    """(n, k) exact squared Euclidean distances, |x_i - c_j|^2, from differences in float64."""
    X64, C64 = np.asarray(X, dtype=np.float64), np.asarray(centers, dtype=np.float64)
    return ((X64[:, None, :] - C64[None, :, :]) ** 2).sum(axis=2)


def l1_distances(X, centers):
    """(n, k) Manhattan distances, sum_f |x_if - c_jf|, in float64."""
    X64, C64 = np.asarray(X, dtype=np.float64), np.asarray(centers, dtype=np.float64)
    return np.abs(X64[:, None, :] - C64[None, :, :]).sum(axis=2)


def row_norms(X):
    """Euclidean norm of each row (dense or CSR), in float64."""
    return np.linalg.norm(np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64), axis=1)


def unit_rows(X):
    """The rows (dense or CSR) divided by their norms, in float64: what the cosine kernels compare."""
    X64 = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    return X64 / np.linalg.norm(X64, axis=1, keepdims=True)


# ------------------------------------------------------------- assignment
def accumulate(sums, weights, X, w, labels, slab_bounds):
    """Add w_i x_i to ``sums[s, labels[i]]`` and w_i to ``weights[s, labels[i]]``, slab by slab, in row
    order, in float64: the bits of every accumulating kernel (``assign_accumulate_*``, ``expand_accumulate``)."""
    X64 = np.asarray(X, dtype=np.float64)
    for s in range(len(slab_bounds) - 1):
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            sums[s, labels[i]] += float(w[i]) * X64[i]
            weights[s, labels[i]] += float(w[i])


def assign_accumulate(X, w, centers, slab_bounds):
    """labels, exact squared distances, per-slab sums and weight sums."""
    d2 = sq_distances(X, centers)
    labels = d2.argmin(axis=1).astype(np.int32)
    sq_dist = d2[np.arange(len(X)), labels]
    k, d = centers.shape
    n_slabs = len(slab_bounds) - 1
    sums, weights = np.zeros((n_slabs, k, d)), np.zeros((n_slabs, k))
    accumulate(sums, weights, X, w, labels, slab_bounds)
    return labels, sq_dist, sums, weights


def direct_scores_labels(X, centers):
    """The dense kernels' arg-min, bit for bit: scores ``|c_j|^2 - 2 x.c_j`` built feature by feature in
    X's dtype (``score -= (x_f + x_f) * c_jf``, in feature order), the first smallest on ties."""
    X = np.asarray(X)
    centers = np.asarray(centers, dtype=X.dtype)
    scores = np.repeat(np.einsum("ij,ij->i", centers, centers)[None, :], len(X), axis=0)
    for f in range(X.shape[1]):
        scores -= (X[:, f] + X[:, f])[:, None] * centers[None, :, f]
    return scores.argmin(axis=1).astype(np.int32)


def exact_sq_dist_four_sums(X, centers, labels):
    """|x_i - c_{labels_i}|^2 in float64 as the kernels add it: features f, f+1, f+2, f+3 into four partial
    sums (the last d % 4 into the first), then ``(a0 + a1) + (a2 + a3)``."""
    diff = np.asarray(X, dtype=np.float64) - np.asarray(centers, dtype=np.float64)[labels]
    d = diff.shape[1]
    d4 = d - d % 4
    parts = np.zeros((len(diff), 4))
    for f in range(0, d4, 4):
        parts += diff[:, f : f + 4] * diff[:, f : f + 4]
    for f in range(d4, d):
        parts[:, 0] += diff[:, f] * diff[:, f]
    return (parts[:, 0] + parts[:, 1]) + (parts[:, 2] + parts[:, 3])


def weighted_sq_distances(X, w, centers, labels, slab_bounds):
    """Per slab: sum_i w_i |x_i - c_{labels_i}|^2 (the inertia's slab sums)."""
    X64, C64, w64 = (np.asarray(a, dtype=np.float64) for a in (X, centers, w))
    terms = w64 * ((X64 - C64[labels]) ** 2).sum(axis=1)
    return np.array([terms[a:b].sum() for a, b in zip(slab_bounds[:-1], slab_bounds[1:], strict=True)])


def assign_cos(X, w, centers, slab_bounds):
    """labels (largest cosine), cosine distances 1 - cos clipped to [0, 2], per-slab sums of w_i x_i/|x_i|
    and of w_i."""
    Xn, Cn = unit_rows(X), unit_rows(centers)
    cos = Xn @ Cn.T
    labels = cos.argmax(axis=1).astype(np.int32)
    dist = np.clip(1.0 - cos[np.arange(len(labels)), labels], 0.0, 2.0)
    k, d = centers.shape
    n_slabs = len(slab_bounds) - 1
    sums, weights = np.zeros((n_slabs, k, d)), np.zeros((n_slabs, k))
    accumulate(sums, weights, Xn, w, labels, slab_bounds)
    return labels, dist, sums, weights


def weighted_cos_distances(X, w, centers, labels, slab_bounds):
    """Per slab: sum_i w_i (1 - cos(x_i, c_{labels_i})) (the spherical inertia's slab sums)."""
    terms = np.asarray(w, dtype=np.float64) * (1.0 - (unit_rows(X) * unit_rows(centers)[labels]).sum(axis=1))
    return np.array([terms[a:b].sum() for a, b in zip(slab_bounds[:-1], slab_bounds[1:], strict=True)])


def weighted_l1_distances(X, w, centers, labels, slab_bounds):
    """Per slab: sum_i w_i |x_i - c_{labels_i}|_1 (the K-Medians inertia's slab sums)."""
    terms = np.asarray(w, dtype=np.float64) * l1_distances(X, centers)[np.arange(len(labels)), labels]
    return np.array([terms[a:b].sum() for a, b in zip(slab_bounds[:-1], slab_bounds[1:], strict=True)])


# ------------------------------------------------------------- seeding
def candidate_potentials(X, w, closest, candidates):
    """Potential left by each candidate: sum_i w_i min(closest_i, |x_i - c|^2)."""
    return (np.asarray(w, dtype=np.float64)[:, None] * np.minimum(closest[:, None], sq_distances(X, candidates))).sum(axis=0)


def candidate_potentials_l1(X, w, closest, candidates):
    """Potential left by each candidate under L1: sum_i w_i min(closest_i, |x_i - c|_1)."""
    return (np.asarray(w, dtype=np.float64)[:, None] * np.minimum(closest[:, None], l1_distances(X, candidates))).sum(axis=0)


def update_closest(closest, X, center):
    """Each row's squared distance to its closest center once ``center`` is added: min(closest_i, |x_i - c|^2)."""
    return np.minimum(closest, sq_distances(X, np.asarray(center)[None, :])[:, 0])


def weighted_slab_sums(w, closest, slab_bounds):
    """Each slab's np.cumsum(w * closest)[-1]: sequential sums in row order."""
    terms = np.asarray(w, dtype=np.float64) * closest
    return np.array([terms[a:b].cumsum()[-1] if b > a else 0.0 for a, b in zip(slab_bounds[:-1], slab_bounds[1:], strict=True)])


def draw_rows(w, closest, values):
    """What scikit-learn draws: np.searchsorted on the full cumulative sum of w * closest, clipped to the last row."""
    ids = np.searchsorted(np.cumsum(np.asarray(w, dtype=np.float64) * closest), values)
    return np.clip(ids, None, len(closest) - 1)


# ------------------------------------------------------------- center order
def sort_neighbours(between):
    """Each center's centers from the nearest on (a stable sort: ties by index), and those distances."""
    neighbours = np.argsort(between, axis=1, kind="stable")
    return neighbours, np.take_along_axis(between, neighbours, axis=1)


def neighbour_levels(neighbours, neighbour_sep, drift, n_levels):
    """level_sep[a, m]: distance from a to its 2^(m+1)-th nearest center; level_drift[a, m]: largest drift of
    the centers before it (a itself aside, 0 if none); level_drift[a, n_levels]: largest drift of all others."""
    k = len(drift)
    level_sep, level_drift = np.empty((k, n_levels)), np.empty((k, n_levels + 1))
    for a in range(k):
        for m in range(n_levels):
            p = 2 << m
            level_sep[a, m] = neighbour_sep[a, p]
            level_drift[a, m] = max([drift[j] for j in neighbours[a, :p] if j != a], default=0.0)
        level_drift[a, -1] = max([drift[j] for j in range(k) if j != a], default=0.0)
    return level_sep, level_drift


# ------------------------------------------------------------- K-Medians
def weighted_median(values, weights):
    """Smallest value where the cumulative weight (in sorted order) reaches half the total."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return values[order][np.searchsorted(cumulative, 0.5 * weights.sum(), side="left")]


# ------------------------------------------------------------- mini-batch
def minibatch_update(centers, counts, sums, weight_sums):
    """v_j <- v_j + (mean_j - v_j) * b_j / (N_j + b_j) for centers with batch weight; new centers and counts."""
    sums, b = sums.sum(axis=0), weight_sums.sum(axis=0)
    new, counts = centers.astype(np.float64), counts.copy()
    hit = b > 0
    mean = sums[hit] / b[hit, None]
    eta = b[hit] / (counts[hit] + b[hit])
    new[hit] += (mean - new[hit]) * eta[:, None]
    counts[hit] += b[hit]
    return new, counts


def gather_rows(X, indices, shift, scale):
    """The drawn rows, shifted and scaled in X's dtype: (X[indices] - shift) * scale."""
    return (X[indices] - shift) * X.dtype.type(scale)


# ------------------------------------------------------------- moments
def mean_and_variances(X):
    """Column means (NumPy's, float64) and variances (of X in float64)."""
    return X.mean(axis=0, dtype=np.float64), X.astype(np.float64).var(axis=0)


# ------------------------------------------------------------- silhouette
def cluster_distance_sums(X, labels, n_clusters):
    """sums[i, j] = sum over rows c != i of cluster j of |x_i - x_c| (full distance matrix, float64)."""
    X = X.astype(np.float64)
    diff = X[:, None, :] - X[None, :, :]
    dist = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    np.fill_diagonal(dist, 0.0)
    sums = np.zeros((X.shape[0], n_clusters))
    for j in range(n_clusters):
        sums[:, j] = dist[:, labels == j].sum(axis=1)
    return sums


# ------------------------------------------------------- rows with gaps
def masked_sq_distances(X, centers):
    """(n, k) squared distances over each row's observed entries: sum_{f: x_if not NaN} (x_if - c_jf)^2."""
    X64, C64 = np.asarray(X, dtype=np.float64), np.asarray(centers, dtype=np.float64)
    diff = X64[:, None, :] - C64[None, :, :]
    return np.where(np.isnan(diff), 0.0, diff**2).sum(axis=2)


def masked_bounded_assign_accumulate(X, w, centers, slab_bounds):
    """A pass that starts afresh (every row scored; also ``masked_assign_from_dots``'s): labels, partial
    squared distances, per-slab sums of w_i x_if and of w_i over observed entries."""
    d2 = masked_sq_distances(X, centers)
    labels = d2.argmin(axis=1).astype(np.int32)
    sq_dist = d2[np.arange(len(X)), labels]
    observed = ~np.isnan(X)
    X0 = np.where(observed, np.asarray(X, dtype=np.float64), 0.0)
    k, d = centers.shape
    n_slabs = len(slab_bounds) - 1
    sums, weights = np.zeros((n_slabs, k, d)), np.zeros((n_slabs, k, d))
    for s in range(n_slabs):
        for i in range(slab_bounds[s], slab_bounds[s + 1]):
            sums[s, labels[i]] += float(w[i]) * X0[i]
            weights[s, labels[i]] += float(w[i]) * observed[i]
    return labels, sq_dist, sums, weights


# ------------------------------------------------------------- mixed (K-Prototypes, K-Modes)
def mixed_costs(num, cat, centers_num, modes, gamma):
    """(n, k) Huang's cost: |x_num - c_num|^2 + gamma * #(codes != modes), in float64."""
    return sq_distances(num, centers_num) + gamma * (cat[:, None, :] != modes[None, :, :]).sum(axis=2)


def assign_mixed(num, cat, w, centers_num, modes, gamma, level_offsets, slab_bounds):
    """labels (first least cost), each row's cost, per-slab cost sums in row order, and per-slab
    accumulators: weighted numeric sums then weighted level counts (at p + level_offsets[j] + code), and
    cluster weights."""
    D = mixed_costs(num, cat, centers_num, modes, gamma)
    labels = D.argmin(axis=1).astype(np.int32)
    cost = D[np.arange(len(labels)), labels]
    k, p = centers_num.shape
    n_slabs = len(slab_bounds) - 1
    onehot = np.zeros((len(labels), int(level_offsets[-1])))
    for j in range(cat.shape[1]):
        onehot[np.arange(len(labels)), level_offsets[j] + cat[:, j]] = 1.0
    sums, weights = np.zeros((n_slabs, k, p + onehot.shape[1])), np.zeros((n_slabs, k))
    accumulate(sums, weights, np.hstack([num, onehot]), w, labels, slab_bounds)
    slab_cost = weighted_slab_sums(w, cost, slab_bounds)
    return labels, cost, slab_cost, sums, weights


def weighted_mixed_costs(num, cat, w, centers_num, modes, gamma, labels, slab_bounds):
    """Per slab, in row order: sum_i w_i cost(x_i, c_{labels_i})."""
    return weighted_slab_sums(w, mixed_costs(num, cat, centers_num, modes, gamma)[np.arange(len(labels)), labels], slab_bounds)


def candidate_potentials_mixed(num, cat, w, closest, cand_num, cand_cat, gamma):
    """Potential left by each candidate: sum_i w_i min(closest_i, cost(x_i, c))."""
    D = mixed_costs(num, cat, cand_num, cand_cat, gamma)
    return (np.asarray(w, dtype=np.float64)[:, None] * np.minimum(closest[:, None], D)).sum(axis=0)


def update_closest_mixed(closest, num, cat, center_num, center_cat, gamma):
    """min(closest_i, cost(x_i, center))."""
    return np.minimum(closest, mixed_costs(num, cat, center_num[None, :], center_cat[None, :], gamma)[:, 0])


def yinyang_assign_accumulate(X, centers, members, group_starts):
    """Each row's nearest center (first on ties), its squared distance, and (n, t) the distance to the
    nearest center of each group with the row's own center left out (what ``group_lower`` bounds from below)."""
    sq = sq_distances(X, centers)
    labels = sq.argmin(axis=1)
    distances = np.sqrt(sq)
    distances[np.arange(X.shape[0]), labels] = np.inf
    groups = [distances[:, members[a:b]].min(axis=1) for a, b in zip(group_starts[:-1], group_starts[1:], strict=True)]
    return labels, sq.min(axis=1), np.stack(groups, axis=1)


def group_half_sep(centers):
    """(k,) half the distance from each center to its nearest other one (what ``group_half_sep`` bounds
    from below)."""
    between = np.sqrt(sq_distances(centers, centers))
    np.fill_diagonal(between, np.inf)
    return 0.5 * between.min(axis=1)


def pass_totals(sums, weight_sums, w, sq_dist, sum_bounds, labels, labels_before, dtype):
    """What a Lloyd pass's end computed with separate NumPy calls: the slabs merged (``np.add.reduce`` over
    the outer axis, one slab at a time), the inertia (slab sums in row order, then added in order from 0.0),
    the changed labels, and the means ``sums / weights`` in ``dtype`` (None when a cluster has no weight)."""
    merged, weights = np.add.reduce(sums, axis=0), np.add.reduce(weight_sums, axis=0)
    inertia = np.cumsum(np.concatenate([[0.0], weighted_slab_sums(w, sq_dist, sum_bounds)]))[-1]
    means = (merged / weights[:, None]).astype(dtype) if (weights > 0).all() else None
    return merged, weights, float(inertia), int(np.count_nonzero(labels != labels_before)), means
