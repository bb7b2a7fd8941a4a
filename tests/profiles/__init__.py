"""Tests of kmeanskit.profiles (cluster profiles)."""
