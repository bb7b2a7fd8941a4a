"""Tests of kmeanskit._analysis.profiles (cluster profiles)."""
