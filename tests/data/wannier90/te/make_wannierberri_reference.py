"""WannierBerri reference for the Drude conductivity and the Berry-curvature dipole of trigonal Te.

Writes te_wannierberri_fermi_surface.json (beside this script): Fermi-surface sums of WannierBerri's own
per-k, per-band band velocity and Berry curvature on a 12^3 grid shifted by half a step
(k = (i + 1/2, j + 1/2, l + 1/2)/12, qgtransport's shift=0.5), at several (mu, T).
tests/models/test_te_wannierberri.py compares qgtransport's drude and berry_curvature_dipole_current
with them; it never runs this script.

Run in a Python 3.12 virtual environment with WannierBerri (it is not a qgtransport dependency):

    python3.12 -m venv /work/wb-venv && /work/wb-venv/bin/pip install "wannierberri[default]"
    /work/wb-venv/bin/python tests/data/wannier90/te/make_wannierberri_reference.py --tb ../shared/data/te/Te_tb.dat

About 20 s. Produced with WannierBerri 26.10, numpy 2.x, Python 3.12 (the versions are written into the JSON).

What WannierBerri computes here, independently of qgtransport:
- the system: `get_system_tb(Te_tb.dat, berry=False)`: H(R) of the file and the Wannier centres (the
  R = 0 diagonal of its position matrix) as the orbital positions of its convention I, i.e. the
  tight-binding position operator (internal terms only), which is qgtransport's read_tb with
  positions="diagonal";
- per k and band, `calculators.tabulate.Energy`, `Velocity` (dE/dk, eV Angstrom) and `BerryCurvature`
  (Omega_d, Angstrom^2, external_terms=False) on the shifted grid (`data_K` at dK = 1/(2 x 12)), one FFT
  block, no symmetries. The shifted grid avoids the symmetry lines and the time-reversal-invariant
  points; bands come close on some planes (the smallest gap between neighbouring bands is 9e-8 eV,
  1.1e-6 eV within 1.5 eV of 5.5 eV, written into the JSON), so the degeneracy threshold is 1e-9 eV
  (qgtransport: degeneracy_tol=1e-9): no two bands form a level, per-band quantities are unambiguous;
- sums over the grid with the Fermi-Dirac derivative -f'(e) = f(1 - f)/T (T in eV):
  S_vv[a][b] = (1/N) sum_k sum_n (-f'_n) v^a_n v^b_n        (eV Angstrom^2)
  S_vO[b][d] = (1/N) sum_k sum_n (-f'_n) v^b_n Omega^d_n    (Angstrom^3)
  In natural units (e = hbar = k_B = 1, spin degeneracy 1, tau in hbar/eV) the Drude conductivity is
  drude_ab = tau S_vv[a][b] / V and the Berry-curvature dipole (Sodemann & Fu 2015) is
  D_bd = -int v_b Omega_d f' = S_vO[b][d] / V, whose charge current is
  chi_abc = (tau/2) (epsilon_abd D_cd + epsilon_acd D_bd) (electrons of charge -e);
- WannierBerri's own calculators.static.Ohmic_FermiSurf and NLAHC_FermiSurf on the Gamma-centred 12^3
  grid (T = 0, finite differences on 2001 Fermi levels, then its FermiDiracSmoother at T; degeneracy
  threshold 1e-6 eV, qgtransport's default, as the Gamma-centred grid has degenerate points) are written
  too, for the SI units (they agree with qgtransport to their smoothing error, 2e-4 - 5e-3).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

NK = 12
MUS = (5.2, 5.5, 5.8)  # eV: hole-doped Te (the gap is 5.90-6.25 eV)
TEMPERATURES = (0.025, 0.05)  # eV (k_B T)
DEGEN_THRESH = 1e-9  # eV, below every gap between neighbouring bands on the grid (smallest 9e-8 eV)
KELVIN_PER_EV = 11604.51812


def minus_fermi_derivative(x, T):
    """-f'(e) = f (1 - f)/T = 1/(4 T cosh^2(x/2)), x = (e - mu)/T."""
    return 0.25 / T / np.cosh(0.5 * x) ** 2


def tabulate(system):
    import wannierberri as wberri
    from wannierberri.calculators import tabulate as tab
    from wannierberri.data_K import get_data_k_class_from_system

    grid = wberri.Grid(system, NKdiv=1, NKFFT=NK, use_symmetry=False)
    data = get_data_k_class_from_system(system)(system, grid=grid, dK=np.full(3, 0.5 / NK), fftlib="numpy")
    energies = tab.Energy(degen_thresh=DEGEN_THRESH)(data).data
    velocity = tab.Velocity(degen_thresh=DEGEN_THRESH)(data).data
    omega = tab.BerryCurvature(degen_thresh=DEGEN_THRESH, kwargs_formula={"external_terms": False})(data).data
    return data.kpoints_all, energies, velocity, omega


def sums(energies, velocity, omega, mu, T):
    weight = minus_fermi_derivative((energies - mu) / T, T)
    n = len(energies)
    return {"S_vv": (np.einsum("kn,kna,knb->ab", weight, velocity, velocity) / n).tolist(),
            "S_vO": (np.einsum("kn,knb,knd->bd", weight, velocity, omega) / n).tolist()}


