"""``kmeanskit report``: fit, then write the HTML report."""

import json

import numpy as np
import pandas as pd
import pytest

from .running import assert_one_line_error, run

pytest.importorskip("matplotlib")


@pytest.fixture
def data_csv(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    centers = np.array([[0.0, 10.0, 100.0], [5.0, 10.0, 300.0], [0.0, 20.0, 300.0]])
    X = centers[y] + rng.normal(size=(90, 3)) * [0.5, 1.0, 20.0]
    frame = pd.DataFrame(X, columns=["age", "visits", "income"])
    frame.insert(1, "segment", np.array(["a&b", "<c>", "d"])[y])
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    return path


def test_report_writes_the_page_with_known_classes(capsys, tmp_path, data_csv):
    out_path = tmp_path / "report.html"
    code, out, err = run(capsys, "report", data_csv, "-k", 3, "-o", out_path, "--labels-column", "segment",
                         "--ks", "2,3", "--seed", 0, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["report_path"] == str(out_path)
    assert (payload["n_samples"], payload["n_features"], payload["n_clusters"]) == (90, 3, 3)
    text = out_path.read_text(encoding="utf-8")
    for section in ('id="selection"', 'id="clusters"', 'id="classes"'):
        assert section in text
    assert "&lt;c&gt;" in text and "a&amp;b" in text and "<c>" not in text  # class names escaped
    assert f"Clustering report: {data_csv}" in text.replace("&#x27;", "'")


def test_report_text_output_and_no_select_k(capsys, tmp_path, data_csv):
    out_path = tmp_path / "plain.html"
    code, out, err = run(capsys, "report", data_csv, "-k", 3, "-o", out_path, "--columns", "age,income",
                         "--no-select-k", "--title", "Customers")
    assert code == 0, err
    seed = int(out.split(", seed ", 1)[1].split(" ", 1)[0])
    assert out.strip() == (f"report on {data_csv}: 90 rows, k=3, seed {seed} (drawn at random; --seed {seed} "
                           f"repeats it); written to {out_path}")
    code, out, err = run(capsys, "report", data_csv, "-k", 3, "-o", out_path, "--columns", "age,income",
                         "--no-select-k", "--title", "Customers", "--seed", 7)
    assert code == 0 and out.strip() == f"report on {data_csv}: 90 rows, k=3, seed 7; written to {out_path}"
    text = out_path.read_text(encoding="utf-8")
    assert "<title>Customers</title>" in text
    assert 'id="selection"' not in text and 'id="classes"' not in text
    assert "visits" not in text


def test_report_on_the_bundled_iris_data_uses_the_species(capsys, tmp_path):
    out_path = tmp_path / "iris.html"
    code, _, err = run(capsys, "report", "-o", out_path, "--no-select-k", "--seed", 0)
    assert code == 0, err
    text = out_path.read_text(encoding="utf-8")
    assert 'id="classes"' in text and "virginica" in text


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["-o", "{tmp}/r.html"], ["-k/--n-clusters is required when DATA is given"]),
        (["-k", "3", "-o", "{tmp}/missing/r.html"], ["directory", "does not exist"]),
        (["-k", "3", "-o", "{tmp}/r.html", "--no-select-k", "--ks", "2,3"], ["--no-select-k cannot be combined"]),
        (["-k", "3", "-o", "{tmp}/r.html", "--labels-column", "tier"], ["--labels-column 'tier' is not a column"]),
        (["-k", "3", "-o", "{tmp}/r.html", "--labels-column", "segment", "--columns", "age,segment"],
         ["cannot also be a feature"]),
        (["-k", "3", "-o", "{tmp}/r.html", "--labels-column", "segment", "--k-max", "200"], ["largest k"]),
    ],
)
def test_report_refuses_bad_options_in_one_line(capsys, tmp_path, data_csv, args, fragments):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, out, err = run(capsys, "report", data_csv, *args)
    assert code == 2 and out == ""
    assert_one_line_error(err, *fragments)
    assert not (tmp_path / "r.html").exists()


def test_report_refuses_to_overwrite_its_input(capsys, data_csv):
    code, _, err = run(capsys, "report", data_csv, "-k", 3, "-o", data_csv, "--labels-column", "segment")
    assert code == 2
    assert_one_line_error(err, "would overwrite the input data")


def test_report_help_has_examples(capsys):
    code, out, _ = run(capsys, "report", "--help")
    assert code == 0 and "examples:" in out and "--labels-column" in out


def test_report_with_labels_and_column_roles_reads_data_once(capsys, tmp_path, data_csv, monkeypatch):
    import kmeanskit._io.tables as tables

    reads = []
    read = tables.read_raw_table

    def counted(path, *args, **kwargs):
        if kwargs.get("n_rows") is None:  # (whole reads; the look at the first rows aside)
            reads.append(path)
        return read(path, *args, **kwargs)

    monkeypatch.setattr(tables, "read_raw_table", counted)
    out_path = tmp_path / "report.html"
    code, out, err = run(capsys, "report", data_csv, "-k", 3, "-o", out_path, "--labels-column", "segment",
                         "--missing", "drop", "--no-select-k", "--seed", 0, "--json")
    assert code == 0, err
    assert json.loads(out)["n_features"] == 3 and 'id="classes"' in out_path.read_text(encoding="utf-8")
    assert len(reads) == 1
