"""Each script in examples/ runs offline, prints what it found and saves its
figure to --out only (smoke tests, run as a user would: a subprocess)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"

# script -> (what its output must say, files it must write into --out)
EXAMPLES = {
    "choosing_k.py": (
        [r"recommended k:\s+elbow\s+(\d+|none found)\s+silhouette\s+\d+\s+gap\s+(\d+|none found)"
         r"\s+prediction_strength\s+\d+",
         r"inertia\s+silhouette\s+calinski_harabasz\s+davies_bouldin\s+gap\s+gap_se\s+prediction_strength",
         r"answer: k = \d+: .+ points? to \d+"],
        ["choosing_k.png"],
    ),
    "color_quantization.py": (
        [r"distinct colours: [\d,]+ -> 16\b", r"PNG size: .* KiB -> .* KiB \(\d+% of the original\)"],
        ["color_quantization.png", "china_16_colors.png"],
    ),
    "anomaly_detection.py": (
        [r"K-Means k=3", r"precision 0\.\d{3}, recall (0\.\d{3}|1\.000)"],
        ["anomaly_detection.png"],
    ),
    "customer_segmentation.py": (
        [r"StandardScaler -> KMeans k=5", r"segment centers in original units:", r"median per segment"],
        ["customer_segmentation.png"],
    ),
    "digits.py": (
        [r"purity 0\.\d{3}\s+adjusted Rand index 0\.\d{3}\s+normalized mutual information 0\.\d{3}",
         r"contingency matrix \(rows: true digit, columns: cluster\)"],
        ["digits.png"],
    ),
    "document_clustering.py": (
        [r"79 help topics, [\d,]+ terms, CSR", r"cluster \d+ \(\d+ topics\): \w+"],
        ["document_clustering.png"],
    ),
}


@pytest.mark.parametrize("script", sorted(EXAMPLES))
def test_example_runs_and_writes_only_to_out(script, tmp_path):
    patterns, outputs = EXAMPLES[script]
    cwd, out = tmp_path / "cwd", tmp_path / "out"
    cwd.mkdir()
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / script), "--quick", "--out", str(out)],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for pattern in patterns:
        assert re.search(pattern, proc.stdout), (pattern, proc.stdout)
    for name in outputs:
        path = out / name
        assert path.is_file() and path.stat().st_size > 1000, name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert sorted(p.name for p in out.iterdir()) == sorted(outputs)
    assert list(cwd.iterdir()) == []  # nothing written to the working directory


def test_every_example_is_smoke_tested():
    scripts = {p.name for p in EXAMPLES_DIR.glob("*.py")}
    assert scripts == set(EXAMPLES)

