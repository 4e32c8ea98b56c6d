"""Assembly of results into labelled xarray Datasets, and their netCDF / JSON output."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from qgtransport import units as U
from qgtransport.responses import RESPONSES

AXES = ("x", "y", "z")
TENSOR_DIMS = ("a", "b", "c")

CONVENTIONS = {
    "units_natural": "k_B = e = hbar = 1; energies and lengths in the model's units; tau in hbar/energy",
    "charge_sign": "electron charge -e; charge current J = -e Tr[v rho]; entropy current j^s = Tr[v s] (Eq. 5)",
    "berry_curvature_sign": "Omega^ab_n = -2 Im sum_{m != n} r^a_nm r^b_mn = -2 Im <d_a u_n|d_b u_n>; "
    "QWZ (m = -1) lower band C = +1; anomalous_hall_xy = -C e^2/h for a Chern insulator",
    "fourier_convention": "H_mn(k) = sum_R exp(i k.(R + tau_n - tau_m)) H_mn(R) (diagonal-position tight binding)",
    "measure": "int_k = int_BZ d^dk/(2 pi)^d = (1/V_cell) x mean over the uniform grid",
    "equation_of_motion": "d rho/dt = -i[H, rho] + E.grad_k rho - (rho - f(H))/tau (Eqs. 6, 10)",
    "errata": "ERRATA.md E1 (divided-difference kernel), E2 (rho1), E3 (Eq. 21), E5, E6, E7 applied",
}


class NonFiniteResultError(ValueError):
    """A response came out NaN or infinite: never returned silently (the CLI exits with code 2)."""


def check_finite(name: str, values: np.ndarray, coordinates: dict, axes: list, units: str) -> None:
    """Raise NonFiniteResultError naming the quantity, the first non-finite component (a, b, ...) and
    its (mu, T[, omega]) point when `values` (points..., tensor...) holds a NaN or an infinity."""
    bad = ~np.isfinite(values)
    if not np.any(bad):
        return
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    points = len(coordinates)
    where = ", ".join(f"{c} = {values_of[i]:g}" for (c, values_of), i in zip(coordinates.items(), index[:points],
                                                                           strict=True))
    component = "".join(axes[i] for i in index[points:]) or "scalar"
    T_unit = "K" if units == "SI" else "model energy unit"
    raise NonFiniteResultError(
        f"{name} is {values[index]} at component {component}, {where} (T in {T_unit}; {int(bad.sum())} of "
        f"{bad.size} values not finite); qgtransport returns no NaN or infinity, please report this with the "
        "inputs that produced it")


def build_dataset(model, values: dict, errors: dict, *, mu, T, omega, units, shape, shift, tau,
                  settings) -> xr.Dataset:
    """Dataset over (mu, T[, omega], a, b, ...) with units, descriptions and conventions in the attributes.

    values and errors hold natural-unit arrays of shape (len(mu) * len(T) [* len(omega)], tensor...)
    in mu-major order. A NaN or infinity in a value or its error estimate raises NonFiniteResultError
    (a ValueError) naming the quantity, the component and the (mu, T) point: no silent NaN.
    """
    d = model.dim
    axes = list(AXES[:d])
    data_vars = {}
    for name, value in values.items():
        info = RESPONSES[name]
        factor = U.si_factor(info.unit, model) if units == "SI" else 1.0
        unit = U.si_unit(info.unit, model) if units == "SI" else U.UNIT_KINDS[info.unit].natural_unit
        points = ("mu", "T", "omega") if info.frequency else ("mu", "T")
        dims = points + TENSOR_DIMS[: info.rank]
        sizes = (len(mu), len(T), len(omega))[: len(points)]
        coordinates = dict(zip(points, (np.asarray(mu), np.asarray(T), np.asarray(omega)), strict=False))
        with np.errstate(over="ignore", invalid="ignore"):
            shaped = value.reshape(sizes + value.shape[1:]) * factor
        check_finite(name, shaped, coordinates, axes, units)
        attrs = {"units": unit, "description": info.description, "current": info.current}
        data_vars[name] = (dims, shaped, attrs)
        if name in errors:
            with np.errstate(over="ignore", invalid="ignore"):
                err = errors[name].reshape(shaped.shape) * factor
            check_finite(name + "_error", err, coordinates, axes, units)
            data_vars[name + "_error"] = (dims, err, {
                "units": unit,
                "description": f"grid-error estimate of {name}: |I(nk) - I(nk/2)|",
            })
    coords = {
        "mu": ("mu", np.asarray(mu), {"units": model.energy_unit, "long_name": "chemical potential"}),
        "T": ("T", np.asarray(T), {"units": "K" if units == "SI" else model.energy_unit, "long_name": "temperature"}),
        "a": ("a", axes),
    }
    for dim in TENSOR_DIMS[1:max(RESPONSES[n].rank for n in values)]:
        coords[dim] = (dim, axes)
    if any(RESPONSES[n].frequency for n in values):
        coords["omega"] = ("omega", np.asarray(omega), {"units": model.energy_unit, "long_name": "hbar omega"})
    attrs = {
        "model": model.name,
        "model_parameters": json.dumps(model.parameters),
        "dimension": d,
        "norb": model.norb,
        "spin_degeneracy": model.spin_degeneracy,
        "energy_unit": model.energy_unit,
        "length_unit": model.length_unit,
        "units": units,
        "grid": "x".join(str(n) for n in shape),
        "grid_shift": json.dumps(np.broadcast_to(np.asarray(shift, dtype=float), (d,)).tolist()),
        "kernel": settings.kernel,
        "rho1": settings.rho1,
        "degeneracy_tol": settings.degeneracy_tol,
        "broadening": settings.broadening,
        "broadening_width": settings.width,
        "tau": "none" if tau is None else float(tau),
        "tau_units": "fs" if units == "SI" else f"hbar/{model.energy_unit}",
        **CONVENTIONS,
    }
    from qgtransport import __version__

    attrs["qgtransport_version"] = __version__
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def write_netcdf(ds: xr.Dataset, path) -> None:
    """Write a Dataset to netCDF; complex variables become <name>__real and <name>__imag."""
    out = ds.copy()
    for name in list(out.data_vars):
        if np.iscomplexobj(out[name].values):
            attrs = dict(out[name].attrs)
            out[name + "__real"] = out[name].real.assign_attrs(attrs)
            out[name + "__imag"] = out[name].imag.assign_attrs(attrs)
            out = out.drop_vars(name)
    out.to_netcdf(path)


def read_netcdf(path) -> xr.Dataset:
    """Read a Dataset written by write_netcdf, joining <name>__real/__imag into complex variables."""
    ds = xr.load_dataset(path)
    for name in [n for n in ds.data_vars if n.endswith("__real")]:
        base = name[: -len("__real")]
        ds[base] = (ds[name] + 1j * ds[base + "__imag"]).assign_attrs(ds[name].attrs)
        ds = ds.drop_vars([name, base + "__imag"])
    return ds


def summary(ds: xr.Dataset) -> dict:
    """A JSON-ready summary: every variable as nested lists with its units, plus the attributes."""
    out = {"attrs": {k: (v.item() if hasattr(v, "item") else v) for k, v in ds.attrs.items()},
           "coords": {c: np.asarray(ds[c].values).tolist() for c in ds.coords}, "variables": {}}
    for name, var in ds.data_vars.items():
        values = np.asarray(var.values)
        entry = {"dims": list(var.dims), "units": var.attrs.get("units", "")}
        if np.iscomplexobj(values):
            entry.update(real=values.real.tolist(), imag=values.imag.tolist())
        else:
            entry["values"] = values.tolist()
        out["variables"][name] = entry
    return out


def write_json(ds: xr.Dataset, path) -> None:
    with open(path, "w") as fh:
        json.dump(summary(ds), fh, indent=1)
