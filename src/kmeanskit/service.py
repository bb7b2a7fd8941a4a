"""The HTTP prediction service (FastAPI): ``create_app("model.kmk")`` (needs the serve extra).

The public path; the code lives in :mod:`kmeanskit._interfaces.service`.
"""

from kmeanskit._interfaces.service import *  # noqa: F401,F403
from kmeanskit._interfaces.service import __all__  # noqa: F401
