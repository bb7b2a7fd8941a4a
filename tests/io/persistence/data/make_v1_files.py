"""Write the version 1 model files kept here, with the writer of that version.

Run from the repository root (it needs git and the commit below, whose
``persistence.py`` wrote every ``.kmk`` file before MiniBatchKMeans,
SphericalKMeans and KMedians were supported)::

    python tests/io/persistence/data/make_v1_files.py

It writes ``kmeans_v1.kmk`` (KMeans, float64), ``pipeline_v1.kmk``
(StandardScaler + KMeans, float32, with feature names) and
``v1_expected.json`` (the version 1 loader's labels and distances on the first 25 test rows).
"""

import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans

V1_COMMIT = "8a9c1a6f0a030c9864d9ca71c85717f8c53b222f"
HERE = Path(__file__).parent


def blobs(dtype, n=500, seed=0):
    """The data of the files: 400 training rows and 100 test rows (as test_model_file._blobs)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=10.0, size=(4, 5)) + 1000.0
    X = centers[rng.integers(0, 4, size=n)] + rng.normal(size=(n, 5))
    X[:, 2] *= 50.0
    return X[:400].astype(dtype), X[400:].astype(dtype)


def v1_module():
    source = subprocess.run(["git", "show", f"{V1_COMMIT}:src/kmeanskit/persistence.py"], check=True,
                            capture_output=True, text=True).stdout
    # That version's relative imports, to where those modules live now.
    source = source.replace("from ._kmeans import", "from kmeanskit._estimators.kmeans import")
    path = Path(tempfile.mkdtemp()) / "persistence_v1.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("kmeanskit._persistence_v1", path)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "kmeanskit"  # its relative imports are the package's
    spec.loader.exec_module(module)
    return module


def main():
    v1 = v1_module()
    X, X_test = blobs(np.float64)
    v1.save(KMeans(4, random_state=0).fit(X), HERE / "kmeans_v1.kmk", X=X)
    columns = [f"f{i}" for i in range(5)]
    X32, X32_test = blobs(np.float32)
    frame = pd.DataFrame(X32, columns=columns)
    pipe = Pipeline([("scale", StandardScaler()), ("cluster", KMeans(3, random_state=2))]).fit(frame)
    v1.save(pipe, HERE / "pipeline_v1.kmk", X=frame)
    expected = {}
    test_rows = (("kmeans_v1.kmk", X_test[:25]), ("pipeline_v1.kmk", pd.DataFrame(X32_test[:25], columns=columns)))
    for name, rows in test_rows:
        model = v1.load(HERE / name)
        expected[name] = {
            "labels": model.predict(rows).tolist(),
            "distances": [[float(v).hex() for v in row] for row in model.transform(rows).astype(np.float64)],
        }
    (HERE / "v1_expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
