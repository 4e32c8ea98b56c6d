"""The perturbed density matrix itself, per k-point: rho(1) and rho(2) of the seed's equation of motion.

For a field E (natural units, electron charge -1) the DC steady state of the single-eta equation is
rho = f(H) + rho(1)^b E_b + rho(2)^bc E_b E_c + ..., with (module docstring of
`qgtransport.responses.nonlinear`; e_mn = e_m - e_n, F_mn the divided difference of f)

    rho(1)^b_mn = F_mn v^b_mn / (eta + i e_mn)                                     (Eq. 13, omega = 0)
    rho(2)^bc_mn = [D_c rho(1)^b]_mn / (eta + i e_mn), symmetrised in (b, c)       (Eq. 12, single eta)

whose diagonal is Eq. 15 as the equation gives it (ERRATA E10: twice the printed tau^0 term) and whose
off-diagonal part carries the interband coherence of the second-order currents. Checked against the
perturbative recursion of the exact solver (`qgtransport.exact.orders`, spectral line derivatives)
in tests/responses/test_nonlinear.py.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from qgtransport.bands.geometry import band_geometry
from qgtransport.bands.occupation import check_temperature
from qgtransport.responses.kernels import Block, Settings
from qgtransport.responses.nonlinear import FERMI, first_order_density_matrix, second_order_density_matrix

BASES = ("band", "orbital")
AXES = ("x", "y", "z")


def perturbed_density_matrix(model, k, *, mu: float, T: float, tau: float, order: int = 2,
                             basis: str = "band") -> xr.DataArray:
    """rho(order) per unit field at the Cartesian k-points k (nk, dim), natural units.

    order 1: dims (k, m, n, b); order 2: (k, m, n, b, c), complex. basis "band": in the eigenbasis of
    H(k) (columns of `band_geometry(model, k).eigenvectors`, energies ascending; element (m, n) is
    <u_m| rho |u_n>); "orbital": U rho U^+ in the basis of `model.hamiltonian(k)` (gauge invariant).
    Attributes give mu, T, tau and the convention.
    """
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, got {basis!r}")
    if not (np.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be finite and > 0, got {tau!r}")
    if not np.isfinite(mu):
        raise ValueError(f"mu must be finite, got {mu!r}")
    T = float(check_temperature(T))
    k = np.atleast_2d(np.asarray(k, dtype=float))
    if k.shape[-1] != model.dim:
        raise ValueError(f"k must have {model.dim} Cartesian components per point, got shape {k.shape}")
    geo = band_geometry(model, k, order=order)
    block = Block(geo, np.array([float(mu)]), np.array([T]), Settings(tau=float(tau)))
    if order == 1:
        rho = first_order_density_matrix(block, FERMI)[:, :, :, 0]  # (k, m, n, b)
    else:
        rho = second_order_density_matrix(block, FERMI)[:, :, :, 0]  # (k, m, n, b, c)
    if basis == "orbital":
        U = geo.eigenvectors
        rho = np.einsum("kim,kmn...,kjn->kij...", U, rho, U.conj())
    field = AXES[:model.dim]
    dims = ["k", "m", "n", "b"] + (["c"] if order == 2 else [])
    coords = {"b": list(field)} | ({"c": list(field)} if order == 2 else {})
    return xr.DataArray(rho, dims=dims, coords=coords, name=f"rho{order}", attrs={
        "description": f"order-{order} density matrix per unit field, E_b{' E_c' if order == 2 else ''} = 1 "
                       "(single-eta equation of motion, electron charge -1, natural units)",
        "basis": basis, "mu": float(mu), "T": T, "tau": float(tau)})
