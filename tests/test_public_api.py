"""The public surface is explicit; private modules stay private."""

import kmeanskit


def test_public_names_are_pinned():
    assert sorted(kmeanskit.__all__) == [
        "ClusterExplanation", "DriftReport", "FeatureScaleWarning", "KMeans", "KMedians", "KModes", "KPrototypes", "MiniBatchKMeans", "ModelFileError", "SelectKResult", "SphericalKMeans", "StabilityResult",
        "TrainingProfile", "UnseenCategoryWarning",
        "__version__", "anomaly_scores", "centers_in_original_units", "cluster_stability", "drift_report", "explain_clusters", "fit_monitor", "fit_out_of_core",
        "k_means", "kmeans_plusplus", "load", "metrics", "monitoring", "profile_categories", "profile_clusters", "report",
        "save", "select_k",
    ]
    for name in kmeanskit.__all__:
        assert hasattr(kmeanskit, name)


def test_version_matches_the_installed_distribution():
    from importlib.metadata import version

    assert kmeanskit.__version__ == version("kmeanskit")


def test_report_is_the_function_even_after_importing_its_module():
    import importlib

    importlib.import_module("kmeanskit._presentation.report")
    assert callable(kmeanskit.report) and kmeanskit.report.__module__ == "kmeanskit._presentation.report"


def test_public_modules_export_what_they_name():
    import importlib

    for name in ("metrics", "monitoring", "plotting", "dask", "service", "streaming", "cli"):
        module = importlib.import_module(f"kmeanskit.{name}")
        assert module.__all__, name
        for attr in module.__all__:
            assert hasattr(module, attr), (name, attr)
