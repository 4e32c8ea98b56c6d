"""Wannier90 models against Wannier90's own outputs (tests/data/wannier90/README.md says how they were made).

- Band energies and velocities vs postw90 geninterp at 24 generic k-points (Pb).
- The folded MDRS hoppings vs an independent plain loop over R and T of Wannier90's Bloch sum.
- The Drude conductivity in S/m vs BoltzWann (Pb, T = 300 K, tau = 10 fs) on the same k-mesh.
- The Drude entropy production in W/(K m^3)/(V/m)^2 equals sigma/T.
- Spin degeneracy from the .win (Pb 2, Fe 1), lattice units, centres, the lossless model file.
"""

from pathlib import Path

import numpy as np
import pytest

from qgtransport.bands.geometry import band_geometry, band_velocity
from qgtransport.compute import compute
from qgtransport.models.modelfile import read_model, write_model
from qgtransport.models.tightbinding import TightBinding
from qgtransport.models.wannier90 import read_hr, read_tb, read_tb_file, read_tb_positions, read_win

DATA = Path(__file__).parents[1] / "data" / "wannier90"
PB = DATA / "pb"
FE = DATA / "fe"


@pytest.fixture(scope="module")
def lead_hr():
    return read_hr(PB / "lead_hr.dat")


@pytest.fixture(scope="module")
def lead_tb():
    return read_tb(PB / "lead_tb.dat", win=PB / "lead.win")


@pytest.fixture(scope="module")
def iron():
    return read_hr(FE / "Fe_hr.dat")


def geninterp_reference():
    """k (crystal) from the .kpt file; k (Cartesian), energies, velocities from geninterp.dat."""
    k_crystal = np.loadtxt(PB / "lead_geninterp.kpt", skiprows=3)[:, 1:]
    table = np.loadtxt(PB / "lead_geninterp.dat").reshape(len(k_crystal), 4, 8)
    return k_crystal, table[:, 0, 1:4], table[:, :, 4], table[:, :, 5:8]


# ---------------------------------------------------------------------------------------------
# An independent implementation of Wannier90's Bloch sum, written from the file formats
# ---------------------------------------------------------------------------------------------


def plain_hr(path):
    """(num_wann, {R: ndegen}, {(R, m, n): H}) from an _hr.dat, by plain Python."""
    lines = open(path).read().splitlines()
    num_wann, nrpts = int(lines[1]), int(lines[2])
    ndegen_lines = (nrpts + 14) // 15
    ndegen = [int(x) for x in " ".join(lines[3:3 + ndegen_lines]).split()]
    H, degeneracy, order = {}, {}, []
    for line in lines[3 + ndegen_lines:]:
        f = line.split()
        R = (int(f[0]), int(f[1]), int(f[2]))
        if R not in order:
            order.append(R)
        H[(R, int(f[3]) - 1, int(f[4]) - 1)] = float(f[5]) + 1j * float(f[6])
    for R, d in zip(order, ndegen, strict=True):
        degeneracy[R] = d
    return num_wann, degeneracy, H


def plain_wsvec(path):
    """{(R, m, n): [T, ...]} from a _wsvec.dat, by plain Python."""
    lines = [x for x in open(path).read().splitlines()[1:] if x.strip()]
    shifts, i = {}, 0
    while i < len(lines):
        f = [int(x) for x in lines[i].split()]
        count = int(lines[i + 1])
        shifts[((f[0], f[1], f[2]), f[3] - 1, f[4] - 1)] = [
            tuple(int(x) for x in lines[i + 2 + j].split()) for j in range(count)]
        i += 2 + count
    return shifts


def wannier90_bloch_sum(hr_path, wsvec_path, lattice, k_cartesian):
    """H(k) = sum_R sum_T e^{ik.(R+T)} H(R)/(ndegen nT) and dH/dk, a plain loop over R, m, n and T."""
    num_wann, degeneracy, H = plain_hr(hr_path)
    shifts = plain_wsvec(wsvec_path)
    Hk = np.zeros((len(k_cartesian), num_wann, num_wann), complex)
    dHk = np.zeros((len(k_cartesian), 3, num_wann, num_wann), complex)
    for (R, m, n), value in H.items():
        for T in shifts[(R, m, n)]:
            vector = (np.array(R) + np.array(T)) @ lattice
            term = np.exp(1j * k_cartesian @ vector) * value / (degeneracy[R] * len(shifts[(R, m, n)]))
            Hk[:, m, n] += term
            dHk[:, :, m, n] += 1j * vector[None, :] * term[:, None]
    return Hk, dHk


