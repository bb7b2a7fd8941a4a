"""Reading a ``.kmk`` file: :func:`load`, :func:`load_with_manifest`, :func:`read_manifest`.

No code from the file is run: no pickle, arrays are read with
``allow_pickle=False``, classes come from a fixed whitelist. The archive is
checked before anything is decompressed (member names, count, declared
sizes), every member against the SHA-256 the manifest lists.
"""

import hashlib
import io
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from kmeanskit._io.persistence.build import build
from kmeanskit._io.persistence.format import FORMAT_NAME, FORMAT_VERSION, MANIFEST, ModelFileError
from kmeanskit._io.persistence.values import Members

__all__ = ["load", "load_with_manifest", "read_manifest"]

# Zip bomb guard: declared (uncompressed) sizes are checked before reading,
# and zipfile never returns more bytes than a member declares.
_MAX_TOTAL_BYTES = 4 << 30
_MAX_MEMBER_BYTES = 4 << 30
_MAX_MANIFEST_BYTES = 64 << 20
_MAX_MEMBERS = 10_000
# Flat names only: no directories, no '..', nothing a careless extractor could misuse.
_MEMBER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}\.npy$")


def load(path):
    """Load a model saved by :func:`save`.

    No code from the file is run: no pickle, arrays are read with
    ``allow_pickle=False``, and classes come from a fixed whitelist.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.kmk`` file.

    Returns
    -------
    model : KMeans, MiniBatchKMeans, SphericalKMeans, KMedians or Pipeline
        The fitted model; its ``predict``, ``transform`` and ``score`` give
        bitwise-identical results to the saved one, and a MiniBatchKMeans
        continues ``partial_fit`` exactly as the saved one would have.

    Raises
    ------
    ModelFileError
        If the file is not a ``.kmk`` file, is truncated or tampered with, was
        written by a newer format version, or its content is inconsistent.
    """
    return load_with_manifest(path)[0]


def load_with_manifest(path):
    """Load a model saved by :func:`save` together with the manifest it was built from.

    The same checks as :func:`load`, from a single read of the file, so the
    manifest (e.g. its training summary) is certainly the one of the model.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.kmk`` file.

    Returns
    -------
    model : KMeans, MiniBatchKMeans, SphericalKMeans, KMedians or Pipeline
        As :func:`load` returns it.
    manifest : dict
        The parsed ``manifest.json``: plain JSON values only (arrays appear as
        references to their member names), including ``summary`` (the training
        summary: ``n_samples``, ``cluster_sizes``, ``distance_quantile_levels``,
        ``distance_quantiles``...; from version 2 also ``distance``, the
        metric of the quantiles: "euclidean", "cosine" or "manhattan") and
        ``members`` (SHA-256 of each array).

    Raises
    ------
    ModelFileError
        As :func:`load`.
    """
    path = Path(path)
    # Opened first so that a missing or unreadable path stays a plain OSError.
    with open(path, "rb") as handle:
        try:
            with zipfile.ZipFile(handle) as archive:
                manifest, arrays = _read_archive(archive, path)
        except ModelFileError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, ValueError,
                OSError, struct.error, zlib.error) as exc:
            raise ModelFileError(
                f"{path} is not a valid .kmk model file (not a zip archive, or truncated): {exc}"
            ) from exc
    try:
        model = build(manifest, arrays)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{path}: invalid model description: {exc}") from exc
    return model, manifest


def read_manifest(path):
    """The manifest of a ``.kmk`` file (no arrays), after every check :func:`load` makes.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.kmk`` file.

    Returns
    -------
    manifest : dict
        See :func:`load_with_manifest`.

    Raises
    ------
    ModelFileError
        As :func:`load`: a manifest is only returned for a file that loads.
    """
    return load_with_manifest(path)[1]


def _read_archive(archive, path):
    infos = archive.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise ModelFileError(f"{path} has {len(infos)} members; at most {_MAX_MEMBERS} are allowed.")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise ModelFileError(f"{path} has duplicate member names.")
    total = 0
    for info in infos:
        if info.filename != MANIFEST and not _MEMBER_NAME.match(info.filename):
            raise ModelFileError(f"{path} has a member with a forbidden name: {info.filename!r}.")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{path}: member {info.filename!r} is encrypted.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(f"{path}: member {info.filename!r} uses an unsupported compression method.")
        limit = _MAX_MANIFEST_BYTES if info.filename == MANIFEST else _MAX_MEMBER_BYTES
        if info.file_size > limit:
            raise ModelFileError(
                f"{path}: member {info.filename!r} declares {info.file_size} bytes uncompressed; "
                f"the limit is {limit}."
            )
        total += info.file_size
    if total > _MAX_TOTAL_BYTES:
        raise ModelFileError(
            f"{path} declares {total} bytes uncompressed in all; the limit is {_MAX_TOTAL_BYTES}."
        )
    if MANIFEST not in names:
        raise ModelFileError(f"{path} is not a .kmk model file: it has no {MANIFEST}.")

    manifest = _parse_manifest(archive.read(MANIFEST), path)
    checksums = manifest["members"]
    listed, present = set(checksums), set(names) - {MANIFEST}
    if listed - present:
        raise ModelFileError(f"{path} is missing member(s) listed in the manifest: {sorted(listed - present)}.")
    if present - listed:
        raise ModelFileError(f"{path} has member(s) not listed in the manifest: {sorted(present - listed)}.")
    arrays = Members()
    for name in sorted(listed):
        data = archive.read(name)
        if hashlib.sha256(data).hexdigest() != checksums[name]:
            raise ModelFileError(f"{path}: the SHA-256 of member {name!r} does not match the manifest (tampered?).")
        arrays[name] = _parse_npy(data, name, path)
    return manifest, arrays


def _parse_manifest(data, path):
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: {MANIFEST} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is not a .kmk model file: its manifest does not declare format {FORMAT_NAME!r}.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path}: invalid format_version {version!r}; a positive integer is expected.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has format version {version}, newer than the version {FORMAT_VERSION} this kmeanskit "
            "reads; upgrade kmeanskit to load it."
        )
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) for k, v in members.items()
    ):
        raise ModelFileError(f"{path}: the manifest's 'members' must map member names to SHA-256 hex digests.")
    return manifest


def _parse_npy(data, name, path):
    # np.load would also open a .npz (zip); accept only a plain .npy.
    if not data.startswith(b"\x93NUMPY"):
        raise ModelFileError(f"{path}: member {name!r} is not a .npy array.")
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ModelFileError(f"{path}: member {name!r} is not a readable .npy array without pickle: {exc}") from exc
    if array.dtype.kind not in "biuf":
        raise ModelFileError(f"{path}: member {name!r} has unsupported dtype {array.dtype}.")
    return array
