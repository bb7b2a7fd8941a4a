"""A file changed between the passes of an out-of-core fit is refused, never fitted silently wrong.

The change is made deterministically between two passes: ``Progress.passes``
is wrapped so that the file is rewritten just before the pass it names
starts (pass 0 is the survey). Every case must end in a ``ValueError`` naming
the file, the pass and what changed; an unchanged file must give bitwise the
fit it gave before. A file touched but identical (only its modification time
changed) is refused: telling it from a change would need a full pass, and
refusing is the safe default.

Cases (CSV and Parquet each): replaced by a copy with one NaN, with half the
rows, with rows appended, with one value shifted, with one 1e300; touched but
identical; changed in place with its size and modification time restored
(found by the checksum, or by the value check for an infinite value, CSV);
changed before the final labelling pass or a mini-batch pass; removed. Silently
wrong: 0.
"""

import os

import numpy as np
import pandas as pd
import pytest

from kmeanskit._algorithms import streaming
from kmeanskit.cli import main
from kmeanskit.streaming import fit_out_of_core

from ..interfaces.cli.running import assert_one_line_error

_N, _D, _K, _CHUNK = 3000, 3, 3, 500


def _frame(n=_N, seed=0):
    # Uniform values (no clusters): the Lloyd passes take several iterations.
    # Fixed-width text (8 characters), so that a value can be changed in place.
    values = np.random.RandomState(seed).uniform(1, 9, size=(n, _D)).round(3)
    return pd.DataFrame(values, columns=[f"f{j}" for j in range(_D)])


def _write(frame, path):
    """Write ``frame`` to a new file and move it onto ``path`` (a new inode: a replaced file)."""
    tmp = path.with_name("new-" + path.name)
    if path.suffix == ".parquet":
        frame.to_parquet(tmp, index=False)
    else:
        frame.to_csv(tmp, index=False, float_format="%08.3f")
    os.replace(tmp, path)


