"""ARCHITECTURE.md stays the map of the tree: every path it names exists, every layer folder is named."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "kmeanskit"
TEXT = (ROOT / "ARCHITECTURE.md").read_text()


def test_every_path_it_names_exists():
    named = set(re.findall(r"`(_[a-z]+/[\w/]*?(?:\.py|/))(?::[^`]*)?`", TEXT))
    assert len(named) > 12
    missing = sorted(p for p in named if not (PACKAGE / p).exists())
    assert not missing, missing


def test_every_layer_folder_and_public_module_is_named():
    folders = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name.startswith("_") and p.name != "__pycache__")
    assert folders == ["_algorithms", "_analysis", "_engine", "_estimators", "_interfaces", "_io", "_presentation"]
    for folder in folders:
        assert f"`{folder}/" in TEXT, folder
    public = sorted(p.stem for p in PACKAGE.glob("*.py") if not p.name.startswith("_"))
    for name in public:
        assert f"kmeanskit.{name}" in TEXT, name


def test_the_modules_of_the_layers_table_are_in_their_folders():
    section = TEXT.split("## Layers and folders")[1].split("\n## ")[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| ") and "`_" in line]
    checked = 0
    for row in rows:
        folders = [PACKAGE / f for f in re.findall(r"`(_[a-z]+/(?:[a-z]+/)?)`", row[2])]
        for name in re.findall(r"`([a-z_]+\.py|[a-z_]+/)`", row[3]):
            assert any((folder / name).exists() for folder in folders), (row[1], name)
            checked += 1
    assert checked > 20
