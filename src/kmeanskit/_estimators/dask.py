"""K-Means on Dask arrays: ``from kmeanskit.dask import KMeans``.

The same exact Lloyd iterations as :class:`kmeanskit.KMeans`, run block by
block where the data live (a dask cluster, or dask's threads on one machine),
with k-means|| initialisation. Needs ``pip install 'kmeanskit[dask]'``.

How a fit runs (see :mod:`kmeanskit._algorithms.dask_blocks` for the per-block work):

1. X is persisted (kept in the memory of the workers) and one pass computes
   its mean and variance and checks it (finite values, valid weights).
2. With ``copy_x=True`` a mean-centered copy of X is persisted (blocks are then
   views, as in the in-memory fit); with ``copy_x=False`` each block is
   centered on the fly in every pass (less memory, a little slower).
3. Initial centers: k-means|| (two small round trips per round), k-means++ on
   a sample, or the given array.
4. The blocks each worker holds are grouped (one group per worker thread) and
   each group's state is persisted there: every block's labels and distance
   bounds, kept between iterations (:class:`kmeanskit._algorithms.dask_blocks.BlockGroup`,
   the bounded step of the in-memory fit).
5. The iterations are the convergence loop of every fit
   (:func:`kmeanskit._algorithms.loop.run_kmeans`) over a
   :class:`kmeanskit._algorithms.dask_step.DaskStep`. Each Lloyd pass runs one
   task per group; it returns each block's per-cluster sums (k x d), weights
   (k) and inertia, and these are added in a tree of fixed shape, so only
   O(k d) values travel and the result does not depend on which worker ran
   what, or when.
"""

try:
    import dask
    import dask.array as da
except ImportError as error:  # pragma: no cover - exercised only without dask
    raise ImportError(
        "kmeanskit.dask needs dask: pip install 'kmeanskit[dask]' (dask[array,dataframe] and distributed)."
    ) from error

import dataclasses
import logging
import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from kmeanskit._algorithms import dask_blocks as blocks
from kmeanskit._algorithms.dask_step import DaskStep
from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.mapping import DataMapping
from kmeanskit._estimators._base import (
    SHARED_CONSTRAINTS,
    CentersMixin,
    check_init_array,
    check_int_param,
    init_constraint,
    warn_if_fewer_clusters,
)
from kmeanskit._estimators.dask_data import (
    DaskBlocks,
    DaskData,
    as_dask_array,
    compute,
    current_client,
    float_dtype,
    is_dask_dataframe,
    numpy_to_dask,
    threads_per_task,
    timed,
    tree,
)
from kmeanskit._estimators.dask_seeding import parallel_init, plusplus_on_sample

__all__ = ["KMeans"]

logger = logging.getLogger("kmeanskit.dask")  # the public module's name



