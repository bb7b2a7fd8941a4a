"""Run code in a fresh interpreter: what a module imports shows only there."""

import subprocess
import sys
import textwrap


def run_python(code, *, env=None, prefix=(), timeout=120):
    """Run ``code`` (dedented) in a fresh interpreter; its stdout. Fails the test on a non-zero exit.

    ``env``, when given, replaces the environment; ``prefix`` is a command the interpreter runs under.
    """
    done = subprocess.run(
        [*prefix, sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout,
        check=False, env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
