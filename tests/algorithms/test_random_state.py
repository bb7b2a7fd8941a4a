"""``check_random_state``: scikit-learn's, an int seed's generator built without drawing entropy."""

import numpy as np
import pytest
from sklearn.utils import check_random_state as sk_check_random_state

from kmeanskit._algorithms.random_state import check_random_state


def _same_state(a, b):
    (name_a, keys_a, *rest_a), (name_b, keys_b, *rest_b) = a.get_state(), b.get_state()
    return name_a == name_b and np.array_equal(keys_a, keys_b) and rest_a == rest_b


@pytest.mark.parametrize("seed", [0, 1, 42, 2**31, 2**32 - 1, np.int64(7), np.uint32(9), True])
def test_an_int_seed_gives_the_state_of_random_state_seed(seed):
    ours = check_random_state(seed)
    theirs = sk_check_random_state(seed)
    assert type(ours) is np.random.RandomState
    assert _same_state(ours, theirs)
    # The same draws of every kind, a cached Gaussian included.
    for draw in (lambda r: r.uniform(size=7), lambda r: r.normal(size=3), lambda r: r.choice(50, 5, replace=False),
                 lambda r: r.randint(0, 1 << 30, size=4), lambda r: r.standard_normal()):
        np.testing.assert_array_equal(draw(ours), draw(theirs))
    assert _same_state(ours, theirs)


def test_each_call_builds_its_own_generator():
    a, b = check_random_state(3), check_random_state(3)
    assert a is not b
    a.uniform(size=10)
    assert _same_state(b, np.random.RandomState(3))


def test_none_a_random_state_and_bad_seeds_as_scikit_learn():
    assert check_random_state(None) is np.random.mtrand._rand
    assert check_random_state(np.random) is np.random.mtrand._rand
    rs = np.random.RandomState(5)
    assert check_random_state(rs) is rs
    for seed in (-1, 2**32):
        with pytest.raises(ValueError, match=r"Seed must be between 0 and 2\*\*32 - 1"):
            np.random.RandomState(seed)
        with pytest.raises(ValueError, match=r"Seed must be between 0 and 2\*\*32 - 1"):
            check_random_state(seed)
    with pytest.raises(ValueError, match="'x' cannot be used to seed a numpy.random.RandomState instance"):
        check_random_state("x")
