"""A plain NumPy K-Prototypes (Huang 1997, 1998), batch updates, written from the definition.

Slow and obviously correct: the estimators' runs from the same initial centers are compared with it.
Rows may have gaps (``missing="ignore"``): NaN in ``num``, ``MISSING`` in ``cat``; a gap adds nothing
to a cost, means and modes are over the observed entries, and a center coordinate (or mode) without
any observed entry in its cluster keeps its value.
"""

import numpy as np

MISSING = -2  # a missing category (-1: a category never seen at fit, which matches no mode)


def mixed_costs(num, cat, centers_num, modes, gamma):
    """(n, k): squared Euclidean distance over the observed numeric columns + gamma * mismatched
    observed categories."""
    diff = num[:, None, :] - centers_num[None, :, :]
    numeric = np.where(np.isnan(diff), 0.0, diff**2).sum(axis=2)
    mismatched = (cat[:, None, :] != modes[None, :, :]) & (cat[:, None, :] != MISSING)
    return numeric + gamma * mismatched.sum(axis=2)


def kprototypes(num, cat, w, centers_num, modes, gamma, n_levels, max_iter=300):
    """Alternate assignment (least cost, first center on ties) and update (weighted means; weighted modes,
    the smallest code on ties) until no label changes or no center moves (``tol=0``). A cluster left empty takes the row farthest from its
    center (as in scikit-learn). Returns (labels, centers_num, modes, cost, n_iter, history)."""
    centers_num, modes = centers_num.astype(np.float64).copy(), modes.copy()
    k = centers_num.shape[0]
    labels = np.full(num.shape[0], -1)
    history = []
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        D = mixed_costs(num, cat, centers_num, modes, gamma)
        new_labels = D.argmin(axis=1)
        dist = D[np.arange(len(new_labels)), new_labels]
        history.append(float((w * dist).sum()))
        unchanged = np.array_equal(new_labels, labels)
        labels = new_labels
        previous = centers_num.copy(), modes.copy()
        members = labels.copy()
        for j in range(k):
            if not (w[members == j] > 0).any():
                far = np.lexsort((np.arange(len(dist)), -np.where(w > 0, dist, -np.inf)))[0]
                members[far] = j
        for j in range(k):
            m = members == j
            observed = ~np.isnan(num[m])
            weights = (w[m, None] * observed).sum(axis=0)
            sums = (w[m, None] * np.where(observed, num[m], 0.0)).sum(axis=0)
            centers_num[j] = np.where(weights > 0, sums / np.where(weights > 0, weights, 1.0), centers_num[j])
            for c, levels in enumerate(n_levels):
                seen = cat[m, c] != MISSING
                if seen.any():
                    modes[j, c] = np.argmax(np.bincount(cat[m, c][seen], weights=w[m][seen], minlength=levels))
        if unchanged or (np.array_equal(previous[0], centers_num) and np.array_equal(previous[1], modes)):
            break
    D = mixed_costs(num, cat, centers_num, modes, gamma)
    cost = float((w * D[np.arange(len(labels)), labels]).sum())
    return labels, centers_num, modes, cost, n_iter, np.array(history)
