"""Trigonal Te (24 spinor Wannier functions, no inversion): the Drude conductivity and the
Berry-curvature-dipole current against WannierBerri 26.10's band velocities and Berry curvature on the
same 12^3 grid (tests/data/wannier90/te/te_wannierberri_fermi_surface.json, made by
make_wannierberri_reference.py beside it; CI never runs WannierBerri).

The stored numbers are Fermi-surface sums of WannierBerri's per-k, per-band quantities,
S_vv = (1/N) sum (-f') v^a v^b and S_vO = (1/N) sum (-f') v^b Omega^d, on a grid shifted by half a step
(no degenerate bands there); in natural units drude_ab = tau S_vv/V and, for electrons of charge -e
(Sodemann & Fu 2015), chi_abc = (tau/2)(eps_abd D_cd + eps_acd D_bd) with D = S_vO/V. WannierBerri's own
T = 0 calculators (Ohmic_FermiSurf, NLAHC_FermiSurf, S/m and A/V^2 for tau = 1 fs) smoothed with its
Fermi-Dirac smoother check the SI conversion on the Gamma-centred grid, to the smoothing error.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from qgtransport.compute import compute
from qgtransport.models.modelfile import read_model

TE = Path(__file__).parents[1] / "data" / "wannier90" / "te"
KELVIN_PER_EV = 11604.51812
QUANTITIES = ["drude", "berry_curvature_dipole_current"]


@pytest.fixture(scope="module")
def reference():
    return json.loads((TE / "te_wannierberri_fermi_surface.json").read_text())


@pytest.fixture(scope="module")
def tellurium():
    return read_model(TE / "Te_model.nc")


def levi_civita():
    eps = np.zeros((3, 3, 3))
    for a, b, c in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        eps[a, b, c], eps[a, c, b] = 1.0, -1.0
    return eps


def dipole_current(dipole, tau):
    """chi_abc = (tau/2)(eps_abd D_cd + eps_acd D_bd) from the Berry-curvature dipole D_bd."""
    raw = np.einsum("abd,cd->abc", levi_civita(), dipole)
    return 0.5 * tau * (raw + raw.transpose(0, 2, 1))


def relative(ours, expected):
    return np.max(np.abs(ours - expected)) / np.max(np.abs(expected))


def test_te_reference_is_this_model(reference, tellurium):
    assert reference["model"]["sha256_of_Te_tb.dat"].startswith("5680d22d")
    assert tellurium.cell_volume == pytest.approx(reference["model"]["cell_volume_angstrom3"], rel=1e-12)
    # no two bands within the degeneracy threshold on the grid: per-band sums are unambiguous
    assert reference["grid"]["smallest_gap_between_bands_eV"] > 10 * reference["degen_thresh_eV"]


def test_te_drude_and_berry_curvature_dipole_match_wannierberri(reference, tellurium):
    mu = sorted({p["mu"] for p in reference["points"]})
    T = sorted({p["T"] for p in reference["points"]})
    tau = 1.0  # hbar/eV
    ds = compute(tellurium, QUANTITIES, mu=mu, T=T, tau=tau, nk=reference["grid"]["nk"], shift=0.5,
                 units="natural", degeneracy_tol=reference["degen_thresh_eV"], error_estimate=False,
                 executor="serial")
    volume = tellurium.cell_volume
    for point in reference["points"]:
        here = dict(mu=point["mu"], T=point["T"])
        drude = tau * np.array(point["S_vv"]) / volume
        chi = dipole_current(np.array(point["S_vO"]) / volume, tau)
        # measured 2e-14 (Drude) and 1.4e-11 (dipole; bands 1e-7 eV apart on some planes amplify rounding)
        assert relative(ds.drude.sel(**here).values, drude) < 1e-7, here
        assert relative(ds.berry_curvature_dipole_current.sel(**here).values, chi) < 1e-7, here


def test_te_si_units_match_wannierberri_calculators(reference, tellurium):
    """S/m and A/V^2 for tau = 1 fs, Gamma-centred grid, against WannierBerri's T = 0 Fermi-surface
    calculators smoothed at T (their finite-difference delta and smoothing: measured 2e-4 - 5e-3). The
    Gamma-centred grid holds degenerate points, among them H, where four bands meet at the top of the
    valence band (5.9027 eV): both codes take the Berry-curvature dipole of a degenerate level as its trace
    (before qgtransport did, the sum of v_n Omega_n over the level's bands gave chi_xyz -2.27e-5 against
    WannierBerri's -8.58e-5 A/V^2 at mu = 5.8 eV, k_B T = 0.05 eV)."""
    hottest = max(q["T"] for q in reference["points"])
    points = [p for p in reference["points"] if p["T"] == hottest]
    kelvin = points[0]["T"] * KELVIN_PER_EV
    ds = compute(tellurium, QUANTITIES, mu=[p["mu"] for p in points], T=kelvin, tau=1.0,
                 nk=reference["grid"]["nk"], shift=0.0, units="SI", error_estimate=False, executor="serial")
    for point in points:
        wb = point["wannierberri_static_gamma_grid_smoothed"]
        ours = ds.sel(mu=point["mu"], T=kelvin)
        assert relative(ours.drude.values, np.array(wb["ohmic"])) < 1e-2, point["mu"]
        raw = np.einsum("abd,cd->abc", levi_civita(), np.array(wb["nlahc"]))
        assert relative(ours.berry_curvature_dipole_current.values, 0.5 * (raw + raw.transpose(0, 2, 1))) < 1e-2
