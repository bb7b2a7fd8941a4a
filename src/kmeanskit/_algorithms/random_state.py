"""The ``random_state`` parameter as a ``numpy.random.RandomState``: scikit-learn's
``check_random_state``, with an int seed's generator built without drawing entropy.

``numpy.random.RandomState(seed)`` first seeds a new MT19937 from the operating
system's entropy through a ``SeedSequence`` (624 words generated and copied one
at a time), then overwrites that state with the legacy seeding of ``seed``.
The first step costs about 80 us, a tenth of a fit on iris. Here the MT19937
starts from a constant placeholder state, which :meth:`RandomState.seed` then
overwrites in the same way: the same state, hence the same draws.
"""

from numbers import Integral

import numpy as np
from numpy.random.bit_generator import ISeedSequence

__all__ = ["check_random_state"]


class _NoEntropy(ISeedSequence):
    """A seed sequence whose words are all 0: the placeholder state of a generator seeded right after."""

    def generate_state(self, n_words, dtype=np.uint32):
        # MT19937 reads the words one at a time: a list reads faster than an array.
        return [0] * n_words


_NO_ENTROPY = _NoEntropy()


def check_random_state(seed):
    """A ``RandomState`` from ``seed``, as :func:`sklearn.utils.check_random_state`.

    Parameters
    ----------
    seed : None, int, numpy.random or RandomState instance
        None or ``numpy.random``: numpy's global RandomState; an int (0 to
        2**32 - 1): a new RandomState seeded with it; a RandomState: itself.

    Returns
    -------
    numpy.random.RandomState
        For an int, in the state of ``numpy.random.RandomState(seed)``.
    """
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, Integral):
        random_state = np.random.RandomState(np.random.MT19937(_NO_ENTROPY))
        random_state.seed(seed)
        return random_state
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(f"{seed!r} cannot be used to seed a numpy.random.RandomState instance")
