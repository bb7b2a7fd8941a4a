"""kmeanskit: fast, exact K-Means with a scikit-learn compatible API."""

from ._kmeans import KMeans, k_means, kmeans_plusplus

__version__ = "0.1.0"

__all__ = ["KMeans", "__version__", "k_means", "kmeans_plusplus"]
