"""The out-of-core fit reads the file before scikit-learn, SciPy and pandas are loaded.

Those libraries hold about 180 MB once imported; the passes hold the reader's
buffers and the labels. Importing them only after the last pass keeps the two
from adding up (GitHub issue 6: peak memory bounded by the chunk size). The
mirrors of scikit-learn and kmeanskit helpers that make this possible are
pinned to the originals here.
"""


import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils import check_random_state

import kmeanskit
from kmeanskit import streaming
from kmeanskit._algorithms import streaming as streamed_passes
from kmeanskit._analysis import distance_summary, out_of_core_workflow
from kmeanskit._analysis import workflow as _workflow
from kmeanskit._estimators import out_of_core
from kmeanskit._io import chunked

from .fresh_python import run_python

HEAVY = ("sklearn", "scipy", "pandas", "numba")  # (the passes need numba, and SciPy's sparse module)


def test_the_package_and_the_command_line_import_no_heavy_library():
    out = run_python(f"""
        import sys
        import kmeanskit
        from kmeanskit.cli import build_parser
        build_parser()  # every subcommand's module, as `kmeanskit --help` does
        print(sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r})))
    """)
    assert out.strip() == "[]"


# Optional extras and libraries of other jobs (plots, the HTTP service, Dask, the
# elbow's knee): a fit, from Python or the command line, loads none of them.
OTHER_JOBS = ("matplotlib", "PIL", "fastapi", "starlette", "uvicorn", "dask", "distributed", "kneed")


@pytest.mark.parametrize("job", [
    "import kmeanskit",
    "from kmeanskit.cli import main; main(['--help'])",
    "from kmeanskit.cli import main; main(['fit', '--seed', '0'])",  # the bundled iris
    "import numpy as np; from kmeanskit import KMeans; KMeans(3, random_state=0).fit(np.eye(9, 3))",
    "import numpy as np; from kmeanskit import MiniBatchKMeans; MiniBatchKMeans(3, random_state=0).fit(np.eye(9, 3))",
])
def test_a_fit_imports_no_library_of_other_jobs(job):
    out = run_python(f"""
        import contextlib, io, sys
        with contextlib.redirect_stdout(io.StringIO()):
            {job}
        print(sorted({{m.split(".")[0] for m in sys.modules}} & set({OTHER_JOBS!r})))
    """, timeout=600)
    assert out.strip() == "[]"


def test_public_names_load_on_first_use():
    out = run_python("""
        import importlib, sys
        import kmeanskit
        importlib.import_module("kmeanskit._presentation.report")  # the module must not hide the function
        assert callable(kmeanskit.report) and kmeanskit.report.__module__ == "kmeanskit._presentation.report"
        from kmeanskit import KMeans, select_k
        assert KMeans.__module__ == "kmeanskit._estimators.kmeans" and "sklearn" in sys.modules
        assert set(kmeanskit.__all__) <= set(dir(kmeanskit))
        import kmeanskit.streaming
        assert kmeanskit.streaming.fit_out_of_core is kmeanskit.fit_out_of_core
        try:
            kmeanskit.no_such_name
        except AttributeError as exc:
            print(exc)
    """)
    assert out.strip() == "module 'kmeanskit' has no attribute 'no_such_name'"


@pytest.mark.parametrize("call", [
    "fit_out_of_core(path, 3, chunk_rows=700, random_state=0, progress=False)",
    "fit_clusters_out_of_core(path, 3, chunk_rows=700, random_state=0, scale='minmax')",
])
def test_passes_run_without_scikit_learn(tmp_path, call):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 1.0, size=(1000, 4)) for c in (0, 10, 20)])
    path = tmp_path / "rows.parquet"
    pd.DataFrame(X, columns=list("abcd")).to_parquet(path, row_group_size=900)
    out = run_python(f"""
        import sys
        from kmeanskit._algorithms import streaming
        from kmeanskit._analysis.out_of_core_workflow import fit_clusters_out_of_core
        from kmeanskit.streaming import fit_out_of_core

        passes, passes_of = [], streaming.Progress.passes
        def passes_seen(self, stream, desc, total):
            passes.append((desc, "sklearn" in sys.modules))
            yield from passes_of(self, stream, desc, total)
        streaming.Progress.passes = passes_seen
        path = {str(path)!r}
        {call}
        print(passes)
        print("sklearn" in sys.modules)
    """)
    passes, loaded_after = out.splitlines()
    passes = eval(passes)  # a list of tuples printed by the child
    assert len(passes) >= 4 and passes[-1][0] == "labels (last pass)"
    assert not any(sklearn for _, sklearn in passes), passes
    assert loaded_after == "True"  # the estimator is built afterwards


