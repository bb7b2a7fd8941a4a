"""``kmeanskit quantize``: K colours by K-Means, as in scikit-learn's colour quantisation example."""

import json

import numpy as np
import pytest
from PIL import Image

from kmeanskit._analysis.quantize import count_colors, quantize_image

from .running import run


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A smooth gradient with noise: thousands of colours, like a photograph."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:60, 0:80]
    rgb = np.stack([x * 3, y * 4, (x + y) * 2], axis=-1) + rng.integers(0, 8, size=(60, 80, 3))
    path = tmp_path_factory.mktemp("img") / "photo.png"
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB").save(path)
    return path


def test_png_output_has_k_colours_from_the_centers(capsys, tmp_path, photo):
    out_path = tmp_path / "q.png"
    code, out, err = run(capsys, "quantize", photo, "-k", 8, "-o", out_path, "--seed", 0, "--sample", 2000)
    assert code == 0 and err == ""
    before = count_colors(Image.open(photo))
    written = Image.open(out_path)
    assert written.mode == "P"  # a palette PNG
    assert count_colors(written.convert("RGB")) == 8
    assert f"{before:,} colours" in out and "8 colours" in out and "sample of 2,000 of 4,800 pixels" in out


def test_result_matches_kmeans_on_the_same_sample(photo):
    """Every pixel takes its nearest palette colour (the rounded K-Means centers)."""
    image = Image.open(photo)
    result = quantize_image(image, 6, sample_size=1000, random_state=0)
    pixels = np.asarray(image).reshape(-1, 3).astype(float)
    quantized = np.asarray(result.image).reshape(-1, 3)
    palette = result.palette.astype(float)
    nearest = palette[np.argmin(((pixels[:, None, :] - palette[None]) ** 2).sum(-1), axis=1)]
    # Ties aside (rounding of the centers to integers), the nearest palette colour.
    assert np.mean(np.all(nearest == quantized, axis=1)) > 0.99
    assert result.n_colors_after == 6 and result.sample_size == 1000


def test_json_and_jpeg_report_the_lossy_file(capsys, tmp_path, photo):
    out_path = tmp_path / "q.jpg"
    code, out, _ = run(capsys, "quantize", photo, "-k", 4, "-o", out_path, "--seed", 0, "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["n_colors_after"] == 4 and payload["format"] == "JPEG"
    assert payload["n_colors_in_file"] > 4  # JPEG adds colours back
    assert payload["output_bytes"] == out_path.stat().st_size and len(payload["palette"]) == 4


def test_alpha_is_kept_in_png_and_flattened_for_jpeg(capsys, tmp_path):
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., 0] = np.arange(30) * 8
    rgba[..., 1] = np.arange(20)[:, None] * 12
    rgba[..., 3] = np.where(np.arange(30) < 10, 0, 180)
    src = tmp_path / "logo.png"
    Image.fromarray(rgba, "RGBA").save(src)
    code, out, _ = run(capsys, "quantize", src, "-k", 3, "-o", tmp_path / "q.png", "--seed", 0)
    assert code == 0
    result = np.asarray(Image.open(tmp_path / "q.png").convert("RGBA"))
    np.testing.assert_array_equal(result[..., 3], rgba[..., 3])  # alpha untouched
    visible = result[rgba[..., 3] > 0][:, :3]
    assert len(np.unique(visible, axis=0)) == 3
    code, out, _ = run(capsys, "quantize", src, "-k", 3, "-o", tmp_path / "q.jpg", "--seed", 0)
    assert code == 0 and "flattened onto the background" in out


def test_an_image_with_few_colours_is_left_unchanged(capsys, tmp_path):
    src = tmp_path / "flag.png"
    Image.fromarray(np.repeat(np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8), 10, axis=0), "RGB").save(src)
    code, out, _ = run(capsys, "quantize", src, "-k", 5, "-o", tmp_path / "q.png")
    assert code == 0 and "left unchanged" in out
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "q.png").convert("RGB")),
                                  np.asarray(Image.open(src)))


@pytest.mark.parametrize("args, message", [
    (["missing.png", "-k", "4", "-o", "q.png"], "no such file"),
    (["notimage.png", "-k", "4", "-o", "q.png"], "not an image file"),
    (["PHOTO", "-k", "0", "-o", "q.png"], "between 1 and 65536"),
    (["PHOTO", "-k", "4", "-o", "q.xyz"], "cannot tell the image format"),
    (["PHOTO", "-k", "300", "-o", "q.gif"], "GIF holds at most 256 colours"),
    (["PHOTO", "-k", "4", "-o", "PHOTO"], "would overwrite the input"),
    (["PHOTO", "-k", "4", "-o", "q.png", "--sample", "0"], "--sample"),
])
def test_bad_input_exits_2(capsys, tmp_path, photo, args, message):
    (tmp_path / "notimage.png").write_text("not an image")
    args = [str(photo) if a == "PHOTO" else str(tmp_path / a) if "." in a else a for a in args]
    code, _, err = run(capsys, "quantize", *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_help_has_examples(capsys):
    code, out, _ = run(capsys, "quantize", "--help")
    assert code == 0 and "kmeanskit quantize photo.jpg -k 16 -o photo-16.png" in out
