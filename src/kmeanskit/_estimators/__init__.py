"""Estimators: KMeans, MiniBatchKMeans, KMedians, SphericalKMeans, the Dask KMeans and the out-of-core fit."""
