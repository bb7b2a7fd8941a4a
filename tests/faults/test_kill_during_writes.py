"""kill -9 during every kind of write leaves the old file or a complete new one, never a part.

Each writer of kmeanskit (the model file of ``fit -o``, the labels of
``fit --labels``, the tables of ``predict -o`` as CSV and Parquet, the HTML of
``report``, the PNG of ``quantize`` and ``kmeanskit.save`` from Python) runs in
its own process over an existing valid old file, and is killed with SIGKILL at
a spread of moments: before it writes anything, as soon as its temporary file
(``.{target}.kmk-tmp-*``) appears in the target's folder, and a little later,
while it writes or once it has renamed. After each kill the target must be
byte-identical to the old file or be a complete new one (it loads, parses, or
ends as its format ends); the counts old / new / half-written are recorded per
writer (``record_property``) and half-written must be 0. A kill that left its
temporary file behind struck in the middle of the write.

Then one normal run of the same writer must leave no temporary file of ours:
the ones the kills left are removed by the next write to the same target
(``kmeanskit._io.atomic``). That write leaves alone a temporary file younger
than a few seconds, whose writer may still be about to lock it, so the left
ones are first aged as if the kills were a minute old.

The inputs are sized so that each write takes long enough to be struck in the
middle (a few hundred thousand rows for ``predict``), and the whole file runs
in about a minute on two shared cores.
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

import kmeanskit
from kmeanskit._io.atomic import TEMP_MARK
from kmeanskit.cli import main

pytest.importorskip("fcntl")  # the cleaning of stale temporary files relies on POSIX locks
Image = pytest.importorskip("PIL.Image")

N_FIT, N_PREDICT, N_REPORT, N_SMALL = 50_000, 200_000, 10_000, 2_000
K_OLD, K_NEW = 3, 5
IMAGE_OLD, IMAGE_NEW = (64, 48), (600, 450)

# When to kill: ("start", s) s seconds after the process starts (before it
# writes anything); ("temp", s) s seconds after its temporary file appears.
KILLS = (("start", 0.5), ("temp", 0.0), ("temp", 0.005), ("temp", 0.05))
_POLL_SECONDS = 0.0005
_RUN_TIMEOUT = 120.0
_SAVE = "import sys, kmeanskit; kmeanskit.save(kmeanskit.load(sys.argv[1]), sys.argv[2])"


@dataclass
class Writer:
    argv: Callable  # (inputs folder, target) -> the arguments after ``python``
    target: str
    is_new: Callable  # (target) -> whether it is a complete new file
    old_argv: Callable  # (inputs folder, target) -> arguments of kmeanskit.cli.main writing the old file


def _loads_as_new_model(path):
    return kmeanskit.load(path)[-1].cluster_centers_.shape == (K_NEW, 4)  # a pipeline: scaler, KMeans


def _csv_rows(path, rows, columns):
    table = pd.read_csv(path)
    return len(table) == rows and list(table.columns) == columns


def _parquet_rows(path, rows, columns):
    table = pd.read_parquet(path)
    return len(table) == rows and list(table.columns) == columns


def _is_new_html(path):
    text = path.read_text(encoding="utf-8")
    return (text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
            and "report.csv</title>" in text)  # the title names the data


def _is_new_png(path):
    with Image.open(path) as image:
        image.load()  # decodes every row: a truncated PNG raises
        return image.format == "PNG" and image.size == IMAGE_NEW


_PREDICTED = ["a", "b", "c", "d", "cluster", "distance"]

WRITERS = {
    "fit -o model.kmk": Writer(
        argv=lambda d, t: ["-m", "kmeanskit", "fit", str(d / "fit.csv"), "-k", str(K_NEW), "--n-init", "1",
                           "-o", str(t)],
        target="model.kmk",
        is_new=_loads_as_new_model,
        old_argv=lambda d, t: ["fit", str(d / "small.csv"), "-k", str(K_OLD), "--n-init", "1", "-o", str(t)],
    ),
    "fit --labels out.csv": Writer(
        argv=lambda d, t: ["-m", "kmeanskit", "fit", str(d / "fit.csv"), "-k", str(K_NEW), "--n-init", "1",
                           "--labels", str(t)],
        target="labels.csv",
        is_new=lambda t: _csv_rows(t, N_FIT, ["cluster"]),
        old_argv=lambda d, t: ["fit", str(d / "small.csv"), "-k", str(K_OLD), "--n-init", "1", "--labels", str(t)],
    ),
    "predict -o out.csv": Writer(
        argv=lambda d, t: ["-m", "kmeanskit", "predict", str(d / "model.kmk"), str(d / "predict.csv"), "-o", str(t)],
        target="out.csv",
        is_new=lambda t: _csv_rows(t, N_PREDICT, _PREDICTED),
        old_argv=lambda d, t: ["predict", str(d / "model.kmk"), str(d / "small.csv"), "-o", str(t)],
    ),
    "predict -o out.parquet": Writer(
        argv=lambda d, t: ["-m", "kmeanskit", "predict", str(d / "model.kmk"), str(d / "predict.csv"), "-o", str(t)],
        target="out.parquet",
        is_new=lambda t: _parquet_rows(t, N_PREDICT, _PREDICTED),
        old_argv=lambda d, t: ["predict", str(d / "model.kmk"), str(d / "small.csv"), "-o", str(t)],
    ),
    "report -o out.html": Writer(
        argv=lambda d, t: ["-m", "kmeanskit", "report", str(d / "report.csv"), "-k", str(K_NEW), "--no-select-k",
                           "-o", str(t)],
        target="report.html",
        is_new=_is_new_html,
        old_argv=lambda d, t: ["report", str(d / "small.csv"), "-k", str(K_OLD), "--no-select-k", "-o", str(t)],
    ),
    "quantize -o out.png": Writer(
        argv=lambda d, t: ["-m", "kmeanskit", "quantize", str(d / "new.png"), "-k", "8", "-o", str(t)],
        target="out.png",
        is_new=_is_new_png,
        old_argv=lambda d, t: ["quantize", str(d / "old.png"), "-k", "8", "-o", str(t)],
    ),
    "kmeanskit.save": Writer(
        argv=lambda d, t: ["-c", _SAVE, str(d / "new_model.kmk"), str(t)],
        target="saved.kmk",
        is_new=_loads_as_new_model,
        old_argv=lambda d, t: ["fit", str(d / "small.csv"), "-k", str(K_OLD), "--n-init", "1", "-o", str(t)],
    ),
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The tables, images and models the writers read (the models written in this process)."""
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=4.0, size=(K_NEW, 4))
    X = centers[rng.integers(K_NEW, size=N_PREDICT)] + rng.normal(size=(N_PREDICT, 4))
    table = pd.DataFrame(X.round(6), columns=list("abcd"))
    table.to_csv(folder / "predict.csv", index=False)
    table[:N_FIT].to_csv(folder / "fit.csv", index=False)
    table[:N_REPORT].to_csv(folder / "report.csv", index=False)
    table[:N_SMALL].to_csv(folder / "small.csv", index=False)
    for name, (width, height) in {"old.png": IMAGE_OLD, "new.png": IMAGE_NEW}.items():
        # Colour gradients with noise: many colours, and a PNG that takes a while to encode.
        y, x = np.mgrid[0:height, 0:width]
        gradients = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], axis=-1)
        pixels = np.clip(gradients + rng.integers(-60, 61, size=(height, width, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / name)
    assert main(["fit", str(folder / "small.csv"), "-k", str(K_OLD), "--n-init", "1", "-o",
                 str(folder / "model.kmk")]) == 0
    assert main(["fit", str(folder / "fit.csv"), "-k", str(K_NEW), "--n-init", "1", "-o",
                 str(folder / "new_model.kmk")]) == 0
    return folder


def _env():
    """The test's environment, with this source tree first on the path (kmeanskit need not be installed)."""
    src = Path(kmeanskit.__file__).resolve().parents[1]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))}


