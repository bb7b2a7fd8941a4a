"""Reading a ``.kmk`` file: :func:`load`, :func:`load_with_manifest`, :func:`read_manifest`.

No code from the file is run: no pickle, arrays are parsed from the ``.npy``
format without ``np.load``, classes come from a fixed whitelist. Reading is
bounded: only a regular file is opened (never a device, FIFO or directory);
the archive is checked before anything is decompressed (member names, count,
declared sizes); the manifest (at most 64 MiB, nested at most
:data:`~kmeanskit._io.persistence.values.MAX_DEPTH` deep) is read first, then
each ``.npy`` member's header is checked against the shape the manifest's
model needs (:func:`~kmeanskit._io.persistence.checks.member_shapes`) and its
declared size against that shape, before its data is read, once, into the
array, and checked against the SHA-256 the manifest lists.
"""

import hashlib
import io
import json
import math
import os
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from kmeanskit._io.persistence.build import build
from kmeanskit._io.persistence.checks import member_shapes
from kmeanskit._io.persistence.format import FORMAT_NAME, FORMAT_VERSION, MANIFEST, ModelFileError
from kmeanskit._io.persistence.integrity import (
    FIRST_SEALED_VERSION,
    INTEGRITY,
    MAX_INTEGRITY_BYTES,
    check_key,
    verify,
)
from kmeanskit._io.persistence.values import Members, check_depth

__all__ = ["load", "load_with_manifest", "read_manifest"]

# Zip bomb guard: declared (uncompressed) sizes are checked before reading,
# and zipfile never returns more bytes than a member declares.
_MAX_TOTAL_BYTES = 4 << 30
_MAX_MEMBER_BYTES = 4 << 30
_MAX_MANIFEST_BYTES = 64 << 20
# Parsed JSON costs up to 25 times its text ('{},' is 3 bytes, an empty dict 64): a manifest holds a
# few dozen objects, and lists by the cluster at most (a row of distance quantiles each), so more than
# these is refused before it is built, and a manifest costs a few times its size at most.
_MAX_MANIFEST_OBJECTS = 4096
_MAX_MANIFEST_LISTS = 1 << 21
_MAX_MEMBERS = 10_000
# Flat names only: no directories, no '..', nothing a careless extractor could misuse.
_MEMBER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}\.npy$")
# The .npy header: magic, version (1.0 or 2.0, what np.save writes for numbers), header length.
_NPY_MAGIC = b"\x93NUMPY"
_NPY_HEADER_LENGTH = {(1, 0): "<H", (2, 0): "<I"}
_NPY_MAX_HEADER = 10_000  # numpy's own limit on the header it parses
_CHUNK = 1 << 20
_FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


def load(path, *, key=None):
    """Load a model saved by :func:`save`.

    No code from the file is run: no pickle, arrays are parsed as plain
    ``.npy`` numbers, and classes come from a fixed whitelist. What is read is
    bounded: only a regular file is opened, and no array larger than the
    model the manifest describes needs is decompressed. The manifest must
    match the SHA-256 the file records for it, and every array the SHA-256
    the manifest lists, so a damaged or edited file is refused; only a
    signature (``key``) also refuses a file forged by someone who knows the
    format.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.kmk`` file.
    key : bytes or str, default=None
        The secret the file was signed with (``save(..., key=...)``). When
        given, a file that is not signed, or not signed with this key, is
        refused. None: the signature, if any, is not checked.

    Returns
    -------
    model : KMeans, MiniBatchKMeans, SphericalKMeans, KMedians or Pipeline
        The fitted model; its ``predict``, ``transform`` and ``score`` give
        bitwise-identical results to the saved one, and a MiniBatchKMeans
        continues ``partial_fit`` exactly as the saved one would have.

    Raises
    ------
    ModelFileError
        If the path is not a regular file (a directory, a device, a FIFO), the
        file is not a ``.kmk`` file, is truncated or tampered with, was
        written by a newer format version, or its content is inconsistent;
        or, with ``key``, if it is not signed with that key.
    OSError
        If the path does not exist or cannot be read.
    """
    return load_with_manifest(path, key=key)[0]


