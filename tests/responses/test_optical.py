"""AC and optical responses: DC limits, the exact entropy-production identity, sum rules, Eq. 34."""

import numpy as np
import pytest

from qgtransport import builtin_model, compute
from qgtransport.models.builtin import cos_term, model_from_hoppings, s0, sin_term, sx, sy, sz


def tilted_qwz(m=-1.0, w=0.5):
    """QWZ + w sin kx s0 (ERRATA E9's tilted QWZ)."""
    hops = [((1, 0), sin_term(sx + w * s0) + cos_term(sz)), ((0, 1), sin_term(sy) + cos_term(sz))]
    return model_from_hoppings(np.eye(2), np.zeros((2, 2)), m * sz, hops, name="tilted_qwz", parameters={})


def test_entropy_production_is_re_sigma_over_T_at_omega_zero():
    # exact fact (ERRATA): Pi = J.E/T in the steady state, so Pi(2)_ab = Re sigma_ab(omega=0, eta)_sym / T
    ds = compute(builtin_model("tilted_dirac"), ["entropy_production", "conductivity_ac"], mu=[0.1, 0.9], T=[0.1, 0.3],
                 tau=4.0, omega=0.0, nk=48, units="natural")
    sigma = ds.conductivity_ac.isel(omega=0).values.real
    symmetric = (sigma + np.swapaxes(sigma, -1, -2)) / 2
    T = ds["T"].values[None, :, None, None]
    assert np.allclose(ds.entropy_production.values, symmetric / T, rtol=1e-12)


def test_ac_drude_and_hall_limits():
    model = builtin_model("qwz", m=-1.0)
    common = dict(mu=[0.0, 1.5], T=0.2, nk=48, units="natural")
    dc = compute(model, ["drude", "anomalous_hall"], tau=10.0, **common)
    ac = compute(model, ["drude_ac"], tau=10.0, omega=[0.0, 0.05], **common)
    eta, omega = 0.1, 0.05
    assert np.allclose(ac.drude_ac.isel(omega=0).values, dc.drude.values, rtol=1e-12)
    assert np.allclose(ac.drude_ac.isel(omega=1).values, dc.drude.values * eta / (eta - 1j * omega), rtol=1e-12)
    # Hall part of sigma(omega -> 0) -> intrinsic AHC as eta^2 -> 0
    deviations = []
    for tau in (20.0, 40.0):
        s = compute(model, ["conductivity_ac"], tau=tau, omega=0.0, **common).conductivity_ac.isel(omega=0)
        deviations.append(np.abs(s.sel(a="x", b="y").values.real - dc.anomalous_hall.sel(a="x", b="y").values).max())
    assert deviations[1] < 1e-3 and deviations[0] / deviations[1] == pytest.approx(4.0, rel=0.05)


def test_single_band_heat_over_T_equals_entropy_and_two_band_does_not():
    chain = model_from_hoppings([[1.0]], [[0.0]], [[0.0]], [((1,), [[-1.0]])], name="chain", parameters={})
    common = dict(mu=0.3, T=0.2, tau=5.0, omega=[0.0, 0.7], nk=64, units="natural")
    ds = compute(chain, ["heat_conductivity_ac", "entropy_conductivity_ac"], **common)
    assert np.allclose(ds.heat_conductivity_ac.values / 0.2, ds.entropy_conductivity_ac.values, rtol=1e-12)
    ds = compute(builtin_model("qwz"), ["heat_conductivity_ac", "entropy_conductivity_ac"], **{**common, "mu": 1.2})
    heat, ent = ds.heat_conductivity_ac.values / 0.2, ds.entropy_conductivity_ac.values
    assert np.abs(heat - ent).max() > 1e-3 * np.abs(ent).max()  # j^s != j^q / T beyond the Drude term


def test_optical_sum_rule_of_the_interband_conductivity():
    # int_0^inf Re sigma_inter,xx(omega) d omega = (pi/2) [sum_n int f_n v^xx_n - Drude weight]
    model = builtin_model("qwz", m=-1.0)
    omega = np.arange(0.0, 8.0, 0.005)
    common = dict(mu=0.0, T=0.05, nk=48, units="natural", error_estimate=False)
    opt = compute(model, ["optical_conductivity"], omega=omega, width=0.05, **common)
    weight = np.trapezoid(opt.optical_conductivity.sel(a="x", b="x").values[0, 0].real, omega)
    tau = 1.0
    ref = compute(model, ["entropy_production_band_curvature", "drude"], tau=tau, **common)
    kinetic = ref.entropy_production_band_curvature.sel(a="x", b="x").item() * 0.05 / tau
    drude_weight = ref.drude.sel(a="x", b="x").item() / tau
    assert weight == pytest.approx(np.pi / 2 * (kinetic - drude_weight), rel=1e-8)
    assert np.all(opt.optical_conductivity.sel(a="x", b="x").values.real >= -1e-15)


def test_joint_density_of_states_counts_band_pairs():
    omega = np.arange(0.0, 8.0, 0.01)
    ds = compute(builtin_model("qwz"), ["joint_density_of_states"], mu=0.0, T=0.1, omega=omega, nk=24,
                 units="natural", width=0.05, error_estimate=False)
    assert np.trapezoid(ds.joint_density_of_states.values[0, 0], omega) == pytest.approx(1.0, rel=1e-8)


def test_optical_ratio_eq34_particle_hole_symmetric_and_tilted():
    from qgtransport.relations import optical_ratio

    common = dict(mu=1.5, T=0.2, omega=2.6, nk=160, units="natural", width=0.025)
    symmetric = optical_ratio(builtin_model("qwz"), **common)
    assert symmetric.residual < 1e-3  # ERRATA E9: agreement up to O(width^2)
    tilted = optical_ratio(tilted_qwz(), **common)
    assert float(tilted.rhs.ravel()[0]) == pytest.approx(-2.1648, abs=1e-4)  # Eq. 34 prediction (ERRATA E9)
    assert float(tilted.lhs.ravel()[0]) == pytest.approx(-1.0735, rel=0.01)  # the true ratio (ERRATA E9)


def test_frequency_quantities_need_omega_and_broadening_is_checked():
    with pytest.raises(ValueError, match="need the frequencies omega"):
        compute(builtin_model("qwz"), ["optical_conductivity"], mu=0.0, T=0.1, nk=4)
    with pytest.raises(ValueError, match="broadening must be one of"):
        compute(builtin_model("qwz"), ["optical_conductivity"], mu=0.0, T=0.1, nk=4, omega=1.0, broadening="box")
