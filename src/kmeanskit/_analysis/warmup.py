"""Compile the kernels of small inputs ahead of their first use: ``kmeanskit warmup``.

A kernel compiles on its first call on a machine (seconds) and is loaded from
numba's cache afterwards (see :mod:`kmeanskit._engine.compiling`). Wheels
cannot ship machine code for the user's processor, so a new install compiles
on its first fit: up to several seconds per estimator. :func:`compile_kernels`
makes those first calls once, on small tables of the kinds the estimators and
``kmeanskit fit`` see (float64 and float32, dense, and CSR matrices for the
estimators that take them), so that later processes only load. Inputs above
the serial threshold (``kmeanskit._engine.serial``) run the parallel kernels,
which still compile on first use.

When it completes, the machine is *warm* (a stamp beside numba's cache):
until then, small inputs run NumPy twins of the kernels not yet compiled, and
the first of them starts this warmup in the background
(:mod:`kmeanskit._engine.compiling`).
"""

import numpy as np

from kmeanskit._engine.compiling import compile_clock, mark_warm, warmup_lock
from kmeanskit._engine.serial import kernels_mode

__all__ = ["compile_kernels", "warmup_calls"]


def warmup_calls():
    """The first calls :func:`compile_kernels` makes, by name, in order.

    Returns
    -------
    dict of str to callable
        Each callable takes no argument and runs one first call: a fit of an
        estimator with its defaults on a small table (150 rows, as iris), the
        k-means++ seeding and the silhouette (``kmeanskit fit`` runs no other
        kernel); then the same in float32 (its kernels are compiled apart), and
        the fits of CSR matrices.
    """
    import scipy.sparse as sp

    from kmeanskit._analysis.metrics import silhouette_score
    from kmeanskit._estimators.kmeans import KMeans, kmeans_plusplus
    from kmeanskit._estimators.kmedians import KMedians
    from kmeanskit._estimators.kprototypes import KModes, KPrototypes
    from kmeanskit._estimators.minibatch import MiniBatchKMeans
    from kmeanskit._estimators.spherical import SphericalKMeans

    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4)) + np.repeat(np.eye(3, 4) * 4.0, 50, axis=0)
    codes = rng.integers(0, 3, size=(150, 2)).astype(float)
    mixed = np.column_stack([X[:, :2], codes])
    labels = np.repeat(np.arange(3), 50)
    X32 = X.astype(np.float32)
    # A CSR table of about 10% nonzeros (TF-IDF-like), every row with at least one.
    dense = np.where(rng.random((150, 40)) < 0.1, rng.random((150, 40)), 0.0)
    dense[np.arange(150), np.arange(150) % 40] += 1.0
    sparse = sp.csr_matrix(dense)
    calls = {
        "KMeans": lambda: KMeans(3, random_state=0).fit(X),
        "MiniBatchKMeans": lambda: MiniBatchKMeans(3, random_state=0, n_init=1).fit(X),
        "KMedians": lambda: KMedians(3, random_state=0).fit(X),
        "SphericalKMeans": lambda: SphericalKMeans(3, random_state=0).fit(X),
        "KPrototypes": lambda: KPrototypes(3, categorical=[2, 3], random_state=0).fit(mixed),
        "KModes": lambda: KModes(3, random_state=0).fit(codes),
        "kmeans_plusplus": lambda: kmeans_plusplus(X, 3, random_state=0),
        "silhouette_score": lambda: silhouette_score(X, labels),
        # Fewer than 4 features: seeding scores by direct differences (another kernel).
        "KMeans 2 features": lambda: KMeans(3, random_state=0).fit(X[:, :2]),
        # More than 24 features: small inputs' seeding scores by BLAS dots (other kernels).
        "KMeans 28 features": lambda: KMeans(3, random_state=0).fit(np.tile(X, 7)),
        "KMeans float32": lambda: KMeans(3, random_state=0).fit(X32),
        "KMeans float32, 2 features": lambda: KMeans(3, random_state=0).fit(X32[:, :2]),
        "KMeans float32, 28 features": lambda: KMeans(3, random_state=0).fit(np.tile(X32, 7)),
        "MiniBatchKMeans float32": lambda: MiniBatchKMeans(3, random_state=0, n_init=1).fit(X32),
        "KMedians float32": lambda: KMedians(3, random_state=0).fit(X32),
        "SphericalKMeans float32": lambda: SphericalKMeans(3, random_state=0).fit(X32),
        "kmeans_plusplus float32": lambda: kmeans_plusplus(X32, 3, random_state=0),
        "silhouette_score float32": lambda: silhouette_score(X32, labels),
        "KMeans sparse": lambda: KMeans(3, random_state=0).fit(sparse),
        "MiniBatchKMeans sparse": lambda: MiniBatchKMeans(3, random_state=0, n_init=1).fit(sparse),
        "SphericalKMeans sparse": lambda: SphericalKMeans(3, random_state=0).fit(sparse),
    }
    return calls


def compile_kernels(on_call=None, wait=True, on_wait=None):
    """Compile (or load from numba's cache) the kernels of small inputs, then mark the machine warm.

    The compiled kernels run (kernel mode ``"compiled"``, never the NumPy
    twins), under the warmup's lock; the warm stamp is written last, so a
    warmup stopped midway leaves none.

    Parameters
    ----------
    on_call : callable, optional
        Called as ``on_call(name, clock)`` after each first call of
        :func:`warmup_calls`, with the :class:`~kmeanskit._engine.compiling.CompileClock`
        of that call (for progress lines).
    wait : bool, default=True
        When another warmup holds the lock: wait for it (True), or return
        None at once (False: a background warmup leaves the work to it).
    on_wait : callable, optional
        Called with no argument before waiting for another warmup.

    Returns
    -------
    CompileClock or None
        All the compilations: ``seconds``, ``n_compiled`` and ``kernels``
        (empty when everything was already cached); None when another
        warmup was running and ``wait`` is False.
    """
    calls = warmup_calls()
    with warmup_lock(wait, on_wait) as held:
        if not held:
            return None
        with kernels_mode("compiled"), compile_clock() as total:
            for name, call in calls.items():
                with compile_clock() as clock:
                    call()
                if on_call is not None:
                    on_call(name, clock)
        mark_warm()
    return total
