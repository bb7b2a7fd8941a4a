"""Running ``kmeanskit`` in-process in the command tests, and what every error must look like."""

from kmeanskit.cli import main


def run(capsys, *args):
    """Run ``kmeanskit ARGS`` in-process; return (exit code, stdout, stderr). Never a traceback."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def assert_one_line_error(err, *fragments):
    """stderr is one line ``kmeanskit: error: ...`` holding every fragment."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("kmeanskit: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def cluster_table(out):
    """The lines of ``kmeanskit fit``'s cluster table (its header line first), wherever it is in the output."""
    return next(block.splitlines() for block in out.split("\n\n") if block.lstrip().startswith("cluster "))
