"""``python -m benchmarks write-back``: the cost of writing DATA's cells back as DATA writes them.

On a text file of 1,000,000 rows (an id and a ZIP code with leading zeros,
four numbers with trailing zeros, an amount with thousands separators, a
category, a date), written to a temporary directory:

- the write alone, in one process, interleaved: the rows written from the
  values read (``MissingMarkers.restore`` and ``write_table``, as ``predict``
  wrote them before) against ``write_text_back`` (the file read again as text,
  chunk by chunk), medians of ``--repeats``;
- with ``--before SRC``, the whole ``kmeanskit predict MODEL DATA -o out.csv``
  command from that source tree and from this one, alternately, each in a
  fresh process: wall time and peak resident memory (medians).

Run: ``python -m benchmarks write-back [--rows N] [--repeats R] [--before SRC]``.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kmeanskit._io.table_rules import TextLayout
from kmeanskit._io.tables import read_raw_table, write_table
from kmeanskit._io.write_back import write_text_back

_SRC = Path(__file__).resolve().parents[1] / "src"


def _table(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "id": [f"{i:07d}" for i in range(n)],
        "zip": [f"{z:05d}" for z in rng.integers(0, 99999, n)],
        **{f"x{j}": [f"{v:.2f}" for v in rng.normal(10 * (j + 1), 3, n)] for j in range(4)},
        "amount": [f"{v:,.2f}" for v in rng.uniform(0, 1e6, n)],
        "plan": rng.choice(["basic", "plus", "pro"], n),
        "signup": (np.datetime64("2020-01-01") + rng.integers(0, 1500, n)).astype(str),
    })
    frame.loc[rng.random(n) < 0.02, "plan"] = "n/a"
    return frame


def _command(src: Path, *args, output: Path | None = None) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MB) of ``kmeanskit ARGS`` run from `src` (`output` then removed)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "kmeanskit", *map(str, args)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"kmeanskit {' '.join(map(str, args))} failed: {process.stderr.read().decode()}")
    process.stderr.close()
    if output is not None:
        output.unlink()
    return seconds, usage.ru_maxrss / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks write-back")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", metavar="SRC", help="also time the whole predict command from this source tree")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        data, out = scratch / "customers.csv", scratch / "assigned.csv"
        frame = _table(args.rows)
        frame.to_csv(data, index=False)
        frame.iloc[:10_000].to_csv(scratch / "sample.csv", index=False)
        size = data.stat().st_size / 1e6
        print(f"{args.rows:,} rows, {frame.shape[1]} columns, {size:.0f} MB")
        layout = TextLayout(thousands=",")
        typed, markers = read_raw_table(data, layout=layout, return_markers=True)
        added = pd.DataFrame({"cluster": np.arange(len(typed)) % 8, "distance": np.linspace(0, 3, len(typed))})
        predicted = pd.concat([typed, added], axis=1)
        values, text = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            write_table(markers.restore(predicted), out)
            values.append(time.perf_counter() - start)
            start = time.perf_counter()
            write_text_back(data, added, out, layout=layout)
            text.append(time.perf_counter() - start)
        print(f"write alone: from the values read {statistics.median(values):.2f} s, each cell as written "
              f"{statistics.median(text):.2f} s ({statistics.median(text) / statistics.median(values):.2f}x)")
        if args.before is None:
            return
        model = scratch / "m.kmk"
        fit = ["fit", scratch / "sample.csv", "-k", 8, "--seed", 0, "--columns", "x0,x1,x2,x3", "--n-init", 1,
               "--stability", 0, "-o", model]
        _command(_SRC, *fit)
        predict = ["predict", model, data, "--thousands", ",", "-o", out]
        timings = {"before": [], "now": []}
        for _ in range(args.repeats):
            for name, src in (("before", Path(args.before)), ("now", _SRC)):
                timings[name].append(_command(src, *predict, output=out))
        for name, runs in timings.items():
            print(f"predict -o out.csv, {name}: {statistics.median(r[0] for r in runs):.2f} s, "
                  f"peak {statistics.median(r[1] for r in runs):.0f} MB")


if __name__ == "__main__":
    main()
