"""The ``.kmk`` model file: a fitted model saved without pickle, loaded without running code.

A ``.kmk`` file is a zip archive holding ``manifest.json``, ``integrity.json``
(the manifest's SHA-256 and, when saved with a key, its HMAC-SHA256 signature)
and the fitted arrays as ``.npy`` members (written with ``allow_pickle=False``). The manifest names
the estimator and preprocessing classes, their parameters and scalar state, a
training summary, and the SHA-256 of every array member. Loading builds the
objects from a fixed whitelist of classes, validates every parameter, shape
and dtype, and refuses a damaged, tampered or unknown file with
:class:`ModelFileError`. Loading is bounded: only a regular file is opened,
and each array's declared shape and size are checked against what the
manifest's model needs before any of its data is decompressed.

Format versions (files of every version are read):

1. ``kmeanskit.KMeans``, alone or after StandardScaler, MinMaxScaler,
   RobustScaler or MaxAbsScaler steps of a Pipeline.
2. Also ``kmeanskit.MiniBatchKMeans`` (with the state ``partial_fit``
   continues from: per-center counts, batch size, random generator),
   ``kmeanskit.SphericalKMeans`` and ``kmeanskit.KMedians``. The training
   summary names the ``distance`` its quantiles are in, and may hold no
   cluster sizes (``null``) when the model cannot tell them (see
   :func:`save`).
3. Every file holds ``integrity.json`` (``integrity`` module); every
   summary names its ``distance``. Releases that read only versions 1 and 2
   refuse these files with "upgrade kmeanskit".
4. Also ``kmeanskit.KPrototypes`` and ``kmeanskit.KModes`` (their category
   levels under the ``{"levels": ...}`` tag, gamma, which columns are
   categorical), alone or after the ``kmeanskit.NumericScaler`` step that
   scales the numeric columns of a table with categories. Only such files say
   version 4: the others stay version 3, for the readers of version 3.

Modules: ``format`` (format name, version and the whitelist of classes),
``values`` (how a value is written in the manifest), ``integrity`` (the
checksum and signature of the manifest), ``writer`` (:func:`save`,
:func:`describe`), ``reader`` (:func:`load` and the archive checks), ``build``
(the model a manifest describes) and ``checks`` (the shapes of the arrays a
manifest's model needs, and the fitted state a loaded estimator must have).
"""

from kmeanskit._io.persistence.format import FORMAT_VERSION, ModelFileError
from kmeanskit._io.persistence.reader import load, load_with_manifest, read_manifest
from kmeanskit._io.persistence.writer import describe, save, write_model

__all__ = ["save", "load", "load_with_manifest", "read_manifest", "describe", "write_model", "ModelFileError",
           "FORMAT_VERSION"]
