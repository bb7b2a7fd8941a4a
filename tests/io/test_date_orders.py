"""Dates written with numbers (13/02/2024): day-first or month-first from their values, else as asked, and said."""

import numpy as np
import pandas as pd
import pytest

from kmeanskit._io.roles import ColumnRoles, assign_roles

DAY_FIRST = ["13/02/2024", "01/03/2024", "05/01/2024", "07/07/2023", "11/11/2022", "30/12/2021"]
AMBIGUOUS = ["05/01/2024", "06/01/2024", None, "01/02/2024", "03/03/2024", "04/04/2024"]


def frame(**columns):
    return pd.DataFrame({"x": np.arange(6.0), **columns})


def days_of(text, fmt):
    stamps = pd.to_datetime(pd.Series(text), format=fmt, utc=True)
    return ((stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)).to_numpy()


@pytest.mark.parametrize(("values", "asked", "order", "reason", "fmt"), [
    (DAY_FIRST, None, "dayfirst", "dates read day-first (13/02/2024 has no month 13)", "%d/%m/%Y"),
    (DAY_FIRST, "monthfirst", "dayfirst", "dates read day-first (13/02/2024 has no month 13); --monthfirst does "
                                          "not apply", "%d/%m/%Y"),
    ([v[3:5] + "/" + v[:2] + v[5:] for v in DAY_FIRST], None, "monthfirst",
     "dates read month-first (02/13/2024 has no month 13)", "%m/%d/%Y"),
    (AMBIGUOUS, None, "dayfirst", "dates read day-first (e.g. 05/01/2024 is 2024-01-05; no value says which comes "
                                  "first); --monthfirst to read them month-first", "%d/%m/%Y"),
    (AMBIGUOUS, "monthfirst", "monthfirst", "dates read month-first (e.g. 05/01/2024 is 2024-05-01; --monthfirst)",
     "%m/%d/%Y"),
    (AMBIGUOUS, "dayfirst", "dayfirst", "dates read day-first (e.g. 05/01/2024 is 2024-01-05; --dayfirst)",
     "%d/%m/%Y"),
    ([v.replace("/", ".") + " 10:30" for v in DAY_FIRST], None, "dayfirst",
     "dates read day-first (13.02.2024 10:30 has no month 13)", "%d.%m.%Y %H:%M"),
])
def test_the_order_of_day_and_month_is_read_from_values_or_asked_and_said(values, asked, order, reason, fmt):
    table = frame(signup=values)
    roles = assign_roles(table, dates=True, date_order=asked)
    role = roles["signup"]
    assert (role.role, role.date_order, role.clustered) == ("date", order, True)
    assert role.reason == f"{reason}; as days since 1970-01-01 (--dates)"
    found = roles.features_frame(table, allow_missing=True)["signup"].to_numpy()
    np.testing.assert_array_equal(found, days_of(values, fmt))
    # Stored in a model file and read back: a new table is read the same way.
    again = ColumnRoles.from_dict(roles.to_dict())
    assert again["signup"].date_order == order
    np.testing.assert_array_equal(again.features_frame(table, allow_missing=True)["signup"].to_numpy(), found)


def test_unique_day_first_dates_are_dates_not_identifiers():
    role = assign_roles(frame(signup=DAY_FIRST))["signup"]
    assert (role.role, role.clustered) == ("date", False)
    assert role.reason.endswith("; pass --dates to cluster it as days since 1970-01-01")


@pytest.mark.parametrize(("values", "reason"), [
    (["13/02/2024", "02/13/2024", *DAY_FIRST[2:]],
     "dates in two orders ('13/02/2024' day first, '02/13/2024' month first): write them one way to use them"),
    (["2024-01-05", *DAY_FIRST[1:]],
     "dates in two forms (e.g. '2024-01-05' and '01/03/2024'): write them one way to use them"),
    (["31/02/2024", *AMBIGUOUS[1:]],
     "dates written with numbers, but not all are dates read day-first (e.g. '31/02/2024')"),
])
def test_mixed_dates_are_named_not_read_half(values, reason):
    role = assign_roles(frame(signup=values), dates=True)["signup"]
    assert (role.role, role.reason, role.clustered) == ("text", reason, False)


def test_new_dates_in_another_order_are_refused_naming_one():
    roles = assign_roles(frame(signup=DAY_FIRST), dates=True)
    swapped = frame(signup=["02/13/2024", *DAY_FIRST[1:]])
    with pytest.raises(ValueError, match=r"column 'signup' of new.csv holds values such as '02/13/2024' that are "
                                         r"not dates \(day first, e.g. 31/01/2024, as in the training table\)"):
        roles.features_frame(swapped, source="new.csv")


def test_date_order_is_checked():
    with pytest.raises(ValueError, match=r"date_order must be None or one of \('dayfirst', 'monthfirst'\), "
                                         r"got 'yearfirst'"):
        assign_roles(frame(signup=DAY_FIRST), date_order="yearfirst")
    payload = assign_roles(frame(signup=DAY_FIRST)).to_dict()
    payload["columns"][1]["date_order"] = "yearfirst"
    with pytest.raises(ValueError, match="unknown date order"):
        ColumnRoles.from_dict(payload)


def test_a_large_column_with_one_impossible_date_is_judged_at_once():
    # One vectorised read, not pandas once per value (3,000 rows took 19 s).
    import time

    values = ["05/01/2024"] * 2999 + ["31/02/2024"]
    table = pd.DataFrame({"x": np.arange(3000.0), "signup": values})
    start = time.perf_counter()
    role = assign_roles(table, dates=True)["signup"]
    assert time.perf_counter() - start < 1.0
    assert role.reason == "dates written with numbers, but not all are dates read day-first (e.g. '31/02/2024')"
    # And a new table with one such value is refused naming it, as fast.
    roles = assign_roles(frame(signup=AMBIGUOUS), dates=True)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"holds values such as '31/02/2024' that are not dates"):
        roles.features_frame(table.assign(x=0.0), source="new.csv")
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("values", [
    ["12-34-5678", "01-02-2024"] * 3,  # a field that is neither a day nor a month
    ["13/13/2024", "05/01/2024", "13/02/2024"] * 2,  # both fields above 12
    ["00/05/2024", "01/05/2024", "02/05/2024"] * 2,  # a field of 0
])
def test_codes_shaped_like_dates_keep_their_role(values):
    roles = assign_roles(frame(code=values), dates=True, mixed=True)
    role = roles["code"]
    assert (role.role, role.clustered, role.reason) == ("categorical", True,
                                                        f"{len(set(values))} levels: clustered")
