"""``--dayfirst`` / ``--monthfirst``: dates written with numbers, their order said in the roles block."""

import json

from .running import run

TABLE = "d,x\n05/01/2024,1\n06/02/2024,2\n07/03/2024,3\n08/04/2024,9\n09/05/2024,10\n10/06/2024,11\n"


def test_an_ambiguous_column_is_read_as_asked_and_said(capsys, tmp_path):
    data = tmp_path / "t.csv"
    data.write_text(TABLE)
    code, out, err = run(capsys, "fit", data, "-k", 2, "--seed", 0, "--dates")
    assert code == 0, err
    assert ("d  date     scaled; dates read day-first (e.g. 05/01/2024 is 2024-01-05; no value says which comes "
            "first); --monthfirst to read them month-first; as days since 1970-01-01 (--dates)") in out
    code, out, err = run(capsys, "fit", data, "-k", 2, "--seed", 0, "--dates", "--monthfirst", "--json",
                         "-o", tmp_path / "m.kmk")
    assert code == 0, err
    role = json.loads(out)["columns"][0]
    assert (role["role"], role["date_order"]) == ("date", "monthfirst")
    assert role["reason"].startswith("dates read month-first (e.g. 05/01/2024 is 2024-05-01; --monthfirst)")
    # The model reads new tables month-first: a day-first date is refused, naming it.
    (tmp_path / "new.csv").write_text(TABLE.replace("10/06/2024", "13/06/2024"))
    code, _, err = run(capsys, "predict", tmp_path / "m.kmk", tmp_path / "new.csv")
    assert code == 2
    assert "holds values such as '13/06/2024' that are not dates (month first" in err


def test_dayfirst_and_monthfirst_exclude_each_other(capsys, tmp_path):
    code, _, err = run(capsys, "fit", "-k", 2, "--dayfirst", "--monthfirst")
    assert code == 2
    assert "argument --monthfirst: not allowed with argument --dayfirst" in err
