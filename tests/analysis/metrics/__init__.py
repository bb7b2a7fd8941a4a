"""Tests of kmeanskit.metrics."""
