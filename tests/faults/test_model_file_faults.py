"""Hostile and damaged model files: each is refused with ModelFileError, quickly and within bounded memory.

What could block or read forever (a device, a FIFO, a link to one) is loaded
in a subprocess with a timeout, so a regression fails the test instead of
hanging it. The mutation fuzz runs in a subprocess whose address space is
capped (``tests/faults/model_file_fuzz.py``); its counts and the worst time and
memory to refuse are recorded as test properties (``--junitxml``) and shown in
the assertion message.
"""

import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans, KPrototypes, MiniBatchKMeans
from kmeanskit._estimators.numeric_scaler import NumericScaler
from kmeanskit._io.persistence import ModelFileError, load, save
from kmeanskit._io.persistence.values import MAX_DEPTH

from ..io.persistence.model_files import reseal

ROOT = Path(__file__).resolve().parents[2]


def _blobs(n=500, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=10.0, size=(4, 5))
    X = centers[rng.integers(0, 4, size=n)] + rng.normal(size=(n, 5))
    return X[:400], X[400:]


@pytest.fixture(scope="module")
def pipeline_file(tmp_path_factory):
    X, X_test = _blobs()
    path = tmp_path_factory.mktemp("model") / "pipeline.kmk"
    save(make_pipeline(StandardScaler(), KMeans(4, random_state=0)).fit(X), path, X=X)
    return path, X_test


def _coded(X):
    """X with its last two columns as integer category codes (0..2), for KPrototypes(categorical=(3, 4))."""
    X = X.copy()
    X[:, 3:] = np.floor(np.abs(X[:, 3:])) % 3
    return X


def _mixed_frame(X):
    """A DataFrame of X's first three columns and two text columns of categories."""
    import pandas as pd

    frame = pd.DataFrame(X[:, :3], columns=["a", "b", "c"])
    for name, column in (("d", 3), ("e", 4)):
        frame[name] = np.asarray(["low", "mid", "high"], dtype=object)[(np.floor(np.abs(X[:, column])) % 3).astype(int)]
    return frame


def _load_in_subprocess(path, timeout=60):
    """``(exception class name, message)`` of ``load(path)`` in a fresh process, or a failure on timeout."""
    code = textwrap.dedent(f"""
        from kmeanskit._io.persistence import load
        try:
            load({str(path)!r})
        except Exception as exc:
            print(type(exc).__name__ + ": " + str(exc))
        else:
            print("loaded")
    """)
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                              check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"load({path}) did not return within {timeout} s")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# ----------------------------------------------------------------- not a regular file
@pytest.mark.parametrize("target, kind", [("/dev/zero", "a character device")])
def test_device_is_refused_without_reading(tmp_path, target, kind):
    if not os.path.exists(target):
        pytest.skip(f"no {target}")
    assert _load_in_subprocess(target) == (
        f"ModelFileError: {target} is {kind}, not a .kmk model file (a regular file is expected)."
    )
    link = tmp_path / "model.kmk"
    link.symlink_to(target)
    assert _load_in_subprocess(link).startswith(f"ModelFileError: {link} is {kind}")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.kmk"
    os.mkfifo(fifo)  # nobody writes to it: opening it for reading would block
    assert _load_in_subprocess(fifo, timeout=60).startswith(f"ModelFileError: {fifo} is a FIFO (named pipe)")


def test_directory_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match="is a directory, not a .kmk model file"):
        load(tmp_path)


def test_missing_file_is_still_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.kmk")


# ----------------------------------------------------------------- hostile members
def _replace_members(path, out, members, *, manifest_change=None):
    """Copy the model file at ``path`` to ``out`` with members replaced and their SHA-256 updated in the
    manifest (as a deliberate forger would), so that only the checks under test stand in the way."""
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(contents["manifest.json"])
    for name, data in members.items():
        contents[name] = data
        manifest["members"][name] = hashlib.sha256(data).hexdigest()
    if manifest_change is not None:
        manifest_change(manifest)
    contents["manifest.json"] = json.dumps(manifest).encode()
    reseal(contents)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return out


def _npy_header(shape, descr="<f8"):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _refused_quickly(path, match):
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=match) as info:
        load(path)
    seconds = time.perf_counter() - start
    assert seconds < 1.0, f"refused in {seconds:.2f} s"
    return info.value


