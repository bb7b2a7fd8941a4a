"""What the model-file tests share: reading a file's parts, comparing predictions, damaging bytes."""

import io
import json
import zipfile

import numpy as np

from kmeanskit._io.persistence import ModelFileError, load
from kmeanskit._io.persistence.integrity import INTEGRITY, seal


def assert_same_predictions(a, b, X):
    """``predict``, ``transform`` and ``score`` of two models agree bit for bit."""
    pa, pb = a.predict(X), b.predict(X)
    assert pa.dtype == pb.dtype and np.array_equal(pa, pb)
    ta, tb = a.transform(X), b.transform(X)
    assert ta.dtype == tb.dtype and np.array_equal(ta, tb)  # bitwise: no tolerance
    assert a.score(X) == b.score(X)


def read_manifest(path):
    """The parsed manifest.json of the model file at ``path``."""
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("manifest.json"))


def reseal(contents):
    """Recompute the integrity record of edited ``contents`` (member name -> bytes), as a forger who knows
    the format would, so that the checks a test is about are the ones that refuse the file."""
    contents[INTEGRITY] = seal(contents["manifest.json"])
    return contents


def npy(array):
    """``array`` as the bytes of a .npy member (no pickle)."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def loads_of_damaged_copies(path, times, seed):
    """Flip two random bytes of the file at ``path``, ``times`` times over; yield each copy that loads.

    Copies refused with ``ModelFileError`` are skipped: the caller checks that
    the ones that load (only bytes without model content changed: zip
    timestamps, padding) are the same model.
    """
    good = path.read_bytes()
    rng = np.random.default_rng(seed)
    for _ in range(times):
        damaged = bytearray(good)
        for position in rng.integers(0, len(good), size=2):
            damaged[position] ^= int(rng.integers(1, 256))
        path.write_bytes(bytes(damaged))
        try:
            loaded = load(path)
        except ModelFileError:
            continue
        yield loaded