def wannierberri_static(system, mu, T, folder):
    """WannierBerri's Ohmic_FermiSurf (S/m, tau = 1 fs) and NLAHC_FermiSurf (A/V^2, tau = 1 fs) at (mu, T)."""
    import wannierberri as wberri
    from wannierberri.smoother import FermiDiracSmoother

    efermi = np.linspace(mu - 1.0, mu + 1.0, 2001)
    common = dict(Efermi=efermi, degen_thresh=1e-6, smoother=FermiDiracSmoother(efermi, T * KELVIN_PER_EV))
    calculators = {"ohmic": wberri.calculators.static.Ohmic_FermiSurf(**common),
                   "nlahc": wberri.calculators.static.NLAHC_FermiSurf(kwargs_formula={"external_terms": False},
                                                                      **common)}
    grid = wberri.Grid(system, NKdiv=1, NKFFT=NK, use_symmetry=False)
    result = wberri.run(system, grid=grid, calculators=calculators, parallel=False, use_irred_kpt=False,
                        symmetrize=False, print_progress_step_time=1e9, print_progress_step_percent=100,
                        fout_name=str(Path(folder) / "result"), file_Klist_path=folder)
    return {name: r.dataSmooth[1000].tolist() for name, r in result.results.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tb", required=True, help="Te_tb.dat (../shared/data/te/Te_tb.dat)")
    parser.add_argument("--output", default=str(Path(__file__).with_name("te_wannierberri_fermi_surface.json")))
    args = parser.parse_args()

    import scipy
    import wannierberri as wberri
    from wannierberri.system.system_tb import get_system_tb

    data = Path(args.tb).read_bytes()
    system = get_system_tb(args.tb, berry=False)
    volume = abs(np.linalg.det(system.real_lattice))
    k, energies, velocity, omega = tabulate(system)
    expected_k = (np.indices((NK,) * 3).reshape(3, -1).T + 0.5) / NK
    assert np.allclose(np.sort(k.round(12), axis=0), np.sort(expected_k.round(12), axis=0))
    smallest_gap = float(np.min(np.diff(energies, axis=1)))
    assert smallest_gap > 10 * DEGEN_THRESH, smallest_gap

    folder = tempfile.mkdtemp()
    points = []
    for T in TEMPERATURES:
        for mu in MUS:
            point = {"mu": mu, "T": T, **sums(energies, velocity, omega, mu, T)}
            point["wannierberri_static_gamma_grid_smoothed"] = wannierberri_static(system, mu, T, folder)
            points.append(point)

    reference = {
        "what": "WannierBerri band velocities and Berry curvature (internal terms) of trigonal Te, Fermi-surface "
                "sums on a 12^3 grid shifted by half a step, for the Drude conductivity and the Berry-curvature dipole",
        "produced_by": {
            "script": "tests/data/wannier90/te/make_wannierberri_reference.py",
            "command": "/work/wb-venv/bin/python tests/data/wannier90/te/make_wannierberri_reference.py "
                       "--tb ../shared/data/te/Te_tb.dat",
            "wannierberri": wberri.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "python": platform.python_version(), "date": datetime.date.today().isoformat(),
        },
        "model": {
            "file": "Te_tb.dat (../shared/data/te; tests/data/wannier90/te/Te_model.nc holds the same H(R))",
            "sha256_of_Te_tb.dat": hashlib.sha256(data).hexdigest(),
            "wannierberri_system": "get_system_tb(Te_tb.dat, berry=False)",
            "cell_volume_angstrom3": volume, "spin_degeneracy": 1,
        },
        "grid": {"nk": NK, "points": "k = (i + 1/2, j + 1/2, l + 1/2)/12 in reduced coordinates: qgtransport "
                 "shift=0.5", "count": int(len(k)), "smallest_gap_between_bands_eV": smallest_gap},
        "degen_thresh_eV": DEGEN_THRESH,
        "units": "mu, T in eV (T = k_B T); S_vv: (1/N) sum_k sum_n (-f'_n) v^a_n v^b_n in eV Angstrom^2; S_vO: "
                 "(1/N) sum_k sum_n (-f'_n) v^b_n Omega^d_n in Angstrom^3 (rows b, columns d = x, y, z); natural "
                 "units: drude_ab = tau S_vv/V, D_bd = S_vO/V, chi_abc = (tau/2)(eps_abd D_cd + eps_acd D_bd); "
                 "wannierberri_static_*: Ohmic_FermiSurf in S/m and NLAHC_FermiSurf (K D_bd) in A/V^2, tau = 1 fs, "
                 "on the Gamma-centred grid (not the shifted one)",
        "conventions": "v = dE/dk (k in 1/Angstrom); Omega_d: pseudovector of the curl of i<u|grad u> "
                       "(Omega^ab = eps_abd Omega_d), WannierBerri's and qgtransport's sign",
        "points": points,
    }
    Path(args.output).write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {args.output}; smallest gap between bands on the grid {smallest_gap:.3e} eV", file=sys.stderr)


if __name__ == "__main__":
    main()