def test_npy_declaring_a_huge_shape_is_refused_from_its_header(pipeline_file, tmp_path):
    path, _ = pipeline_file
    header = _npy_header((10**12, 5))  # a 3 KB file once claimed 40 TB this way: a bare MemoryError
    out = _replace_members(path, tmp_path / "m.kmk", {"model.cluster_centers_.npy": header})
    _refused_quickly(out, r"cluster_centers_ has shape \(1000000000000, 5\); \(4, 5\) is expected")
    # The manifest made to agree (10**12 clusters): the member's declared size does not.
    out = _replace_members(path, tmp_path / "n.kmk", {"model.cluster_centers_.npy": header},
                           manifest_change=lambda m: m["estimator"]["params"].update(n_clusters=10**12))
    _refused_quickly(out, "declares .* bytes; its shape .* make 40000000000")


def test_npy_of_an_object_dtype_is_refused_from_its_header(pipeline_file, tmp_path):
    path, _ = pipeline_file
    header = _npy_header((4, 5), descr="|O")
    out = _replace_members(path, tmp_path / "m.kmk", {"model.cluster_centers_.npy": header + b"\0" * 160})
    _refused_quickly(out, "unsupported dtype object")


def test_member_inflating_beyond_its_shape_is_refused_before_inflating(pipeline_file, tmp_path):
    # A valid header of the right shape followed by 256 MiB of zeros: 260 KB compressed.
    path, _ = pipeline_file
    member = "model.cluster_centers_.npy"
    with zipfile.ZipFile(path) as archive:
        real = archive.read(member)
    bomb = real + bytes(256 << 20)
    out = _replace_members(path, tmp_path / "bomb.kmk", {member: bomb})
    assert out.stat().st_size < 1 << 20
    _refused_quickly(out, f"member '{member}' declares {len(bomb)} bytes; its shape .* make {len(real)}")


def test_member_whose_declared_size_is_huge_is_refused(pipeline_file, tmp_path):
    # The zip directory claims 2 GiB uncompressed for a member of a few hundred bytes: within the absolute
    # limits (4 GiB), refused because its header's shape makes a few hundred.
    path, _ = pipeline_file
    member = b"model.cluster_centers_.npy"
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        size, start_dir = archive.getinfo(member.decode()).file_size, archive.start_dir
    old, new = size.to_bytes(4, "little"), (1 << 31).to_bytes(4, "little")
    entry = data.index(member, start_dir) - 46  # its central directory entry: the name is at offset 46
    position = entry + 24  # the uncompressed size
    assert data[position:position + 4] == old
    data[position:position + 4] = new
    out = tmp_path / "huge.kmk"
    out.write_bytes(bytes(data))
    _refused_quickly(out, "declares 2147483648 bytes; its shape")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
def test_deeply_nested_manifest_is_refused(pipeline_file, tmp_path, depth):
    path, _ = pipeline_file
    # Written as text: json.dumps itself cannot nest 100,000 deep.
    nested = "[" * depth + "0" + "]" * depth
    out = _replace_members(path, tmp_path / "deep.kmk", {},
                           manifest_change=lambda m: m["estimator"]["params"].update(tol="NESTED"))
    with zipfile.ZipFile(out) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    contents["manifest.json"] = contents["manifest.json"].replace(b'"NESTED"', nested.encode())
    reseal(contents)
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    _refused_quickly(out, "nest|not valid JSON")


