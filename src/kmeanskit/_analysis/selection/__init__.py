"""Choosing the number of clusters: :func:`select_k` and what it builds on.

- :mod:`.core`: ``select_k`` and ``SelectKResult`` (the fits, the table, the
  recommendation of each method);
- :mod:`.gap`: the gap statistic's reference data and R's ``maxSE`` rules;
- :mod:`.prediction_strength`: Tibshirani & Walther's prediction strength;
- :mod:`.answer`: one k and its reason, from the methods that held up.
"""

from kmeanskit._analysis.selection.core import METHODS, MIXED_METHODS, SelectKResult, elbow_k, select_k
from kmeanskit._analysis.selection.gap import GAP_RULES, gap_k, max_se, reference_sets

__all__ = ["GAP_RULES", "METHODS", "MIXED_METHODS", "SelectKResult", "elbow_k", "gap_k", "max_se", "reference_sets", "select_k"]
