"""K-Means on tables larger than memory: :func:`fit_out_of_core`.

The file is read in chunks, several times, and never held whole:

1. a *survey* pass counts the rows, checks every value (missing and infinite
   values are counted per column over the whole file and refused as
   :func:`kmeanskit._io.tables.read_table` refuses them), computes the exact mean and
   variance of each feature (per-chunk moments merged with Chan et al.'s
   formula) and draws a uniform reservoir sample of the rows (Vitter's
   Algorithm L, vectorised; the sample does not depend on the chunk size);
2. the initial centers are chosen on the sample (greedy k-means++ by default);
3. exact Lloyd passes: each reads the file once, assigns every row with the
   fused kernels and accumulates per-cluster sums and counts; an empty cluster
   takes the row farthest from its center, found during the same pass (the
   ``n_clusters`` farthest rows are kept as the pass goes). The convergence
   loop is the in-memory one, so from the same initial centers the result is
   the in-memory ``KMeans(algorithm="lloyd")`` fit: same iterations, labels,
   and centers up to rounding. ``tol`` is relative to the mean feature
   variance, computed exactly in the survey pass;
4. or, with ``mini_batch=True``, mini-batch passes: each chunk is shuffled and
   cut into batches of 1024 rows for :class:`MiniBatchKMeans` steps, with its
   early stopping;
5. a final pass labels every row with the fitted model's ``predict``.

Every pass after the survey checks that it reads what the survey read (the
file's identity, row count and a checksum of the values, every value finite;
:class:`~kmeanskit._io.chunked.TableStream`): a file changed during the fit
is refused with an error naming the pass, never fitted silently wrong.

Memory holds one chunk (and its float copies), the sample, the centers, and
the labels (4 bytes per row, one array: the Lloyd step counts the labels it
changes instead of the loop keeping a copy). Each pass's chunks are freed
when it ends. The passes need only NumPy, PyArrow (or pandas, for CSV) and
the numba kernels; Parquet columns are copied from their Arrow buffers, since
``pyarrow.Array.to_numpy`` would import pandas. scikit-learn (with SciPy and
pandas, about 100 MB of memory once imported) is imported after the last
pass, once the reader's buffers are given back, so that the two do not add
up; an ``init`` array or ``mini_batch=True`` needs it sooner. (The memory
measured by ``python -m benchmarks out-of-core`` is in benchmarks/README.md.)
"""

from __future__ import annotations

import dataclasses
import sys
from numbers import Integral, Real

import numpy as np

from kmeanskit._algorithms.mapping import DataMapping
from kmeanskit._algorithms.random_state import check_random_state
from kmeanskit._algorithms.streaming import Progress, StreamLloydStep, Survey
from kmeanskit._io.chunked import TableStream
from kmeanskit._io.table_rules import TextLayout

__all__ = ["fit_out_of_core"]
# Also used by the CLI's out-of-core workflow (kmeanskit._analysis.out_of_core_workflow):
# check_counts, check_random_state, fit_stream, release_reader_memory, survey_pass.

_MINI_BATCH_SIZE = 1024


