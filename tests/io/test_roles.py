"""Every column of a table gets a role (numeric, date, categorical, identifier, text, constant, id,
excluded), said with its reason; the roles build the feature table and survive a JSON round trip."""

import numpy as np
import pandas as pd
import pytest

from kmeanskit._io.roles import MAX_LEVELS, ColumnRoles, assign_roles, parse_amounts
from kmeanskit._io.table_rules import TextLayout
from kmeanskit._io.tables import read_raw_table

N = 60


@pytest.fixture
def customers(tmp_path):
    """A customer table as exported from a shop system: every kind of column at once."""
    rng = np.random.default_rng(0)
    amounts = rng.uniform(100, 90_000, N).round(2)
    frame = pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(N)],
        "region": rng.choice(["north", "south", "east"], N),
        "signup": [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(N)],
        "amount": [f"${v:,.2f}" for v in amounts],
        "age": rng.integers(18, 80, N),
        "plan": ["basic"] * N,
        "comment": [f"called {i % 40} times" for i in range(N)],
        "row": np.arange(N),
    })
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    return path, amounts


def roles_of(roles):
    return {c.name: (c.role, c.clustered, c.reason) for c in roles.columns}


def test_each_column_gets_its_role_and_reason(customers):
    path, _ = customers
    roles = assign_roles(read_raw_table(path), source="'customers.csv'")
    assert roles_of(roles) == {
        "customer_id": ("identifier", False, "unique per row: pass --id-column to carry it into outputs"),
        "region": ("categorical", False, "3 levels: excluded (K-Means clusters numbers)"),
        "signup": ("date", False, "pass --dates to cluster it as days since 1970-01-01"),
        "amount": ("text", False, "amounts written as text (e.g. $57,362.86): pass --thousands , to read them "
                                  "as numbers"),
        "age": ("numeric", True, ""),
        "plan": ("constant", False, "one value (basic) in every row: dropped"),
        "comment": ("text", False, "free text: 40 different values in 60 rows"),
        "row": ("identifier", False, "integers unique per row, named as an identifier; name it with --columns "
                                     "to cluster it"),
    }
    assert roles.features == ["age"]
    assert roles["region"].levels == ("east", "north", "south")


def test_amounts_dates_and_the_id_column_when_asked(customers):
    path, amounts = customers
    frame = read_raw_table(path, layout=TextLayout(thousands=","))
    roles = assign_roles(frame, dates=True, id_column="customer_id", exclude=["age"],
                         layout=TextLayout(thousands=","))
    assert roles_of(roles)["amount"] == ("numeric", True, "60 values converted from text amounts")
    assert roles_of(roles)["customer_id"] == ("id", False, "the id column: carried into outputs")
    assert roles_of(roles)["age"] == ("excluded", False, "listed in --exclude")
    assert roles.features == ["signup", "amount"]
    features = roles.features_frame(frame)
    np.testing.assert_array_equal(features["amount"], amounts)
    expected_days = (pd.to_datetime(frame["signup"].astype(str)) - pd.Timestamp("1970-01-01")).dt.days
    np.testing.assert_array_equal(features["signup"], expected_days.to_numpy(dtype=float))
    assert features["signup"].iloc[0] == 19723.0  # 2024-01-01


def test_roles_survive_a_json_round_trip_and_read_a_new_table_alike(customers):
    path, amounts = customers
    frame = read_raw_table(path)
    roles = assign_roles(frame, dates=True, id_column="customer_id", layout=TextLayout(thousands=","))
    again = ColumnRoles.from_dict(roles.to_dict())
    assert again == roles
    new = frame.iloc[:5]
    np.testing.assert_array_equal(again.features_frame(new)["amount"], amounts[:5])
    bad = new.assign(amount=["$1", "two dollars", "$3", "$4", "$5"])
    with pytest.raises(ValueError, match="column 'amount' of the data holds values that are not amounts "
                                         r"\(e.g. 'two dollars'\)"):
        again.features_frame(bad)
    with pytest.raises(ValueError, match="the data lacks the feature column 'age'"):
        again.features_frame(new.drop(columns="age"))


@pytest.mark.parametrize("text, decimal, thousands, expected", [
    ("$77,714.41", ".", ",", 77714.41),
    ("1.234,5 EUR", ",", ".", 1234.5),
    ("-€ 12,50", ",", ".", -12.5),
    ("(1,200.00)", ".", ",", -1200.0),
    ("US$ 3,000", ".", ",", 3000.0),
    ("CHF 1'250.75", ".", "'", 1250.75),
    ("42", ".", ",", 42.0),
])
def test_amounts_as_people_write_them(text, decimal, thousands, expected):
    amounts, converted = parse_amounts(pd.Series([text, None], dtype=object), decimal=decimal, thousands=thousands)
    assert converted == 1
    assert amounts.iloc[0] == expected and np.isnan(amounts.iloc[1])


@pytest.mark.parametrize("text", ["12%", "1,2", "$$5", "5 apples", "1,2345.0", "$1,000 EUR", "(5"])
def test_what_is_not_an_amount(text):
    assert parse_amounts(pd.Series([text]), decimal=".", thousands=",") == (None, 0)


