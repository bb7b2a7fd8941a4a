"""The benchmark data sets, generated or loaded from files that ship with scikit-learn."""

import numpy as np
from sklearn.datasets import load_sample_image, make_blobs

__all__ = ["CASES", "load_case"]


def _china():
    # 273,280 pixels x 3 channels, scaled to [0, 1] as in scikit-learn's example.
    image = load_sample_image("china.jpg")
    return np.asarray(image, dtype=np.float64).reshape(-1, 3) / 255.0


def _blobs(n, d, k, dtype):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=2.0, random_state=0)
    return X.astype(dtype)


# name -> (loader, k)
CASES = {
    "china-273kx3-k64": (_china, 64),
    "blobs-200kx32-k100-f64": (lambda: _blobs(200_000, 32, 100, np.float64), 100),
    "blobs-1Mx128-k256-f32": (lambda: _blobs(1_000_000, 128, 256, np.float32), 256),
}


def load_case(name):
    loader, k = CASES[name]
    return loader(), k
