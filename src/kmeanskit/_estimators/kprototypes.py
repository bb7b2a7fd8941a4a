"""``KPrototypes`` and ``KModes``: clustering tables with categorical columns (Huang 1997, 1998).

Both encode the table once (numeric columns as float64, each categorical
column as integer codes of its levels) and run the one convergence loop with
the mixed step of :mod:`kmeanskit._algorithms.mixed`. With ``missing="ignore"``
a missing value (NaN in a numeric column; None or NaN in a categorical one,
encoded as ``MISSING_CODE``) is kept as a gap that contributes nothing.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from kmeanskit._algorithms.mixed import MISSING_CODE, MixedRows, MixedStep, costs, weighted_mean_std
from kmeanskit._algorithms.random_state import check_random_state
from kmeanskit._algorithms.registry import MIXED_SEEDERS
from kmeanskit._estimators import _base
from kmeanskit._estimators.missing import MISSING_CONSTRAINT, check_rows_observed, missing_hint

__all__ = ["KModes", "KPrototypes", "UnseenCategoryWarning"]

_INITS = {"k-means++", "Huang", "Cao", "random"}


class UnseenCategoryWarning(UserWarning):
    """Rows given to predict, transform or score hold a category never seen during fit."""


# ------------------------------------------------------------------ encoding
def _column_name(est, j):
    """How messages name column ``j`` of X."""
    names = getattr(est, "feature_names_in_", None)
    return f"column {names[j]!r} (index {j}) of X" if names is not None else f"column {j} of X"


def _is_frame(X):
    return hasattr(X, "iloc") and hasattr(X, "dtypes")


def _frame_categorical(X):
    """Columns of a DataFrame whose dtype is categorical, object, string or bool."""
    import pandas as pd

    return [
        j for j, dtype in enumerate(X.dtypes)
        if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    ]


def _array_categorical(X):
    """Columns of an array that hold categories: every column of a string or bool array; the
    columns of an object array holding anything but numbers."""
    if X.dtype.kind in "USb":
        return list(range(X.shape[1]))
    if X.dtype.kind != "O":
        return []
    return [
        j for j in range(X.shape[1])
        if not all(isinstance(v, (Real, np.number)) and not isinstance(v, (bool, np.bool_)) for v in X[:, j])
    ]


def _sorted_levels(values):
    """The distinct values of an object column, sorted (by type name, then value, when types are mixed)."""
    import pandas as pd

    levels = pd.unique(values)
    try:
        return np.asarray(sorted(levels), dtype=object)
    except TypeError:
        return np.asarray(sorted(levels, key=lambda v: (type(v).__name__, v)), dtype=object)


class _Table:
    """A validated table seen column by column, without converting the whole of it."""

    def __init__(self, X):
        if sp.issparse(X):
            raise TypeError(
                "Sparse data was passed, but dense data is required: categorical columns cannot be "
                "sparse. Use '.toarray()' to convert to a dense numpy array."
            )
        self.frame = X if _is_frame(X) else None
        if self.frame is None:
            self.array = check_array(X, dtype=None, ensure_all_finite=False, accept_sparse=False)
            self.shape = self.array.shape
        else:
            self.shape = X.shape
            if X.shape[0] == 0 or X.shape[1] == 0:
                check_array(np.empty(X.shape))  # scikit-learn's message for empty data

    def column(self, j):
        """Column ``j``: a pandas Series (frames) or a 1d array."""
        return self.frame.iloc[:, j] if self.frame is not None else self.array[:, j]


def _allows_missing(est, allow):
    return est.missing == "ignore" if allow is None else allow


def _missing(est, j, values, missing=None, allow=None):
    """The missing values (NaN, None; or where ``missing``, a mask) of categorical column ``j``:
    a boolean mask (n,), or None if there is none. Refused (ValueError) unless ``allow`` (default:
    ``est.missing == "ignore"``); infinity is always refused."""
    import pandas as pd

    if missing is None:
        missing = np.isnan(values) if values.dtype.kind == "f" else pd.isna(values)
    where = np.flatnonzero(missing)
    if where.size and not _allows_missing(est, allow):
        hint = missing_hint(est) if allow is None else ""
        raise ValueError(
            f"Categorical {_column_name(est, j)} holds a missing value (NaN or None) in row {where[0]} "
            f"({where.size} rows in all); {type(est).__name__} needs every category: fill or drop them.{hint}"
        )
    if values.dtype.kind == "f":
        infinite = np.flatnonzero(np.isinf(values))
    elif values.dtype == object:
        infinite = np.flatnonzero([isinstance(v, (float, np.floating)) and np.isinf(v) for v in values])
    else:
        infinite = where[:0]
    if infinite.size:
        raise ValueError(
            f"Categorical {_column_name(est, j)} holds infinity in row {infinite[0]} ({infinite.size} "
            "rows in all), which is no category."
        )
    return np.asarray(missing, dtype=bool) if where.size else None


def _is_categorical_dtype(column):
    import pandas as pd

    return isinstance(getattr(column, "dtype", None), pd.CategoricalDtype)


def _fit_levels(est, j, column):
    """``(levels, codes int32)`` of categorical column ``j`` at fit (``MISSING_CODE`` where missing).

    Numbers (integer codes) are encoded without boxing them as Python objects.
    """
    import pandas as pd

    if _is_categorical_dtype(column):
        raw = column.cat.codes.to_numpy()
        missing = _missing(est, j, raw, raw == -1)
        used = np.flatnonzero(np.bincount(raw[raw >= 0], minlength=len(column.cat.categories)))
        lookup = np.full(len(column.cat.categories) + 1, MISSING_CODE, dtype=np.int32)  # (raw -1: the last)
        lookup[used] = np.arange(used.size, dtype=np.int32)
        levels = np.asarray(column.cat.categories[used], dtype=object)
        codes = lookup[raw]
    else:
        values = np.asarray(column)
        if values.dtype.kind in "biuf":
            missing = _missing(est, j, values)
            observed = values if missing is None else values[~missing]
            numbers = np.unique(observed)  # (return_inverse would hold three n-long temporaries)
            levels, codes = numbers.astype(object), np.searchsorted(numbers, values).astype(np.int32)
        else:
            values = values.astype(object, copy=False)
            missing = _missing(est, j, values)
            levels = _sorted_levels(values if missing is None else values[~missing])
            codes = pd.Index(levels).get_indexer(values).astype(np.int32)
        if missing is not None:
            codes[missing] = MISSING_CODE
    if levels.size == 0:
        raise ValueError(
            f"Categorical {_column_name(est, j)} has no observed value (every value is missing): drop the column."
        )
    n_observed = codes.size if missing is None else codes.size - int(missing.sum())
    if levels.size < 2 and n_observed > 1:  # (one sample has one level in every column)
        raise ValueError(
            f"Categorical {_column_name(est, j)} has a single level ({levels[0]!r}): it cannot separate "
            "clusters. Drop the column."
        )
    return levels, codes


def _codes(est, j, column, levels, allow=None):
    """Codes of categorical column ``j`` in the fitted ``levels``: -1 for a level never seen,
    ``MISSING_CODE`` for a missing value (where ``allow``, default ``est.missing == "ignore"``)."""
    import pandas as pd

    if _is_categorical_dtype(column):
        raw = column.cat.codes.to_numpy()
        missing = _missing(est, j, raw, raw == -1, allow)
        lookup = pd.Index(levels).get_indexer(np.asarray(column.cat.categories, dtype=object)).astype(np.int32)
        codes = lookup[raw]
    else:
        values = np.asarray(column)
        numbers = np.asarray(levels.tolist())
        if values.dtype.kind in "biuf" and numbers.dtype.kind in "biuf":
            # Numbers against numeric levels (sorted at fit): a binary search, no boxing.
            missing = _missing(est, j, values, allow=allow)
            at = np.minimum(np.searchsorted(numbers, values), numbers.size - 1)
            codes = np.where(numbers[at] == values, at, -1).astype(np.int32)
        else:
            values = values.astype(object, copy=False)
            missing = _missing(est, j, values, allow=allow)
            codes = pd.Index(levels).get_indexer(values).astype(np.int32)
    if missing is not None:
        codes[missing] = MISSING_CODE
    return codes


def _numeric(est, j, column, out, allow=None):
    """Numeric column ``j`` into ``out`` (float64): finite numbers, and NaN (missing, None
    included) where ``allow`` (default: ``est.missing == "ignore"``)."""
    try:
        out[:] = np.asarray(column, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Numeric {_column_name(est, j)} holds a value that is not a number ({exc}); name it in "
            "'categorical' if it holds categories."
        ) from None
    bad = np.flatnonzero(np.isinf(out))
    if bad.size:
        raise ValueError(
            f"Numeric {_column_name(est, j)} contains infinity in row {bad[0]} ({bad.size} rows in "
            f"all); {type(est).__name__} needs finite numeric values."
        )
    if not _allows_missing(est, allow):
        bad = np.flatnonzero(np.isnan(out))
        if bad.size:
            raise ValueError(
                f"Numeric {_column_name(est, j)} contains NaN in row {bad[0]} ({bad.size} rows in all); "
                f"{type(est).__name__} needs finite numeric values.{missing_hint(est) if allow is None else ''}"
            )


class _MixedClusterMixin(
    _base.CentersMixin, _base.CenterInferenceMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin,
    BaseEstimator,
):
    """What KPrototypes and KModes share: encoding, fitting and inference in the mixed cost."""

    _ONE_RUN_INITS = ("k-means++", "Cao")
    _ACCEPT_SPARSE = False

    def __init__(
        self, n_clusters=8, *, init="k-means++", n_init="auto", max_iter=300, tol=1e-4, random_state=None,
        copy_x=True, verbose=0, handle_unknown="warn", missing="error",
    ):
        # (alphabetical, after n_clusters)
        self.n_clusters = n_clusters
        self.copy_x = copy_x
        self.handle_unknown = handle_unknown
        self.init = init
        self.max_iter = max_iter
        self.missing = missing
        self.n_init = n_init
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = self.missing == "ignore"
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    # -------------------------------------------------------------- encoding
    def _categorical_columns(self, table):
        raise NotImplementedError

    def _encode(self, X, reset):
        """``(num (n, p) float64, cat (n, q) int32)`` of X; at fit, sets the column roles and levels.

        With ``missing="ignore"``, gaps are NaN in ``num`` and ``MISSING_CODE`` in ``cat``; a row
        without any observed entry (and at fit, a numeric column without one) is refused.
        """
        table = _Table(X)
        validate_data(self, X, reset=reset, skip_check_array=True)
        n, d = table.shape
        if reset:
            self._check_counts(n)
            categorical = self._categorical_columns(table)
            self.categorical_ = np.asarray(categorical, dtype=np.int64)
            self._numeric_columns = np.setdiff1d(np.arange(d), self.categorical_)
        num = np.empty((n, self._numeric_columns.size))
        for f, j in enumerate(self._numeric_columns.tolist()):
            _numeric(self, j, table.column(j), num[:, f])
        cat = np.empty((n, self.categorical_.size), dtype=np.int32)
        if reset:
            self.categories_ = []
        for c, j in enumerate(self.categorical_.tolist()):
            if reset:
                levels, cat[:, c] = _fit_levels(self, j, table.column(j))
                self.categories_.append(levels)
            else:
                cat[:, c] = _codes(self, j, table.column(j), self.categories_[c])
        if self.missing == "ignore":
            self._check_observed(num, cat, reset)
        return num, cat

    def _check_observed(self, num, cat, reset):
        numeric = ~np.isnan(num)
        check_rows_observed(numeric.any(axis=1) | (cat != MISSING_CODE).any(axis=1), "missing")
        if reset:
            empty = np.flatnonzero(~numeric.any(axis=0))
            if empty.size:
                raise ValueError(
                    f"Numeric {_column_name(self, int(self._numeric_columns[empty[0]]))} has no observed value "
                    f"(every value is NaN; {empty.size} numeric column(s) in all): a center coordinate needs "
                    "observed values; drop the column."
                )

    def _resolved_gamma(self, num, w):
        return 1.0

    def _unseen(self, cat):
        """Warn (or raise, with ``handle_unknown='error'``) about categories never seen at fit."""
        unseen = cat == -1  # (MISSING_CODE: a missing category, not an unseen one)
        counts = unseen.sum(axis=0)
        if not counts.any():
            return
        parts = [
            f"{_column_name(self, j)}: {int(c)} rows"
            for j, c in zip(self.categorical_.tolist(), counts.tolist(), strict=True) if c
        ]
        message = f"X holds categories never seen during fit in {len(parts)} column(s) ({'; '.join(parts)})"
        if self.handle_unknown == "error":
            raise ValueError(f"{message}. handle_unknown='error' refuses them; 'warn' lets them match no center.")
        warnings.warn(
            f"{message}; they match no center's mode (each adds gamma_={self.gamma_:g} to every distance).",
            UnseenCategoryWarning,
            stacklevel=4,
        )

    def _init_centers(self):
        """``init`` as an array in the loop's layout (numeric, then codes), from the table layout."""
        init = self.init
        if not _is_frame(init):
            init = check_array(init, dtype=None, ensure_all_finite=False, input_name="init")
        _base.check_centers_shape(init, self.n_clusters, self.n_features_in_, "init must have shape")
        table = _Table(init)
        num = np.empty((self.n_clusters, self._numeric_columns.size))
        for f, j in enumerate(self._numeric_columns.tolist()):
            _numeric(self, j, table.column(j), num[:, f], allow=False)
        cat = np.empty((self.n_clusters, self.categorical_.size))
        for c, j in enumerate(self.categorical_.tolist()):
            cat[:, c] = _codes(self, j, table.column(j), self.categories_[c], allow=False)
            if (cat[:, c] < 0).any():
                raise ValueError(
                    f"init holds a category of {_column_name(self, j)} never seen in X: "
                    f"{np.asarray(table.column(j))[np.flatnonzero(cat[:, c] < 0)[0]]!r}."
                )
        return np.hstack([num, cat])

    def _decoded(self, centers):
        """Centers in the table's layout: an object array, numbers and category values."""
        p = self._numeric_columns.size
        out = np.empty((centers.shape[0], self.n_features_in_), dtype=object)
        out[:, self._numeric_columns] = centers[:, :p]
        for c, j in enumerate(self.categorical_.tolist()):
            out[:, j] = self.categories_[c][centers[:, p + c].astype(np.int64)]
        return out

    # ----------------------------------------------------------------- fitting
    def _fit(self, X, sample_weight):
        num, cat = self._encode(X, reset=True)
        w = None if sample_weight is None else _base.check_weights(sample_weight, num)
        random_state = check_random_state(self.random_state)
        n_init = self._resolve_n_init()
        self.gamma_ = self._resolved_gamma(num, np.ones(num.shape[0]) if w is None else w)
        n_levels = [levels.size for levels in self.categories_]
        rows = MixedRows(num, cat, w, n_levels, self.gamma_)
        init_array = self._init_centers() if self._init_is_array() else None
        tol = self._tolerance(num)
        step = MixedStep(rows, self.n_clusters)

        def seeded():
            if self.init == "random":  # (checks that enough rows have a positive weight)
                centers = self._random_centers(rows, random_state)
            else:
                centers = MIXED_SEEDERS[self.init](rows, self.n_clusters, random_state)
            rows.forget_w()
            return centers

        best = self._best_run(step, n_init, init_array, seeded, tol)
        self._set_fitted(best, _centers=best.centers)
        self.cluster_centers_ = self._decoded(best.centers)
        return self

    def _tolerance(self, num):
        """``tol`` times the mean variance of the numeric columns (over their observed entries)."""
        if not num.shape[1]:
            return 0.0
        if self.missing == "ignore" and np.isnan(num).any():
            return float(np.mean(np.nanvar(num, axis=0)) * self.tol)
        return _base.tolerance(num, self.tol)

    # -------------------------------------------------------------- inference
    def _check_test_data(self, X):
        check_is_fitted(self)
        num, cat = self._encode(X, reset=False)
        self._unseen(cat)
        return num, cat

    def _rows(self, data, sample_weight):
        num, cat = data
        w = None if sample_weight is None else _base.check_weights(sample_weight, num)
        return MixedRows(num, cat, w, [levels.size for levels in self.categories_], self.gamma_)

    def _assign(self, data, sample_weight=None):
        rows = self._rows(data, sample_weight)
        labels = np.full(rows.n, -1, dtype=np.int32)
        return labels, MixedStep(rows, self.n_clusters)(self._centers, labels, update=False).inertia

    def _distances(self, data):
        """The mixed cost of each sample to every center."""
        return costs(self._rows(data, None), self._centers)

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit and return the label of each training sample (``labels_``)."""
        return self.fit(X, sample_weight=sample_weight).labels_


_SHARED_DOC_PARAMETERS = """
    init : {{'k-means++', 'Huang', 'Cao', 'random'}} or array-like of shape \\
            (n_clusters, n_features), default='k-means++'
        'k-means++' is greedy k-means++ seeding in the mixed cost (D^2
        sampling with probability proportional to ``w_i * cost_i``, ``2 +
        int(ln k)`` local trials per center). 'Huang' (Huang 1998) and 'Cao'
        (Cao, Liang and Bai 2009) choose the modes as the ``kmodes`` package
        does{numeric_init}. 'random' draws ``n_clusters`` distinct samples with
        probability proportional to ``sample_weight``. An array gives the
        initial centers in the table's layout (numbers and category values,
        as ``cluster_centers_`` holds them).
    n_init : 'auto' or int, default='auto'
        Number of runs from different initial centers; the one of lowest cost
        is kept. 'auto' is 1 for 'k-means++', 'Cao' and an array, 10 for
        'Huang' and 'random'.
    max_iter : int, default=300
        Maximum number of iterations of one run.
    tol : float, default=1e-4
        A run stops when no label changes, or when no mode changed and the
        squared shift of the numeric centers is at most ``tol`` times the mean
        variance of the numeric columns{tol_note}.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation; an int makes results reproducible (and
        bitwise identical whatever the number of threads).
    copy_x : bool, default=True
        Accepted for scikit-learn compatibility: X is always encoded into new
        arrays, never modified.
    verbose : int, default=0
        Print the cost of each iteration.
    handle_unknown : {{'warn', 'error'}}, default='warn'
        A category never seen during fit, in ``predict``, ``transform`` or
        ``score``: 'warn' counts such values per column in an
        :class:`UnseenCategoryWarning` and lets them match no center's mode
        (each adds ``gamma_`` to the distance to every center); 'error'
        raises a ``ValueError`` naming the columns.
    missing : {{'error', 'ignore'}}, default='error'
        Missing values (NaN in a numeric column; None or NaN in a categorical
        one). 'error' refuses them, naming the column and the row. 'ignore'
        clusters on the observed entries: a missing value adds nothing to a
        sample's cost, a center's mean or mode is taken over its samples'
        observed values, and ``predict``, ``transform`` and ``score`` take
        samples with gaps; a sample with no observed value is refused. Huang's
        and Cao's initialisations read a missing category as its column's mode;
        a sample drawn as a center takes its columns' mean or mode in its gaps.
