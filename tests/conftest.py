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


def binned_against_direct(model, quantities, tolerance=1e-6, slack=1e-12, unit_scale=(), bound_limit=None,
                          **common):
    """compute(model, quantities, **common) by the binned and the direct scan: every value within tolerance
    of the largest direct value (1 for the quantities in unit_scale, which vanish identically), the
    difference within the binning-error bound added to <name>_error (plus slack of that scale) and,
    with bound_limit, that bound within bound_limit of the scale (nonzero then). Returns (direct, binned)."""
    from qgtransport import compute

    direct = compute(model, quantities, scan="direct", **common)
    binned = compute(model, quantities, scan="binned", **common)
    assert binned.attrs["scan"] == "binned"
    for name in quantities:
        a, b = direct[name].values, binned[name].values
        scale = 1.0 if name in unit_scale else np.abs(a).max()
        difference = np.abs(a - b)
        assert np.all(difference <= tolerance * scale), (name, difference.max() / scale)
        bound = binned[name + "_error"].values
        assert np.all(difference <= bound + slack * scale), name
        if bound_limit is not None:
            assert scale > 0, name
            assert np.all(bound <= bound_limit * scale), name  # and says the binned value is accurate
    return direct, binned


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def haldane_with_position_matrix(M=0.2):
    """(convention-I Haldane, the same hoppings with every orbital at the origin, and that flat model
    carrying the diagonal position matrix diag(tau)): with positions="full" the last must reproduce the first."""
    from qgtransport import builtin_model
    from qgtransport.models.tightbinding import with_position_matrix

    model = builtin_model("haldane", M=M)
    flat = TightBinding(lattice=model.lattice, positions=np.zeros_like(model.positions), R=model.R, H_R=model.H_R)
    tau = model.positions @ model.lattice
    r = np.zeros((1, 2, 2, 2), dtype=complex)
    for a in range(2):
        r[0, a] = np.diag(tau[:, a])
    return model, flat, with_position_matrix(flat, np.zeros((1, 2), dtype=int), r)