# ------------------------------------------------------------------- public
def fit_out_of_core(
    source,
    n_clusters,
    *,
    columns=None,
    skip_rows=0,
    header=True,
    sep=None,
    decimal=".",
    thousands=None,
    encoding="utf-8",
    comment=None,
    chunk_rows=65536,
    init="k-means++",
    sample_size=None,
    max_iter=300,
    tol=1e-4,
    mini_batch=False,
    random_state=None,
    progress=None,
    dtype=np.float64,
):
    """Fit K-Means to a CSV or Parquet file without reading it whole into memory.

    Parameters
    ----------
    source : str, path-like, pandas.DataFrame or ndarray of shape (n_samples, n_features)
        A ``.csv``/``.tsv``/``.txt`` file (optionally compressed, as
        :func:`kmeanskit._io.tables.read_table` reads them) or a ``.parquet``/``.pq``
        file or directory; or a table already in memory (read chunk by chunk
        the same way). Columns follow ``read_table``'s rules: numeric or
        boolean only, no missing or infinite values, refused with the same
        messages.
    n_clusters : int
        Number of clusters.
    columns : sequence of str, optional
        Feature columns, in order; all by default.
    skip_rows : int, default=0
        Text files: lines to skip before the table (a line of metadata, say).
    header : bool, default=True
        Text files: whether the table's first line names its columns; without
        one they are named ``column_1``, ``column_2``...
    sep, decimal, thousands, encoding, comment : default=None, ".", None, "utf-8", None
        Text files: how values are written, as for ``pandas.read_csv``: the
        field separator (by default from the suffix: ``.csv`` comma, ``.tsv``
        tab, ``.txt`` detected; ``r"\\s+"`` for runs of whitespace), the
        decimal mark, the thousands separator, the text encoding and the
        character that starts a comment.
    chunk_rows : int, default=65536
        Rows read at a time; memory use grows with it, not with the file.
    init : {'k-means++', 'random'} or array-like of shape (n_clusters, n_features), \
            default='k-means++'
        Greedy k-means++ or random rows on the reservoir sample, or the
        initial centers (in the units of the data).
    sample_size : int, optional
        Rows of the uniform sample used to seed the centers; by default
        ``max(65536, 64 * n_clusters)`` rows, fewer for wide data so that the
        sample holds at most 256 MiB (but at least ``8 * n_clusters`` rows);
        all rows when the source is smaller.
    max_iter : int, default=300
        Maximum number of Lloyd passes (or of mini-batch passes).
    tol : float, default=1e-4
        Convergence tolerance on the squared shift of the centers relative to
        the mean feature variance, as in :class:`kmeanskit.KMeans` (the
        variance is computed exactly in the first pass).
    mini_batch : bool, default=False
        Mini-batch passes (faster on big data, slightly higher inertia)
        instead of exact Lloyd passes; returns a ``MiniBatchKMeans``.
    random_state : int, RandomState instance or None, default=None
        Seed of the sample, the seeding and (mini-batch) the shuffling.
    progress : bool or None, default=None
        A progress bar per pass on stderr; None shows it when stderr is a
        terminal.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Precision of the computation and of the centers.

    Returns
    -------
    KMeans or MiniBatchKMeans
        Fitted, as if fitted in memory: ``cluster_centers_``, ``labels_``
        (one per row, in file order, what ``predict`` returns), ``inertia_``,
        ``n_iter_``, ``n_features_in_``, ``feature_names_in_``; ``predict``
        and ``transform`` work on arrays and DataFrames in memory.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If a parameter is out of range, or the data are refused (see ``source``).

    Examples
    --------
    >>> from kmeanskit.streaming import fit_out_of_core
    >>> km = fit_out_of_core("events.parquet", 8, columns=["x", "y"], random_state=0)  # doctest: +SKIP
    >>> km.predict(new_rows)  # doctest: +SKIP
    """
    n_clusters, chunk_rows, max_iter = check_counts(n_clusters=n_clusters, chunk_rows=chunk_rows, max_iter=max_iter)
    if sample_size is not None:
        (sample_size,) = check_counts(sample_size=sample_size)
    if not isinstance(tol, Real) or isinstance(tol, bool) or not tol >= 0:
        raise ValueError(f"tol must be a non-negative number, got {tol!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    stream = TableStream(source, columns, chunk_rows, dtype, layout=TextLayout(
        skip_rows, header, sep=sep, decimal=decimal, thousands=thousands, encoding=encoding, comment=comment
    ))
    return fit_stream(
        stream, n_clusters, init=init, sample_size=sample_size, max_iter=max_iter, tol=tol,
        mini_batch=mini_batch, random_state=random_state, progress=Progress(progress),
    )


def check_counts(**values):
    """The given counts as ints, each checked to be an int of at least 1 (named in the error)."""
    out = []
    for name, value in values.items():
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be an int, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
        out.append(int(value))
    return out


def _validated_init(init, n_clusters, n_features, dtype):
    if isinstance(init, str) or callable(init):
        if callable(init) or init not in ("k-means++", "random"):
            raise ValueError(f"init must be 'k-means++', 'random' or an array of centers, got {init!r}")
        return None
    from kmeanskit._estimators._base import check_init_array  # imports scikit-learn

    return check_init_array(init, n_clusters, n_features, dtype)


def release_reader_memory():
    """Give freed memory back to the system before the next step allocates more
    (after a pass, or after the silhouette's distance blocks).

    Arrow's allocator keeps the reader's freed buffers for reuse, and glibc's
    malloc the freed chunks inside its heap; both are otherwise counted in
    the process's memory while scikit-learn is imported and labels are kept.
    """
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None).malloc_trim(0)
        except (AttributeError, OSError):  # not glibc (e.g. musl)
            pass