"""


class KPrototypes(_MixedClusterMixin):
    """K-Prototypes clustering of tables with numeric and categorical columns (Huang 1997, 1998).

    The cost of a sample to a center is the squared Euclidean distance over
    the numeric columns plus ``gamma`` times the number of categorical
    columns whose category differs from the center's mode. Each iteration
    assigns every sample to the center of least cost (the first on ties),
    then moves each center to the weighted mean of its samples' numeric
    values and the weighted mode of each categorical column (the first level,
    in ``categories_`` order, on ties). The convergence loop is the one
    :class:`KMeans` uses; the cost never increases from one iteration to the next.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters to form and of centers to find.
    categorical : array-like of int or str, or None, default=None
        The categorical columns, by index or by name (names need a DataFrame).
        None: the DataFrame's columns of dtype category, object, string or
        bool; for an array, every column of a string array, or the columns of
        an object array that hold anything but numbers. At least one column must be categorical (numeric data alone is
        clustered by :class:`KMeans`, and this refuses it with a ValueError);
        the others must hold finite numbers.
    gamma : float or None, default=None
        The weight of one mismatched category against the squared Euclidean
        distance. None: Huang's (1998) proposal, half the mean standard
        deviation of the numeric columns (weighted; 1.0 if there is no numeric
        column or that is 0). Numeric columns are used as given: scale them
        first (for example with StandardScaler) if their units differ.
    {shared}
    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features), dtype=object
        The centers in the table's layout: means (float) in the numeric
        columns, modes (category values) in the categorical ones.
        ``pandas.DataFrame(model.cluster_centers_, columns=model.feature_names_in_)``
        shows them as a table.
    labels_ : ndarray of shape (n_samples,), int32
        Label of each training sample.
    inertia_ : float
        The cost of the fit: sum over the samples of ``w_i * cost(x_i, center)``.
    n_iter_ : int
        Number of iterations of the kept run.
    inertia_history_ : ndarray of shape (n_iter_,)
        Cost of each iteration of the kept run; it never increases.
    gamma_ : float
        The gamma used (given, or Huang's proposal).
    categorical_ : ndarray of shape (n_categorical,), int64
        Indices of the categorical columns, in increasing order.
    categories_ : list of ndarray of dtype object
        The levels of each categorical column seen during fit, in the order of
        their codes: sorted values, or for a pandas Categorical column the
        dtype's order of the levels present.
    n_features_in_ : int
        Number of columns of the table seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        The table's column names, when they are all strings.

    See Also
    --------
    KModes : only categorical columns (Hamming distance).
    KMeans : only numeric columns.

    Notes
    -----
    Numeric values are computed in float64. ``transform`` returns the mixed
    cost to each center (squared Euclidean part included: not a square root).

    References
    ----------
    Z. Huang, "Clustering large data sets with mixed numeric and categorical
    values", PAKDD 1997; "Extensions to the k-means algorithm for clustering
    large data sets with categorical values", DMKD 2(3), 1998.

    Examples
    --------
    >>> import pandas as pd
    >>> from kmeanskit import KPrototypes
    >>> X = pd.DataFrame({{"amount": [1.0, 1.2, 0.8, 9.0, 9.5, 8.5],
    ...                   "city": ["a", "a", "b", "c", "c", "c"]}})
    >>> kp = KPrototypes(n_clusters=2, random_state=0).fit(X)
    >>> sorted(kp.cluster_centers_.tolist())
    [[1.0, 'a'], [9.0, 'c']]
    >>> round(kp.gamma_, 4)  # half the standard deviation of 'amount'
    2.006
    """

    _parameter_constraints: dict = {
        **_base.SHARED_CONSTRAINTS,
        "init": _base.init_constraint(_INITS),
        "categorical": ["array-like", None],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "copy_x": ["boolean"],
        "verbose": ["verbose"],
        "handle_unknown": [StrOptions({"warn", "error"})],
        "missing": MISSING_CONSTRAINT,
    }

    def __init__(
        self, n_clusters=8, *, categorical=None, gamma=None, init="k-means++", n_init="auto", max_iter=300,
        tol=1e-4, random_state=None, copy_x=True, verbose=0, handle_unknown="warn", missing="error",
    ):
        super().__init__(
            n_clusters, init=init, n_init=n_init, max_iter=max_iter, tol=tol, random_state=random_state,
            copy_x=copy_x, verbose=verbose, handle_unknown=handle_unknown, missing=missing,
        )
        self.categorical = categorical
        self.gamma = gamma

    def _categorical_columns(self, table):
        if self.categorical is None:
            columns = _frame_categorical(table.frame) if table.frame is not None else _array_categorical(table.array)
        else:
            columns = [self._column_index(c, table) for c in np.atleast_1d(np.asarray(self.categorical, dtype=object))]
        if not columns:
            raise ValueError(
                "KPrototypes found no categorical column: pass categorical=[...] (column indices or names), "
                "or a DataFrame with category, object or string columns. Numeric data alone is clustered "
                "by KMeans."
            )
        return sorted(set(columns))

    def _column_index(self, c, table):
        d = table.shape[1]
        if isinstance(c, (Integral, np.integer)) and not isinstance(c, (bool, np.bool_)):
            if not -d <= c < d:
                raise ValueError(f"categorical={self.categorical!r}: column index {c} is out of range for {d} columns.")
            return int(c) % d
        names = getattr(self, "feature_names_in_", None)
        if isinstance(c, str) and names is not None and c in names:
            return int(np.flatnonzero(names == c)[0])
        allowed = "column names of the DataFrame" if names is not None else "column indices (X has no column names)"
        raise ValueError(f"categorical={self.categorical!r}: {c!r} is not one of the {allowed}.")

    def _resolved_gamma(self, num, w):
        if self.gamma is not None:
            return float(self.gamma)
        if num.shape[1] == 0:
            return 1.0
        gamma = 0.5 * float(np.mean(weighted_mean_std(num, w)[1]))
        return gamma if gamma > 0 else 1.0

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute k-prototypes clustering.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training table: numeric columns and the categorical columns named
            by ``categorical``. Missing values are refused (naming the column)
            unless ``missing="ignore"``.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample (not all zero): used by the
            seeding, the means, the modes (weighted counts), gamma and the cost.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, sample_weight)


class KModes(_MixedClusterMixin):
    """K-Modes clustering of categorical tables (Huang 1998): every column is categorical.

    The distance of a sample to a center is the number of columns whose
    category differs from the center's mode (the Hamming distance). Each
    iteration assigns every sample to its nearest center (the first on ties)
    and moves each center to the weighted mode of each column (the first
    level, in ``categories_`` order, on ties). It is :class:`KPrototypes`
    without numeric columns: the same step, kernels and loop. Any column is
    read as categories: strings, or numbers (integer codes; every distinct
    value is a level).

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters to form and of modes to find.
    {shared}
    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features), dtype=object
        The modes, as category values.
    labels_ : ndarray of shape (n_samples,), int32
    inertia_ : float
        Sum over the samples of ``w_i`` times the number of mismatched categories.
    n_iter_ : int
    inertia_history_ : ndarray of shape (n_iter_,)
        Cost of each iteration of the kept run; it never increases.
    gamma_ : float
        1.0 (the weight of one mismatch).
    categorical_ : ndarray of shape (n_features,), int64
        Every column.
    categories_ : list of ndarray of dtype object
        The levels of each column seen during fit, in the order of their codes.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    See Also
    --------
    KPrototypes : numeric and categorical columns.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeanskit import KModes
    >>> X = np.array([["a", "x"], ["a", "x"], ["a", "y"], ["b", "z"], ["b", "z"], ["c", "z"]])
    >>> km = KModes(n_clusters=2, init="Cao").fit(X)
    >>> km.cluster_centers_.tolist()
    [['a', 'x'], ['b', 'z']]
    >>> km.inertia_
    2.0
    """

    _parameter_constraints: dict = {
        **_base.SHARED_CONSTRAINTS,
        "init": _base.init_constraint(_INITS),
        "copy_x": ["boolean"],
        "verbose": ["verbose"],
        "handle_unknown": [StrOptions({"warn", "error"})],
        "missing": MISSING_CONSTRAINT,
    }

    # __init__: the shared parameters (_MixedClusterMixin).

    def _categorical_columns(self, table):
        return list(range(table.shape[1]))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute k-modes clustering.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training table; every column is read as categories. Missing
            values are refused (naming the column) unless ``missing="ignore"``.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample (not all zero): used by the
            seeding, the modes (weighted counts) and the cost.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, sample_weight)


KPrototypes.__doc__ = KPrototypes.__doc__.format(
    shared=_SHARED_DOC_PARAMETERS.format(
        numeric_init=(
            "; their numeric part is drawn as kmodes draws it (each column's "
            "mean plus a standard normal draw times its standard deviation)"
        ),
        tol_note="",
    ).strip("\n")[4:],
)
KModes.__doc__ = KModes.__doc__.format(
    shared=_SHARED_DOC_PARAMETERS.format(numeric_init="", tol_note=" (without numeric columns: when no mode changed)")
    .strip("\n")[4:],
)
