"""Tests of kmeanskit._analysis.selection (select_k)."""
