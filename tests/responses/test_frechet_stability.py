"""No NaN, no infinity, no lost digits at low T or far from mu.

- Pi(3) and Tr[v s(rho)] at second order, per k-point, against the Frechet formulas as printed,
  evaluated in 450- to 1800-digit arithmetic (tests/responses/frechet_reference.py): QWZ at 10-300 K (they were
  NaN below ~120 K, and the entropy current lost every digit), Fe at 300 K at E_F and far from it.
- Pi(3) = J(2).E/T (exact fact, ERRATA) on a grid at 23 K, where the printed kernels overflowed.
- Every response of the registry on the built-in models and on Fe, Pb, Te: finite from 1 K to 10^4 K
  and for mu anywhere (a fast subset here; the full sweep is marked slow).
- A non-finite result is a NonFiniteResultError naming quantity, component and (mu, T); qgt exits 2.
"""

from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from click.testing import CliRunner
from frechet_reference import Reference, digits_for

from qgtransport import builtin_model, compute
from qgtransport import units as U
from qgtransport.bands.geometry import band_geometry
from qgtransport.models.modelfile import read_model
from qgtransport.models.wannier90 import read_hr
from qgtransport.responses import RESPONSES, Response, nonlinear
from qgtransport.responses.kernels import Block, Settings
from qgtransport.results import NonFiniteResultError

DATA = Path(__file__).parents[1] / "data" / "wannier90"
E_F_IRON = 17.6255  # eV, ../shared/data/fe/README.md


def iron():
    return read_hr(DATA / "fe" / "Fe_hr.dat")


def one_k_point(model, k_reduced, mu, T_kelvin, direction, tau_fs=10.0):
    """(Pi(3)(n), j^s(2)(n)) of qgtransport and of the high-precision reference at one k-point."""
    geo = band_geometry(model, model.to_cartesian(np.atleast_2d(k_reduced)), order=2)
    T = float(U.temperature_to_natural(T_kelvin, model))
    tau = float(U.relaxation_time_to_natural(tau_fs, model))
    block = Block(geo, np.array([mu]), np.array([T]), Settings(tau=tau))
    n = np.asarray(direction, dtype=float)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        pi3 = np.einsum("abc,a,b,c->", nonlinear.entropy_production_third_order(block)[0], n, n, n)
        js = np.einsum("abc,b,c->a", nonlinear.second_order_entropy_current(block)[0], n, n)
    with mp.workdps(digits_for(geo.energies[0], mu, T)):
        reference = Reference(geo.energies[0], geo.velocity[0], geo.curvature[0], mu, T, 1 / tau, n)
        pi3_ref = float(reference.entropy_production_third_order())
        js_ref = np.array([float(v) for v in reference.second_order_entropy_current()])
    return pi3, pi3_ref, js, js_ref


@pytest.mark.parametrize("T_kelvin", [10.0, 30.0, 120.0, 300.0])
@pytest.mark.parametrize("mu", [0.0, 1.5, -1.7])
def test_qwz_third_order_entropy_production_and_entropy_current_against_high_precision(T_kelvin, mu):
    # mu = 0 lies in the gap (|x| up to 3500 at 10 K), 1.5 and -1.7 in the bands; the tails reach 1e-142
    pi3, pi3_ref, js, js_ref = one_k_point(builtin_model("qwz"), [0.137, 0.311], mu, T_kelvin, [0.8, -0.6])
    assert pi3 == pytest.approx(pi3_ref, rel=1e-12)
    # in the gap j^s(2) ~ 1e-16 is the rounding left of terms of order one (it was 0.15 at 300 K before)
    assert np.allclose(js, js_ref, rtol=1e-12, atol=1e-13 if mu == 0.0 else 0.0)


@pytest.mark.parametrize("mu", [E_F_IRON, 11.0, 50.0])
def test_iron_third_order_entropy_production_at_300K_against_high_precision(mu):
    # E_F; 2.7 eV below the lowest band at this k (Pi(3) ~ 1e-40); 11 eV above the highest (~ 1e-177)
    pi3, pi3_ref, js, js_ref = one_k_point(iron(), [0.137, 0.311, -0.231], mu, 300.0, [0.6, -0.3, 0.742])
    assert np.isfinite(pi3) and pi3 == pytest.approx(pi3_ref, rel=1e-12)
    assert np.allclose(js, js_ref, rtol=1e-12, atol=0.0)


@pytest.mark.slow
def test_iron_at_30K_against_4000_digits():
    pi3, pi3_ref, js, js_ref = one_k_point(iron(), [0.137, 0.311, -0.231], E_F_IRON, 30.0, [0.6, -0.3, 0.742])
    assert pi3 == pytest.approx(pi3_ref, rel=1e-11)
    assert np.allclose(js, js_ref, rtol=1e-11, atol=0.0)


