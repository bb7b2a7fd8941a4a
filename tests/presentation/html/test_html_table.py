"""html_table: the HTML tables of the report and of the results' _repr_html_."""

import numpy as np
import pandas as pd

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
