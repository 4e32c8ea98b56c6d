"""qgtransport's own model file: a lossless netCDF-4 copy of a TightBinding model.

_hr.dat keeps 6 decimals; this file keeps every bit (float64, complex stored as real and imaginary
parts) and the metadata (units, spin degeneracy, name, parameters).

Layout (format "qgtransport-model", version 1):

    dimensions  R (nR), orbital (norb), orbital_n (norb), dim, cartesian (dim)
    lattice     (dim, cartesian)              lattice vectors as rows, length_unit
    positions   (orbital, dim)                reduced orbital positions
    R           (R, dim) int64                lattice vectors of the hoppings, reduced
    H_R_real, H_R_imag (R, orbital, orbital_n)  <0 m|H|R n>, energy_unit
    position_R_real, position_R_imag (R, cartesian, orbital, orbital_n)  optional: <0 m|r|R n>
    attributes  format, format_version, name, energy_unit, length_unit, spin_degeneracy,
                parameters (JSON), fourier_convention
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from qgtransport.files import write_with
from qgtransport.models.reading import ModelFileError
from qgtransport.models.tightbinding import TightBinding

FORMAT = "qgtransport-model"
FORMAT_VERSION = 1
FOURIER_CONVENTION = "H_mn(k) = sum_R exp(i k.(R + tau_n - tau_m)) H_mn(R), H_mn(R) = <0 m|H|R n>"
VARIABLES = {
    "lattice": ("dim", "cartesian"),
    "positions": ("orbital", "dim"),
    "R": ("R", "dim"),
    "H_R_real": ("R", "orbital", "orbital_n"),
    "H_R_imag": ("R", "orbital", "orbital_n"),
}


POSITION_DIMS = ("R", "cartesian", "orbital", "orbital_n")


def write_model(model: TightBinding, path) -> None:
    """Write a TightBinding model to a netCDF-4 file that read_model restores bit for bit."""
    data = {
        "lattice": model.lattice,
        "positions": model.positions,
        "R": model.R.astype(np.int64),
        "H_R_real": model.H_R.real,
        "H_R_imag": model.H_R.imag,
    }
    ds = xr.Dataset({name: (VARIABLES[name], value) for name, value in data.items()})
    if model.position_R is not None:
        for part, value in (("real", model.position_R.real), ("imag", model.position_R.imag)):
            ds[f"position_R_{part}"] = (POSITION_DIMS, value)
            data[f"position_R_{part}"] = value
    ds.attrs = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": model.name,
        "energy_unit": model.energy_unit,
        "length_unit": model.length_unit,
        "spin_degeneracy": int(model.spin_degeneracy),
        "parameters": json.dumps(model.parameters),
        "fourier_convention": FOURIER_CONVENTION,
    }
    encoding = {name: {"_FillValue": None} for name in data}
    write_with(path, lambda tmp: ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=encoding))


def read_model(path) -> TightBinding:
    """Read a model written by write_model; a ModelFileError names the file and the problem."""
    path = str(path)
    ds = open_model_file(path)
    check_header(path, ds.attrs)
    arrays = {name: model_variable(path, ds, name) for name in VARIABLES}
    parameters = model_parameters(path, ds.attrs)
    spin = ds.attrs.get("spin_degeneracy")
    if not isinstance(spin, (int, np.integer)) or int(spin) not in (1, 2):
        raise ModelFileError(path, f"attribute spin_degeneracy must be 1 or 2, got {spin!r}")
    position_R = None
    if "position_R_real" in ds:
        real, imag = (np.asarray(ds[f"position_R_{part}"].values, dtype=float) for part in ("real", "imag"))
        position_R = real + 1j * imag
    try:
        return TightBinding(
            lattice=arrays["lattice"], positions=arrays["positions"], R=arrays["R"],
            H_R=arrays["H_R_real"] + 1j * arrays["H_R_imag"], spin_degeneracy=int(spin),
            energy_unit=str(ds.attrs.get("energy_unit")), length_unit=str(ds.attrs.get("length_unit")),
            name=str(ds.attrs.get("name", "")), parameters=parameters, position_R=position_R,
        )
    except ValueError as err:
        raise ModelFileError(path, f"not a valid model: {err}") from None


def open_model_file(path: str) -> xr.Dataset:
    """Open and load the file; any failure of the netCDF library becomes a ModelFileError."""
    try:
        with xr.open_dataset(path, engine="netcdf4", decode_cf=False, mask_and_scale=False) as ds:
            return ds.load()
    except FileNotFoundError:
        raise
    except Exception as err:  # the netCDF/HDF5 libraries raise OSError, RuntimeError, KeyError, ...
        raise ModelFileError(path, f"not a readable netCDF model file ({type(err).__name__}: {err})") from None


def check_header(path: str, attrs: dict) -> None:
    if attrs.get("format") != FORMAT:
        raise ModelFileError(path, f"attribute format is {attrs.get('format')!r}, expected {FORMAT!r}")
    version = attrs.get("format_version")
    if not isinstance(version, (int, np.integer)) or version != FORMAT_VERSION:
        raise ModelFileError(path, f"format_version {version} is not supported (this reader: {FORMAT_VERSION})")


def model_variable(path: str, ds: xr.Dataset, name: str) -> np.ndarray:
    """One variable with its dimensions checked; integer R, finite floats."""
    if name not in ds:
        raise ModelFileError(path, f"variable {name!r} is missing")
    var = ds[name]
    if var.dims != VARIABLES[name]:
        raise ModelFileError(path, f"variable {name!r} has dimensions {var.dims}, expected {VARIABLES[name]}")
    value = np.asarray(var.values)
    if name == "R":
        if not np.issubdtype(value.dtype, np.integer):
            raise ModelFileError(path, f"variable 'R' must be integer, got {value.dtype}")
        return value.astype(np.int64)
    if not np.issubdtype(value.dtype, np.floating):
        raise ModelFileError(path, f"variable {name!r} must be floating point, got {value.dtype}")
    if not np.all(np.isfinite(value)):
        where = np.argwhere(~np.isfinite(value))[0].tolist()
        raise ModelFileError(path, f"variable {name!r} has a non-finite value at index {where}")
    return value.astype(np.float64)


def model_parameters(path: str, attrs: dict) -> dict:
    text = attrs.get("parameters", "{}")
    try:
        parameters = json.loads(text)
    except (TypeError, ValueError):
        raise ModelFileError(path, "attribute parameters is not valid JSON") from None
    if not isinstance(parameters, dict):
        raise ModelFileError(path, "attribute parameters must be a JSON object")
    return parameters
