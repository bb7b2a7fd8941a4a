"""Registries: the values of ``algorithm`` and ``init`` -> the steps and seeders that run them.

Estimators validate the user's value against their parameter constraints,
then look it up here; adding a step or a seeder is one entry.
"""

import numpy as np

from kmeanskit._algorithms.bounded import GEMM_MIN_FEATURES, BoundedStep
from kmeanskit._algorithms.dask_step import DaskStep
from kmeanskit._algorithms.distinct import DistinctStep, distinct_rows_of
from kmeanskit._algorithms.init import kmeans_plusplus_rows, random_rows
from kmeanskit._algorithms.lloyd import LloydStep
from kmeanskit._algorithms.manhattan import ManhattanStep
from kmeanskit._algorithms.masked import MaskedStep, masked_plusplus
from kmeanskit._algorithms.mixed import MixedStep, cao_centers, huang_centers, mixed_plusplus_rows
from kmeanskit._algorithms.parallel_init import kmeans_parallel_rows
from kmeanskit._algorithms.spherical import SphericalStep
from kmeanskit._algorithms.streaming import StreamLloydStep
from kmeanskit._algorithms.yinyang import YinyangStep

__all__ = ["ALGORITHMS", "MASKED_SEEDERS", "MIXED_SEEDERS", "SEEDERS", "STEPS", "fit_step"]

# Every step of the convergence loop, by name. The Euclidean ones take dense
# or CSR rows ("distinct" is the bounded step on data with many repeated
# rows); the others take the rows of their estimator (unshifted dense rows for
# L1, normalised rows for cosine, mixed rows of numbers and codes, a stream of
# chunks, Dask blocks, rows with gaps for "masked": Lloyd on the observed entries).
STEPS = {
    "lloyd": LloydStep,
    "bounded": BoundedStep,
    "yinyang": YinyangStep,
    "distinct": DistinctStep,
    "l1": ManhattanStep,
    "mixed": MixedStep,
    "cosine": SphericalStep,
    "stream": StreamLloydStep,
    "dask": DaskStep,
    "masked": MaskedStep,
}

# The values of KMeans(algorithm=...) -> the step that runs them. The bounded
# step gives Lloyd's result (tested) and, once its first pass has set the
# bounds, skips most distance work; "hamerly" and "elkan" (scikit-learn's
# name) are accepted for it. "yinyang" keeps a bound per group of centers
# (the same result); it scores rows itself, so above GEMM_MIN_FEATURES the
# bounded step runs instead.
ALGORITHMS = {
    "auto": "bounded", "lloyd": "lloyd", "hamerly": "bounded", "elkan": "bounded", "yinyang": "yinyang",
}

# "auto" runs the Lloyd step below this much distance work per pass (rows x
# clusters x features): there the bounds' bookkeeping costs more than they
# save (on 31 shapes of 1,797-20,000 rows, 3-64 features, 4-256 clusters, Lloyd
# was as fast or faster on every one below it), and a small fit does not
# compile the bounded kernels (benchmarks/README.md).
AUTO_LLOYD_MAX_WORK = 1 << 22
# ... and the group-bounded step from this many clusters on (with fewer
# features than GEMM_MIN_FEATURES): there the bounded step's k x k table of
# center distances, sorted every pass, costs more than the rows (README, Speed).
AUTO_YINYANG_MIN_CLUSTERS = 1000
# ... and the Lloyd step, on rows that are not mostly repeats, when each row
# meets fewer than this many center values (clusters x features): there a
# row's whole arg-min costs about what the bounded step spends on each row it
# skips (its distance to its own center, its bounds, their branch), and
# whole fits ran 1.03-2.2x faster with Lloyd on 11 of 12 such shapes, 100,000
# rows of 2-5 features and 16-64 clusters, uniform and blobs (benchmarks/README.md).
AUTO_LLOYD_MAX_CENTER_VALUES = 160


def fit_step(rows, n_clusters, algorithm):
    """The Euclidean step of a fit for ``algorithm`` (a key of :data:`ALGORITHMS`).

    Sparse rows have no bounded kernel: they get the Lloyd step, and so do
    dense inputs with ``"auto"`` that are small or whose rows meet few center
    values. Dense rows with many repeats get the bounded (or group-bounded)
    step on their distinct rows.
    """
    name = ALGORITHMS[algorithm]
    auto = algorithm == "auto"
    small = auto and rows.n * n_clusters * rows.d < AUTO_LLOYD_MAX_WORK
    if name == "lloyd" or rows.sparse or small:
        return LloydStep(rows, n_clusters)
    if auto and n_clusters >= AUTO_YINYANG_MIN_CLUSTERS:
        name = "yinyang"
    inner = STEPS[name] if rows.d < GEMM_MIN_FEATURES else BoundedStep
    distinct = distinct_rows_of(rows)
    if distinct is not None:
        return DistinctStep(rows, n_clusters, distinct, inner=inner)
    if auto and n_clusters * rows.d < AUTO_LLOYD_MAX_CENTER_VALUES:
        return LloydStep(rows, n_clusters)
    return inner(rows, n_clusters)


def _random(rows, n_clusters, random_state, nearest=None, distinct=None):
    return random_rows(rows, n_clusters, random_state)


def _plusplus(rows, n_clusters, random_state, nearest=None, distinct=None):
    return kmeans_plusplus_rows(rows, n_clusters, random_state, nearest=nearest, distinct=distinct)[0]


def _parallel(rows, n_clusters, random_state, nearest=None, distinct=None):
    if nearest is None:
        nearest = np.empty(rows.n, dtype=np.int32)
    return kmeans_parallel_rows(rows, n_clusters, random_state, nearest)


# The values of init=... -> seeders. Each is called as
# ``seeder(rows, n_clusters, random_state, nearest=None, distinct=None)`` and
# returns the initial centers (rows' dtype), or None when k-means|| finds
# fewer distinct candidates than clusters. ``nearest`` (int32 per row, OUT),
# when given, receives each row's nearest center (greedy k-means++ and
# k-means||); ``distinct`` lets k-means++ score each distinct row once.
SEEDERS = {"random": _random, "k-means++": _plusplus, "k-means||": _parallel}


def _masked_plusplus(rows, n_clusters, random_state, nearest=None, distinct=None):
    return masked_plusplus(rows, n_clusters, random_state)[0]


# The seeders of rows with gaps (``MaskedRows``), called as those of
# :data:`SEEDERS`: k-means++ on partial distances, and random rows (whose gaps
# take the feature's observed mean). k-means|| has no masked version.
MASKED_SEEDERS = {"random": _random, "k-means++": _masked_plusplus}


# The values of KPrototypes(init=...) and KModes(init=...) -> seeders of mixed
# rows, each called as ``seeder(rows, n_clusters, random_state)`` and returning
# the initial centers in the mixed step's layout (numbers, then codes).
MIXED_SEEDERS = {
    "random": _random,
    "k-means++": lambda rows, n_clusters, random_state: mixed_plusplus_rows(rows, n_clusters, random_state)[0],
    "Huang": huang_centers,
    "Cao": cao_centers,
}
