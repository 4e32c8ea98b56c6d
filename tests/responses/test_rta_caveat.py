"""The relaxation-time caveat of docs/physics.md: with mu in a gap the interband entropy production is
the Joule heat of the RTA's residual interband DC conductivity, Pi_inter = Re sigma_inter(0)/T, so
Pi_inter T is constant as T -> 0 and proportional to hbar/tau (QWZ, m = -1, gap [-1, 1] eV)."""

import numpy as np

from qgtransport import builtin_model, compute


def test_interband_entropy_production_in_a_gap_is_rta_joule_heat():
    model = builtin_model("qwz", m=-1.0)
    T = np.array([0.02, 0.05])
    ds = compute(model, ["entropy_production_interband", "entropy_production_drude", "conductivity_ac"], mu=0.0, T=T,
                 tau=10.0, omega=[0.0], nk=64, units="natural")
    pi = ds.entropy_production_interband.sel(mu=0.0, a="x", b="x").values
    np.testing.assert_allclose(pi * T, 9.6835e-3, rtol=1e-4)  # the number quoted in docs/physics.md
    # Joule heat over T: Re sigma(omega = 0) T^-1 = Pi, the Drude part ~ e^(-1/2T) negligible in the gap
    drude = ds.entropy_production_drude.sel(mu=0.0, a="x", b="x").values
    sigma = ds.conductivity_ac.sel(mu=0.0, a="x", b="x", omega=0.0).values
    np.testing.assert_allclose(sigma.real, (pi + drude) * T, rtol=1e-9)
    assert np.all(drude < 1e-6 * pi)
    longer = compute(model, ["entropy_production_interband"], mu=0.0, T=0.02, tau=20.0, nk=64, units="natural")
    ratio = float(longer.entropy_production_interband.sel(a="x", b="x").values.squeeze()) / pi[0]
    assert abs(ratio - 0.5) < 0.01  # proportional to 1/tau
