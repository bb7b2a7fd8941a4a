"""The secret model files are signed with, for the command line and the service: ``KMEANSKIT_MODEL_KEY``.

When the variable is set, ``kmeanskit fit -o`` signs the model file it writes,
and every command and the service load only files signed with that key
(:func:`kmeanskit.load` with ``key=``). An environment variable, not an
option: a secret on a command line is visible to every user of the machine.
"""

import os

__all__ = ["ENV_MODEL_KEY", "model_key"]

ENV_MODEL_KEY = "KMEANSKIT_MODEL_KEY"


def model_key():
    """The key (str) from the environment, or None when the variable is unset.

    Raises ValueError when it is set but empty: an empty key would sign nothing.
    """
    key = os.environ.get(ENV_MODEL_KEY)
    if key is None:
        return None
    if not key:
        raise ValueError(f"{ENV_MODEL_KEY} is set but empty: set it to the signing secret, or unset it.")
    return key