def _with_nan(frame):
    frame = frame.copy()
    frame.iloc[_N // 2, 1] = np.nan
    return frame


def _with_value(value):
    def change(frame):
        frame = frame.copy()
        frame.iloc[_N // 2, 1] = value
        return frame
    return change


def _shifted(frame):
    return _with_value(frame.iloc[_N // 2, 1] + 1.0)(frame)


def _appended(frame):
    return pd.concat([frame, frame.iloc[:10]], ignore_index=True)


_REPLACEMENTS = {
    "one NaN": (_with_nan, "replaced by another file"),
    "half the rows": (lambda f: f.iloc[: _N // 2], "its size changed"),
    "rows appended": (_appended, "its size changed"),
    "a value shifted": (_shifted, "replaced by another file"),
    "one 1e300": (_with_value(1e300), "replaced by another file"),
}


def _touch(path):
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def _in_place(text):
    """Rewrite one 8-character value of a CSV in place, keeping its size, inode and modification time."""
    def change(path):
        st = os.stat(path)
        data = path.read_bytes()
        line = data.split(b"\n")[1 + _N // 2]
        old = line.split(b",")[1]
        assert len(old) == len(text) == 8
        at = data.index(line) + len(line.split(b",")[0]) + 1
        with open(path, "r+b") as handle:
            handle.seek(at)
            handle.write(text)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert _stat(path) == _stat_before(st)
    return change


def _stat(path):
    st = os.stat(path)
    return _stat_before(st)


def _stat_before(st):
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


@pytest.fixture(params=["csv", "parquet"])
def path(request, tmp_path):
    path = tmp_path / f"data.{request.param}"
    _write(_frame(), path)
    return path


def _change_before(monkeypatch, change, at):
    """Run ``change()`` just before pass ``at`` starts (an int: 0 is the survey; or a pass name)."""
    passes = streaming.Progress.passes
    calls = []

    def wrapped(self, stream, desc, total):
        calls.append(streaming.pass_name(desc))
        if at == len(calls) - 1 or at == calls[-1]:
            change()
        yield from passes(self, stream, desc, total)

    monkeypatch.setattr(streaming.Progress, "passes", wrapped)
    return calls


def _fit(path, **kwargs):
    return fit_out_of_core(path, _K, chunk_rows=_CHUNK, random_state=0, progress=False, **kwargs)


def _refused(path, *fragments, **kwargs):
    with pytest.raises(ValueError) as info:
        _fit(path, **kwargs)
    message = str(info.value)
    for fragment in (f"'{path}' changed during the fit", "must not change while it is fitted", *fragments):
        assert fragment in message, message
    return message


@pytest.mark.parametrize("case", list(_REPLACEMENTS))
def test_a_file_replaced_between_lloyd_passes_is_refused(path, monkeypatch, case):
    make, what = _REPLACEMENTS[case]
    changed = make(_frame())
    _change_before(monkeypatch, lambda: _write(changed, path), at=2)
    _refused(path, "(Lloyd pass 2)", what)


def test_a_file_replaced_before_the_final_labelling_pass_is_refused(path, monkeypatch):
    _change_before(monkeypatch, lambda: _write(_with_nan(_frame()), path), at="the final labelling pass")
    _refused(path, "(the final labelling pass)", "replaced by another file")


def test_a_file_changed_between_mini_batch_passes_is_refused(path, monkeypatch):
    _change_before(monkeypatch, lambda: _write(_appended(_frame()), path), at=1)
    _refused(path, "(mini-batch pass 1)", "its size changed", mini_batch=True)


def test_a_file_touched_but_identical_is_refused(path, monkeypatch):
    # Refusing is the safe default: only a full pass could tell that nothing changed.
    _change_before(monkeypatch, lambda: _touch(path), at=1)
    _refused(path, "(Lloyd pass 1)", "its modification time changed")


def test_a_removed_file_is_refused(path, monkeypatch):
    _change_before(monkeypatch, lambda: path.unlink(), at=1)
    _refused(path, "(Lloyd pass 1)", "it was removed")


@pytest.mark.parametrize("text, what", [
    (b"0001.000", "its contents differ from the survey's"),
    (b"1.00e300", "its contents differ from the survey's"),
    (b"1.0e+999", "row 1500 (from 0) has a missing or infinite value"),
])
def test_a_csv_changed_in_place_with_its_stat_restored_is_refused(tmp_path, monkeypatch, text, what):
    path = tmp_path / "data.csv"
    _write(_frame(), path)
    _change_before(monkeypatch, lambda: _in_place(text)(path), at=2)
    _refused(path, "(Lloyd pass 2)", what)


def test_an_unchanged_file_gives_the_same_fit(path, monkeypatch):
    before = _fit(path)
    calls = _change_before(monkeypatch, lambda: None, at=-1)
    after = _fit(path)
    assert calls[0] == "survey pass 0" and calls[1] == "Lloyd pass 1" and calls[-1] == "the final labelling pass"
    assert before.n_iter_ == after.n_iter_ > 1
    np.testing.assert_array_equal(before.cluster_centers_, after.cluster_centers_)
    np.testing.assert_array_equal(before.labels_, after.labels_)
    assert before.inertia_ == after.inertia_
    # The checks read the values, never change them: the fit of the table in
    # memory (which has no checksum) is the file's, bitwise.
    in_memory = _fit(_frame())
    np.testing.assert_array_equal(in_memory.cluster_centers_, after.cluster_centers_)
    np.testing.assert_array_equal(in_memory.labels_, after.labels_)


def test_a_table_in_memory_that_grows_is_refused(monkeypatch):
    frame = _frame()
    _change_before(monkeypatch, lambda: frame.loc.__setitem__(_N, 1.0), at=1)
    with pytest.raises(ValueError, match=r"the data changed during the fit \(Lloyd pass 1\): it has more than "
                                         r"the 3000 rows of the survey; the table must not change"):
        _fit(frame)


def test_the_command_line_exits_2_with_one_line(path, monkeypatch, capsys):
    _change_before(monkeypatch, lambda: _write(_with_nan(_frame()), path), at=3)
    code = main(["fit", str(path), "-k", "3", "--out-of-core", "--chunk-rows", str(_CHUNK)])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert_one_line_error(err, f"'{path}' changed during the fit", "must not change while it is fitted")