@pytest.mark.parametrize("scale, cls", [("standard", StandardScaler), ("minmax", MinMaxScaler)])
def test_scaler_from_the_survey_is_scikit_learns(scale, cls):
    rng = np.random.default_rng(1)
    X = rng.normal(50.0, 3.0, size=(5000, 5))
    X[:, 1] = 0.1  # constant: scale 1 by scikit-learn's rule
    X[:, 2] = 1e6 + rng.normal(0, 1e-9, size=5000)  # constant up to rounding
    X[:, 3] *= 1e-8
    stream = chunked.TableStream(pd.DataFrame(X, columns=list("abcde")), None, 777, np.float64)
    survey = streamed_passes.Survey(stream, 10, np.random.RandomState(0))
    for _, chunk in stream.chunks():
        survey.add(chunk)
    survey.check()
    scaling = out_of_core_workflow._Scaling(scale, survey)
    ours = scaling.estimator(stream.feature_names)
    ref = cls().fit(pd.DataFrame(X, columns=list("abcde")))
    assert type(ours) is cls and ours.get_params() == ref.get_params()
    for name, value in vars(ref).items():
        if name.endswith("_") and not name.startswith("_"):
            got = getattr(ours, name)
            if name == "feature_names_in_":
                np.testing.assert_array_equal(got, value)
            elif name == "var_":
                # Constant columns have a variance of pure rounding either way.
                noise = (len(X) * np.finfo(np.float64).eps * ref.mean_) ** 2  # scikit-learn's bound for "constant"
                assert np.all(np.abs(got - value) <= 1e-12 * np.abs(value) + noise), (got, value)
            else:
                np.testing.assert_allclose(got, value, rtol=1e-12, atol=0, err_msg=name)
    np.testing.assert_array_equal(ours.scale_ == 1.0, ref.scale_ == 1.0)
    # transform in place: scikit-learn's transform with the same attributes, bit for bit.
    chunk = X[:600].copy()
    np.testing.assert_array_equal(scaling.transform(chunk), ours.transform(pd.DataFrame(X[:600], columns=list("abcde"))))
    assert out_of_core_workflow._Scaling("none", survey).estimator(stream.feature_names) == "passthrough"


def test_mirrors_match_what_they_mirror():
    assert out_of_core_workflow._SCALINGS == tuple(_workflow.SCALINGS)
    for seed in (None, 0, np.int64(7), np.random.RandomState(3)):
        a, b = out_of_core.check_random_state(seed), check_random_state(seed)
        assert type(a) is type(b) and (seed is None or a.randint(1 << 30) == check_random_state(seed).randint(1 << 30)
                                        or isinstance(seed, np.random.RandomState))
    with pytest.raises(ValueError, match="'x' cannot be used to seed"):
        out_of_core.check_random_state("x")


def test_cluster_sizes_by_blocks():
    labels = np.random.default_rng(2).integers(0, 7, size=10_001).astype(np.int32)
    np.testing.assert_array_equal(distance_summary.cluster_sizes(labels, 9, block=1000), np.bincount(labels, minlength=9))
    np.testing.assert_array_equal(distance_summary.cluster_sizes(labels[:0], 3), [0, 0, 0])


def test_the_silhouette_of_a_fit_agrees_with_scikit_learn():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 16))
    labels = rng.integers(0, 4, 3000)
    from sklearn.metrics import silhouette_score

    from kmeanskit._analysis.metrics import silhouette_or_reason

    assert silhouette_or_reason(X, labels, sample_size=None)[0] == pytest.approx(silhouette_score(X, labels), rel=1e-12)
    sampled = silhouette_or_reason(X, labels, sample_size=1000, random_state=0)
    assert sampled[0] == pytest.approx(silhouette_score(X, labels, sample_size=1000, random_state=0), rel=1e-12)
    assert sampled[1] == "estimated on a random sample of 1,000 of 3,000 rows"
    assert kmeanskit.fit_out_of_core is streaming.fit_out_of_core
