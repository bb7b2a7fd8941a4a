"""kmeanskit._estimators.dask.KMeans against dask-ml's KMeans on the same LocalCluster.

Data: blobs, 2M x 16 float64 (16 centers, made on the workers and persisted),
k=16, on a LocalCluster of 2 worker processes x 1 thread. Two measurements:

1. Lloyd iterations from the same initial centers: whole fits with
   ``max_iter=10, tol=0`` (and ``max_iter=1``, so that the time per iteration is
   ``(t10 - t1) / 9`` with the fixed costs cancelled), both libraries measured
   alternately in each repeat; medians over ``--repeats``, and speed-ups as the
   median of the per-repeat ratios (this machine is shared; its speed drifts).
2. The default fit end to end (k-means|| then iterations to convergence),
   ``random_state=0``, once each.

Every final inertia is recomputed the same way for both (exact squared
distances to the nearest center): dask-ml's ``inertia_`` is not the sum of
squared distances.

Run: ``python -m benchmarks dask [--rows N] [--repeats R] [--skip-default]``.
"""

import argparse
import time
import warnings

import numpy as np

N_FEATURES = 16
N_CLUSTERS = 16
BLOCK_ROWS = 250_000


def _blob_block(centers, std, start, stop):
    """Rows ``start:stop``: a random center each, plus Gaussian noise (seeded by position)."""
    rng = np.random.default_rng([0, start])
    labels = rng.integers(centers.shape[0], size=stop - start)
    return centers[labels] + rng.normal(scale=std, size=(stop - start, centers.shape[1]))


def make_data(client, n_rows):
    """Dask array of blobs made on the workers, its blocks dealt to them in turn.

    (Left to the scheduler, 8 blocks can land 5 and 3 on two workers, which
    would time the busier worker.)
    """
    import dask
    import dask.array as da
    from distributed import wait

    centers = np.random.default_rng(1).uniform(-10.0, 10.0, size=(N_CLUSTERS, N_FEATURES))
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    bounds = list(range(0, n_rows, BLOCK_ROWS)) + [n_rows]
    futures = [
        client.submit(_blob_block, centers, 2.0, start, stop, workers=[workers[i % len(workers)]], pure=False)
        for i, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
    ]
    wait(futures)
    parts = [
        da.from_delayed(dask.delayed(f), shape=(stop - start, N_FEATURES), dtype=np.float64)
        for f, start, stop in zip(futures, bounds[:-1], bounds[1:], strict=True)
    ]
    return da.concatenate(parts).persist()


def _block_inertia(Xb, centers):
    from sklearn.metrics import pairwise_distances_argmin

    labels = pairwise_distances_argmin(Xb, centers)
    diff = Xb - centers[labels]
    return np.array([np.einsum("ij,ij->", diff, diff)])


def exact_inertia(X, centers):
    """Sum of exact squared distances of the rows of X to their nearest center."""
    parts = X.map_blocks(_block_inertia, np.asarray(centers, dtype=np.float64), chunks=(1,), drop_axis=1, dtype=float)
    return float(parts.sum().compute())


def _fit(cls, X, **params):
    t0 = time.perf_counter()
    km = cls(n_clusters=N_CLUSTERS, **params).fit(X)
    return time.perf_counter() - t0, km


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks dask", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-default", action="store_true", help="only the iterations from the same centers")
    args = parser.parse_args(argv)

    from dask_ml.cluster import KMeans as DaskMLKMeans
    from distributed import Client, LocalCluster

    from kmeanskit.dask import KMeans

    warnings.filterwarnings("ignore", message="Sending large graph")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        print(f"cluster: {client}", flush=True)
        X = make_data(client, args.rows)
        placement = sorted(len(keys) for keys in client.has_what().values())
        print(f"blocks of X per worker: {placement}", flush=True)
        init = X[np.sort(np.random.RandomState(0).choice(args.rows, N_CLUSTERS, replace=False))].compute()
        same = {"init": init, "tol": 0.0}
        # Warm both (worker imports, numba's cache, dask-ml's numba jit).
        _fit(KMeans, X, max_iter=1, **same)
        _fit(DaskMLKMeans, X, max_iter=1, **same)

        times = {"kmeanskit": ([], []), "dask-ml": ([], [])}
        final = {}
        for repeat in range(args.repeats):
            for name, cls in (("kmeanskit", KMeans), ("dask-ml", DaskMLKMeans)):
                t1, _ = _fit(cls, X, max_iter=1, **same)
                t10, km = _fit(cls, X, max_iter=10, **same)
                times[name][0].append(t1)
                times[name][1].append(t10)
                final[name] = km.cluster_centers_
                print(f"  repeat {repeat}: {name}: 1 iteration {t1:.2f} s, 10 iterations {t10:.2f} s", flush=True)

        print(f"\n{args.rows:,} x {N_FEATURES} float64, k={N_CLUSTERS}, 2 workers x 1 thread, "
              f"medians of {args.repeats} (10 iterations from the same centers)")
        print(f"{'library':<12}{'fit (10 it.) s':>16}{'per iteration s':>17}{'final inertia':>20}")
        rows = {}
        for name in times:
            t1, t10 = np.median(times[name][0]), np.median(times[name][1])
            per_iter = float(np.median(np.subtract(times[name][1], times[name][0]))) / 9
            rows[name] = (t10, per_iter, exact_inertia(X, final[name]))
            print(f"{name:<12}{t10:>16.2f}{per_iter:>17.3f}{rows[name][2]:>20.6e}")
        # The machine is shared and drifts: the ratio of each repeat (both measured in it), then the median.
        ours, theirs = (np.asarray(times[n]) for n in ("kmeanskit", "dask-ml"))
        whole = float(np.median(theirs[1] / ours[1]))
        per_iteration = float(np.median((theirs[1] - theirs[0]) / (ours[1] - ours[0])))
        print(f"speed-up (median of the per-repeat ratios): whole 10-iteration fit {whole:.2f}x, "
              f"per iteration {per_iteration:.2f}x")

        if not args.skip_default:
            print("\ndefault fit end to end (k-means||, random_state=0):")
            for name, cls in (("kmeanskit", KMeans), ("dask-ml", DaskMLKMeans)):
                seconds, km = _fit(cls, X, random_state=0)
                print(f"  {name:<10} {seconds:8.2f} s, {km.n_iter_:3d} iterations, "
                      f"inertia {exact_inertia(X, km.cluster_centers_):.6e}", flush=True)
    return rows


if __name__ == "__main__":
    main()
