"""Tests of kmeanskit.selection (select_k)."""
