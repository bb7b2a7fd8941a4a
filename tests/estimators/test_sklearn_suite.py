"""scikit-learn's own K-Means tests, run against kmeanskit.

The test module ``sklearn/cluster/tests/test_k_means.py`` of the installed
scikit-learn is read when this module is collected; its imports of the public
estimators and functions (``from sklearn.cluster import KMeans,
MiniBatchKMeans, k_means, kmeans_plusplus``) are swapped for kmeanskit's by a
rewrite of its syntax tree (line numbers kept: a failure's traceback points at
scikit-learn's own source), and every test it defines becomes a test of this
module, with its own id (``test_sklearn_suite.py::test_all_init[...]``).
Nothing is copied by hand: a new scikit-learn brings its new tests.

Tests that exercise scikit-learn's private Cython kernels (not kmeanskit) are
skipped with the reason in :data:`DESELECTED`; every other test must pass, for
``KMeans`` and ``MiniBatchKMeans``. The fixtures scikit-learn's ``conftest.py``
provides are given here: ``global_random_seed`` (as scikit-learn does: 42, or
the seeds ``SKLEARN_TESTS_GLOBAL_RANDOM_SEED`` names) and ``global_dtype``
(float32 and float64, both run).
"""

import ast
import os
import types
from pathlib import Path

import numpy as np
import pytest
import sklearn

import kmeanskit

SOURCE = Path(sklearn.__file__).parent / "cluster" / "tests" / "test_k_means.py"
if not SOURCE.is_file():
    pytest.skip(f"scikit-learn's tests are not installed ({SOURCE} is missing)", allow_module_level=True)

# (scikit-learn module, name) imported by the test module -> kmeanskit's module
# that provides the same name. Public names come from ``kmeanskit`` itself.
SWAPPED = {
    **{("sklearn.cluster", name): "kmeanskit" for name in ("KMeans", "MiniBatchKMeans", "k_means", "kmeans_plusplus")},
    # The same helper, the same signature: scikit-learn's test checks kmeanskit's.
    ("sklearn.cluster._k_means_common", "_is_same_clustering"): "kmeanskit._estimators._base",
}

# Tests of scikit-learn's private kernels, which kmeanskit does not have (its
# own kernels are tested against NumPy references in tests/engine/).
_PRIVATE = "tests scikit-learn's private Cython kernel{} {}, not the estimators"
DESELECTED = {
    "test_relocate_empty_clusters": _PRIVATE.format(
        "s", "_relocate_empty_clusters_dense/_sparse (kmeanskit's: _algorithms/relocation.py)"
    ),
    "test_minibatch_update_consistency": _PRIVATE.format(
        "s", "_mini_batch_step and _labels_inertia (kmeanskit's: _algorithms/minibatch.py BatchStep)"
    ),
    "test_minibatch_reassign": _PRIVATE.format(
        "s", "_mini_batch_step and _labels_inertia with a forced reassignment_ratio"
    ),
    "test_euclidean_distance": _PRIVATE.format(
        "s", "_euclidean_dense_dense_wrapper and _euclidean_sparse_dense_wrapper"
    ),
    "test_inertia": _PRIVATE.format("s", "_inertia_dense and _inertia_sparse"),
}


def _swap_imports(tree):
    """Rewrite ``from sklearn... import a, b`` so that the names in SWAPPED come from kmeanskit.

    Returns the tree and the names still imported from scikit-learn's private
    ``sklearn.cluster._*`` modules (its kernels).
    """
    body, private = [], set()
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or node.module is None:
            body.append(node)
            continue
        kept, moved = [], {}
        for alias in node.names:
            target = SWAPPED.get((node.module, alias.name))
            if target is None:
                kept.append(alias)
            else:
                moved.setdefault(target, []).append(alias)
        if kept:
            body.append(ast.copy_location(ast.ImportFrom(node.module, kept, node.level), node))
            if node.module.startswith("sklearn.cluster._"):
                private.update(alias.asname or alias.name for alias in kept)
        for target, names in moved.items():
            body.append(ast.copy_location(ast.ImportFrom(target, names, 0), node))
    tree.body = body
    return ast.fix_missing_locations(tree), private


def _load_sklearn_tests():
    """scikit-learn's test module with kmeanskit's names, as a module object, and the
    names of scikit-learn's private kernels it still imports."""
    tree, private = _swap_imports(ast.parse(SOURCE.read_text(encoding="utf-8"), filename=str(SOURCE)))
    module = types.ModuleType("sklearn_test_k_means_on_kmeanskit")
    module.__file__ = str(SOURCE)
    exec(compile(tree, str(SOURCE), "exec"), module.__dict__)  # scikit-learn's installed test module
    return module, private


def _global_names(code):
    """The global names a function's code (and the code nested in it) reads."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


SKLEARN_TESTS, PRIVATE_KERNELS = _load_sklearn_tests()
TEST_NAMES = sorted(
    name for name, value in vars(SKLEARN_TESTS).items() if name.startswith("test_") and callable(value)
)

for _name in TEST_NAMES:
    _test = getattr(SKLEARN_TESTS, _name)
    if _name in DESELECTED:
        _test = pytest.mark.skip(reason=f"deselected: {DESELECTED[_name]}")(_test)
    globals()[_name] = _test
del _name, _test


# ---------------------------------------------------- scikit-learn's fixtures
def _global_random_seeds():
    """The seeds scikit-learn's conftest gives ``global_random_seed`` (42 unless the variable says)."""
    value = os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED")
    if value is None:
        return [42]
    if value == "all":
        return list(range(100))
    start, _, stop = value.partition("-")
    return list(range(int(start), int(stop or start) + 1))


def pytest_generate_tests(metafunc):
    if "global_random_seed" in metafunc.fixturenames:
        metafunc.parametrize("global_random_seed", _global_random_seeds())


@pytest.fixture(params=[np.float32, np.float64])
def global_dtype(request):
    return request.param


# ------------------------------------------------------ the rewrite itself
def test_sklearn_module_runs_on_kmeanskit():
    """The swapped names are kmeanskit's; the deselected tests exist (none is stale)."""
    assert SKLEARN_TESTS.KMeans is kmeanskit.KMeans
    assert SKLEARN_TESTS.MiniBatchKMeans is kmeanskit.MiniBatchKMeans
    assert SKLEARN_TESTS.k_means is kmeanskit.k_means
    assert SKLEARN_TESTS.kmeans_plusplus is kmeanskit.kmeans_plusplus
    assert SKLEARN_TESTS._is_same_clustering.__module__ == "kmeanskit._estimators._base"
    assert len(TEST_NAMES) - len(DESELECTED) >= 50
    # Deselected: exactly the tests that call scikit-learn's private kernels (a new
    # scikit-learn's new kernel test is noticed here, not silently run on its kernels).
    calling_kernels = {
        name for name in TEST_NAMES if _global_names(getattr(SKLEARN_TESTS, name).__code__) & PRIVATE_KERNELS
    }
    assert calling_kernels == set(DESELECTED)
