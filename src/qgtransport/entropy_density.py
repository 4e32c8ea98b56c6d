"""The entropy-production density pi(k): where in the Brillouin zone the entropy is produced.

pi(k) is the per-k contribution to E^.Pi.E^ (Eq. 18 with ERRATA E1, E2; divided-difference
kernel), split into its Drude (intraband, Fermi-surface) and interband (quantum-metric) parts; its
mean over a uniform grid is the `entropy_production` of `qgtransport.compute` on that grid, and
pi(k) >= 0 at every k. The report draws it (`qgtransport.report.kspace.entropy_density_figure`) and
checks its positivity.
"""

from __future__ import annotations

import numpy as np

from qgtransport import units as U
from qgtransport.bands.geometry import band_geometry
from qgtransport.responses.entropy import interband_propagator_squared
from qgtransport.responses.kernels import Block, Settings


def field_unit_vector(model, direction=None) -> np.ndarray:
    """E^ = g/|g|, g = n . b (Cartesian), the field direction of the density map (default b1)."""
    n = np.zeros(model.dim)
    n[0] = 1.0
    if direction is not None:
        n = np.asarray(direction, dtype=float)
        if n.shape != (model.dim,) or not np.any(n):
            raise ValueError(f"direction needs {model.dim} integers, not all zero; got {direction!r}")
    g = n @ model.reciprocal
    return g / np.linalg.norm(g)


def entropy_production_density(model, k_reduced, mu: float, T: float, tau: float, *, units: str = "SI",
                               rho1: str = "finite_eta", direction=None) -> dict:
    """Per-k contribution to E^.Pi.E^ (Eq. 18 with ERRATA E1, E2; divided-difference kernel).

    pi(k) = (g_s/V_cell) [ -tau sum_{n,m in a level} F_mn Re(v.E^ v.E^)_nm
                           - (eta/T) sum_{other pairs} F_mn Re(v.E^ v.E^)_nm w_nm ],
    w_nm = 1/(e_nm^2 + eta^2) (rho1 = "finite_eta") or 1/e_nm^2 ("dc_limit"), F_mn the divided
    difference of f (kernels of `qgtransport.responses.entropy`), so that the mean of pi over a
    uniform grid is the `entropy_production` of `compute` on that grid, and every pi(k) >= 0.

    mu in the energy unit; T and tau in K and fs (units="SI") or natural units. Returns
    {"total", "drude", "interband"}: arrays (N,) in the units of Pi (SI: W/(K m^d)/(V/m)^2).
    """
    if units == "SI":
        T_nat = float(U.temperature_to_natural(T, model))
        tau_nat = float(U.relaxation_time_to_natural(tau, model))
    else:
        T_nat, tau_nat = float(T), float(tau)
    settings = Settings(tau=tau_nat, rho1=rho1)
    E = field_unit_vector(model, direction)
    k_reduced = np.atleast_2d(np.asarray(k_reduced, dtype=float))
    scale = model.spin_degeneracy / model.cell_volume
    if units == "SI":
        scale *= U.si_factor("entropy_production", model)
    drude = np.empty(len(k_reduced))
    interband = np.empty(len(k_reduced))
    for start in range(0, len(k_reduced), 8192):
        window = slice(start, start + 8192)
        geo = band_geometry(model, model.to_cartesian(k_reduced[window]), order=1)
        block = Block(geo, np.array([mu]), np.array([T_nat]), settings)
        projected = np.einsum("knmab,a,b->knm", block.products.real, E, E)
        dd = block.fermi_dd[..., 0]
        same = block.same_level[..., 0]
        drude[window] = np.einsum("knm,knm->k", np.where(same, -tau_nat * dd / T_nat, 0.0), projected)
        inter_kernel = -settings.eta * dd / T_nat * interband_propagator_squared(block)[..., 0]
        interband[window] = np.einsum("knm,knm->k", inter_kernel, projected)
    return {"total": scale * (drude + interband), "drude": scale * drude, "interband": scale * interband}


__all__ = ["entropy_production_density", "field_unit_vector"]
