"""The integrity record of a ``.kmk`` file: the manifest's checksum, and an optional signature.

The manifest lists the SHA-256 of every array member, so a record that covers
the manifest's bytes covers the whole model. ``integrity.json`` holds:

- ``manifest_sha256``: the SHA-256 of ``manifest.json``'s bytes. It catches
  damage and edits made without this format's knowledge (a changed parameter,
  swapped array references, an added step); anyone who knows the format can
  recompute it, so it is no defence against deliberate tampering.
- ``hmac_sha256``: with ``save(..., key=...)``, the HMAC-SHA256 of the same
  bytes under the key, or null. ``load(..., key=...)`` refuses a file without
  one or whose signature does not match: only a holder of the key can make a
  file that loads.
"""

import hashlib
import hmac
import json

from kmeanskit._io.persistence.format import ModelFileError

__all__ = ["FIRST_SEALED_VERSION", "INTEGRITY", "MAX_INTEGRITY_BYTES", "check_key", "seal", "verify"]

INTEGRITY = "integrity.json"
FIRST_SEALED_VERSION = 3  # files of versions 1 and 2 have no integrity record
MAX_INTEGRITY_BYTES = 4096
_HEX_DIGEST = frozenset("0123456789abcdef")


def check_key(key):
    """``key`` as bytes: a non-empty ``bytes``/``bytearray``, or a non-empty ``str`` (UTF-8).

    Raises TypeError or ValueError naming what was given; None is not a key.
    """
    if isinstance(key, str):
        key = key.encode("utf-8")
    elif isinstance(key, (bytes, bytearray, memoryview)):
        key = bytes(key)
    else:
        raise TypeError(f"key must be bytes or str, got {type(key).__name__}.")
    if not key:
        raise ValueError("key must not be empty.")
    return key


def seal(manifest_bytes, key=None):
    """The bytes of the integrity record of ``manifest_bytes``, signed when ``key`` is given."""
    record = {
        "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
        "hmac_sha256": None if key is None else _signature(check_key(key), manifest_bytes),
    }
    return json.dumps(record, indent=2).encode("utf-8")


def verify(record_bytes, manifest_bytes, key, path):
    """Check ``manifest_bytes`` against the integrity record (and ``key``'s signature when given).

    ``record_bytes`` is None when the file has no record (versions 1 and 2).
    Raises ModelFileError saying what does not match.
    """
    if record_bytes is None:
        if key is not None:
            raise ModelFileError(
                f"{path} is not signed (it has no {INTEGRITY}), but a key was given: refusing an unsigned file."
            )
        return
    record = _parse(record_bytes, path)
    if not hmac.compare_digest(record["manifest_sha256"], hashlib.sha256(manifest_bytes).hexdigest()):
        raise ModelFileError(
            f"{path}: the manifest does not match its SHA-256 in {INTEGRITY}: the file was damaged or edited."
        )
    if key is None:
        return
    signature = record["hmac_sha256"]
    if signature is None:
        raise ModelFileError(f"{path} is not signed, but a key was given: refusing an unsigned file.")
    if not hmac.compare_digest(signature, _signature(check_key(key), manifest_bytes)):
        raise ModelFileError(
            f"{path}: its signature does not match the key: the file was altered, or signed with another key."
        )


def _signature(key, manifest_bytes):
    return hmac.new(key, manifest_bytes, hashlib.sha256).hexdigest()


def _parse(record_bytes, path):
    try:
        record = json.loads(record_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: {INTEGRITY} is not valid JSON: {exc}") from exc
    if not isinstance(record, dict) or set(record) != {"manifest_sha256", "hmac_sha256"}:
        raise ModelFileError(f"{path}: {INTEGRITY} must hold exactly 'manifest_sha256' and 'hmac_sha256'.")
    for name, value in record.items():
        if value is None and name == "hmac_sha256":
            continue
        if not (isinstance(value, str) and len(value) == 64 and set(value) <= _HEX_DIGEST):
            raise ModelFileError(f"{path}: {INTEGRITY}'s {name!r} is not a SHA-256 hex digest.")
    return record