# ---------------------------------------------------------------------------------------------
# geninterp and the Fourier convention
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which, energy_tol, velocity_tol", [("hr", 1e-5, 1e-4), ("tb", 1e-6, 1e-5)])
def test_pb_bands_match_geninterp(which, energy_tol, velocity_tol, lead_hr, lead_tb):
    """Energies to 1e-5 eV and dE/dk to 1e-4 eV Angstrom from _hr.dat (6 decimals); _tb.dat
    (8 digits) does 10x better."""
    model = lead_hr if which == "hr" else lead_tb
    k_crystal, k_cartesian, energies, velocities = geninterp_reference()
    k = model.to_cartesian(k_crystal)
    np.testing.assert_allclose(k, k_cartesian, atol=1e-8)
    geo = band_geometry(model, k)
    assert np.max(np.abs(geo.energies - energies)) < energy_tol
    assert np.max(np.abs(band_velocity(geo) - velocities)) < velocity_tol


def test_pb_without_mdrs_misses_geninterp():
    """Without the wsvec shifts the bands are visibly wrong at generic k (why MDRS is the default)."""
    model = read_hr(PB / "lead_hr.dat", wsvec=None)
    k_crystal, _, energies, _ = geninterp_reference()
    geo = band_geometry(model, model.to_cartesian(k_crystal))
    assert np.max(np.abs(geo.energies - energies)) > 0.05


@pytest.mark.parametrize("folder, seed", [(PB, "lead"), (FE, "Fe")])
def test_folded_model_is_the_wannier90_sum_up_to_the_centre_gauge(folder, seed):
    """H_ours(k) = D^+ H_W90(k) D with D = diag(exp(i k.tau)), element by element, for H and dH/dk."""
    model = read_hr(folder / f"{seed}_hr.dat")
    k = model.to_cartesian(np.random.default_rng(7).uniform(-0.5, 0.5, size=(5, 3)))
    H_w90, dH_w90 = wannier90_bloch_sum(folder / f"{seed}_hr.dat", folder / f"{seed}_wsvec.dat", model.lattice, k)
    H, dH = model.hamiltonian(k, order=1)
    tau = model.positions @ model.lattice
    D = np.exp(1j * k @ tau.T)
    gauge = D.conj()[:, :, None] * D[:, None, :]
    np.testing.assert_allclose(H, gauge * H_w90, atol=1e-12)
    delta = tau[None, :, :] - tau[:, None, :]  # (m, n, a): tau_n - tau_m
    expected_dH = gauge[:, None] * (dH_w90 + 1j * np.moveaxis(delta, -1, 0)[None] * H_w90[:, None])
    np.testing.assert_allclose(dH, expected_dH, atol=1e-11)


@pytest.mark.parametrize("folder, seed", [(PB, "lead"), (FE, "Fe")])
def test_folded_hoppings_are_hermitian_partners(folder, seed):
    model = read_hr(folder / f"{seed}_hr.dat")
    index = {tuple(r): i for i, r in enumerate(model.R.tolist())}
    partner = [index[tuple(-x for x in r)] for r in model.R.tolist()]
    np.testing.assert_array_equal(model.H_R[partner], np.conj(np.swapaxes(model.H_R, 1, 2)))
    assert model.parameters["hermiticity_max_deviation"] < 1e-5


def test_folding_keeps_the_gamma_point_sum(lead_hr):
    """sum_R' H'(R') = sum_R H(R)/ndegen(R): at k = 0 the MDRS shifts change nothing."""
    num_wann, degeneracy, H = plain_hr(PB / "lead_hr.dat")
    total = np.zeros((num_wann, num_wann), complex)
    for (R, m, n), value in H.items():
        total[m, n] += value / degeneracy[R]
    np.testing.assert_allclose(lead_hr.H_R.sum(axis=0), total, atol=1e-12)


