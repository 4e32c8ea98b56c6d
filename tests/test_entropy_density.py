"""The entropy-production density pi(k) (qgtransport.entropy_density): its mean over a uniform grid
is the entropy production of compute on that grid, part by part, and it is >= 0 at every k."""

import numpy as np
import pytest

from qgtransport import builtin_model, compute
from qgtransport.engine.integrate import grid_points
from qgtransport.entropy_density import entropy_production_density, field_unit_vector

PARTS = (("total", "entropy_production"), ("drude", "entropy_production_drude"),
         ("interband", "entropy_production_interband"))


@pytest.mark.parametrize("name, units, mu, T, tau, direction", [
    ("qwz", "SI", 1.5, 1500.0, 10.0, None), ("haldane", "natural", 0.3, 0.15, 12.0, (1, 1)),
    ("rice_mele", "natural", 0.8, 0.1, 5.0, None), ("weyl", "SI", 0.2, 1000.0, 10.0, (0, 0, 1)),
])
def test_density_averages_to_the_entropy_production_on_the_same_grid(name, units, mu, T, tau, direction):
    """Cross-route: per-k kernels summed here against the band sums of compute, part by part."""
    model = builtin_model(name)
    nk = {1: 64, 2: 16, 3: 8}[model.dim]
    shape = (nk,) * model.dim
    k = grid_points(shape, 0.5, 0, nk**model.dim)
    density = entropy_production_density(model, k, mu, T, tau, units=units, direction=direction)
    ds = compute(model, [q for _, q in PARTS], mu=mu, T=T, tau=tau, nk=nk, units=units, error_estimate=False)
    E = field_unit_vector(model, direction)
    for key, quantity in PARTS:
        expected = E @ ds[quantity].values[0, 0] @ E
        np.testing.assert_allclose(density[key].mean(), expected, rtol=1e-10, atol=1e-14 * abs(expected))
    assert density["total"].min() >= 0 and density["interband"].min() >= 0


def test_field_direction_is_along_g():
    model = builtin_model("haldane")
    E = field_unit_vector(model, (1, 1))
    g = np.array([1, 1]) @ model.reciprocal
    np.testing.assert_allclose(E, g / np.linalg.norm(g))
    np.testing.assert_allclose(field_unit_vector(model), model.reciprocal[0] / np.linalg.norm(model.reciprocal[0]))


def test_density_needs_a_direction_of_the_right_size():
    with pytest.raises(ValueError, match="direction needs 2 integers"):
        entropy_production_density(builtin_model("qwz"), np.zeros((1, 2)), 0.0, 300.0, 10.0, direction=(1, 0, 0))