# The default seeding sample holds at most this many bytes (wide files get fewer rows), but never
# fewer than 8 rows per cluster.
SAMPLE_BYTES = 256 << 20


def default_sample_size(n_clusters, n_features, dtype):
    """Rows of the default seeding sample: ``max(65536, 64 * n_clusters)``, within :data:`SAMPLE_BYTES`."""
    fits = SAMPLE_BYTES // max(1, n_features * np.dtype(dtype).itemsize)
    return max(8 * n_clusters, min(max(65536, 64 * n_clusters), fits))


def fit_stream(stream, n_clusters, *, init, sample_size, max_iter, tol, mini_batch, random_state, progress):
    """Survey, seed, then Lloyd or mini-batch passes over ``stream``; a fitted estimator.

    The passes run in helper functions so that each pass's chunks (and the
    seeding's copies of the sample) are freed when it ends, not kept to the
    end of the fit.
    """
    d, dtype = len(stream.feature_names), stream.dtype
    init_array = _validated_init(init, n_clusters, d, dtype)
    rs = check_random_state(random_state)
    if sample_size is None:
        sample_size = default_sample_size(n_clusters, d, dtype)

    survey = survey_pass(stream, sample_size, rs, progress, "survey (pass 0)")
    survey.check(n_clusters)
    n = survey.n
    release_reader_memory()

    # Rows are centered on the exact mean (as KMeans centers them in memory)
    # and, if huge, scaled by a power of two.
    mapping = DataMapping.from_moments(survey.mean, survey.abs_max, dtype)
    tol_abs = float(np.mean(survey.variance) * tol) * mapping.scale * mapping.scale
    if init_array is not None:
        centers = mapping.map_centers(init_array)
    else:
        centers = _seed_centers(survey.reservoir.rows(), mapping, n_clusters, init, rs)
    del survey  # the sample: the passes need only the centers

    if mini_batch:
        est = _mini_batch_passes(stream, n, centers, mapping, tol_abs, max_iter, init, tol, random_state, rs, progress)
        labels, inertia = _mini_batch_labels(est, stream, n, progress)
    else:
        est = _lloyd_passes(stream, n, centers, mapping, tol_abs, max_iter, init, tol, random_state, progress)
        labels, inertia = est.labels_, est.inertia_
    est.n_features_in_ = d
    if stream.has_names:
        est.feature_names_in_ = np.asarray(stream.feature_names, dtype=object)
    est.labels_ = labels
    est.inertia_ = float(inertia)
    return est


def survey_pass(stream, sample_size, random_state, progress, desc):
    """The :class:`Survey` of one pass over ``stream`` (its chunks are freed on return)."""
    survey = Survey(stream, sample_size, random_state)
    for _, chunk in progress.passes(stream, desc, stream.n_rows):
        survey.add(chunk)
    return survey


def _seed_centers(sample, mapping, n_clusters, init, rs):
    """Initial centers chosen on the mapped ``sample`` (whose copies are freed on return)."""
    from kmeanskit._algorithms.init import kmeans_plusplus_rows, random_rows
    from kmeanskit._algorithms.rows import DenseRows

    mapped = mapping.map_rows(sample)
    rows = DenseRows(np.ascontiguousarray(mapped), np.ones(sample.shape[0], dtype=sample.dtype))
    if init == "random":
        return random_rows(rows, n_clusters, rs)
    return kmeans_plusplus_rows(rows, n_clusters, rs)[0]


def _mini_batch_labels(est, stream, n, progress):
    """The final pass of a mini-batch fit: ``predict``'s labels and the inertia."""
    labels, inertia = np.empty(n, dtype=np.int32), 0.0
    for start, chunk in progress.passes(stream, "labels (last pass)", n):
        lb, part = est._assign(chunk)
        labels[start:start + chunk.shape[0]] = lb
        inertia += part
    return labels, inertia


