"""``python -m benchmarks markers``: the cost of recording missing-value markers.

``read_raw_table`` with and without ``return_markers`` (the second read, as
text, of the columns with gaps), on two files of 1,000,000 rows written to a
temporary directory: one with gaps (a category column with 10% ``n/a``, an
integer column with 5% ``NA``, four float columns), one of the four float
columns alone. Each is read 7 times both ways, interleaved; medians.
"""

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kmeanskit._io.tables import read_raw_table


def main(argv=None):
    rng = np.random.default_rng(0)
    n = 1_000_000
    frame = pd.DataFrame({f"x{j}": rng.normal(size=n).round(4) for j in range(4)})
    frame.insert(0, "status", rng.choice(["gold", "silver", "bronze"], n))
    frame.insert(1, "age", rng.integers(18, 80, n).astype(str))
    frame.loc[rng.random(n) < 0.1, "status"] = "n/a"
    frame.loc[rng.random(n) < 0.05, "age"] = "NA"
    with tempfile.TemporaryDirectory() as scratch:
        files = {"gaps": Path(scratch) / "gaps.csv", "no gaps": Path(scratch) / "nogaps.csv"}
        frame.to_csv(files["gaps"], index=False)
        frame[[f"x{j}" for j in range(4)]].to_csv(files["no gaps"], index=False)
        for name, path in files.items():
            plain, marked = [], []
            for _ in range(7):
                start = time.perf_counter()
                read_raw_table(path)
                plain.append(time.perf_counter() - start)
                start = time.perf_counter()
                read_raw_table(path, return_markers=True)
                marked.append(time.perf_counter() - start)
            print(f"{name}: read {statistics.median(plain):.3f} s, with the markers recorded "
                  f"{statistics.median(marked):.3f} s ({statistics.median(marked) / statistics.median(plain):.2f}x)")


if __name__ == "__main__":
    main()
