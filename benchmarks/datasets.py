"""The benchmark data sets, generated or loaded from files that ship with scikit-learn."""

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits, load_sample_image, make_blobs

__all__ = ["CASES", "DENSE_CASES", "QUICK_CASES", "is_sparse_case", "load_case"]


def _china():
    # 273,280 pixels x 3 channels, scaled to [0, 1] as in scikit-learn's example.
    image = load_sample_image("china.jpg")
    return np.asarray(image, dtype=np.float64).reshape(-1, 3) / 255.0


def _blobs(n, d, k, dtype):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=2.0, random_state=0)
    return X.astype(dtype)


def _digits():
    # 1,797 images of 8x8 pixels, values 0-16, as in scikit-learn's digits example.
    return load_digits().data.astype(np.float64)


def _tfidf(n_docs=50_000, n_terms=5_000, density=0.005, seed=0):
    """TF-IDF-like CSR matrix: Zipf-distributed term frequencies, l2-normalised rows.

    Each document gets about ``density * n_terms`` distinct terms drawn with a
    Zipf-like preference for frequent terms, Poisson counts, then scikit-learn's
    ``TfidfTransformer`` (smooth idf, l2 norm), like a bag of words.
    """
    from sklearn.feature_extraction.text import TfidfTransformer

    rng = np.random.RandomState(seed)
    per_doc = rng.poisson(density * n_terms, size=n_docs).clip(1, n_terms)
    weights = 1.0 / np.arange(1, n_terms + 1) ** 0.8
    weights /= weights.sum()
    rows = np.repeat(np.arange(n_docs), per_doc)
    cols = rng.choice(n_terms, size=rows.size, p=weights)
    counts = rng.poisson(1.0, size=rows.size) + 1.0
    X = sp.csr_matrix((counts, (rows, cols)), shape=(n_docs, n_terms))
    X.sum_duplicates()
    return TfidfTransformer().fit_transform(X).astype(np.float64).tocsr()


# name -> (loader, k)
CASES = {
    "china-273kx3-k64": (_china, 64),
    "blobs-200kx32-k100-f64": (lambda: _blobs(200_000, 32, 100, np.float64), 100),
    "blobs-300kx64-k128-f32": (lambda: _blobs(300_000, 64, 128, np.float32), 128),
    "blobs-1Mx128-k256-f32": (lambda: _blobs(1_000_000, 128, 256, np.float32), 256),
    "digits-1797x64-k10": (_digits, 10),
    "tfidf-50kx5k-k50-sparse": (_tfidf, 50),
}

SPARSE_CASES = ("tfidf-50kx5k-k50-sparse",)
DENSE_CASES = tuple(name for name in CASES if name not in SPARSE_CASES)
QUICK_CASES = ("digits-1797x64-k10", "china-273kx3-k64", "tfidf-50kx5k-k50-sparse")


def is_sparse_case(name):
    """True if case ``name`` is a sparse (CSR) matrix."""
    return name in SPARSE_CASES


def load_case(name):
    """Return ``(X, k)`` of the named case."""
    loader, k = CASES[name]
    return loader(), k
