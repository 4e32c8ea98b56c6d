"""The perturbed density matrix itself, per k-point: rho(1) and rho(2) of the seed's equation of motion.

For a field E (electron charge -1; natural units in the equations below, SI or natural at the
call, `units`) the DC steady state of the single-eta equation is
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

from qgtransport import units as U
from qgtransport.bands.geometry import band_geometry
from qgtransport.options import check_model, check_scalar
from qgtransport.responses.kernels import Block, Settings
from qgtransport.responses.second_order import FERMI, first_order_density_matrix, second_order_density_matrix

BASES = ("band", "orbital")
AXES = ("x", "y", "z")


def perturbed_density_matrix(model, k, *, mu: float, T: float, tau: float, order: int = 2,
                             basis: str = "band", units: str = "SI") -> xr.DataArray:
    """rho(order) per unit field at the Cartesian k-points k (nk, dim).

    Parameters
    ----------
    model : TightBinding
        The model (energies in eV, lengths in Angstrom by default).
    k : array_like, shape (nk, dim)
        Cartesian k-points in 1/length_unit (1/Angstrom), 2 pi included.
    mu : float
        Chemical potential in the model's energy unit (eV).
    T : float
        Temperature: K for units="SI", the model's energy unit (k_B T) for units="natural"; > 0.
    tau : float
        Relaxation time: fs for units="SI", hbar/energy for units="natural"; > 0.
    order : 1 or 2
        rho(1)^b (dims k, m, n, b) or rho(2)^bc (dims k, m, n, b, c), complex.
    basis : "band" or "orbital"
        "band": in the eigenbasis of H(k) (columns of `band_geometry(model, k).eigenvectors`, energies
        ascending; element (m, n) is <u_m| rho |u_n>); "orbital": U rho U^+ in the basis of
        `model.hamiltonian(k)` (gauge invariant).
    units : "SI" or "natural"
        "SI" (default, as `qgtransport.compute`): T in K, tau in fs, rho per (V/m)^order;
        "natural": k_B = e = hbar = 1, rho per (E_unit/(e length_unit))^order.

    Returns
    -------
    xarray.DataArray
        rho(order) per unit field; its attributes give mu, T, tau in the units given, the `units` of
        the field factor (pint-parsable: "(m/V)^2" or "(e angstrom/eV)^2") and the convention.
    """
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, got {basis!r}")
    if units not in ("SI", "natural"):
        raise ValueError(f"units must be 'SI' or 'natural', got {units!r}")
    check_model(model)
    tau, mu = check_scalar("tau", tau, gt=0), check_scalar("mu", mu)
    T_given = check_scalar("T", T, gt=0)  # the entropy and its derivatives have no T -> 0 limit
    T_nat = float(U.temperature_to_natural(T_given, model)) if units == "SI" else T_given
    tau_nat = float(U.relaxation_time_to_natural(tau, model)) if units == "SI" else float(tau)
    try:
        k = np.atleast_2d(np.asarray(k, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"k must be an array of Cartesian k-points (nk, {model.dim}), got {k!r}") from None
    if not np.all(np.isfinite(k)):
        raise ValueError("k must be finite")
    if k.shape[-1] != model.dim:
        raise ValueError(f"k must have {model.dim} Cartesian components per point, got shape {k.shape}")
    geo = band_geometry(model, k, order=order)
    block = Block(geo, np.array([float(mu)]), np.array([T_nat]), Settings(tau=tau_nat))
    if order == 1:
        rho = first_order_density_matrix(block, FERMI)[:, :, :, 0]  # (k, m, n, b)
    else:
        rho = second_order_density_matrix(block, FERMI)[:, :, :, 0]  # (k, m, n, b, c)
    if basis == "orbital":
        U_k = geo.eigenvectors
        rho = np.einsum("kim,kmn...,kjn->kij...", U_k, rho, U_k.conj())
    if units == "SI":  # per (V/m)^order: one natural field unit is field_to_si(1) V/m
        rho = rho / U.field_to_si(1.0, model) ** order
        per_field = "m/V"
    else:
        per_field = f"e {U.unit_name(model.length_unit)}/{U.unit_name(model.energy_unit)}"
    field = AXES[:model.dim]
    dims = ["k", "m", "n", "b"] + (["c"] if order == 2 else [])
    coords = {"b": list(field)} | ({"c": list(field)} if order == 2 else {})
    return xr.DataArray(rho, dims=dims, coords=coords, name=f"rho{order}", attrs={
        "description": f"order-{order} density matrix per unit field, E_b{' E_c' if order == 2 else ''} = 1 "
                       "(single-eta equation of motion, electron charge -1)",
        "units": per_field if order == 1 else f"({per_field})^2",
        "unit_system": units, "basis": basis, "mu": float(mu), "T": T_given, "tau": float(tau),
        "T_units": "K" if units == "SI" else U.unit_name(model.energy_unit),
        "tau_units": "fs" if units == "SI" else f"hbar/{U.unit_name(model.energy_unit)}"})