def _lloyd_passes(stream, n, centers, mapping, tol_abs, max_iter, init, tol, random_state, progress):
    """Lloyd passes, then the final labelling pass; the fitted ``KMeans``.

    scikit-learn (the ``KMeans`` class) is imported only after the last pass,
    once the reader's memory is given back.
    """
    from kmeanskit._algorithms.loop import run_kmeans

    step = StreamLloydStep(stream, n, centers.shape[0], mapping.shift, mapping.scale, progress)
    run = run_kmeans(step, centers, max_iter=max_iter, tol=tol_abs)
    del step
    cluster_centers = mapping.unmap_centers(run.centers)
    # The final labels are predict's, chunk by chunk (into the Lloyd labels' array).
    inertia = _predict_pass(stream, n, cluster_centers, mapping.shift, run.labels, progress)
    release_reader_memory()
    from kmeanskit._estimators.kmeans import KMeans

    est = KMeans(
        centers.shape[0], init=init if isinstance(init, str) else np.asarray(init), n_init=1,
        max_iter=max_iter, tol=tol, random_state=random_state,
    )
    run = dataclasses.replace(
        run, centers=cluster_centers, inertia=inertia, inertia_history=mapping.unmap_inertia(run.inertia_history)
    )
    return est._set_fitted(run, _X_mean=mapping.shift)


def _predict_pass(stream, n, centers, shift, labels, progress):
    """The final pass: ``predict``'s labels into ``labels``; the inertia."""
    inertia = 0.0
    for start, chunk in progress.passes(stream, "labels (last pass)", n):
        inertia += _predict_into(chunk, centers, shift, labels[start:start + chunk.shape[0]])
    return inertia


def _predict_into(X, centers, shift, out):
    """What ``KMeans._assign(X)`` does for a model fitted with ``cluster_centers_=centers``
    and ``_X_mean=shift``, without the class (scikit-learn): labels into ``out``; the inertia.

    The mapping is ``KMeans``'s (``prediction_rows``), so the labels are ``predict``'s.
    """
    from kmeanskit._algorithms.lloyd import LloydStep
    from kmeanskit._algorithms.rows import prediction_rows

    rows, mapped, scale = prediction_rows(X, np.ones(X.shape[0], dtype=X.dtype), centers, shift)
    return LloydStep(rows, centers.shape[0])(mapped, out, update=False).inertia / scale / scale


def _mini_batch_passes(stream, n, centers, mapping, tol_abs, max_iter, init, tol, random_state, rs, progress):
    from kmeanskit._algorithms.minibatch import BatchStep
    from kmeanskit._algorithms.threads import single_threaded_blas
    from kmeanskit._estimators.minibatch import MiniBatchKMeans

    k, d, dtype = centers.shape[0], centers.shape[1], stream.dtype
    est = MiniBatchKMeans(
        k, init=init if isinstance(init, str) else np.asarray(init), max_iter=max_iter,
        batch_size=_MINI_BATCH_SIZE, random_state=random_state, tol=tol,
    )
    b = min(_MINI_BATCH_SIZE, n)
    est._start_steps(mapping, tol_abs, b)
    shift, scale = mapping.shift, mapping.scale
    step = BatchStep(k, d, dtype, False, est.reassignment_ratio)
    weights = np.ones(b, dtype=dtype)
    n_steps_max = (max_iter * n) // b
    i, converged, passes = 0, False, 0
    carry = np.empty((0, d), dtype=dtype)  # mapped rows short of a batch, for the next chunk
    with single_threaded_blas():
        while passes < max_iter and not converged:
            passes += 1
            for _, chunk in progress.passes(stream, f"mini-batch (pass {passes})", n):
                chunk -= shift
                if scale != 1.0:
                    chunk *= dtype.type(scale)
                if carry.shape[0]:
                    chunk = np.concatenate((carry, chunk))
                # Files are often sorted: shuffle each chunk before cutting batches.
                chunk = chunk[rs.permutation(chunk.shape[0])]
                full = chunk.shape[0] - chunk.shape[0] % b
                carry = chunk[full:]
                for lo in range(0, full, b):
                    batch_inertia, centers, sq_shift = est._step(step, chunk[lo:lo + b], weights, centers, rs)
                    converged = est._mini_batch_convergence(i, n_steps_max, n, sq_shift if tol_abs > 0 else 0,
                                                            batch_inertia)
                    i += 1
                    if converged:
                        break
                if converged:
                    break
    est._set_centers(centers, False, dtype)
    est.n_steps_ = i
    est.n_iter_ = passes
    return est