def test_hr_and_tb_are_the_same_model(lead_hr, lead_tb):
    k = lead_hr.to_cartesian(np.random.default_rng(3).uniform(size=(20, 3)))
    e_hr = band_geometry(lead_hr, k).energies
    e_tb = band_geometry(lead_tb, k).energies
    assert np.max(np.abs(e_hr - e_tb)) < 2e-5
    np.testing.assert_allclose(lead_hr.lattice, lead_tb.lattice, atol=1e-12)
    np.testing.assert_allclose(lead_hr.positions, lead_tb.positions, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# Lattice, centres, spin degeneracy, position matrix
# ---------------------------------------------------------------------------------------------


def test_win_lattice_in_bohr_matches_tb(lead_tb):
    """unit_cell_cart in bohr, converted with Wannier90's bohr, equals _tb.dat's lattice (Angstrom)."""
    win = read_win(PB / "lead.win")
    np.testing.assert_allclose(win.lattice, lead_tb.lattice, rtol=0, atol=1e-12)
    assert win.num_wann == 4 and win.mp_grid == (4, 4, 4) and win.fermi_energy == pytest.approx(5.2676)


def test_centres_become_reduced_positions(lead_hr):
    centres = np.array([line.split()[1:] for line in open(PB / "lead_centres.xyz").read().splitlines()[2:6]],
                       dtype=float)
    np.testing.assert_allclose(lead_hr.positions @ lead_hr.lattice, centres, atol=1e-12)


def test_spin_degeneracy_from_win(lead_hr, iron):
    assert lead_hr.spin_degeneracy == 2 and "spinors = false" in lead_hr.parameters["spin_degeneracy_source"]
    assert iron.spin_degeneracy == 1 and "spinors = true" in iron.parameters["spin_degeneracy_source"]
    assert iron.norb == 18


def test_spin_degeneracy_is_never_silent():
    with pytest.raises(ValueError, match="spin degeneracy unknown"):
        read_hr(PB / "lead_hr.dat", win=None, lattice=read_win(PB / "lead.win").lattice)
    with pytest.raises(ValueError, match="contradicts"):
        read_hr(FE / "Fe_hr.dat", spin_degeneracy=2)
    model = read_hr(PB / "lead_hr.dat", win=None, lattice=read_win(PB / "lead.win").lattice, spin_degeneracy=2)
    assert model.parameters["spin_degeneracy_source"] == "given explicitly"


def test_missing_companions_warn(tmp_path):
    hr = tmp_path / "lead_hr.dat"
    hr.write_text((PB / "lead_hr.dat").read_text())
    with pytest.warns(UserWarning, match="MDRS"), pytest.warns(UserWarning, match="centres"):
        model = read_hr(hr, lattice=read_win(PB / "lead.win").lattice, spin_degeneracy=2)
    assert model.parameters["mdrs"] is False
    assert np.all(model.positions == 0)


def test_position_matrix(lead_tb):
    positions = read_tb_positions(PB / "lead_tb.dat")
    np.testing.assert_array_equal(positions.R, lead_tb.R)
    origin = int(np.flatnonzero(np.all(positions.R == 0, axis=1))[0])
    centres = np.einsum("amm->ma", positions.r[origin]).real
    np.testing.assert_allclose(centres, lead_tb.positions @ lead_tb.lattice, atol=1e-12)
    # folding moves elements between R but keeps the k = 0 sum: sum_R' r(R') = sum_R r(R)/ndegen(R)
    raw = read_tb_file(PB / "lead_tb.dat")
    np.testing.assert_allclose(positions.r.sum(axis=0), (raw.positions / raw.ndegen[:, None, None, None]).sum(axis=0),
                               atol=1e-12)
    # Wannier90's finite-difference position matrix is not exactly Hermitian-partnered (r(-R) != r(R)^+
    # by up to 0.09 Angstrom here), unlike H(R): it is kept as written.


# ---------------------------------------------------------------------------------------------
# SI transport vs BoltzWann
# ---------------------------------------------------------------------------------------------


def boltzwann_smeared_drude(model, mu, nk, width, nodes=6):
    """Drude conductivity (S/m) with the Fermi window convolved with Wannier90's Gaussian of width w
    (standard deviation w/sqrt(2)): sigma_w(mu) = E_x[sigma(mu + x)], Gauss-Hermite in x."""
    x, weights = np.polynomial.hermite_e.hermegauss(nodes)
    weights = weights / weights.sum()
    shifted = (mu[:, None] + width / np.sqrt(2) * x[None, :]).ravel()
    ds = compute(model, ["drude"], mu=shifted, T=300.0, tau=10.0, nk=nk, shift=0.0, units="SI",
                 error_estimate=False)
    assert ds.drude.attrs["units"] == "S/m" and ds.attrs["spin_degeneracy"] == 2
    sigma = ds.drude.values[:, 0].reshape(len(mu), nodes, 3, 3)
    return np.einsum("mjab,j->mab", sigma, weights)


@pytest.mark.parametrize("which, rtol", [("tb", 1e-5), ("hr", 1e-4)])
def test_pb_drude_matches_boltzwann(which, rtol, lead_hr, lead_tb):
    """Same 30^3 Gamma-centred mesh and the same smearing as BoltzWann: only the printed digits differ
    (measured: 3e-7 from _tb.dat, 1.4e-5 from _hr.dat)."""
    reference = np.loadtxt(PB / "lead_elcond.dat")
    model = lead_tb if which == "tb" else lead_hr
    sigma = boltzwann_smeared_drude(model, reference[:, 0], nk=30, width=0.005)
    pairs = [(0, 0), (0, 1), (1, 1), (0, 2), (1, 2), (2, 2)]
    expected = np.stack([reference[:, 2 + i] for i in range(6)], axis=1)
    ours = np.stack([sigma[:, a, b] for a, b in pairs], axis=1)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=rtol * np.max(np.abs(expected)))


