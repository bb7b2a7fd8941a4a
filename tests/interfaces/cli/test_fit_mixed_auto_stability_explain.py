"""``kmeanskit fit -k auto``, ``--stability`` and ``--explain`` on tables with categorical columns
(K-Prototypes on a messy CSV, K-Modes on categories alone), and ``kmeanskit explain`` on such a model."""

import json

import numpy as np
import pandas as pd
import pytest

from kmeanskit._analysis.mixed_workflow import fit_mixed_clusters

from .running import cluster_table, run


@pytest.fixture
def messy(tmp_path):
    """Customers in three groups: ids, a date, a store that follows the group (15% noise), amounts as text
    with thousands marks, visits with gaps, a plan that follows nothing."""
    rng = np.random.default_rng(1)
    n = 240
    group = np.repeat([0, 1, 2], n // 3)
    store = np.array(["North", "South", "East"], dtype=object)[group]
    flip = rng.random(n) < 0.15
    store[flip] = rng.choice(["North", "South", "East", "West"], flip.sum())
    amount = np.array([120.0, 1480.0, 2950.0])[group] + rng.normal(0, 60, n)
    table = pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(n)],
        "signup": pd.date_range("2024-01-01", periods=n).strftime("%Y-%m-%d"),
        "store": store,
        "amount": [f'"${a:,.2f}"' for a in amount],
        "visits": (np.array([2, 6, 12])[group] + rng.integers(0, 3, n)).astype(float),
    })
    table.loc[[5, 17], "visits"] = np.nan
    path = tmp_path / "customers.csv"
    path.write_text(table.to_csv(index=False).replace('"""', '"'))
    return path, table, group


def test_k_auto_chooses_k_by_the_methods_of_the_mixed_cost(capsys, messy):
    path, _, group = messy
    args = ["fit", path, "-k", "auto", "--seed", 0, "--thousands", ",", "--id-column", "customer_id",
            "--missing", "drop"]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    header = out.splitlines()[:2]
    assert header[0].endswith("238 rows x 3 features, k=3, scaling: standard")
    assert header[1].startswith("k chosen automatically (select-k over k = 2..10): k = 3: ")
    assert header[1].endswith("(The gap statistic, Calinski-Harabasz and Davies-Bouldin are not computed for a "
                              "KPrototypes: the gap's reference data are uniform in a box, which categories have no "
                              "meaning in, and the other two are Euclidean.)")
    assert cluster_table(out)[0].split()[-1] == "stability"  # small data: stability by default
    payload = json.loads(run(capsys, *args, "--json")[1])
    assert payload["k_selection"]["best_k"] == 3 and payload["n_clusters"] == 3
    assert set(payload["k_selection"]["recommended"]) == {"elbow", "silhouette", "prediction_strength"}
    # The library's answer on the same rows, and every cluster a group.
    sizes = sorted(c["size"] for c in payload["clusters"])
    assert sizes == sorted(np.bincount(np.delete(group, [5, 17])).tolist())
    assert all(c["stability_reading"] == "highly stable" for c in payload["clusters"])


def test_stability_of_a_mixed_fit_is_clusterboot_of_the_whole_pipeline(capsys, messy):
    path, _, _ = messy
    args = ["fit", path, "-k", 3, "--seed", 0, "--thousands", ",", "--id-column", "customer_id", "--missing",
            "ignore", "--stability", 5, "--json"]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    payload = json.loads(out)
    assert payload["stability"]["n_boot"] == 5 and payload["stability"]["method"] == "bootstrap"
    assert [c["stability"] for c in payload["clusters"]] == [1.0, 1.0, 1.0]
    code, out, err = run(capsys, *args[:-3], "--stability", 0)
    assert code == 0 and "stability" not in cluster_table(out)[0]