@pytest.mark.parametrize("filler, match", [(b"{},", "more than 4096 objects"), (b"[],", "more than 2097152 lists")])
def test_manifest_of_many_small_containers_is_refused_before_it_is_built(tmp_path, filler, match):
    # 64 MiB of '{},' once cost 1.5 GB of Python objects from a 65 KB file.
    text = b'{"format": "kmeanskit-model", "padding": [' + filler * ((60 << 20) // 3) + b'0]}'
    path = tmp_path / "many.kmk"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", text)
    assert path.stat().st_size < 1 << 20
    _refused_quickly(path, match)


def test_files_save_writes_nest_well_within_the_limit(tmp_path):
    X, _ = _blobs()
    model = MiniBatchKMeans(4, batch_size=64, random_state=0).partial_fit(X)  # the deepest: a generator state
    save(model, tmp_path / "m.kmk", X=X)
    with zipfile.ZipFile(tmp_path / "m.kmk") as archive:
        manifest = json.loads(archive.read("manifest.json"))

    def depth(value):
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        return 0 if items is None else 1 + max(map(depth, items), default=0)

    assert depth(manifest) <= MAX_DEPTH // 2


# ----------------------------------------------------------------- mutation fuzz
@pytest.mark.parametrize("model", ["pipeline", "minibatch", "kprototypes"])
def test_mutated_model_files_are_refused_or_harmless(tmp_path, model, record_property):
    X, X_test = _blobs()
    if model == "pipeline":
        fitted = make_pipeline(StandardScaler(), KMeans(4, random_state=0)).fit(X)
    elif model == "kprototypes":  # category levels, codes and gamma in the manifest and the arrays
        X, X_test = _coded(X), _coded(X_test)
        fitted = KPrototypes(4, categorical=(3, 4), random_state=0).fit(X)
    else:
        fitted = MiniBatchKMeans(4, batch_size=64, random_state=0).partial_fit(X)
    path = tmp_path / "model.kmk"
    save(fitted, path, X=X)
    np.save(tmp_path / "X_test.npy", X_test)
    n_cases = 270
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.model_file_fuzz", str(path), str(tmp_path / "X_test.npy"),
         str(n_cases), "19"],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    for key in ("cases", "refused", "harmless", "other", "worst_refusal_seconds", "worst_refusal_bytes",
                "peak_rss_growth_bytes"):
        record_property(f"{model}_{key}", found[key])
    summary = (f"{model}: {found['cases']} cases, {found['refused']} refused, {found['harmless']} harmless, "
               f"{found['other']} other; worst refusal {found['worst_refusal_seconds'] * 1e3:.1f} ms "
               f"({found['worst_refusal_kind']}), "
               f"{found['worst_refusal_bytes'] / 2**20:.2f} MiB traced, peak RSS grew "
               f"{found['peak_rss_growth_bytes'] / 2**20:.1f} MiB over all cases; {found['others']}")
    print(summary)
    assert found["other"] == 0 and found["refused"] + found["harmless"] == n_cases, summary
    assert found["refused"] > n_cases // 2, summary
    assert found["worst_refusal_seconds"] < 2.0 and found["worst_refusal_bytes"] < 64 << 20, summary


# ----------------------------------------------------------------- manifest values of the wrong type
def _value_paths(value, where=()):
    """The path of keys and list positions to every value in a parsed manifest."""
    yield where
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield from _value_paths(item, where + (key,))


@pytest.mark.parametrize("model", ["pipeline", "minibatch", "kprototypes"])
def test_every_manifest_value_replaced_by_a_wrong_type_is_refused_or_loads(tmp_path, model):
    # Every value of the manifest, in turn, replaced by values of other types and sizes (the checksums
    # left as they are): each load either returns a model or raises ModelFileError, nothing else.
    X, _ = _blobs()
    if model == "pipeline":
        fitted = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(X)
    elif model == "kprototypes":  # the NumericScaler step, its scaler, the levels of text categories
        X = _mixed_frame(X)
        fitted = make_pipeline(NumericScaler(categorical=("d", "e")),
                               KPrototypes(3, categorical=("d", "e"), random_state=0)).fit(X)
    else:
        fitted = MiniBatchKMeans(3, batch_size=64, random_state=0).partial_fit(X)
    path = tmp_path / "model.kmk"
    save(fitted, path, X=X)
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(contents["manifest.json"])
    others = []
    for where in list(_value_paths(manifest))[1:]:
        for replacement in ([1], {"a": 1}, None, "x", -1, 10**30, True, [[[]]], {"array": "model.labels_.npy"}):
            changed = json.loads(contents["manifest.json"])
            parent = changed
            for key in where[:-1]:
                parent = parent[key]
            parent[where[-1]] = replacement
            with zipfile.ZipFile(path, "w") as archive:
                for name, data in reseal({**contents, "manifest.json": json.dumps(changed).encode()}).items():
                    archive.writestr(name, data)
            try:
                load(path)
            except ModelFileError:
                pass
            except Exception as exc:  # noqa: BLE001 - anything else is what this test looks for
                others.append(f"{where} = {replacement!r}: {type(exc).__name__}: {str(exc)[:120]}")
    assert not others, others[:10]