def _temps(folder, target):
    prefix = f".{target}{TEMP_MARK}"
    return {entry.name for entry in os.scandir(folder) if entry.name.startswith(prefix)}


def _start_and_kill(argv, folder, target, when):
    """Start the writer, SIGKILL it at ``when`` (see ``KILLS``); return whether its temp file was seen."""
    before = _temps(folder, target)
    process = subprocess.Popen([sys.executable, *argv], env=_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    seen = False
    try:
        kind, seconds = when
        if kind == "start":
            try:
                process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                pass
        else:
            deadline = time.monotonic() + _RUN_TIMEOUT
            while process.poll() is None and time.monotonic() < deadline:
                if _temps(folder, target) - before:
                    seen = True
                    if seconds:
                        time.sleep(seconds)
                    break
                time.sleep(_POLL_SECONDS)
        process.kill()  # SIGKILL; nothing if it has already exited
    finally:
        process.wait()
    return seen


@pytest.mark.parametrize("name", list(WRITERS))
def test_kill_9_leaves_the_old_file_or_the_new_one(inputs, tmp_path, record_property, name):
    writer = WRITERS[name]
    target = tmp_path / writer.target
    assert main(writer.old_argv(inputs, target)) == 0
    old = target.read_bytes()
    assert not writer.is_new(target)  # the old file and a new one are told apart

    counts = {"kills": 0, "old": 0, "new": 0, "half-written": 0, "temp seen": 0, "temp left": 0}
    half = []
    for when in KILLS:
        target.write_bytes(old)  # every kill strikes over the old file
        left_before = _temps(tmp_path, writer.target)
        counts["temp seen"] += _start_and_kill(writer.argv(inputs, target), tmp_path, writer.target, when)
        counts["kills"] += 1
        counts["temp left"] += bool(_temps(tmp_path, writer.target) - left_before)
        if target.read_bytes() == old:
            counts["old"] += 1
            continue
        try:
            complete = writer.is_new(target)
        except Exception:  # a part of a file does not load, parse or decode
            complete = False
        if complete:
            counts["new"] += 1
        else:
            counts["half-written"] += 1
            half.append(when)
    record_property("kill_9_counts", counts)
    assert counts["half-written"] == 0, f"{name}: {counts}; half-written after kills at {half}"

    # The temporary files the kills left, as a later write would find them: a minute old.
    left = _temps(tmp_path, writer.target)
    then = time.time() - 60.0
    for temp in left:
        os.utime(tmp_path / temp, (then, then))
    done = subprocess.run([sys.executable, *writer.argv(inputs, target)], env=_env(), capture_output=True,
                          text=True, timeout=_RUN_TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert writer.is_new(target)
    assert _temps(tmp_path, writer.target) == set(), f"{name}: temporary files left after a normal run ({counts})"
    print(f"\n{name}: {counts}; {len(left)} stale temporary files removed by the next write")
