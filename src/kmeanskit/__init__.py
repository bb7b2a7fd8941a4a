"""kmeanskit: fast, exact K-Means with a scikit-learn compatible API."""

from ._kmeans import KMeans, k_means, kmeans_plusplus
from ._kmedians import KMedians
from .persistence import ModelFileError, load, save

__version__ = "0.1.0"

__all__ = ["KMeans", "KMedians", "ModelFileError", "__version__", "k_means", "kmeans_plusplus", "load", "save"]