class KMeans(CentersMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """K-Means on Dask arrays: exact Lloyd iterations on kmeanskit's kernels, k-means|| start.

    Each Lloyd iteration runs one task per block of rows, on a dask cluster or
    on dask's threads: the task assigns its rows with kmeanskit's numba kernels
    and returns only the block's per-cluster sums, weights and inertia
    (O(k d) values); these are added in a fixed order, so the result is the
    same whatever worker ran what. From the same initial centers the
    iterations are those of :class:`kmeanskit.KMeans` (``algorithm="lloyd"``).

    Use a cluster by creating a ``distributed.Client`` before fitting; every
    dask computation (and so ``fit``) then runs on it::

        from distributed import Client
        client = Client("tcp://scheduler-host:8786")  # or Client() for a local cluster
        km = KMeans(n_clusters=16).fit(X)             # X: a dask array or dask DataFrame

    The workers need kmeanskit installed (the same version); numba compiles
    its kernels once per worker machine (cached on disk). Without a client,
    dask's local threads run the tasks.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters to form and of centroids to find.
    init : {'k-means||', 'k-means++'} or array-like of shape (n_clusters, n_features), \
            default='k-means||'
        'k-means||' is scalable k-means++ (Bahmani et al. 2012): the first
        candidate drawn with probability proportional to ``sample_weight``,
        then rounds that each draw every row independently with probability
        ``l w d^2(x) / phi`` (``l = oversampling_factor * n_clusters``), then
        the candidates, weighted by the weight of the rows nearest to them,
        are clustered to ``n_clusters`` in memory (greedy k-means++ and
        Lloyd). 'k-means++' runs greedy k-means++ on a uniform sample of about
        ``max(20000, 50 * n_clusters)`` rows. An array (NumPy or dask) gives
        the initial centers.
    n_init : 'auto' or int, default=1
        Number of runs from different initial centers; the run of lowest
        inertia is kept. 'auto' and an array init mean 1.
    max_iter : int, default=300
        Maximum number of Lloyd iterations of one run.
    tol : float, default=1e-4
        Convergence tolerance on the squared shift of the centers, relative to
        the mean variance of the features (scikit-learn's rule).
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation. The same seed and the same block sizes
        give the same result, whatever the cluster.
    oversampling_factor : float, default=2
        ``l / n_clusters`` for k-means||: the expected number of candidates
        drawn per round.
    init_max_iter : int or None, default=None
        Number of k-means|| rounds. None: ``round(ln psi)`` (``psi``: the cost
        of the first candidate; the analysis of Bahmani et al. needs O(log psi)
        rounds), at least 1 and at most 5; more rounds are run while fewer
        than ``n_clusters`` distinct candidates were drawn.
    algorithm : {'lloyd'}, default='lloyd'
        Lloyd iterations (the only algorithm here).
    copy_x : bool, default=True
        True: a mean-centered copy of X is kept in the workers' memory during
        the fit (as the in-memory fit centers a copy); each pass reads it
        directly. False: no copy (half the memory); each block is centered
        again in every pass. The input is never modified.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Coordinates of the cluster centers, in X's dtype (float32 stays float32).
    labels_ : dask array of shape (n_samples,), int32
        Label of each training row: a lazy ``predict(X)`` (computing it reads X again).
    inertia_ : float
        Weighted sum of squared distances of the samples to their nearest center.
    n_iter_ : int
        Number of Lloyd iterations of the kept run.
    inertia_history_ : ndarray of shape (n_iter_,)
        Inertia of the assignment at each iteration of the kept run.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X is a DataFrame with string column names.

    Notes
    -----
    If a worker dies during the fit, distributed runs its tasks again on the
    other workers (and recomputes the blocks of X it held); each task's result
    is deterministic, so the fit ends with the same result as an undisturbed
    one. A task that keeps killing workers raises a ``RuntimeError``.

    Examples
    --------
    >>> import dask.array as da
    >>> from kmeanskit.dask import KMeans
    >>> X = da.random.default_rng(0).normal(size=(100_000, 8), chunks=(25_000, 8))
    >>> km = KMeans(n_clusters=4, random_state=0).fit(X)
    >>> km.cluster_centers_.shape
    (4, 8)
    >>> km.predict(X)  # doctest: +ELLIPSIS
    dask.array<...>
    """

    _parameter_constraints: dict = {
        **SHARED_CONSTRAINTS,
        "init": init_constraint({"k-means||", "k-means++"}),
        "oversampling_factor": [Interval(Real, 0, None, closed="neither")],
        "init_max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "algorithm": [StrOptions({"lloyd"})],
        "copy_x": ["boolean"],
    }
    _ONE_RUN_INITS = ("k-means||", "k-means++")  # and an array: n_init='auto' is always one run

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means||",
        n_init=1,
        max_iter=300,
        tol=1e-4,
        random_state=None,
        oversampling_factor=2,
        init_max_iter=None,
        algorithm="lloyd",
        copy_x=True,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.oversampling_factor = oversampling_factor
        self.init_max_iter = init_max_iter
        self.algorithm = algorithm
        self.copy_x = copy_x

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # ------------------------------------------------------------ validation
    def _validate_fit_input(self, X, sample_weight):
        """Dask array X (features recorded), and dask weights in X's blocks or None."""
        if isinstance(X, da.Array) or is_dask_dataframe(X):
            X, names = as_dask_array(X, lengths=True)
            self.n_features_in_ = int(X.shape[1])
            if names is not None and all(isinstance(n, str) for n in names):
                self.feature_names_in_ = np.asarray(names, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        else:
            X = validate_data(self, X, dtype=[np.float64, np.float32], order="C")
            X = numpy_to_dask(X)
        if sample_weight is None:
            return X, None
        w = sample_weight if isinstance(sample_weight, da.Array) else np.asarray(sample_weight)
        n_samples = X.shape[0]
        if w.ndim != 1 or (not math.isnan(n_samples) and not math.isnan(w.shape[0]) and w.shape[0] != n_samples):
            raise ValueError(
                f"sample_weight must be a 1-D array of shape ({n_samples},) (one weight per sample), "
                f"got shape {w.shape}."
            )
        float_dtype(w.dtype, "sample_weight")
        if not isinstance(w, da.Array):
            w = da.from_array(w, chunks=(X.chunks[0],) if not math.isnan(n_samples) else -1)
        return X, w.astype(X.dtype)

    def _validated_init_array(self, X):
        """The ``init`` array (computed first if a dask array) in X's dtype, of shape ``(n_clusters, n_features)``."""
        init = self.init.compute() if isinstance(self.init, da.Array) else self.init
        return check_init_array(init, self.n_clusters, X.shape[1], X.dtype)

    def _check_params(self):
        for name in ("n_clusters", "max_iter", "n_init", "init_max_iter"):
            check_int_param(name, getattr(self, name))

    # ------------------------------------------------------------- data prep
    def _prepare(self, X, w, client):
        """Persist X, check it in one pass, and persist its centered copy (copy_x)."""
        with timed("persist X"):
            X = X.persist(optimize_graph=False)
        if w is not None:
            if any(math.isnan(c) for c in X.chunks[0]):
                X.compute_chunk_sizes()
            if w.shape[0] != X.shape[0] and not math.isnan(w.shape[0]):
                raise ValueError(
                    f"sample_weight has {w.shape[0]} values; expected one per sample of X ({X.shape[0]})."
                )
            w = w.rechunk((X.chunks[0],)).persist(optimize_graph=False)
        elif any(math.isnan(c) for c in X.chunks[0]):
            X.compute_chunk_sizes()
        n_samples = int(X.shape[0])
        if n_samples < self.n_clusters:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}.")
        raw = DaskBlocks(X, w)
        with timed("statistics pass"):
            stats = compute(tree(raw.map(blocks.block_stats), blocks.combine_stats))[0]
        if stats["nonfinite"]:
            raise ValueError(
                f"Input X contains {stats['nonfinite']} NaN or infinite value(s); every value must be finite."
            )
        if stats["w_nonfinite"]:
            raise ValueError("sample_weight contains NaN or infinity; every weight must be finite.")
        if stats["w_negative"]:
            raise ValueError(f"sample_weight contains {stats['w_negative']} negative value(s); weights must be >= 0.")
        if not stats["w_sum"] > 0:
            raise ValueError(
                f"sample_weight sums to zero over all {n_samples} samples; at least one weight must be positive."
            )
        dtype = X.dtype
        mapping = DataMapping.from_moments(stats["mean"], stats["abs_max"], dtype)
        shift, scale = mapping.shift, mapping.scale
        # tol is relative to the variance of the features in the scaled space, as in KMeans.
        tol = float(np.mean(stats["m2"] / n_samples) * scale * scale * self.tol) if self.tol else 0.0
        n_threads = threads_per_task(client, len(raw))
        if self.copy_x:
            with timed("persist the centered copy of X"):
                mapped = X.map_blocks(blocks.map_block, shift, scale, dtype=dtype)
                mapped = mapped.persist(optimize_graph=False)
            data_blocks, task_mapping = DaskBlocks(mapped, w), (None, 1.0)
        else:
            data_blocks, task_mapping = raw, (shift, scale)
        return DaskData(data_blocks, task_mapping, dtype, shift, scale, n_samples, tol, n_threads, w is not None)

    # ------------------------------------------------------------ initialisation
    # ------------------------------------------------------------------ Lloyd
    @staticmethod
    def _finish(data, step, centers):
        """Centers in X's units, and the inertia and cluster weights of their assignment."""
        mapping = DataMapping(data.shift, data.scale)
        out = mapping.unmap_centers(centers)
        # predict() maps data and centers with this mean: the inertia is that of its labels.
        remapped = mapping.map_centers(out)
        assigned, weights, inertia = step.last
        if not np.array_equal(remapped, assigned):
            _, weights, inertia = data.lloyd(remapped)
        return out, inertia / data.scale / data.scale, weights

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute k-means clustering.

        Parameters
        ----------
        X : dask array or dask DataFrame of shape (n_samples, n_features)
            Training instances (NumPy arrays and pandas DataFrames are accepted
            and split into row blocks). Integers and booleans become float64;
            float32 stays float32. A dask DataFrame needs numeric columns.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : dask array or array-like of shape (n_samples,), default=None
            Non-negative weight of each row (not all zero), used by the
            initialisation, the center updates and the inertia.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._check_params()
        n_init = self._resolve_n_init()
        X, w = self._validate_fit_input(X, sample_weight)
        init_array = self._validated_init_array(X) if self._init_is_array() else None
        random_state = check_random_state(self.random_state)
        client = current_client()
        # Dask's local threads each run kernels: keep BLAS on one thread per task.
        limits = threadpool_limits(limits=1, user_api="blas") if client is None else None
        data = None
        try:
            data = self._prepare(X, w, client)
            with timed("persist the blocks' Lloyd state"):
                data.start_groups(client, self.n_clusters)
            step = DaskStep(data, data.n_samples, X.shape[1], X.dtype, self.n_clusters)
            best = None
            for _ in range(n_init):
                with timed("initialisation"):
                    if init_array is not None:
                        start = DataMapping(data.shift, data.scale).map_centers(init_array)
                    elif self.init == "k-means++":
                        start = plusplus_on_sample(data, self.n_clusters, random_state)
                    else:
                        start = parallel_init(data, self.n_clusters, self.oversampling_factor, self.init_max_iter, random_state)
                with timed("Lloyd iterations"):
                    run = run_kmeans(step, start, max_iter=self.max_iter, tol=data.tol)
                with timed("final assignment"):
                    centers, inertia, weights = self._finish(data, step, run.centers)
                if best is None or inertia < best[0].inertia:
                    in_x_units = dataclasses.replace(
                        run, centers=centers, inertia=inertia, inertia_history=run.inertia_history / data.scale / data.scale
                    )
                    best = (in_x_units, weights)
        finally:
            if data is not None:
                data.stop_groups()  # releases the bounds and labels on the workers
            if limits is not None:
                limits.restore_original_limits()
        run, weights = best
        warn_if_fewer_clusters(int(np.count_nonzero(weights)), self.n_clusters, stacklevel=2)
        self._set_fitted(run, _X_mean=data.shift)
        # The labels stay lazy: a dask array computed from the blocks on demand.
        self.labels_ = self._map_predict(X, client)
        return self
        return self

    # -------------------------------------------------------------- inference
    def _check_test_data(self, X):
        """A dask array of X in the centers' dtype, with n_features_in_ columns."""
        check_is_fitted(self)
        if isinstance(X, da.Array) or is_dask_dataframe(X):
            X, names = as_dask_array(X, lengths=None)
            fitted = getattr(self, "feature_names_in_", None)
            if names is not None and fitted is not None and list(names) != list(fitted):
                raise ValueError(
                    "The feature names of X differ from those seen during fit: "
                    f"got {list(names)[:10]}, expected {list(fitted)[:10]}."
                )
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but KMeans is expecting {self.n_features_in_} features as input."
                )
        else:
            X = validate_data(self, X, reset=False, dtype=self.cluster_centers_.dtype, order="C")
            X = numpy_to_dask(X)
        return X.astype(self.cluster_centers_.dtype)

    def _map_predict(self, X, client):
        n_threads = threads_per_task(client, X.numblocks[0])
        return X.map_blocks(
            blocks.predict_block, self.cluster_centers_, self._X_mean, n_threads,
            dtype=np.int32, drop_axis=1, meta=np.empty(0, dtype=np.int32),
        )

    def predict(self, X):
        """Index of the closest cluster center for each sample (lazy).

        Parameters
        ----------
        X : dask array or dask DataFrame of shape (n_samples, n_features)
            (NumPy arrays and pandas DataFrames are accepted too.)

        Returns
        -------
        labels : dask array of shape (n_samples,), int32
            Computed block by block with kmeanskit's kernels when you compute it;
            a NaN or infinite value raises ``ValueError`` then.
        """
        X = self._check_test_data(X)
        return self._map_predict(X, current_client())

    def transform(self, X):
        """Euclidean distance from each sample to every cluster center (lazy).

        Parameters
        ----------
        X : dask array or dask DataFrame of shape (n_samples, n_features)

        Returns
        -------
        X_new : dask array of shape (n_samples, n_clusters), the centers' dtype
        """
        X = self._check_test_data(X)
        k = self.n_clusters
        return X.map_blocks(
            blocks.transform_block, self.cluster_centers_, self._X_mean, 1,
            dtype=self.cluster_centers_.dtype, chunks=(X.chunks[0], (k,)),
            meta=np.empty((0, 0), dtype=self.cluster_centers_.dtype),
        )

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the inertia of X on the fitted centers (computed now).

        Parameters
        ----------
        X : dask array or dask DataFrame of shape (n_samples, n_features)
        y : Ignored
        sample_weight : dask array or array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        X = self._check_test_data(X)
        client = current_client()
        if sample_weight is not None:
            if any(math.isnan(c) for c in X.chunks[0]):
                X = X.persist()
                X.compute_chunk_sizes()
            w = sample_weight if isinstance(sample_weight, da.Array) else da.from_array(np.asarray(sample_weight))
            if w.ndim != 1 or w.shape[0] != X.shape[0]:
                raise ValueError(
                    f"sample_weight must have shape ({X.shape[0]},), got {w.shape}."
                )
            w = w.astype(X.dtype).rechunk((X.chunks[0],))
            w_parts = list(w.to_delayed().ravel())
        else:
            w_parts = [None] * X.numblocks[0]
        n_threads = threads_per_task(client, X.numblocks[0])
        task = dask.delayed(blocks.inertia_block, pure=False)
        parts = [
            task(x, wb, self.cluster_centers_, self._X_mean, n_threads)
            for x, wb in zip(X.to_delayed().ravel(), w_parts, strict=True)
        ]
        return -float(compute(tree(parts, blocks.add_arrays))[0])
