"""Gauge residuals of every registered response on Te (issue 12): prints, per response, the relative change
under a random unitary within each set of orbitals sharing a centre (the same physical model, other
eigenvectors inside degenerate levels) and, for the time-reversal-forbidden ones, |R| itself, both
relative to a natural scale (the sum over chunks of k-points of |R_chunk|: no cancellation between k and -k).

    PYTHONPATH=$PWD/src python tests/data/wannier90/te/gauge_residuals.py [nk] [degeneracy_tol] [--all]

Gamma-centred nk^3 grid (default 6), mu = 5.85 eV at 100 K and 6.3 eV at 300 K, tau = 10 fs, omega = 0.3 eV;
the responses of band power 3 (the exact second order, seconds per k-point) only with --all.
"""

import sys
from pathlib import Path

import numpy as np

from qgtransport.bands.geometry import band_geometry
from qgtransport.models.modelfile import read_model
from qgtransport.responses import RESPONSES
from qgtransport.responses.kernels import Block, Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "responses"))
from test_degenerate_levels import orbital_rotation  # noqa: E402  (the rotation the tests use)

HERE = Path(__file__).parent
KELVIN = 8.617333262e-5
FORBIDDEN = ("anomalous_hall", "anomalous_nernst", "entropy_hall", "equilibrium_entropy_current", "nonlinear_drude",
             "intrinsic_second_order", "intrinsic_second_order_closed_form", "berry_connection_polarizability_current",
             "kaplan_holder_yan_current", "quantum_metric_dipole_current")


def gamma_centred(nk):
    i = np.arange(nk)
    return np.stack(np.meshgrid(i, i, i, indexing="ij"), -1).reshape(-1, 3) / nk


def sums(model, k_reduced, names, tol, chunk=8):
    """{name: (band sum over the grid, sum over chunks of 8 k-points of |band sum of the chunk|)}: the
    second is the natural scale, free of the cancellations between k and -k or symmetric images."""
    mu, T = np.array([5.85, 6.3]), np.array([100.0, 300.0]) * KELVIN
    settings = Settings(tau=10.0 / 0.6582119569, degeneracy_tol=tol)
    out = {name: (0.0, 0.0) for name in names}
    for start in range(0, len(k_reduced), chunk):
        geo = band_geometry(model, k_reduced[start:start + chunk] @ model.reciprocal, order=2)
        for name in names:
            omega = np.full(2, 0.3) if RESPONSES[name].frequency else None
            value = RESPONSES[name].function(Block(geo, mu, T, settings, omega))
            out[name] = (out[name][0] + value, out[name][1] + np.abs(value))
    return out


def main(nk=6, tol=1e-6, every=False):
    model = read_model(HERE / "Te_model.nc")
    names = [name for name, response in RESPONSES.items() if every or response.band_power < 3]
    k = gamma_centred(nk)
    original, rotated = sums(model, k, names, tol), sums(orbital_rotation(model), k, names, tol)
    print(f"Te, Gamma-centred {nk}^3 grid, degeneracy_tol = {tol:g} eV; changes and forbidden values relative to")
    print("the natural scale max(|R|, sum over chunks of 8 k-points of |R_chunk|)")
    print(f"{'response':42s} {'max |R|':>10s} {'rotation':>9s} {'forbidden':>9s}")
    for name in names:
        (value, scale), (other, _) = original[name], rotated[name]
        scale = max(np.abs(value).max(), scale.max())
        line = f"{name:42s} {np.abs(value).max():10.3e} {np.abs(other - value).max() / scale:9.1e}"
        if name in FORBIDDEN:
            line += f" {np.abs(value).max() / scale:9.1e}"
        finite = np.all(np.isfinite(value)) and np.all(np.isfinite(other))
        print(line + ("" if finite else "  NOT FINITE"))


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    nk = int(arguments[0]) if arguments else 6
    main(nk, float(arguments[1]) if len(arguments) > 1 else 1e-6, "--all" in sys.argv)
