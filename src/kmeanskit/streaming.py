"""Out-of-core K-Means: ``fit_out_of_core(path, k)`` streams a CSV or Parquet file in chunks.

The public path; the code lives in :mod:`kmeanskit._estimators.out_of_core`.
"""

from kmeanskit._estimators.out_of_core import *  # noqa: F401,F403
from kmeanskit._estimators.out_of_core import __all__  # noqa: F401