def test_explain_names_levels_and_rules_in_original_units(capsys, messy):
    path, _, _ = messy
    code, out, err = run(capsys, "fit", path, "-k", 3, "--seed", 0, "--thousands", ",", "--id-column",
                         "customer_id", "--missing", "ignore", "--stability", 0, "--explain")
    assert code == 0, err
    text = out.split("what sets each of 3 clusters apart (238 rows)")[1]
    assert ("(explained on the 238 of 240 rows without missing values; the 2 with gaps (the first: row 6, line 7) "
            "are left out: differences and rules need every value of a row)") in out.splitlines()
    lines = {line.split(" (")[0]: line for line in text.splitlines() if line.startswith("cluster ")}
    assert len(lines) == 3
    for store in ("North", "South", "East"):
        assert any(f"store = {store} (" in line and "% of the cluster, " in line for line in lines.values())
    rules = [line.strip() for line in text.splitlines() if line.strip().startswith("rule: ")]
    assert len(rules) == 3 and any("amount" in rule for rule in rules)
    assert "fidelity: share of rows whose rule gives their KPrototypes cluster" in " ".join(text.split())
    payload = json.loads(run(capsys, "fit", path, "-k", 3, "--seed", 0, "--thousands", ",", "--id-column",
                             "customer_id", "--missing", "ignore", "--stability", 0, "--explain", "--json")[1])
    explained = payload["explanation"]
    assert explained["n_rows_explained"] == 238 and explained["fidelity"] >= 0.95
    # The fields of 'kmeanskit explain --json', in the same words.
    assert explained["n_rows"] == 240 and explained["rows_left_out"].startswith(
        "explained on the 238 of 240 rows without missing values; the 2 with gaps (the first: row 6, line 7)")
    first = explained["clusters"][0]["differences"]
    assert {d["feature"] for d in first} == {"store", "amount", "visits"}
    assert [d["level"] for d in first if d["feature"] == "store"][0] in {"North", "South", "East"}


def test_all_categorical_table_k_auto_stability_and_explain(capsys, tmp_path):
    rng = np.random.default_rng(4)
    group = np.repeat([0, 1, 2], 90)
    columns = {}
    for c in range(4):
        own = np.array(["a", "b", "c", "d"], dtype=object)[(group + c) % 4]
        columns[f"q{c}"] = np.where(rng.random(group.size) < 0.85, own, rng.choice(list("abcd"), group.size))
    table = pd.DataFrame(columns)
    path = tmp_path / "survey.csv"
    table.to_csv(path, index=False)
    code, out, err = run(capsys, "fit", path, "-k", "auto", "--seed", 0, "--explain", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["estimator"] == "KModes" and payload["k_selection"]["best_k"] == 3
    assert "not computed for a KModes" in payload["k_selection"]["reason"]
    assert all(c["stability"] > 0.85 for c in payload["clusters"])
    # The rules are levels: "q0 = a", "q0 in {b, c}" and the like.
    rules = [c["rule"] for c in payload["explanation"]["clusters"]]
    assert all(rule.startswith("q") and (" = " in rule or " in {" in rule) for rule in rules), rules
    reference = fit_mixed_clusters(table.astype(str), 3, categorical=list(columns), n_init=10, random_state=0)
    assert sorted(c["size"] for c in payload["clusters"]) == sorted(reference.clusters["size"].tolist())


def test_kmeanskit_explain_takes_a_kprototypes_model(capsys, tmp_path, messy):
    path, _, _ = messy
    model = tmp_path / "customers.kmk"
    code, _, err = run(capsys, "fit", path, "-k", 3, "--seed", 0, "--thousands", ",", "--id-column",
                       "customer_id", "--missing", "drop", "--stability", 0, "-o", model)
    assert code == 0, err
    # The rows without gaps, as they are in the file: amounts as text, read by the model file's column roles.
    complete = tmp_path / "complete.csv"
    lines = path.read_text().splitlines()
    complete.write_text("\n".join(line for line in lines if ",," not in line and not line.endswith(",")) + "\n")
    code, out, err = run(capsys, "explain", model, complete, "--thousands", ",")
    assert code == 0, err
    assert "what sets each of 3 clusters apart (238 rows)" in out and "store = " in out
    # With the rows with gaps: the same explanation of the complete rows, the rows left out counted and named.
    code, with_gaps, err = run(capsys, "explain", model, path, "--thousands", ",")
    assert code == 0, err
    assert with_gaps.split("\n", 1)[1] == out.split("\n", 1)[1] + (
        "(explained on the 238 of 240 rows without missing values; the 2 with gaps (the first: row 6, line 7) are "
        "left out: differences and rules need every value of a row)\n")


def test_a_category_in_a_single_row_is_named_with_what_to_do(capsys, tmp_path):
    rng = np.random.default_rng(0)
    group = np.repeat([0, 1, 2], 40)
    vip = np.array(["no"] * 120, dtype=object)
    vip[7] = "yes"  # one half of the rows always holds "no" alone: prediction strength cannot refit it
    path = tmp_path / "vip.csv"
    pd.DataFrame({"amount": group * 10.0 + rng.normal(0, 1, 120), "vip": vip}).to_csv(path, index=False)
    code, out, err = run(capsys, "fit", path, "-k", "auto", "--seed", 0)
    assert code == 2 and out == ""
    assert "column 'vip' had one level in a half of each of 100 random splits" in err
    assert err.strip().endswith("(--exclude it, or give -k and --stability 0)")
