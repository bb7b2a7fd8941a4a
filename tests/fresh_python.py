"""Run code in a fresh interpreter: what a module imports shows only there."""

import subprocess
import sys
import textwrap


def run_python(code):
    """Run ``code`` (dedented) in a fresh interpreter; its stdout. Fails the test on a non-zero exit."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
