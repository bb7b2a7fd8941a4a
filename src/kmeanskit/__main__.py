"""Allow ``python -m kmeanskit``, the same as the ``kmeanskit`` command."""

from kmeanskit._interfaces.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