def test_pb_unsmeared_drude_within_boltzwann_smearing_error(lead_tb):
    """Without the smearing, sigma differs from BoltzWann by its smearing error (< 0.5% here)."""
    reference = np.loadtxt(PB / "lead_elcond.dat")
    ds = compute(lead_tb, ["drude"], mu=reference[:, 0], T=300.0, tau=10.0, nk=30, shift=0.0, units="SI",
                 error_estimate=False)
    sigma_xx = ds.drude.sel(a="x", b="x").values[:, 0]
    relative = np.abs(sigma_xx / reference[:, 2] - 1)
    assert np.max(relative) < 5e-3
    assert np.max(relative) > 1e-5  # the smearing is visible: the smeared test above is the exact one


def test_drude_entropy_production_is_sigma_over_T_in_SI(lead_hr):
    """Pi_Drude = J.E/T = sigma E^2/T: W/(K m^3)/(V/m)^2 = (S/m)/K."""
    ds = compute(lead_hr, ["drude", "entropy_production_drude"], mu=[5.0, 5.2676], T=[150.0, 300.0], tau=10.0,
                 nk=8, units="SI", error_estimate=False)
    assert ds.entropy_production_drude.attrs["units"] == "W/(K m^3)/(V/m)^2"
    expected = ds.drude / ds.T
    np.testing.assert_allclose(ds.entropy_production_drude.values, expected.values, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# The lossless model file
# ---------------------------------------------------------------------------------------------


def assert_same_model(a: TightBinding, b: TightBinding):
    for name in ("lattice", "positions", "R", "H_R"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert getattr(a, name).dtype == getattr(b, name).dtype
    for name in ("spin_degeneracy", "energy_unit", "length_unit", "name", "parameters"):
        assert getattr(a, name) == getattr(b, name)


@pytest.mark.parametrize("which", ["lead", "iron"])
def test_model_file_round_trip_is_exact(which, lead_hr, iron, tmp_path):
    model = lead_hr if which == "lead" else iron
    write_model(model, tmp_path / "model.nc")
    assert_same_model(read_model(tmp_path / "model.nc"), model)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_model_file_round_trip_random_models(dim, rng, tmp_path):
    from conftest import random_model

    model = random_model(rng, norb=3, dim=dim, nR=4)
    write_model(model, tmp_path / "model.nc")
    assert_same_model(read_model(tmp_path / "model.nc"), model)
