"""html_table: the HTML tables of the report and of the results' _repr_html_."""

import numpy as np
import pandas as pd
import pytest

from kmeanskit._presentation.html import html_table


def _cells(text: str) -> list[str]:
    import re

    return re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", text)


def test_cells_are_escaped_and_numbers_readable():
    frame = pd.DataFrame({
        "feature": ["<b>income</b>", "score & rank"],
        "size": [1234, 5],
        "share": [0.125, 0.875],
        "mean": [52013.7, -7.8e-16],
        "ANOVA p": [0.0, 0.031],
        "std": [np.nan, 2.0],
    })
    text = html_table(frame, percent=("share",), highlight_rows=[1])
    assert text.startswith("<table><thead><tr><th>feature</th><th>size</th>")
    assert _cells(text)[6:] == [
        "&lt;b&gt;income&lt;/b&gt;", "1,234", "12.5%", "52,014", "&lt; 1e-300", "&ndash;",
        "score &amp; rank", "5", "87.5%", "0", "0.031", "2.000",
    ]
    assert text.count('<tr class="best">') == 1 and '<td class="num">1,234</td>' in text
    assert "<b>" not in text


def test_index_and_multiindex_columns_and_a_class():
    frame = pd.DataFrame([[1.5, 2.0]], index=pd.Index(["a"], name="cluster"),
                         columns=pd.MultiIndex.from_tuples([("mean", "x"), ("mean", "y")]))
    text = html_table(frame, index=True, css_class="kmk")
    assert text.startswith('<table class="kmk"><thead><tr><th>cluster</th><th>mean x</th><th>mean y</th>')
    assert "<th>a</th>" in text


def test_round_off_is_judged_against_the_row_when_rows_are_features():
    # One feature per row: a legitimately tiny rate must not be taken for round-off of the income's scale.
    frame = pd.DataFrame({"feature": ["income", "rate"], "mean": [52000.0, 3e-12], "min": [-7.8e-12, 1e-12]})
    by_column = _cells(html_table(frame))[3:]
    by_row = _cells(html_table(frame, scale_by="row"))[3:]
    assert by_column == ["income", "52,000", "-7.8e-12", "rate", "0", "1e-12"]
    assert by_row == ["income", "52,000", "0", "rate", "3e-12", "1e-12"]
    with pytest.raises(ValueError, match="scale_by must be 'column' or 'row', got 'cell'"):
        html_table(frame, scale_by="cell")