def load_with_manifest(path, *, key=None):
    """Load a model saved by :func:`save` together with the manifest it was built from.

    The same checks as :func:`load`, from a single read of the file, so the
    manifest (e.g. its training summary) is certainly the one of the model.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.kmk`` file.
    key : bytes or str, default=None
        As :func:`load`.

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
    if key is not None:
        key = check_key(key)
    path = Path(path)
    # Opened first so that a missing or unreadable path stays a plain OSError.
    with _open_regular_file(path) as handle:
        try:
            with zipfile.ZipFile(handle) as archive:
                manifest, arrays = _read_archive(archive, path, key)
        except ModelFileError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, ValueError,
                OSError, struct.error, zlib.error, MemoryError, RecursionError) as exc:
            raise ModelFileError(
                f"{path} is not a valid .kmk model file (not a zip archive, or truncated): {exc}"
            ) from exc
    try:
        model = build(manifest, arrays)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError, ImportError, MemoryError, RecursionError) as exc:
        raise ModelFileError(f"{path}: invalid model description: {exc}") from exc
    return model, manifest


def read_manifest(path, *, key=None):
    """The manifest of a ``.kmk`` file (no arrays), after every check :func:`load` makes.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.kmk`` file.
    key : bytes or str, default=None
        As :func:`load`.

    Returns
    -------
    manifest : dict
        See :func:`load_with_manifest`.

    Raises
    ------
    ModelFileError
        As :func:`load`: a manifest is only returned for a file that loads.
    """
    return load_with_manifest(path, key=key)[1]


def _open_regular_file(path):
    """``path`` opened for binary reading if it is a regular file; ModelFileError naming what it is
    otherwise. A FIFO is neither waited for (``O_NONBLOCK``) nor read, a device never read."""
    _refuse_non_regular(os.stat(path).st_mode, path)  # a device is not even opened
    nonblocking = getattr(os, "O_NONBLOCK", 0)  # POSIX; elsewhere there are no FIFOs to open
    fd = os.open(path, os.O_RDONLY | nonblocking | getattr(os, "O_BINARY", 0))
    try:
        _refuse_non_regular(os.fstat(fd).st_mode, path)  # what was opened, if the path changed meanwhile
        if nonblocking:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _refuse_non_regular(mode, path):
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")
        raise ModelFileError(f"{path} is {kind}, not a .kmk model file (a regular file is expected).")


def _read_archive(archive, path, key):
    infos = archive.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise ModelFileError(f"{path} has {len(infos)} members; at most {_MAX_MEMBERS} are allowed.")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise ModelFileError(f"{path} has duplicate member names.")
    total = 0
    for info in infos:
        if info.filename not in (MANIFEST, INTEGRITY) and not _MEMBER_NAME.match(info.filename):
            raise ModelFileError(f"{path} has a member with a forbidden name: {info.filename!r}.")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{path}: member {info.filename!r} is encrypted.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(f"{path}: member {info.filename!r} uses an unsupported compression method.")
        limit = {MANIFEST: _MAX_MANIFEST_BYTES, INTEGRITY: MAX_INTEGRITY_BYTES}.get(info.filename, _MAX_MEMBER_BYTES)
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

    manifest_bytes = archive.read(MANIFEST)
    record = archive.read(INTEGRITY) if INTEGRITY in names else None
    verify(record, manifest_bytes, key, path)  # before the manifest is parsed: nothing unverified is interpreted
    manifest = _parse_manifest(manifest_bytes, path)
    if record is None and manifest["format_version"] >= FIRST_SEALED_VERSION:
        raise ModelFileError(
            f"{path} has no {INTEGRITY}, which every file of format version {FIRST_SEALED_VERSION} or later "
            "holds: the file was damaged or edited."
        )
    checksums = manifest["members"]
    listed, present = set(checksums), set(names) - {MANIFEST, INTEGRITY}
    if listed - present:
        raise ModelFileError(f"{path} is missing member(s) listed in the manifest: {sorted(listed - present)}.")
    if present - listed:
        raise ModelFileError(f"{path} has member(s) not listed in the manifest: {sorted(present - listed)}.")
    try:
        shapes = member_shapes(manifest)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    # Every header first: nothing is decompressed beyond the headers unless all sizes are those the model needs.
    headers = {name: _npy_header(archive, archive.getinfo(name), shapes[name], path)
               for name in sorted(listed & set(shapes))}
    arrays = Members()
    for name in listed - set(shapes):
        arrays[name] = None  # never read: the model refers to it nowhere, which build reports
    for name, (header, dtype, shape, fortran_order) in headers.items():
        arrays[name] = _read_npy(archive, name, header, dtype, shape, fortran_order, checksums[name], path)
    return manifest, arrays


def _parse_manifest(data, path):
    if data.count(b"[") > _MAX_MANIFEST_LISTS:  # an upper bound: a '[' may be inside a string
        raise ModelFileError(f"{path}: {MANIFEST} holds more than {_MAX_MANIFEST_LISTS} lists.")
    n_objects = 0

    def count_objects(pairs):
        nonlocal n_objects
        n_objects += 1
        if n_objects > _MAX_MANIFEST_OBJECTS:
            raise ModelFileError(f"{path}: {MANIFEST} holds more than {_MAX_MANIFEST_OBJECTS} objects.")
        return dict(pairs)

    try:
        manifest = json.loads(data.decode("utf-8"), object_pairs_hook=count_objects)
    except ModelFileError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: {MANIFEST} is not valid JSON: {exc}") from exc
    check_depth(manifest, f"{path}: {MANIFEST}")
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


def _npy_header(archive, info, expected, path):
    """``(header bytes, dtype, shape, fortran_order)`` of a ``.npy`` member, from its header alone, after
    checking the shape against ``expected`` (``(shape, what)``, None in a shape: any length) and the
    declared size against the shape."""
    expected, what = expected
    name = info.filename
    with archive.open(info) as stream:
        prefix = stream.read(len(_NPY_MAGIC) + 4)
        if len(prefix) < len(_NPY_MAGIC) + 4 or not prefix.startswith(_NPY_MAGIC):
            raise ModelFileError(f"{path}: member {name!r} is not a .npy array.")
        version = (prefix[6], prefix[7])
        if version not in _NPY_HEADER_LENGTH:
            raise ModelFileError(f"{path}: member {name!r} is a .npy array of unsupported version {version}.")
        length_format = _NPY_HEADER_LENGTH[version]
        length_end = len(_NPY_MAGIC) + 2 + struct.calcsize(length_format)
        prefix += stream.read(length_end - len(prefix))
        (header_length,) = struct.unpack(length_format, prefix[len(_NPY_MAGIC) + 2:length_end])
        if header_length > _NPY_MAX_HEADER:
            raise ModelFileError(f"{path}: member {name!r} has a .npy header of {header_length} bytes.")
        header = prefix + stream.read(header_length)
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    try:
        fp = io.BytesIO(header)
        np.lib.format.read_magic(fp)
        shape, fortran_order, dtype = reader(fp, max_header_size=_NPY_MAX_HEADER)
    except (ValueError, TypeError, SyntaxError) as exc:
        raise ModelFileError(f"{path}: member {name!r} has an invalid .npy header: {exc}") from exc
    if dtype.kind not in "biuf" or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise ModelFileError(f"{path}: member {name!r} has unsupported dtype {dtype}.")
    if any(n < 0 for n in shape):
        raise ModelFileError(f"{path}: member {name!r} declares a negative shape {shape}.")
    if len(shape) != len(expected) or any(e is not None and s != e for s, e in zip(shape, expected, strict=True)):
        want = tuple("any" if e is None else e for e in expected)
        raise ModelFileError(f"{path}: {what} has shape {shape}; {want} is expected (member {name!r}).")
    size = len(header) + math.prod(shape) * dtype.itemsize
    if info.file_size != size:
        raise ModelFileError(
            f"{path}: member {name!r} declares {info.file_size} bytes; its shape {shape} and dtype {dtype} "
            f"make {size}."
        )
    return header, dtype, shape, fortran_order


def _read_npy(archive, name, header, dtype, shape, fortran_order, checksum, path):
    """The array of a member whose header :func:`_npy_header` checked: its bytes read once, in chunks,
    into the array, and checked against ``checksum``."""
    try:
        flat = np.empty(math.prod(shape), dtype=dtype)
    except MemoryError:
        raise ModelFileError(f"{path}: member {name!r} of shape {shape} does not fit in memory.") from None
    digest = hashlib.sha256()
    data = memoryview(flat.view(np.uint8))  # a zero-size view is fine: nothing to fill
    with archive.open(name) as stream:
        if stream.read(len(header)) != header:
            raise ModelFileError(f"{path}: member {name!r} changed while it was read.")
        digest.update(header)
        filled = 0
        while filled < len(data):
            n = stream.readinto(data[filled:filled + _CHUNK])
            if not n:
                raise ModelFileError(f"{path}: member {name!r} is truncated.")
            filled += n
        if stream.read(1):  # also where zipfile checks the CRC-32
            raise ModelFileError(f"{path}: member {name!r} is longer than its header says.")
    digest.update(data)
    if digest.hexdigest() != checksum:
        raise ModelFileError(f"{path}: the SHA-256 of member {name!r} does not match the manifest (tampered?).")
    return flat.reshape(shape[::-1]).T if fortran_order else flat.reshape(shape)
