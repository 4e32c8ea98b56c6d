"""WannierBerri reference for the full Wannier-interpolated Berry curvature of bcc Fe (berry=True).

Writes fe_wannierberri_berry.json (beside this script): Fermi-Dirac and entropy-weighted Berry-curvature
sums of WannierBerri's own per-k, per-band Berry curvature on a Gamma-centred 16^3 grid, and its own
Fermi-sea AHC (T = 0) at several Fermi levels. tests/bands/test_position_matrix.py compares qgtransport's
positions="full" anomalous_hall / entropy_hall / anomalous_nernst with them; it never runs this script.

Run in a Python 3.12 virtual environment with WannierBerri (it is not a qgtransport dependency):

    python3.12 -m venv /work/wb-venv && /work/wb-venv/bin/pip install "wannierberri[default]"
    /work/wb-venv/bin/python tests/data/wannier90/fe/make_wannierberri_reference.py

(it reads Fe_tb.dat.gz beside it, the gzipped ../shared/data/fe/Fe_tb.dat; --tb takes another file). About 1 min.
Produced with WannierBerri 26.10, numpy 2.x, Python 3.12 (the versions are written into the JSON).

What WannierBerri computes here, independently of qgtransport:
- the system: `get_system_tb(Fe_tb.dat, berry=True)` (H(R) and the position matrix <0 m|r|R n> of the
  file, its convention II turned into WannierBerri's convention I), then `do_ws_dist(mp_grid=[3, 3, 3])`
  (minimal-distance replicas for Fe.win's mp_grid, WannierBerri's own implementation);
- per k and band, `calculators.tabulate.Energy` and `calculators.tabulate.BerryCurvature` (external
  terms included: Omega-bar, D-A and D-D terms of Wang, Yates, Souza, Vanderbilt, PRB 74, 195118 (2006))
  on the Gamma-centred grid k = (i, j, l)/16 (reduced coordinates), one FFT block, no symmetries,
  degeneracy threshold 1e-6 eV (the value of qgtransport's degeneracy_tol; a degenerate group gets its
  mean curvature). WannierBerri takes the Hermitian part of the position matrix at every k
  (R_to_k(..., hermitian=True)), as qgtransport's with_position_matrix does in real space;
- the same with internal terms only (the tight-binding approximation, qgtransport's positions="diagonal");
- sums (1/N) sum_k sum_n w_n Omega^ab_n (Angstrom^2) for w = f (Fermi-Dirac) and w = s (entropy
  -f ln f - (1 - f) ln(1 - f)) at each (mu, T), T in eV; in natural units (e = hbar = k_B = 1, spin
  degeneracy 1) anomalous_hall_ab = -sum_f/V, entropy_hall_ab = anomalous_nernst_ab = sum_s/V (1/Angstrom);
- WannierBerri's `calculators.static.AHC` (Fermi sea, T = 0, berry=True) through `wannierberri.run` on
  the same grid (S/m, sigma_ab = epsilon_abd O_d), and the same step sum from the tabulated curvature.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import hashlib
import json
import platform
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

NK = 16
E_FERMI = 17.6255  # eV, scf.out of the Fe run (../shared/data/fe/README.md)
MU_OFFSETS = (-0.4, -0.2, 0.0, 0.2, 0.4)  # eV
TEMPERATURES = (0.025, 0.1)  # eV (k_B T)
T0_OFFSETS = tuple(np.round(np.linspace(-0.5, 0.5, 11), 10))
DEGEN_THRESH = 1e-6
PAIRS = {"yz": (1, 2), "zx": (2, 0), "xy": (0, 1)}  # WannierBerri's pseudovector components O_x, O_y, O_z


def fermi(x):
    return 0.5 * (1.0 - np.tanh(0.5 * x))


def entropy(x):
    a = np.abs(x)
    return np.log1p(np.exp(-a)) + a * fermi(a)


def tabulate(system, external: bool):
    import wannierberri as wberri
    from wannierberri.calculators import tabulate as tab
    from wannierberri.data_K import get_data_k_class_from_system

    grid = wberri.Grid(system, NKdiv=1, NKFFT=NK, use_symmetry=False)
    data = get_data_k_class_from_system(system)(system, grid=grid, dK=np.zeros(3), fftlib="numpy")
    energies = tab.Energy(degen_thresh=DEGEN_THRESH)(data).data
    omega = tab.BerryCurvature(degen_thresh=DEGEN_THRESH, kwargs_formula={"external_terms": external})(data).data
    return data.kpoints_all, energies, omega


def sums(energies, omega, mu, T):
    x = (energies - mu) / T
    out = {}
    for name, weight in (("sum_f_omega", fermi(x)), ("sum_s_omega", entropy(x))):
        total = np.einsum("kn,knc->c", weight, omega) / len(energies)
        out[name] = {pair: float(total[i]) for i, pair in enumerate(PAIRS)}
    return out


def wannierberri_ahc(system, efermi, folder):
    import wannierberri as wberri

    grid = wberri.Grid(system, NKdiv=1, NKFFT=NK, use_symmetry=False)
    calculators = {"ahc": wberri.calculators.static.AHC(Efermi=efermi, degen_thresh=DEGEN_THRESH)}
    result = wberri.run(system, grid=grid, calculators=calculators, parallel=False, use_irred_kpt=False,
                        symmetrize=False, print_progress_step_time=1e9, print_progress_step_percent=100,
                        fout_name=str(Path(folder) / "result"))  # WannierBerri writes its result files there
    return result.results["ahc"].data  # (nEf, 3): O_x, O_y, O_z in S/m


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tb", default=str(Path(__file__).with_name("Fe_tb.dat.gz")),
                        help="Fe_tb.dat or Fe_tb.dat.gz (default: the one beside this script)")
    parser.add_argument("--output", default=str(Path(__file__).with_name("fe_wannierberri_berry.json")))
    args = parser.parse_args()

    import scipy
    import wannierberri as wberri
    from wannierberri.system.system_tb import get_system_tb

    data = Path(args.tb).read_bytes()
    if args.tb.endswith(".gz"):
        data = gzip.decompress(data)
    folder = tempfile.mkdtemp()
    tb_file = Path(folder) / "Fe_tb.dat"
    tb_file.write_bytes(data)
    system = get_system_tb(str(tb_file), berry=True)
    system.do_ws_dist(mp_grid=[3, 3, 3])
    volume = abs(np.linalg.det(system.real_lattice))
    k, energies, omega = tabulate(system, external=True)
    k_internal, energies_internal, omega_internal = tabulate(system, external=False)
    assert np.array_equal(k, k_internal) and np.allclose(energies, energies_internal, atol=1e-12)

    points = []
    for T in TEMPERATURES:
        for offset in MU_OFFSETS:
            mu = round(E_FERMI + offset, 10)
            full, internal = sums(energies, omega, mu, T), sums(energies, omega_internal, mu, T)
            points.append({
                "mu": mu, "T": T,
                "full": full, "internal_terms_only": internal,
                "anomalous_hall": {p: -v / volume for p, v in full["sum_f_omega"].items()},
                "entropy_hall": {p: v / volume for p, v in full["sum_s_omega"].items()},
                "anomalous_hall_internal_terms_only": {p: -v / volume for p, v in internal["sum_f_omega"].items()},
            })

    efermi = np.round(E_FERMI + np.array(T0_OFFSETS), 10)
    ahc = wannierberri_ahc(system, efermi, folder)
    step = [{p: float(-np.einsum("kn,kn->", (energies < ef).astype(float), omega[:, :, i]) / len(energies) / volume)
             for i, p in enumerate(PAIRS)} for ef in efermi]
    siemens_per_m = 1.602176634e-19**2 / 1.054571817e-34 * 1e10  # (e^2/hbar)/Angstrom in S/m (CODATA 2018)

    reference = {
        "what": "WannierBerri full (berry=True) Berry curvature of bcc Fe, Fermi-Dirac and entropy sums on a "
                "Gamma-centred 16^3 grid, and WannierBerri's T = 0 Fermi-sea AHC on the same grid",
        "produced_by": {
            "script": "tests/data/wannier90/fe/make_wannierberri_reference.py",
            "command": "/work/wb-venv/bin/python tests/data/wannier90/fe/make_wannierberri_reference.py",
            "wannierberri": wberri.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "python": platform.python_version(), "date": datetime.date.today().isoformat(),
        },
        "model": {
            "file": "Fe_tb.dat (../shared/data/fe, also tests/data/wannier90/fe/Fe_tb.dat.gz)",
            "sha256_of_Fe_tb.dat": hashlib.sha256(data).hexdigest(),
            "wannierberri_system": "get_system_tb(Fe_tb.dat, berry=True); do_ws_dist(mp_grid=[3, 3, 3])",
            "cell_volume_angstrom3": volume, "spin_degeneracy": 1,
        },
        "grid": {"nk": NK, "points": "k = (i, j, l)/16 in reduced coordinates (Gamma-centred): qgtransport shift=0",
                 "count": int(len(k))},
        "degen_thresh_eV": DEGEN_THRESH,
        "units": "mu, T in eV (T = k_B T); sum_*: (1/N) sum_k sum_n w_n Omega^ab_n in Angstrom^2; anomalous_hall, "
                 "entropy_hall in natural units 1/Angstrom (e = hbar = k_B = 1, times e^2/hbar = "
                 f"{siemens_per_m:.10g} S/m per 1/Angstrom for the AHC); components ab = yz, zx, xy",
        "conventions": "Omega_n = curl of i<u|grad u> (WannierBerri's and qgtransport's sign); sigma_ab = "
                       "-(e^2/hbar) int f_n Omega^ab_n, sigma^s_ab = alpha_ab = int s_n Omega^ab_n (natural units)",
        "points": points,
        "fermi_sea_T0": {
            "efermi": [float(e) for e in efermi],
            "wannierberri_ahc_S_per_m": [{p: float(row[i]) for i, p in enumerate(PAIRS)} for row in ahc],
            "step_sum_of_tabulated_curvature_natural": step,
            "note": "WannierBerri calculators.static.AHC (Fermi sea, no tetrahedra, degen_thresh 1e-6, berry=True); "
                    "its O_d is sigma_ab with epsilon_abd; step_sum: -sum_{e_n < E_F} Omega_n/(N V), 1/Angstrom",
        },
    }
    Path(args.output).write_text(json.dumps(reference, indent=1) + "\n")
    shutil.rmtree(folder)
    worst = max(abs(row[i] - step_row[p] * siemens_per_m) / abs(row[i])
                for row, step_row in zip(ahc, step, strict=True) for i, p in enumerate(PAIRS))
    print(f"wrote {args.output}; WannierBerri AHC vs tabulated step sum: worst relative difference {worst:.2e}",
          file=sys.stderr)

if __name__ == "__main__":
    main()
