import numpy as np
import pytest

from qgtransport.models.tightbinding import TightBinding


def random_model(rng, norb=3, dim=2, nR=3, scale=1.0):
    """A random Hermitian tight-binding model: random H(R) for a few R, partners added."""
    terms = {(0,) * dim: rng.normal(size=(norb, norb)) + 1j * rng.normal(size=(norb, norb))}
    terms[(0,) * dim] = terms[(0,) * dim] + terms[(0,) * dim].conj().T
    for _ in range(nR):
        R = tuple(int(x) for x in rng.integers(-1, 2, size=dim))
        if R == (0,) * dim:
            continue
        M = scale * (rng.normal(size=(norb, norb)) + 1j * rng.normal(size=(norb, norb))) / 2
        terms[R] = terms.get(R, 0) + M
        minus = tuple(-x for x in R)
        terms[minus] = terms.get(minus, 0) + M.conj().T
    positions = rng.uniform(0, 1, size=(norb, dim))
    return TightBinding(
        lattice=np.eye(dim) + 0.2 * rng.normal(size=(dim, dim)), positions=positions,
        R=np.array(list(terms)), H_R=np.array(list(terms.values())), name="random",
    )


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
