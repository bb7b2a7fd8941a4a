"""``kmeanskit quantize``: redraw an image with K colours chosen by K-Means."""

from __future__ import annotations

import argparse
import os
import sys
import time

from kmeanskit._interfaces.cli import _common as common

__all__ = ["EPILOG", "add_arguments", "run"]

EPILOG = """\
examples:
  kmeanskit quantize photo.jpg -k 16 -o photo-16.png
  kmeanskit quantize logo.png -k 8 -o logo-8.png --seed 0      # transparency is kept
  kmeanskit quantize photo.jpg -k 64 -o small.gif --sample 50000 --json

K-Means runs on a random sample of the pixels (--sample), then every pixel
takes the colour of its nearest center, as in scikit-learn's example
"Color Quantization using K-Means". The output format follows the suffix of
OUT (.png, .gif, .bmp, .tif/.tiff, .webp, .jpg/.jpeg); PNG, GIF, BMP and
TIFF get a palette (smaller files). JPEG is lossy and adds colours back, and
has no transparency: images with an alpha channel are flattened onto white.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``kmeanskit quantize``."""
    parser.add_argument("image", metavar="IMAGE", help="a PNG, JPEG or other image Pillow reads")
    parser.add_argument("-k", "--n-colors", type=int, required=True, metavar="K",
                        help="number of colours, 1 to 65536 (at most 256 for a palette)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="output image; its format follows the suffix")
    parser.add_argument("--seed", type=int, help="random seed for the sample and K-Means")
    parser.add_argument("--sample", type=int, default=10_000, metavar="N",
                        help="pixels K-Means is fitted on (default: %(default)s)")
    common.add_json_argument(parser, "print the results as JSON")


def run(args: argparse.Namespace) -> int:
    """Run ``kmeanskit quantize`` with parsed arguments; return the exit code."""
    from kmeanskit._analysis.quantize import (
        OUTPUT_FORMATS,
        count_colors,
        open_image,
        output_format,
        quantize_image,
        save_image,
    )

    if not 1 <= args.n_colors <= 65536:
        raise common.CommandError(f"-k/--n-colors must be between 1 and 65536, got {args.n_colors}")
    if args.sample < 1:
        raise common.CommandError(f"--sample must be a positive number of pixels, got {args.sample}")
    out_path = common.check_output_path(args.output, option="-o/--output", inputs=[args.image])
    try:
        fmt = output_format(out_path)
    except ValueError as exc:
        raise common.CommandError(f"-o/--output: {exc}") from None
    if fmt == "GIF" and args.n_colors > 256:
        raise common.CommandError(f"GIF holds at most 256 colours; -k {args.n_colors} needs PNG, TIFF or WebP")

    image = open_image(args.image)
    with common.compiling_notice() as compiling:  # a first run compiles kernels: said, and not timed
        start = time.perf_counter()
        result = quantize_image(image, args.n_colors, sample_size=args.sample, random_state=args.seed,
                                keep_alpha=OUTPUT_FORMATS[fmt])
        seconds = time.perf_counter() - start - compiling.seconds
    save_image(result, out_path, fmt=fmt)
    in_bytes, out_bytes = os.path.getsize(args.image), os.path.getsize(out_path)
    in_file = None
    if fmt in ("JPEG",):  # lossy: count what the file really holds
        written = open_image(out_path)
        in_file = count_colors(written.convert(result.image.mode))

    if args.json:
        payload = {
            "image": args.image, "output": str(out_path), "format": fmt,
            "width": image.width, "height": image.height, "mode": result.image.mode,
            "n_colors": args.n_colors, "n_colors_before": result.n_colors_before,
            "n_colors_after": result.n_colors_after, "n_colors_in_file": in_file,
            "input_bytes": in_bytes, "output_bytes": out_bytes,
            "n_pixels": result.n_pixels, "sample_size": result.sample_size, "seconds": seconds,
            "palette": result.palette.tolist(), "notes": result.notes, "seed": args.seed,
        }
        common.print_json(payload)
    else:
        print(f"{args.image}: {image.width} x {image.height} {image.mode}, "
              f"{result.n_colors_before:,} colours, {_size(in_bytes)}")
        if result.sample_size:
            print(f"k-means, k={args.n_colors}, on a sample of {result.sample_size:,} of "
                  f"{result.n_pixels:,} pixels: {seconds:.2f} s")
        after = f"{result.n_colors_after:,} colours"
        if in_file is not None:
            after += f" ({in_file:,} in the file: {fmt} compression is lossy; use .png to keep exactly these)"
        print(f"{out_path}: {after}, {_size(out_bytes)} ({out_bytes / in_bytes:.0%} of the input)")
        for note in result.notes:
            print(f"note: {note}")
    sys.stdout.flush()
    return common.EXIT_OK


def _size(n: int) -> str:
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