def test_a_column_the_user_chose_is_clustered_or_refused_saying_what_to_do(customers):
    path, _ = customers
    frame = read_raw_table(path)
    roles = assign_roles(frame, columns=["age", "row"])
    assert roles_of(roles)["row"] == ("numeric", True, "in --columns (identifier: integers unique per row, "
                                                       "named as an identifier)")
    assert roles_of(roles)["region"] == ("excluded", False, "not in --columns")
    with pytest.raises(ValueError, match="column 'signup' of the data cannot be clustered: it is date .*; "
                                         "pass --dates"):
        assign_roles(frame, columns=["age", "signup"])
    with pytest.raises(ValueError, match="column 'amount' .* cannot be clustered: it is text .*pass --thousands , "
                                         "to read them as numbers"):
        assign_roles(frame, columns=["amount"])
    with pytest.raises(ValueError, match="column 'region' .* it is categorical .*leave it out of --columns"):
        assign_roles(frame, columns=["region"])
    # Numbers in one value are clustered when chosen; text in one value is not (it is no number).
    chosen = assign_roles(frame.assign(one=5), columns=["age", "one"])
    assert roles_of(chosen)["one"] == ("numeric", True, "in --columns (constant: one value (5) in every row)")
    with pytest.raises(ValueError, match=r"column 'plan' of the data cannot be clustered: it is constant \(one value "
                                         r"\(basic\) in every row: dropped\); encode it as numbers"):
        assign_roles(frame, columns=["age", "plan"])


def test_names_are_checked(customers):
    path, _ = customers
    frame = read_raw_table(path)
    with pytest.raises(ValueError, match="unknown column 'salary' in the data"):
        assign_roles(frame, exclude=["salary"])
    with pytest.raises(ValueError, match="unknown column 'key' in the data"):
        assign_roles(frame, id_column="key")
    with pytest.raises(ValueError, match="'age' cannot be both a feature column and excluded"):
        assign_roles(frame, columns=["age"], exclude=["age"])


def test_nothing_left_to_cluster_is_refused_with_every_column_said():
    frame = pd.DataFrame({"name": ["a", "b", "c"], "one": [1, 1, 1]})
    with pytest.raises(ValueError, match=r"the data has no column to cluster: 'name' \(identifier: unique per row.*"
                                         r"'one' \(constant: one value \(1\) in every row: dropped\)"):
        assign_roles(frame)


def test_many_levels_are_text_and_few_are_categories():
    rng = np.random.default_rng(1)
    n = 10 * MAX_LEVELS
    frame = pd.DataFrame({"x": rng.normal(size=n), "many": rng.integers(0, MAX_LEVELS + 1, n).astype(str),
                          "few": rng.integers(0, MAX_LEVELS, n).astype(str)})
    frame.loc[0, "many"], frame.loc[0, "few"] = str(MAX_LEVELS), "0"
    roles = assign_roles(frame)
    assert roles["many"].role == "text" and roles["few"].role == "categorical"
    assert len(roles["few"].levels) == MAX_LEVELS


def test_first_rows_keep_numeric_columns_and_say_how_text_was_judged():
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "x": [5, 5, 5, 5], "name": list("abcd")})
    roles = assign_roles(frame, first_rows=True)
    assert roles.features == ["id", "x"]
    assert roles["name"].reason == "unique per row: pass --id-column to carry it into outputs (judged on the " \
                                   "first 4 rows)"


def test_numbers_with_a_few_stray_values_are_said_so_and_amounts_without_a_sign_too():
    n = 40
    frame = pd.DataFrame({
        "x": np.arange(n, dtype=float),
        "pressure": [str(1000 + i) for i in range(n - 2)] + ["?", "?"],
        "price": ["12.50", *(f"{1000 + 37 * i:,}.25" for i in range(n - 1))],
    })
    roles = assign_roles(frame)
    assert roles["pressure"].role == "text"
    assert roles["pressure"].reason == "numbers, but 2 values are not (e.g. '?'): clean them, or mark them as missing (--na-values)"
    assert roles["price"].reason == "amounts written as text (e.g. 1,000.25): pass --thousands , to read them as numbers"
    assert assign_roles(frame, layout=TextLayout(thousands=","))["price"].clustered


@pytest.mark.parametrize(("stray", "na_values"), [("nan", ()), ("NAN", None), ("1_000", None)])
def test_a_stray_value_float_reads_but_pandas_does_not_is_named_as_not_a_number(tmp_path, stray, na_values):
    # float() reads "nan", "NAN" and "1_000"; pandas does not: the count and the example agree on what is not
    # a number (the example was looked for with float(), and none was found: an internal StopIteration).
    path = tmp_path / "n.csv"
    path.write_text(f"x,y\n1,2\n{stray},3\n2,4\n3,5\n")
    layout = TextLayout(na_values=na_values)
    roles = assign_roles(read_raw_table(path, layout=layout), layout=layout)
    assert roles["x"].role == "text"
    assert roles["x"].reason == (f"numbers, but 1 value is not (e.g. {stray!r}): clean them, or mark them as "
                                 "missing (--na-values)")


def test_parquet_types_give_their_roles(tmp_path):
    n = 40
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "when": pd.date_range("2024-01-01", periods=n, freq="D"),
        "kind": pd.Categorical(rng.choice(["a", "b"], n)),
        "flag": np.arange(n) % 2 == 0,
        "x": rng.normal(size=n),
    })
    path = tmp_path / "mixed.parquet"
    frame.to_parquet(path)
    table = read_raw_table(path)
    roles = assign_roles(table, dates=True)
    assert [(c.role, c.clustered) for c in roles.columns] == [
        ("date", True), ("categorical", False), ("numeric", True), ("numeric", True)]
    assert roles["kind"].levels == ("a", "b")
    features = roles.features_frame(table)
    np.testing.assert_array_equal(features["when"], 19723 + np.arange(n))  # 2024-01-01 is day 19723
    np.testing.assert_array_equal(features["flag"], (np.arange(n) % 2 == 0).astype(float))
