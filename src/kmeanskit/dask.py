"""K-Means on Dask arrays: ``from kmeanskit.dask import KMeans`` (needs the dask extra).

The public path; the code lives in :mod:`kmeanskit._estimators.dask`.
"""

from kmeanskit._estimators.dask import *  # noqa: F401,F403
from kmeanskit._estimators.dask import __all__  # noqa: F401
