"""Colour quantisation of images with K-Means.

As in scikit-learn's example "Color Quantization using K-Means": K-Means runs
on a random sample of the pixels' colours, then every pixel takes the colour
of its nearest center, so the image is redrawn with at most ``n_colors``
colours.

Transparency is kept: the alpha channel is left as it is, fully transparent
pixels (whose colour cannot be seen) are left out of the fit, and only the
colour channels are quantised. Where the output cannot hold transparency,
:func:`quantize_image` with ``keep_alpha=False`` first composites the image on
a background colour.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kmeanskit._io.atomic import atomic_write

__all__ = [
    "OUTPUT_FORMATS",
    "QuantizeResult",
    "count_colors",
    "open_image",
    "output_format",
    "quantize_image",
    "save_image",
]

#: Formats an output may be written in, by Pillow format name; True where it keeps an alpha channel.
OUTPUT_FORMATS = {"PNG": True, "WEBP": True, "TIFF": True, "JPEG": False, "GIF": False, "BMP": False}

# Modes that are quantised as they are, and what the others are converted to first.
_NATIVE_MODES = ("L", "LA", "RGB", "RGBA")
_CONVERT = {"1": "L", "P": None, "PA": "RGBA", "La": "LA", "RGBa": "RGBA", "RGBX": "RGB", "CMYK": "RGB",
            "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB"}


@dataclass
class QuantizeResult:
    """What :func:`quantize_image` produced.

    Attributes
    ----------
    image : PIL.Image.Image
        The quantised image, mode ``L``, ``LA``, ``RGB`` or ``RGBA``.
    palette : ndarray of shape (n_palette, n_channels), uint8
        The colours used (without alpha), one row per cluster.
    n_colors : int
        Colours asked for.
    n_colors_before, n_colors_after : int
        Distinct pixel values (alpha included) of the input and of `image`.
    n_pixels : int
    sample_size : int
        Pixels K-Means was fitted on (0 when the image already had at most
        `n_colors` colours and was left unchanged).
    notes : list of str
        What was done that the caller may not expect.
    """

    image: object
    palette: np.ndarray
    n_colors: int
    n_colors_before: int
    n_colors_after: int
    n_pixels: int
    sample_size: int
    notes: list = field(default_factory=list)

    def palette_image(self):
        """The image in palette mode ``P`` (smaller files), or None when it has alpha or > 256 colours."""
        from PIL import Image

        if self.image.mode not in ("L", "RGB") or self.n_colors_after > 256:
            return None
        pixels = np.asarray(self.image)
        channels = 1 if pixels.ndim == 2 else pixels.shape[2]
        keys, index = np.unique(_pack(pixels.reshape(-1, channels)), return_inverse=True)
        colors = _unpack(keys, channels)
        if channels == 1:
            colors = np.repeat(colors, 3, axis=1)
        out = Image.fromarray(index.astype(np.uint8).reshape(pixels.shape[:2]), mode="P")
        out.putpalette(colors.ravel().tolist())
        return out


def _pack(pixels: np.ndarray) -> np.ndarray:
    """One uint32 per pixel of up to 4 uint8 channels, for counting and matching colours."""
    pixels = np.asarray(pixels, dtype=np.uint32)
    if pixels.ndim == 1:
        return pixels
    key = np.zeros(pixels.shape[0], dtype=np.uint32)
    for c in range(pixels.shape[1]):
        key = (key << np.uint32(8)) | pixels[:, c]
    return key


def count_colors(image) -> int:
    """Number of distinct pixel values of an image (alpha included).

    Parameters
    ----------
    image : PIL.Image.Image or ndarray of shape (height, width[, channels]), uint8

    Returns
    -------
    int
    """
    pixels = np.asarray(image)
    if pixels.dtype != np.uint8:
        raise ValueError(f"count_colors needs 8-bit pixels, got dtype {pixels.dtype}")
    flat = pixels.reshape(-1, pixels.shape[2]) if pixels.ndim == 3 else pixels.reshape(-1)
    return int(np.unique(_pack(flat)).size)


def open_image(path):
    """Open an image file, upright (EXIF orientation applied) and fully read.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If it is not an image Pillow can read, or too large (decompression bomb guard).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: '{path}'")
    if path.is_dir():
        raise ValueError(f"'{path}' is a directory, not an image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()
                return ImageOps.exif_transpose(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(f"'{path}' is too large to quantize safely: {exc}") from None
    except UnidentifiedImageError:
        raise ValueError(f"'{path}' is not an image file Pillow can read") from None
    except (OSError, SyntaxError) as exc:  # truncated or corrupt files
        raise ValueError(f"'{path}' cannot be read as an image: {exc}") from None


def output_format(path) -> str:
    """The Pillow format name for an output path, from its suffix.

    Raises
    ------
    ValueError
        If the suffix is not one of the supported output formats.
    """
    from PIL import Image

    suffix = Path(path).suffix.lower()
    fmt = Image.registered_extensions().get(suffix)
    if fmt not in OUTPUT_FORMATS:
        allowed = sorted(ext for ext, name in Image.registered_extensions().items() if name in OUTPUT_FORMATS)
        raise ValueError(
            f"cannot tell the image format of output '{path}' from its suffix {suffix or '(none)'}; "
            f"use one of {', '.join(allowed)}"
        )
    return fmt


def quantize_image(image, n_colors: int, *, sample_size: int = 10_000, random_state=None,
                   keep_alpha: bool = True, background=(255, 255, 255)) -> QuantizeResult:
    """Redraw an image with at most `n_colors` colours chosen by K-Means.

    Parameters
    ----------
    image : PIL.Image.Image
        The image; palette, CMYK, YCbCr and other 8-bit modes are converted
        to RGB (RGBA with transparency), 1-bit to greyscale. 16- and 32-bit
        integer and float images are refused.
    n_colors : int
        Colours wanted, from 1 to 65536.
    sample_size : int, default=10000
        Pixels K-Means is fitted on, drawn at random without replacement (all
        of them when the image has fewer); every pixel is then assigned.
    random_state : int, RandomState instance or None, default=None
        Seed for the sample and for K-Means.
    keep_alpha : bool, default=True
        Keep the alpha channel. False composites the image on `background`
        first (for formats such as JPEG that have no alpha).
    background : tuple of int, default=(255, 255, 255)
        RGB background for ``keep_alpha=False``.

    Returns
    -------
    QuantizeResult

    Raises
    ------
    ValueError, TypeError
        If `n_colors` or `sample_size` is out of range, or the image mode is
        not supported.
    """
    from PIL import Image
    from sklearn.utils import check_random_state

    from kmeanskit._estimators.kmeans import KMeans

    if isinstance(n_colors, bool) or not isinstance(n_colors, (int, np.integer)):
        raise TypeError(f"n_colors must be an integer, got {n_colors!r}")
    if not 1 <= n_colors <= 65536:
        raise ValueError(f"n_colors must be between 1 and 65536, got {n_colors}")
    if isinstance(sample_size, bool) or not isinstance(sample_size, (int, np.integer)) or sample_size < 1:
        raise ValueError(f"sample_size must be a positive integer, got {sample_size!r}")
    if not isinstance(image, Image.Image):
        raise TypeError(f"image must be a PIL.Image.Image, got {type(image).__name__}")

    notes = []
    image = _normalise_mode(image)
    if not keep_alpha and image.mode in ("LA", "RGBA"):
        flat_mode = image.mode[:-1]
        fill = tuple(background) if flat_mode == "RGB" else (int(round(np.mean(background))),)
        canvas = Image.new(image.mode, image.size, fill + (255,))
        image = Image.alpha_composite(canvas.convert("RGBA"), image.convert("RGBA")).convert(flat_mode)
        notes.append(f"transparency flattened onto the background {tuple(background)}: the output format "
                     "has no alpha channel")
    pixels = np.asarray(image)
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    flat = pixels.reshape(height * width, channels)
    has_alpha = image.mode in ("LA", "RGBA")
    color = flat[:, :-1] if has_alpha else flat
    visible = flat[:, -1] > 0 if has_alpha else np.ones(flat.shape[0], dtype=bool)
    n_before = count_colors(pixels)

    distinct = np.unique(_pack(color[visible])) if visible.any() else np.zeros(0, dtype=np.uint32)
    if distinct.size <= n_colors:
        # Nothing to reduce: every colour is already in the palette.
        palette = _unpack(distinct, color.shape[1])
        out_color = color
        sample = 0
        notes.append(f"the image has {distinct.size} colour(s), not more than {n_colors}: left unchanged")
    else:
        rs = check_random_state(random_state)
        candidates = np.flatnonzero(visible)
        sample = min(int(sample_size), candidates.size)
        chosen = np.sort(rs.choice(candidates, size=sample, replace=False))
        X = color[chosen].astype(np.float32)
        k = n_colors
        in_sample = np.unique(_pack(color[chosen])).size
        if in_sample < k:
            notes.append(f"the sample of {sample} pixels has only {in_sample} colours: using k={in_sample}; "
                         "increase the sample size for more")
            k = in_sample
        km = KMeans(n_clusters=k, random_state=rs).fit(X)
        labels = km.predict(color.astype(np.float32))
        palette = np.clip(np.rint(km.cluster_centers_), 0, 255).astype(np.uint8)
        out_color = palette[labels]
    if has_alpha:
        out = np.concatenate([out_color, flat[:, -1:]], axis=1)
    else:
        out = out_color
    out = out.reshape(pixels.shape).astype(np.uint8)
    result_image = Image.fromarray(out, mode=image.mode)
    return QuantizeResult(
        image=result_image,
        palette=palette,
        n_colors=int(n_colors),
        n_colors_before=n_before,
        n_colors_after=count_colors(out),
        n_pixels=height * width,
        sample_size=int(sample),
        notes=notes,
    )


def _unpack(keys: np.ndarray, channels: int) -> np.ndarray:
    out = np.empty((keys.size, channels), dtype=np.uint8)
    for c in range(channels - 1, -1, -1):
        out[:, c] = keys & 0xFF
        keys = keys >> np.uint32(8)
    return out


def _normalise_mode(image):
    mode = image.mode
    if mode in _NATIVE_MODES:
        return image
    if mode == "P":
        has_transparency = "transparency" in image.info
        return image.convert("RGBA" if has_transparency else "RGB")
    if mode in _CONVERT:
        return image.convert(_CONVERT[mode])
    raise ValueError(
        f"image mode {mode!r} (16- or 32-bit samples) is not supported: convert the image to 8-bit RGB first"
    )


def save_image(result: QuantizeResult, path, *, fmt: str | None = None) -> None:
    """Write a quantised image; formats with a palette get one (smaller files), lossy ones their best quality.

    Parameters
    ----------
    result : QuantizeResult
    path : str or os.PathLike
        Replaced only once the new image is complete (written atomically).
    fmt : str, optional
        Pillow format name; from the suffix by default (see :func:`output_format`).
    """
    fmt = fmt or output_format(path)
    image = result.image
    options = {}
    if fmt in ("PNG", "GIF", "BMP", "TIFF"):
        paletted = result.palette_image()
        if paletted is not None:
            image = paletted
        elif fmt == "GIF":
            image = image.convert("RGB").quantize(colors=min(256, max(result.n_colors_after, 1)))
    if fmt == "PNG":
        options["optimize"] = True
    elif fmt == "JPEG":
        options["quality"] = 95
    elif fmt == "WEBP":
        options["lossless"] = True
    with atomic_write(path) as handle:
        image.save(handle, format=fmt, **options)
