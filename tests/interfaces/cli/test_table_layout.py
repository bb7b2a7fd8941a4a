"""What the commands print: readable numbers, tables within the terminal (turned over, then split), and the warning about features on different scales with --scale none."""

import numpy as np
import pandas as pd
import pytest

from kmeanskit._interfaces.cli._common import format_table, terminal_width

from .running import cluster_table, run


@pytest.fixture
def clusters():
    return pd.DataFrame({
        "cluster": [0, 1, 2],
        "size": [10, 200, 5],
        "share": [10 / 215, 200 / 215, 5 / 215],
        "annual income (EUR)": [52013.7, 61000.2, 10000.0],
        "standardised score": [1.5, -7.8e-16, -1.5],
        "anova_p": [0.0, 0.2, 1e-5],
    })


def test_a_narrow_table_keeps_its_layout_with_readable_numbers(clusters):
    text = format_table(clusters, percent=["share"], width=200)
    assert text.splitlines() == [
        " cluster  size  share  annual income (EUR)  standardised score   anova_p",
        "       0    10   4.7%                52014               1.500  < 1e-300",
        "       1   200  93.0%                61000               0.000       0.2",
        "       2     5   2.3%                10000              -1.500     1e-05",
    ]


def test_a_wide_table_is_turned_over_features_as_rows(clusters):
    wide = format_table(clusters, percent=["share"], width=200)
    width = max(map(len, wide.splitlines())) - 1
    text = format_table(clusters, percent=["share"], width=width)
    assert text.splitlines() == [
        "                      cluster 0  cluster 1  cluster 2",
        " size                        10        200          5",
        " share                     4.7%      93.0%       2.3%",
        " annual income (EUR)      52014      61000      10000",
        " standardised score       1.500      0.000     -1.500",
        " anova_p               < 1e-300        0.2      1e-05",
    ]
    assert max(map(len, text.splitlines())) <= width


def test_still_too_wide_it_is_split_into_blocks_that_repeat_the_row_names(clusters):
    text = format_table(clusters, percent=["share"], width=45)
    blocks = text.split("\n\n")
    assert len(blocks) == 2
    assert blocks[0].splitlines()[0].split() == ["cluster", "0", "cluster", "1"]
    assert blocks[1].splitlines()[0].split() == ["cluster", "2"]
    for block in blocks:
        lines = block.splitlines()
        assert [line.split("  ")[0].strip() for line in lines[1:]] == [
            "size", "share", "annual income (EUR)", "standardised score", "anova_p"]
        assert max(map(len, lines)) <= 45


def test_many_clusters_and_features_still_fit():
    rng = np.random.default_rng(0)
    many = pd.DataFrame(rng.normal(size=(30, 12)), columns=[f"feature_{j}" for j in range(12)])
    many.insert(0, "cluster", np.arange(30))
    text = format_table(many, width=60)
    assert max(map(len, text.splitlines())) <= 60
    headers = [line for line in text.splitlines() if line.lstrip().startswith("cluster")]
    assert " ".join(headers).split()[1::2] == [str(c) for c in range(30)]  # every cluster once, in order
    assert all(len(block.splitlines()) == 13 for block in text.split("\n\n"))


def test_terminal_width_follows_columns_and_is_unlimited_in_a_pipe(monkeypatch):
    monkeypatch.setenv("COLUMNS", "73")
    assert terminal_width() == 73
    monkeypatch.delenv("COLUMNS")
    assert terminal_width() is None  # pytest captures stdout: not a terminal


def test_fit_turns_its_table_over_in_a_narrow_terminal(capsys, monkeypatch):
    code, wide, _ = run(capsys, "fit", "--seed", 0)
    assert code == 0
    table = cluster_table(wide)
    assert table[0].split()[:3] == ["cluster", "size", "share"]
    monkeypatch.setenv("COLUMNS", "60")
    code, narrow, _ = run(capsys, "fit", "--seed", 0)
    assert code == 0
    turned = cluster_table(narrow)
    assert turned[0].split() == ["cluster", "0", "cluster", "1", "cluster", "2"]
    assert [line[:20].strip() for line in turned[1:]] == [
        "size", "share", "sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)",
        "stability"]
    assert max(len(line) for line in turned) <= 60


def test_fit_with_scale_none_warns_about_features_on_different_scales(capsys, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "customers.csv"
    pd.DataFrame({"income": rng.normal(50_000, 10_000, 120), "rate": rng.normal(0.2, 0.05, 120)}).to_csv(
        path, index=False)
    code, _, err = run(capsys, "fit", path, "-k", 2, "--seed", 0, "--scale", "none")
    assert code == 0
    assert err.splitlines() == [
        "kmeanskit: warning: features differ in scale by 10^5 (income: sd 9.5e3, rate: sd 0.053); K-Means uses "
        "Euclidean distance, so the largest scale dominates: scale them (--scale standard)"
    ]
    code, _, err = run(capsys, "fit", path, "-k", 2, "--seed", 0)
    assert code == 0 and err == ""


def test_select_k_with_scale_none_warns_once_in_the_commands_words(capsys, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "customers.csv"
    pd.DataFrame({"income": rng.normal(50_000, 10_000, 120), "rate": rng.normal(0.2, 0.05, 120)}).to_csv(
        path, index=False)
    code, _, err = run(capsys, "select-k", path, "--ks", "2,3", "--methods", "silhouette", "--seed", 0,
                       "--scale", "none")
    assert code == 0
    assert [line for line in err.splitlines() if "differ in scale" in line] == [
        "kmeanskit: warning: features differ in scale by 10^5 (income: sd 9.5e3, rate: sd 0.053); K-Means uses "
        "Euclidean distance, so the largest scale dominates: scale them (--scale standard)"
    ]


@pytest.mark.parametrize("command", [["fit"], ["report", "-o", "report.html", "--no-select-k"]])
def test_a_table_with_categories_clustered_unscaled_gets_the_warning_from_fit_and_report(capsys, tmp_path,
                                                                                        command):
    rng = np.random.default_rng(0)
    path = tmp_path / "customers.csv"
    pd.DataFrame({"income": rng.normal(50_000, 10_000, 120), "rate": rng.normal(0.2, 0.05, 120),
                  "plan": rng.choice(["basic", "pro"], 120)}).to_csv(path, index=False)
    command = [part if part != "report.html" else tmp_path / part for part in command]
    code, _, err = run(capsys, *command, path, "-k", 2, "--seed", 0, "--scale", "none")
    assert code == 0
    assert err.splitlines() == [
        "kmeanskit: warning: features differ in scale by 10^5 (income: sd 9.5e3, rate: sd 0.053); K-Means uses "
        "Euclidean distance, so the largest scale dominates: scale them (--scale standard)"
    ]
