"""Peak memory of ``kmeanskit fit DATA --out-of-core`` on a Parquet file larger than it (GitHub issue 6).

Writes blobs of ``--rows`` x 16 float64 (default 4 000 000 rows, 512 MB of
values; 16 row groups) to a temporary directory, then runs in a subprocess,
under ``/usr/bin/time -v`` (or, without it, ``resource.getrusage``):

- the import-only baseline: ``python -c "import kmeanskit.cli"``, and the
  libraries every fit ends up holding (pyarrow.parquet, numba with its
  kernels loaded, pandas and scikit-learn) together, with a 256-row fit: the
  floor no fit can go below (add 4 bytes per row for the labels);
- ``kmeanskit fit FILE -k 16 --out-of-core --seed 0 -o model.kmk``, the CLI
  command of the issue;
- ``fit_out_of_core(FILE, 16, random_state=0)``, the Python API.

and prints the peak resident set size (maximum RSS) and the wall time of each.
The issue's target is a fit under 300 MB.

Run: ``python -m benchmarks out-of-core [--rows N] [--k K] [--chunk-rows N]``.
"""

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

_FEATURES = 16
_ROW_GROUPS = 16
_TIME = "/usr/bin/time"
# The libraries, and numba's kernels loaded by a fit of 256 rows (LLVM's start-up alone is about 50 MB).
_FLOOR = (
    "import numpy as np, pyarrow.parquet, pandas, sklearn.pipeline, sklearn.metrics, kmeanskit._estimators.kmeans; "
    "from kmeanskit.streaming import fit_out_of_core; "
    "fit_out_of_core(np.random.default_rng(0).normal(size=(256, 16)), 16, random_state=0)"
)


def write_blobs(path, n_rows, seed=0):
    """Blobs of ``n_rows`` x 16 float64 around 16 centers, in 16 row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=10.0, size=(16, _FEATURES))
    schema = pa.schema([(f"f{j}", pa.float64()) for j in range(_FEATURES)])
    per_group = -(-n_rows // _ROW_GROUPS)
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, n_rows, per_group):
            m = min(per_group, n_rows - start)
            X = centers[rng.integers(0, 16, m)] + rng.normal(size=(m, _FEATURES))
            writer.write_table(pa.table({f"f{j}": X[:, j] for j in range(_FEATURES)}), row_group_size=m)


def measure(command):
    """Run ``command``; its peak RSS in MB, wall time in seconds, and stdout."""
    timed = os.path.exists(_TIME)
    argv = [_TIME, "-v", *command] if timed else command
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    if timed:
        kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    else:  # the largest child so far: run the commands from small to large
        kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return kb / 1024, seconds, done.stdout


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks out-of-core", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=4_000_000, help="rows of the file (default: %(default)s)")
    parser.add_argument("--k", type=int, default=16, help="clusters (default: %(default)s)")
    parser.add_argument("--chunk-rows", type=int, default=65536, help="rows per chunk (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.rows < args.k:
        parser.error(f"--rows ({args.rows}) must be at least --k ({args.k})")

    cli = shutil.which("kmeanskit", path=os.path.dirname(sys.executable)) or None
    fit = [cli] if cli else [sys.executable, "-m", "kmeanskit"]
    tmp = Path(tempfile.mkdtemp(prefix="kmeanskit-ooc-"))
    try:
        data = tmp / "blobs.parquet"
        t0 = time.perf_counter()
        write_blobs(data, args.rows)
        print(f"{args.rows} x {_FEATURES} float64 ({args.rows * _FEATURES * 8 / 2**20:.0f} MB of values, "
              f"{data.stat().st_size / 2**20:.0f} MB file) written in {time.perf_counter() - t0:.1f} s")
        rows = [
            ("import kmeanskit.cli", [sys.executable, "-c", "import kmeanskit.cli"]),
            ("libraries of a fit (floor)", [sys.executable, "-c", _FLOOR]),
            (f"fit -k {args.k} --out-of-core",
             [*fit, "fit", str(data), "-k", str(args.k), "--out-of-core", "--seed", "0",
              "--chunk-rows", str(args.chunk_rows), "-o", str(tmp / "model.kmk")]),
            (f"fit_out_of_core(k={args.k}) (API)",
             [sys.executable, "-c", "from kmeanskit.streaming import fit_out_of_core; "
              f"fit_out_of_core({str(data)!r}, {args.k}, chunk_rows={args.chunk_rows}, random_state=0)"]),
        ]
        print(f"{'what':32s} {'peak RSS':>10s} {'wall':>8s}")
        for name, command in rows:
            peak, seconds, out = measure(command)
            print(f"{name:32s} {peak:7.1f} MB {seconds:7.2f} s")
            fit_time = re.search(r"fit time:\s+(\S+ s)", out)
            if fit_time:
                print(f"{'':32s} (fit time reported: {fit_time.group(1)})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
