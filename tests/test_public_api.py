"""The public surface is explicit; private modules stay private."""

import kmeanskit


def test_public_names_are_pinned():
    assert sorted(kmeanskit.__all__) == [
        "KMeans", "KMedians", "ModelFileError", "__version__", "k_means", "kmeans_plusplus", "load", "save"
    ]
    for name in kmeanskit.__all__:
        assert hasattr(kmeanskit, name)


def test_version_matches_the_installed_distribution():
    from importlib.metadata import version

    assert kmeanskit.__version__ == version("kmeanskit")
