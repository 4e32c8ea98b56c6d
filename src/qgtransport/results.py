"""Assembly of results into labelled xarray Datasets, and their netCDF / JSON output.

The dataset follows the CF conventions (CF-1.10): a `Conventions` attribute; on every variable
`long_name` and `units` (pint- and UDUNITS-parsable, `qgtransport.units`); the grid-error estimate
`<name>_error` linked to its variable by `ancillary_variables`; coordinate attributes for mu, T, omega
and the tensor indices a, b, c.

Complex responses (AC, optical, second harmonic): netCDF has no complex type, so `write_netcdf`
stores the variable `<name>` as two real variables `<name>__real` and `<name>__imag`, each with
`complex_part` ("real" or "imag") and `complex_variable` (= name) attributes; `open_dataset` (public as
`qgtransport.open_dataset`) joins them back into one complex variable. Any netCDF reader sees the two
parts as ordinary real variables.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from qgtransport import units as U
from qgtransport.files import write_text, write_with
from qgtransport.responses import RESPONSES

AXES = ("x", "y", "z")
TENSOR_DIMS = ("a", "b", "c")
CF_CONVENTIONS = "CF-1.10"

# long_name of each response (CF): the quantity in words, for titles, headers and axis labels
LONG_NAMES = {
    "entropy_production": "entropy production coefficient",
    "entropy_production_drude": "Drude entropy production coefficient",
    "entropy_production_interband": "interband entropy production coefficient",
    "entropy_production_band_curvature": "band-curvature part of the Drude entropy production",
    "entropy_production_drude_quantum_metric": "quantum-metric part of the Drude entropy production",
    "entropy_production_quantum_metric": "quantum-metric entropy production (Eq. 21 corrected)",
    "equilibrium_entropy_current": "equilibrium entropy current",
    "entropy_current_drude": "Drude entropy conductivity",
    "entropy_hall": "entropy Hall conductivity",
    "anomalous_hall": "anomalous Hall conductivity",
    "drude": "Drude conductivity",
    "anomalous_nernst": "anomalous Nernst coefficient",
    "conductivity_ac": "AC conductivity",
    "drude_ac": "AC Drude conductivity",
    "entropy_conductivity_ac": "AC entropy conductivity",
    "heat_conductivity_ac": "AC heat conductivity",
    "optical_conductivity": "interband optical conductivity",
    "optical_entropy_conductivity": "interband optical entropy conductivity",
    "joint_density_of_states": "joint density of states",
    "second_order_current": "second-order conductivity",
    "nonlinear_drude": "nonlinear Drude conductivity",
    "berry_curvature_dipole_current": "Berry-curvature-dipole conductivity",
    "intrinsic_second_order": "intrinsic second-order conductivity",
    "entropy_production_third_order": "third-order entropy production coefficient",
    "second_order_heat_current": "second-order heat conductivity",
    "second_order_entropy_current": "second-order entropy conductivity",
    "intrinsic_second_order_closed_form": "intrinsic second-order conductivity (closed form)",
    "second_harmonic_current": "second-harmonic conductivity",
    "rectified_current": "rectification conductivity",
    "second_harmonic_entropy_current": "second-harmonic entropy conductivity",
    "rectified_entropy_current": "rectified entropy conductivity",
    "second_harmonic_heat_current": "second-harmonic heat conductivity",
    "rectified_heat_current": "rectified heat conductivity",
    "berry_connection_polarizability_current": "Berry-connection-polarizability conductivity",
    "kaplan_holder_yan_current": "Kaplan-Holder-Yan second-order conductivity",
    "quantum_metric_dipole_current": "quantum-metric-dipole conductivity",
    "second_order_entropy_current_replaced": "second-order entropy conductivity (f -> s replaced)",
}

TENSOR_LONG_NAMES = {"a": "direction of the current (first tensor index)",
                     "b": "direction of the field (second tensor index)",
                     "c": "direction of the field (third tensor index)"}


def long_name(name: str) -> str:
    """The CF long_name of a response ("anomalous Hall conductivity"); the name in words when new."""
    return LONG_NAMES.get(name, name.replace("_", " "))

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
        unit = U.units_of(info.unit, model, units)
        points = ("mu", "T", "omega") if info.frequency else ("mu", "T")
        dims = points + TENSOR_DIMS[: info.rank]
        sizes = (len(mu), len(T), len(omega))[: len(points)]
        coordinates = dict(zip(points, (np.asarray(mu), np.asarray(T), np.asarray(omega)), strict=False))
        with np.errstate(over="ignore", invalid="ignore"):
            shaped = value.reshape(sizes + value.shape[1:]) * factor
        check_finite(name, shaped, coordinates, axes, units)
        attrs = {"long_name": long_name(name), "units": unit, "description": info.description,
                 "current": info.current}
        data_vars[name] = (dims, shaped, attrs)
        if name in errors:
            with np.errstate(over="ignore", invalid="ignore"):
                err = errors[name].reshape(shaped.shape) * factor
            check_finite(name + "_error", err, coordinates, axes, units)
            attrs["ancillary_variables"] = name + "_error"
            data_vars[name + "_error"] = (dims, err, {
                "long_name": f"grid-error estimate of the {long_name(name)}",
                "units": unit,
                "description": f"grid-error estimate of {name}: |I(nk) - I(nk/2)|",
            })
    energy = U.unit_name(model.energy_unit)
    coords = {
        "mu": ("mu", np.asarray(mu), {"units": energy, "long_name": "chemical potential"}),
        "T": ("T", np.asarray(T), {"units": "K" if units == "SI" else energy, "long_name": "temperature"}
              | ({} if units == "SI" else {"comment": "k_B T, in the model's energy unit (natural units)"})),
        "a": ("a", axes, {"long_name": TENSOR_LONG_NAMES["a"]}),
    }
    for dim in TENSOR_DIMS[1:max(RESPONSES[n].rank for n in values)]:
        coords[dim] = (dim, axes, {"long_name": TENSOR_LONG_NAMES[dim]})
    if any(RESPONSES[n].frequency for n in values):
        coords["omega"] = ("omega", np.asarray(omega), {"units": energy, "long_name": "photon energy hbar omega"})
    attrs = {
        "Conventions": CF_CONVENTIONS,
        "title": f"qgtransport responses of {model_label(model.name, model.parameters)}",
        "source": "qgtransport (quantum-geometric transport of Bloch electrons)",
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
        "tau_units": "fs" if units == "SI" else f"hbar/{energy}",
        **CONVENTIONS,
    }
    from qgtransport import __version__

    attrs["qgtransport_version"] = __version__
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def write_netcdf(ds: xr.Dataset, path) -> None:
    """Write a Dataset to netCDF; a complex variable becomes <name>__real and <name>__imag, each
    with its long_name, units, `complex_part` and `complex_variable` attributes (read back by
    `open_dataset`). Atomic (`qgtransport.files`): a temporary file renamed over `path`, so an
    existing file survives a failed or killed write."""
    out = ds.copy()
    for name in list(out.data_vars):
        if np.iscomplexobj(out[name].values):
            attrs = dict(out[name].attrs)
            for part, values in (("real", out[name].real), ("imag", out[name].imag)):
                split = {**attrs, "complex_part": part, "complex_variable": name,
                         "long_name": f"{attrs.get('long_name', name)} ({'real' if part == 'real' else 'imaginary'} "
                                      "part)"}
                linked = split.get("ancillary_variables")
                if linked in ds and np.iscomplexobj(ds[linked].values):  # a complex error is split too
                    split["ancillary_variables"] = f"{linked}__{part}"
                out[f"{name}__{part}"] = values.assign_attrs(split)
            out = out.drop_vars(name)
    write_with(path, out.to_netcdf)


def read_netcdf(path) -> xr.Dataset:
    """Read a Dataset written by write_netcdf, joining <name>__real/__imag into complex variables
    (`open_dataset` is the public name)."""
    ds = xr.load_dataset(path)
    for name in [n for n in ds.data_vars if n.endswith("__real")]:
        base = name[: -len("__real")]
        attrs = {k: v for k, v in ds[name].attrs.items() if k not in ("complex_part", "complex_variable")}
        if "long_name" in attrs:
            attrs["long_name"] = str(attrs["long_name"]).removesuffix(" (real part)")
        if "ancillary_variables" in attrs:
            attrs["ancillary_variables"] = str(attrs["ancillary_variables"]).removesuffix("__real")
        ds[base] = (ds[name] + 1j * ds[base + "__imag"]).assign_attrs(attrs)
        ds = ds.drop_vars([name, base + "__imag"])
    return ds


def open_dataset(path) -> xr.Dataset:
    """A dataset written by qgtransport (`qgt compute --output`, `qgt run`, `qgt demo`, or
    `write_netcdf`), loaded into memory with its complex responses joined back (their real and
    imaginary parts are stored as <name>__real and <name>__imag).

    Parameters
    ----------
    path : str or pathlib.Path
        The netCDF file.

    Returns
    -------
    xarray.Dataset
        The dataset as `qgtransport.compute` returned it: variables with their units, long names and
        grid errors, the attributes with the conventions and the run's settings.
    """
    return read_netcdf(path)


def model_label(name: str, parameters: dict | None = None) -> str:
    """A model's name with its physical parameters for titles and headers: "qwz (m=-1)", "Fe".

    Only numbers of a built-in model's own parameters are shown (its signature); a model read from
    files shows its name alone, never its reader's bookkeeping (hermiticity_max_deviation, num_R_file,
    source) nor a path (a path-like name is cut to its file name).
    """
    from pathlib import PurePath

    from qgtransport.models.builtin import BUILTIN_MODELS

    label = PurePath(str(name)).name if ("/" in str(name) or "\\" in str(name)) else str(name)
    builder = BUILTIN_MODELS.get(label)
    if builder is None or not parameters:
        return label
    import inspect

    allowed = inspect.signature(builder).parameters
    shown = [f"{k}={v:.6g}" for k, v in parameters.items()
             if k in allowed and isinstance(v, (int, float)) and not isinstance(v, bool)]
    return label + (f" ({', '.join(shown)})" if shown else "")


def dataset_model_label(ds) -> str:
    """The model of a dataset as titles show it: "qwz (m=-1)", "Fe" (`model_label` of its attributes)."""
    try:
        params = json.loads(ds.attrs.get("model_parameters", "{}"))
    except (TypeError, ValueError):
        params = {}
    return model_label(ds.attrs.get("model", "model"), params if isinstance(params, dict) else {})


def without_paths(text: str) -> str:
    """A command line or a note with every path cut to its file name ("qgt run /home/me/fe.toml" ->
    "qgt run fe.toml"): headers and titles name files, never folders."""
    from pathlib import PurePath

    return " ".join(PurePath(word).name if "/" in word and not word.startswith(("http:", "https:")) else word
                    for word in str(text).split(" "))


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
    """The `summary` of a dataset as JSON, written atomically (`qgtransport.files`)."""
    write_text(path, json.dumps(summary(ds), indent=1))