def test_third_order_entropy_production_is_joule_at_23K():
    # Pi(3)_abc = sym(chi_abc)/T (ERRATA, exact facts): here |x| reaches 2300, where phi^[2] ~ e^4600
    # overflowed. Same grid error as at T = 0.2 in tests/responses/test_nonlinear.py (mu = 0: no Fermi-surface
    # integrand that a 48^2 grid cannot resolve at this T)
    from qgtransport.responses.nonlinear import symmetrise_abc

    T = 0.002
    ds = compute(builtin_model("pt_symmetric"), ["entropy_production_third_order", "second_order_current"], mu=0.0,
                 T=T, tau=3.0, nk=48, units="natural", error_estimate=False)
    pi3 = ds.entropy_production_third_order.values[0, 0]
    joule = symmetrise_abc(ds.second_order_current.values[0, 0]) / T
    assert np.abs(joule).max() > 0.1
    assert np.abs(pi3 - joule).max() < 1e-4 * np.abs(joule).max()


# ---------------------------------------------------------------------------------------------
# Every response, every model, 1 K to 10^4 K, mu anywhere


TEMPERATURES = [1.0, 10.0, 300.0, 1e4]  # K
# the AC second order (per-omega rates) and the contour average of 16 second-order responses
EXPENSIVE = [q for q in RESPONSES if RESPONSES[q].frequency and RESPONSES[q].rank == 3] + ["intrinsic_second_order"]


def real_models():
    return {"fe": iron(), "pb": read_hr(DATA / "pb" / "lead_hr.dat"), "te": read_model(DATA / "te" / "Te_model.nc")}


def band_range(model):
    k = np.random.default_rng(0).uniform(size=(200, model.dim))
    e = band_geometry(model, model.to_cartesian(k), order=1).energies
    return float(e.min()), float(e.max())


def assert_finite(model, quantities, mu, nk):
    ds = compute(model, quantities, mu=mu, T=TEMPERATURES, tau=10.0, omega=[0.5], nk=nk, error_estimate=False,
                 executor="serial")  # raises NonFiniteResultError otherwise
    for q in quantities:
        assert np.all(np.isfinite(ds[q].values)), q


@pytest.mark.parametrize("name", ["qwz", "haldane", "tilted_dirac", "rice_mele", "weyl", "pt_symmetric"])
def test_every_response_is_finite_on_the_builtin_models(name):
    model = builtin_model(name)
    lo, hi = band_range(model)
    assert_finite(model, list(RESPONSES), [lo - 100, lo - 1, (lo + hi) / 2, hi + 1, hi + 100], nk=4)


@pytest.mark.parametrize("name", ["fe", "pb", "te"])
def test_every_response_is_finite_on_the_wannier_models(name):
    model = real_models()[name]
    lo, hi = band_range(model)
    middle = E_F_IRON if name == "fe" else (lo + hi) / 2
    cheap = [q for q in RESPONSES if q not in EXPENSIVE]
    assert_finite(model, cheap, [lo - 50, middle, hi + 50], nk=2)
    assert_finite(model, EXPENSIVE, [middle], nk=1)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fe", "pb", "te"])
def test_every_response_is_finite_on_the_wannier_models_full_sweep(name):
    model = real_models()[name]
    lo, hi = band_range(model)
    assert_finite(model, list(RESPONSES), [lo - 100, lo - 1, lo, (lo + hi) / 2, E_F_IRON, hi, hi + 1, hi + 100], nk=3)


# ---------------------------------------------------------------------------------------------
# The final guard


def nan_at_one_component(block):
    """A response that is NaN in its (x, y) component at the second (mu, T) point."""
    out = np.zeros((len(block.mu), 2, 2))
    out[1, 0, 1] = np.nan
    return out


@pytest.fixture
def broken_response(monkeypatch):
    broken = Response(nan_at_one_component, "conductivity", "a response that returns NaN", "charge")
    monkeypatch.setitem(RESPONSES, "joint_density_of_states_broken", broken)
    return "joint_density_of_states_broken"


def test_a_nan_in_a_result_is_an_error_naming_quantity_component_and_point(broken_response):
    with pytest.raises(NonFiniteResultError) as info:
        compute(builtin_model("qwz"), [broken_response], mu=[0.1, 0.7], T=300.0, nk=4, error_estimate=False,
                executor="serial")
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    for words in (broken_response, "nan", "component xy", "mu = 0.7", "T = 300"):
        assert words in message, message


def test_the_cli_turns_a_nan_into_exit_code_2(broken_response):
    from qgtransport.cli import main

    result = CliRunner().invoke(main, ["compute", "--model", "qwz", "--mu", "0.1,0.7", "--T", "300", "--nk", "4",
                                       "--quantities", broken_response, "--executor", "serial"])
    assert result.exit_code == 2, result.output
    assert "component xy" in result.output and "mu = 0.7" in result.output
