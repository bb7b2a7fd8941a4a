"""``kmeanskit bench``: help, and the message when the suites are not importable.

No benchmark is run here: the suites take minutes and measure the machine.
"""

import sys

from kmeanskit._interfaces.cli import _bench, main


def run(capsys, *args):
    """Run ``kmeanskit ARGS`` in-process; return (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_help_lists_the_suites_and_where_they_live(capsys):
    code, out, err = run(capsys, "bench", "--help")
    assert code == 0
    assert "usage: kmeanskit bench" in out
    assert "lloyd" in out and "e2e" in out
    assert "python -m benchmarks" not in err


def test_bench_is_listed_in_the_top_level_help(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "bench" in out


def test_not_importable_is_a_one_line_usage_error(capsys, monkeypatch):
    # None in sys.modules makes `import benchmarks...` raise ImportError.
    monkeypatch.setitem(sys.modules, "benchmarks", None)
    monkeypatch.setitem(sys.modules, "benchmarks.__main__", None)
    code, out, err = run(capsys, "bench", "e2e", "--quick")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("kmeanskit: error: ")
    assert "source checkout" in lines[0]
    assert "python -m benchmarks" in lines[0]


def test_unknown_suite_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.setattr(_bench, "_load_suites", lambda: {"lloyd": None, "e2e": None})
    code, _, err = run(capsys, "bench", "nope")
    assert code == 2
    assert "unknown benchmark suite 'nope'" in err
    assert "e2e, lloyd" in err


def test_suite_receives_the_remaining_arguments(capsys, monkeypatch):
    seen = []
    monkeypatch.setattr(_bench, "_load_suites", lambda: {"e2e": seen.append})
    code, _, _ = run(capsys, "bench", "e2e", "--quick", "--json", "out.json")
    assert code == 0
    assert seen == [["--quick", "--json", "out.json"]]
