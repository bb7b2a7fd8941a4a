"""What each cluster means: differences from the rest, one-line descriptions, threshold-tree rules.

:func:`explain_clusters` (``explanation.py``) puts together the per-feature
differences (``differences.py``) and the IMM/ExKMC tree (``tree.py``).
"""

from kmeanskit._analysis.explain.explanation import ClusterExplanation, explain_clusters

__all__ = ["ClusterExplanation", "explain_clusters"]
