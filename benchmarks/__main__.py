"""``python -m benchmarks [lloyd] [options]``: run the benchmark suite."""

import sys

from . import lloyd_iteration

SUITES = {"lloyd": lloyd_iteration.main}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    name = argv.pop(0) if argv and argv[0] in SUITES else "lloyd"
    SUITES[name](argv)


if __name__ == "__main__":
    main()
