"""The gap statistic (Tibshirani, Walther & Hastie, 2001) and the rules of R's ``cluster::maxSE``.

``Gap(k) = E*[log W_k] - log W_k``: how much tighter the clusters of the data
are than those of reference data without clusters. As in ``clusGap``:

- reference data are uniform over the box spanned by the data's principal
  axes (``spaceH0="scaledPCA"``; the paper's method (b));
- ``W_k`` is the within-cluster sum of squares, the clusterer's inertia
  (``clusGap`` with ``d.power=2`` uses half of it: the factor 1/2 multiplies
  both the data's and the references' ``W_k`` and cancels in the difference of
  logarithms, so Gap(k) is the same);
- ``s_k = sd_k * sqrt(1 + 1/B)`` over the ``B`` reference sets, with the
  paper's ``sd_k`` (denominator ``B``; ``clusGap`` uses ``B - 1``);
- k = 1 is part of the curve, so "no cluster structure" can be the answer.

The rules that read a k off the curve are ``maxSE``'s (Maechler's comparison
of them is in the documentation of ``clusGap``); ``"firstSEmax"`` is the default.
"""

import numpy as np

__all__ = ["GAP_RULES", "gap_k", "max_se", "reference_sets"]

#: The rules of ``cluster::maxSE``, default first.
GAP_RULES = ("firstSEmax", "Tibs2001SEmax", "globalSEmax", "firstmax", "globalmax")


def max_se(f, se, method="firstSEmax", se_factor=1.0):
    """The position of the "best" value of a curve with standard errors: R's ``cluster::maxSE``.

    Parameters
    ----------
    f : array-like of shape (n_k,)
        The curve, e.g. Gap(k) for consecutive k.
    se : array-like of shape (n_k,)
        Its standard errors (non-negative).
    method : {"firstSEmax", "Tibs2001SEmax", "globalSEmax", "firstmax", "globalmax"}, default="firstSEmax"
        - ``"firstmax"``: the first local maximum of f (the last position when
          f never decreases);
        - ``"globalmax"``: the first position of the largest f;
        - ``"Tibs2001SEmax"``: the first position i with
          ``f[i] >= f[i+1] - se_factor * se[i+1]`` (Tibshirani et al. 2001); the
          last position when there is none;
        - ``"firstSEmax"``: the first position i with
          ``f[i] >= f[m] - se_factor * se[m]``, m the first local maximum;
        - ``"globalSEmax"``: the same with m the global maximum (Dudoit &
          Fridlyand 2002).
    se_factor : float, default=1.0
        Multiplies the standard errors (``SE.factor``).

    Returns
    -------
    index : int
        0-based position in ``f`` (``maxSE`` returns it 1-based).
    """
    f = np.asarray(f, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    if f.ndim != 1 or f.size < 1 or se.shape != f.shape:
        raise ValueError(
            f"f and se must be 1-d arrays of the same positive length; got shapes {f.shape} and {se.shape}."
        )
    if np.isnan(f).any() or np.isnan(se).any() or (se < 0).any():
        raise ValueError("f and se must hold numbers, with se >= 0; got NaN or a negative se.")
    if method not in GAP_RULES:
        raise ValueError(f"method must be one of {list(GAP_RULES)}; got {method!r}.")
    if not np.isfinite(se_factor) or se_factor < 0:
        raise ValueError(f"se_factor must be a finite number >= 0; got {se_factor!r}.")
    return _max_se(f, se_factor * se, method)


def _max_se(f, fse, method):
    last = f.size - 1
    if method == "globalmax":
        return int(np.argmax(f))
    if method == "Tibs2001SEmax":
        holds = f[:-1] >= f[1:] - fse[1:]
        return int(np.argmax(holds)) if holds.any() else last
    if method == "globalSEmax":
        peak = int(np.argmax(f))
    else:  # firstmax, firstSEmax: the first local maximum
        decreases = np.diff(f) <= 0
        peak = int(np.argmax(decreases)) if decreases.any() else last
        if method == "firstmax":
            return peak
    holds = f[:peak] >= f[peak] - fse[peak]
    return int(np.argmax(holds)) if holds.any() else peak


def gap_k(ks, gap, gap_se, rule="firstSEmax", se_factor=1.0):
    """The k a rule of :func:`max_se` reads off a gap curve, or None when the curve is still growing.

    Parameters
    ----------
    ks : sequence of int, increasing (consecutive for the rules that compare neighbours)
    gap, gap_se : array-like of shape (len(ks),)
        Gap(k) and s_k; NaN entries (a k the gap was not computed for) are skipped.
    rule : str, default="firstSEmax"
        One of :data:`GAP_RULES`.
    se_factor : float, default=1.0

    Returns
    -------
    k : int or None
        None when the rule lands on the largest k and the gap still grows
        there: the maximum may lie beyond the ks tried.
    """
    ks = np.asarray(ks)
    gap = np.asarray(gap, dtype=np.float64)
    gap_se = np.asarray(gap_se, dtype=np.float64)
    kept = np.isfinite(gap) & np.isfinite(gap_se)
    if not kept.any():
        return None
    ks, gap, gap_se = ks[kept], gap[kept], gap_se[kept]
    index = max_se(gap, gap_se, rule, se_factor)
    if index == ks.size - 1 and ks.size > 1 and gap[-1] > gap[-2]:
        return None
    return int(ks[index])


def reference_sets(X, n_refs, random_state):
    """Gap-statistic reference data: uniform over the PCA-aligned bounding box of X.

    Tibshirani, Walther & Hastie (2001), method (b): rotate the centered data
    onto its principal axes (SVD), draw uniformly in the box spanned there,
    rotate back and add the mean.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_refs : int
    random_state : RandomState

    Yields
    ------
    Z : ndarray of shape (n_samples, n_features), X's dtype
    """
    X64 = np.asarray(X, dtype=np.float64)
    mean = X64.mean(axis=0)
    centered = X64 - mean
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    rotated = centered @ vt.T
    low, high = rotated.min(axis=0), rotated.max(axis=0)
    for _ in range(n_refs):
        Z = random_state.uniform(low, high, size=rotated.shape) @ vt + mean
        yield Z.astype(X.dtype, copy=False)


def total_sum_of_squares(X):
    """W_1: the sum of squared distances of the rows of X to their mean."""
    X64 = np.asarray(X, dtype=np.float64)
    return float(((X64 - X64.mean(axis=0)) ** 2).sum())
