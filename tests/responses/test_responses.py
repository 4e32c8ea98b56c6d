"""Linear responses: analytic limits, independent routes and reference values."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import random_model
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import eigh

from qgtransport import builtin_model
from qgtransport.bands import occupation as occ
from qgtransport.bands.geometry import band_geometry
from qgtransport.compute import compute
from qgtransport.responses import entropy
from qgtransport.responses.kernels import Block, Settings

REFERENCE = json.loads((Path(__file__).parents[1] / "data" / "qwz_linear.json").read_text())


def value(ds, name, a="x", b="x", mu=0, T=0):
    var = ds[name].isel(mu=mu, T=T)
    return float(var.sel(a=a, b=b) if "b" in var.dims else var.sel(a=a))


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: f"m{c['m']}-mu{c['mu']}-T{c['T']}")
def test_reference_values_qwz(case):
    # ../shared/reference/qwz_linear.json: an independent numpy script, Eq. 14 rho(1) (rho1="dc_limit").
    # Its Hall quantities are sum_n int f_n Omega_n (particle current): our charge AHC is minus that.
    model = builtin_model("qwz", m=case["m"])
    common = dict(mu=case["mu"], T=case["T"], tau=case["tau"], nk=case["n"], units="natural", rho1="dc_limit",
                  error_estimate=False)
    ds = compute(model, **common)
    printed = compute(model, ["entropy_production_interband"], kernel="printed", **common)
    rel = dict(rel=1e-10, abs=1e-15)
    assert -value(ds, "anomalous_hall", "x", "y") == pytest.approx(case["sigma_xy"], **rel)
    assert value(ds, "entropy_hall", "x", "y") == pytest.approx(case["sigma_s_xy"], **rel)
    assert value(ds, "anomalous_nernst", "x", "y") == pytest.approx(case["alpha_xy"], **rel)
    assert value(ds, "entropy_production_drude") == pytest.approx(case["Pi_drude_xx"], **rel)
    assert value(ds, "drude") / case["T"] == pytest.approx(case["JD_xx_over_T"], **rel)
    assert value(ds, "entropy_production_interband") == pytest.approx(case["Pi_inter_exact_xx"], **rel)
    assert value(printed, "entropy_production_interband") == pytest.approx(case["Pi_inter_printed_xx"], **rel)


@pytest.mark.parametrize("m,C", [(-1.0, 1), (1.0, -1), (2.5, 0)])
def test_qwz_hall_conductance_is_quantised_in_the_gap(m, C):
    ds = compute(builtin_model("qwz", m=m), ["anomalous_hall"], mu=0.0, T=0.01, nk=64, units="natural")
    assert value(ds, "anomalous_hall", "x", "y") == pytest.approx(-C / (2 * np.pi), abs=1e-9)
    assert value(ds, "anomalous_hall", "y", "x") == pytest.approx(C / (2 * np.pi), abs=1e-9)


def test_haldane_hall_conductance_and_SI_value_of_e2_over_h():
    ds = compute(builtin_model("haldane", t2=0.1, phi=np.pi / 2), ["anomalous_hall"], mu=0.0, T=10.0, nk=96)
    e2_over_h = 3.874045846e-5  # S, CODATA e^2/h
    assert value(ds, "anomalous_hall", "x", "y") == pytest.approx(e2_over_h, rel=1e-6)  # C = -1
    assert ds.anomalous_hall.attrs["units"] == "S"


def test_weyl_anomalous_hall_set_by_the_node_separation():
    # slices |kz| > k0 have |C| = 1: |sigma_xy| = (1 - k0/pi)/(2 pi) e^2/hbar per lattice constant
    ds = compute(builtin_model("weyl"), ["anomalous_hall"], mu=0.0, T=0.01, nk=48, units="natural")
    expected = (1 - 1 / 3) / (2 * np.pi)
    assert value(ds, "anomalous_hall", "x", "y") == pytest.approx(expected, rel=2e-3)
    assert value(ds, "anomalous_hall", "x", "z") == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("name,params", [("tilted_dirac", {}), ("haldane", {"M": 0.1})])
def test_entropy_hall_equals_nernst_onsager(name, params):
    # sigma^s = sum s Omega (divided-difference route over v_nm) vs alpha = Xiao et al. over Omega_n (Eq. 29, E7)
    ds = compute(builtin_model(name, **params), ["entropy_hall", "anomalous_nernst"], mu=[-0.5, 0.1, 0.7],
                 T=[0.05, 0.2], nk=48, units="natural")
    sh = ds.entropy_hall.sel(a="x", b="y").values
    assert np.abs(sh).max() > 1e-3
    assert np.allclose(sh, ds.anomalous_nernst.sel(a="x", b="y").values, rtol=1e-10, atol=1e-14)


def test_mott_relation_low_temperature():
    # sigma^s = (pi^2 T / 3) d_mu sigma^particle = -(pi^2 T/3) d_mu sigma^charge + O(T^3) (Eq. 31, Mott)
    model = builtin_model("tilted_dirac")
    residuals = []
    for T in (0.04, 0.02):
        h = 1e-3
        ds = compute(model, ["anomalous_hall", "entropy_hall"], mu=[0.6 - h, 0.6, 0.6 + h], T=T, nk=200,
                     units="natural", error_estimate=False)
        hall = ds.anomalous_hall.sel(a="x", b="y").values[:, 0]
        mott = -(np.pi**2 * T / 3) * (hall[2] - hall[0]) / (2 * h)
        sh = ds.entropy_hall.sel(a="x", b="y").values[1, 0]
        residuals.append(abs(sh - mott) / abs(sh))
    assert residuals[1] < 0.03
    assert 3.0 < residuals[0] / residuals[1] < 5.0  # the correction is O(T^2) relative


@pytest.mark.parametrize("name", ["qwz", "tilted_dirac", "weyl", "rice_mele"])
def test_joule_identity_in_SI(name):
    # Pi(2;1) = J^D . E / T (Eq. 19): W/(K m^d)/(V/m)^2 = (S m^(2-d)) / K
    T = np.array([300.0, 2000.0])
    ds = compute(builtin_model(name), ["entropy_production_drude", "drude"], mu=0.4, T=T, tau=10.0, nk=16)
    drude_over_T = ds.drude.values / T[None, :, None, None]
    assert np.allclose(ds.entropy_production_drude.values, drude_over_T, rtol=1e-12)
    assert ds.drude.sel(a="x", b="x").values.min() > 0


def test_drude_eq20_split_by_integration_by_parts():
    # -(tau/T) sum int v^a d_b f = (tau/T) sum int (v^ab + 2 sum_m e_nm g_nm) f  (Eq. 20), on a periodic grid
    q = ["entropy_production_drude", "entropy_production_band_curvature", "entropy_production_drude_quantum_metric"]
    ds = compute(builtin_model("tilted_dirac"), q, mu=[0.5, 1.0], T=0.3, tau=3.0, nk=96, units="natural")
    total = ds.entropy_production_band_curvature + ds.entropy_production_drude_quantum_metric
    assert np.allclose(total.values, ds.entropy_production_drude.values, rtol=1e-8, atol=1e-12)
    qm = ds.entropy_production_drude_quantum_metric.sel(a="x", b="x").values
    band = ds.entropy_production_band_curvature.sel(a="x", b="x").values
    assert np.all(qm < 0) and np.all(band > ds.entropy_production_drude.sel(a="x", b="x").values)  # ERRATA E3


def test_equilibrium_entropy_current_vanishes():
    ds = compute(builtin_model("tilted_dirac", w=0.6), ["equilibrium_entropy_current"], mu=[0.3, 1.0], T=0.2,
                 nk=64, units="natural")
    # a total derivative on a periodic grid: zero to the grid's spectral accuracy (integrand ~ 1)
    assert np.abs(ds.equilibrium_entropy_current.values).max() < 1e-11


def test_pt_symmetric_model_has_no_berry_curvature():
    ds = compute(builtin_model("pt_symmetric"), ["anomalous_hall", "entropy_hall"], mu=2.0, T=0.1, nk=48,
                 units="natural")
    assert np.abs(ds.anomalous_hall.values).max() < 1e-14
    assert np.abs(ds.entropy_hall.values).max() < 1e-14


def pi_of_rho(rho, rho_eq, eta):
    """Eq. 9 with Eq. 10, by matrix functions: Pi = -eta Tr[(phi(rho) - phi(rho_eq))(rho - rho_eq)]."""
    def phi(r):
        w, V = eigh(r)
        return (V * np.log((1 - w) / w)) @ V.conj().T
    return -eta * np.trace((phi(rho) - phi(rho_eq)) @ (rho - rho_eq)).real


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_divided_difference_kernel_is_the_second_order_of_eq9(seed):
    # independent route: Pi(eps) from matrix logarithms of rho_eq + eps rho(1), second-order coefficient
    rng = np.random.default_rng(seed)
    model = random_model(rng, norb=3, dim=2, nR=3)
    k = rng.normal(size=(1, 2))
    mu, T, tau = 0.2, 0.7, 2.0
    geo = band_geometry(model, k)
    e, U, v = geo.energies[0], geo.eigenvectors[0], geo.velocity[0, 0]  # E along x
    x = (e - mu) / T
    F = occ.fermi_divided_difference(x[:, None], x[None, :]) / T
    rho1_band = F * v / (1 / tau + 1j * (e[None, :] - e[:, None]))  # Eq. 13 at omega = 0, rho1_nm
    rho1 = U @ rho1_band @ U.conj().T
    rho_eq = (U * occ.fermi(x)) @ U.conj().T
    # even part (Pi(eps) + Pi(-eps))/(2 eps^2) = c2 + c4 eps^2; Richardson over eps, eps/2 removes c4
    def even(eps):
        return sum(pi_of_rho(rho_eq + s * rho1, rho_eq, 1 / tau) for s in (eps, -eps)) / (2 * eps**2)

    c2 = (4 * even(1e-3) - even(2e-3)) / 3
    block = Block(geo, np.array([mu]), np.array([T]), Settings(tau=tau))
    closed = entropy.entropy_production(block)[0, 0, 0]
    assert closed == pytest.approx(c2, rel=1e-7)
    printed = entropy.entropy_production_drude(block)[0, 0, 0] + entropy.entropy_production_interband(
        Block(geo, np.array([mu]), np.array([T]), Settings(tau=tau, kernel="printed")))[0, 0, 0]
    assert abs(printed - c2) > 1e-3 * abs(c2)  # the printed Eq. 18 kernel is not Eq. 9's second order


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), norb=st.integers(2, 4), mu=st.floats(-3, 3), T=st.floats(0.02, 2.0),
       tau=st.floats(0.1, 50.0), rho1=st.sampled_from(["finite_eta", "dc_limit"]))
def test_entropy_production_is_positive_at_every_k(seed, norb, mu, T, tau, rho1):
    rng = np.random.default_rng(seed)
    model = random_model(rng, norb=norb, dim=2, nR=3)
    k = rng.uniform(-np.pi, np.pi, size=(20, 2))
    block = Block(band_geometry(model, k), np.array([mu]), np.array([T]), Settings(tau=tau, rho1=rho1))
    # per-k tensors: sum over n, m only (kernel axes k, n, m kept by summing k one at a time)
    kernel_drude = np.where(block.same_level, -tau * block.fermi_dd / block.T, 0.0)
    eta = 1 / tau
    kernel_inter = -eta * block.fermi_dd / block.T * entropy.interband_propagator_squared(block)
    per_k = np.einsum("knmp,knmab->kab", kernel_drude + kernel_inter, block.products.real)
    eigenvalues = np.linalg.eigvalsh(per_k)
    assert np.all(eigenvalues >= -1e-12 * max(1.0, np.abs(per_k).max()))
    total = entropy.entropy_production(block)[0]
    assert np.allclose(total, per_k.sum(0))


def test_printed_kernel_overflow_is_a_clear_error():
    with pytest.raises(OverflowError, match="no T -> 0 limit"):
        compute(builtin_model("qwz"), ["entropy_production_interband"], mu=0.0, T=1e-3, tau=1.0, nk=8,
                units="natural", kernel="printed")


def test_rho1_options_differ_by_eta_squared_over_gap_squared():
    common = dict(mu=0.0, T=0.4, nk=32, units="natural")
    values = {}
    for tau in (5.0, 10.0):
        a = compute(builtin_model("qwz"), ["entropy_production_interband"], tau=tau, rho1="finite_eta", **common)
        b = compute(builtin_model("qwz"), ["entropy_production_interband"], tau=tau, rho1="dc_limit", **common)
        values[tau] = value(b, "entropy_production_interband") / value(a, "entropy_production_interband") - 1
    assert 0 < values[10.0] < values[5.0]
    assert values[5.0] / values[10.0] == pytest.approx(4.0, rel=0.05)


def test_results_do_not_depend_on_chunking():
    model = builtin_model("haldane", M=0.2)
    common = dict(mu=np.linspace(-1, 1, 7), T=[0.05, 0.3], tau=4.0, nk=30, units="natural")
    a = compute(model, max_elements=2**21, **common)
    b = compute(model, max_elements=500, **common)
    for name in a.data_vars:
        if not name.endswith("_error"):
            assert np.allclose(a[name].values, b[name].values, rtol=1e-12, atol=1e-15), name


def test_degenerate_doubled_model_is_twice_the_single_model(rng):
    from test_geometry import doubled

    base = builtin_model("tilted_dirac")
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))
    common = dict(mu=[0.3, 0.9], T=0.1, tau=5.0, nk=24, units="natural", error_estimate=False)
    one = compute(base, **common)
    two = compute(doubled(base, q), **common)
    for name in one.data_vars:
        assert np.allclose(two[name].values, 2 * one[name].values, rtol=1e-8, atol=1e-12), name


def test_spin_degeneracy_doubles_every_result():
    from qgtransport.models.tightbinding import TightBinding

    base = builtin_model("qwz")
    spinful = TightBinding(lattice=base.lattice, positions=base.positions, R=base.R, H_R=base.H_R, spin_degeneracy=2)
    common = dict(mu=0.5, T=0.2, tau=3.0, nk=12, units="natural", error_estimate=False)
    a, b = compute(base, **common), compute(spinful, **common)
    for name in a.data_vars:
        assert np.allclose(b[name].values, 2 * a[name].values), name
    assert b.attrs["spin_degeneracy"] == 2


@pytest.mark.parametrize("kwargs,match", [
    (dict(quantities=["drude"]), "need the relaxation time tau"),
    (dict(quantities=["nonsense"]), "unknown quantities"),
    (dict(T=-1.0), "T must be >= 0, got -1.0"),
    (dict(kernel="exact"), "kernel must be one of"),
    (dict(rho1="eq99"), "rho1 must be one of"),
    (dict(units="cgs"), "units must be one of"),
    (dict(nk=0), "nk must be"),
    (dict(tau=-2.0, quantities=["drude"]), "tau must be finite and > 0"),
])
def test_bad_options_are_named(kwargs, match):
    args = dict(quantities=["anomalous_hall"], mu=0.0, T=0.1, nk=4, units="natural")
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        compute(builtin_model("qwz"), **args)


def test_compute_with_the_full_position_matrix():
    # Haldane with orbitals at the origin plus the position matrix diag(tau): positions="full" must give the
    # responses of the convention-I Haldane model (band-resolved geometry, Pi interband, AHC)
    from conftest import haldane_with_position_matrix

    model, flat, full = haldane_with_position_matrix()
    q = ["entropy_production_interband", "anomalous_hall", "entropy_hall"]
    common = dict(mu=[0.0, 0.9], T=0.2, tau=5.0, nk=24, units="natural", error_estimate=False)
    reference = compute(model, q, **common)
    with_positions = compute(full, q, positions="full", **common)
    for name in q:
        assert np.allclose(with_positions[name].values, reference[name].values, rtol=1e-10, atol=1e-14), name
    diagonal = compute(flat, ["entropy_production_interband"], **common)
    assert not np.allclose(diagonal.entropy_production_interband.values,
                           reference.entropy_production_interband.values, rtol=1e-3)
    with pytest.raises(ValueError, match="needs a model with a position matrix"):
        compute(flat, q, positions="full", **common)
    # the same through the engine's other paths: binned scan, refinement, worker processes
    for options in (dict(scan="binned"), dict(refine=True), dict(executor="processes", workers=2)):
        other = compute(full, q, positions="full", **options, **common)
        same = compute(model, q, **options, **common)
        for name in q:
            tolerance = 1e-7 if options.get("scan") == "binned" else 1e-10
            scale = np.abs(same[name].values).max()
            assert np.allclose(other[name].values, same[name].values, rtol=0, atol=tolerance * scale), (name, options)
    with pytest.raises(ValueError, match="second-order"):
        compute(full, ["second_order_current"], positions="full", **common)
