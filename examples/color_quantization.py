"""Colour quantisation: redraw a photo with k colours chosen by K-Means.

K-Means is fitted on a random sample of the pixels' RGB colours, then every
pixel takes the colour of its nearest center (``kmeanskit._analysis.quantize``). The
script prints the number of distinct colours and the size of the image as a
PNG before and after, and saves the quantised image and a side-by-side figure.

Data: ``china.jpg``, shipped with scikit-learn (no download).

    python examples/color_quantization.py --colors 16 --out /tmp/quant
"""

import argparse
import io
import time
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_image

from kmeanskit._analysis.quantize import count_colors, quantize_image, save_image


def png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.tell()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--colors", type=int, default=16, help="number of colours k (default 16)")
    parser.add_argument("--out", type=Path, default=Path("."), help="directory for the outputs (default: .)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a smaller pixel sample (for smoke tests)")
    args = parser.parse_args(argv)
    matplotlib.use("Agg")  # figures go to files, never to a window
    args.out.mkdir(parents=True, exist_ok=True)

    original = Image.fromarray(load_sample_image("china.jpg"))
    width, height = original.size
    start = time.perf_counter()
    result = quantize_image(
        original, args.colors, sample_size=2_000 if args.quick else 10_000, random_state=args.seed
    )
    seconds = time.perf_counter() - start
    quantized_path = args.out / f"china_{args.colors}_colors.png"
    save_image(result, quantized_path)

    before, after = png_bytes(original), quantized_path.stat().st_size
    print(f"china.jpg: {width} x {height} = {width * height:,} pixels")
    print(f"K-Means on {result.sample_size:,} sampled pixels, k={args.colors}, then every pixel assigned: "
          f"{seconds:.2f} s")
    print(f"distinct colours: {count_colors(original):,} -> {result.n_colors_after:,}")
    print(f"PNG size:         {before / 1024:,.0f} KiB -> {after / 1024:,.0f} KiB ({after / before:.0%} of the original)")
    print("palette (RGB):", " ".join("#%02x%02x%02x" % tuple(c) for c in result.palette))

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    axes[0].imshow(np.asarray(original))
    axes[0].set_title(f"original: {count_colors(original):,} colours, PNG {before / 1024:,.0f} KiB")
    axes[1].imshow(np.asarray(result.image))
    axes[1].set_title(f"k-means, k={args.colors}: PNG {after / 1024:,.0f} KiB")
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    figure_path = args.out / "color_quantization.png"
    fig.savefig(figure_path, dpi=100)
    print(f"saved {quantized_path} and {figure_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
