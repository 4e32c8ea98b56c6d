"""The dataset as a file (qgtransport.results): CF-1.x attributes as cf-checker asks for them, unit
strings that pint parses, the complex responses written as two real parts and read back by the public
`qgtransport.open_dataset`, and model labels without internal keys or paths."""

import netCDF4
import numpy as np
import pint
import pytest

import qgtransport
from qgtransport import builtin_model, compute
from qgtransport.results import model_label, open_dataset, without_paths, write_netcdf

REGISTRY = pint.UnitRegistry()


@pytest.fixture(scope="module")
def mixed():
    """Real DC responses with errors and complex AC ones, natural and SI."""
    model = builtin_model("qwz", m=-1.0)
    return compute(model, ["anomalous_hall", "drude", "entropy_production", "conductivity_ac", "optical_conductivity"],
                   mu=[0.0, 1.5], T=[300.0, 600.0], tau=10.0, omega=[0.5, 1.0, 2.5], nk=12)


def cf_problems(path) -> list:
    """What cf-checker would report for the attributes qgtransport owns (read with netCDF4 itself)."""
    problems = []
    with netCDF4.Dataset(path) as nc:
        if not str(getattr(nc, "Conventions", "")).startswith("CF-1."):
            problems.append("no Conventions = CF-1.x")
        for attribute in ("title", "source"):
            if not getattr(nc, attribute, ""):
                problems.append(f"no global {attribute}")
        for name, var in nc.variables.items():
            attrs = var.ncattrs()
            if "long_name" not in attrs:
                problems.append(f"{name}: no long_name")
            if var.dtype != str and var.dtype.kind in "fi" and "units" not in attrs:
                problems.append(f"{name}: no units")
            if "units" in attrs:
                try:
                    REGISTRY.Unit(var.units)
                except Exception as exc:  # noqa: BLE001 - any parse failure is the finding
                    problems.append(f"{name}: units {var.units!r} do not parse ({exc})")
            for linked in str(getattr(var, "ancillary_variables", "")).split():
                if linked not in nc.variables:
                    problems.append(f"{name}: ancillary variable {linked} missing")
                elif nc.variables[linked].dimensions != var.dimensions:
                    problems.append(f"{name}: ancillary {linked} on other dimensions")
    return problems


@pytest.mark.parametrize("units", ["SI", "natural"])
def test_netcdf_has_cf_attributes_and_pint_units(tmp_path, units):
    model = builtin_model("qwz", m=-1.0)
    ds = compute(model, ["anomalous_hall", "entropy_production", "conductivity_ac"], mu=[0.0, 1.5], T=[0.05, 0.1]
                 if units == "natural" else [300.0, 600.0], tau=10.0, omega=[0.5, 1.0], nk=12, units=units)
    write_netcdf(ds, tmp_path / "out.nc")
    assert cf_problems(tmp_path / "out.nc") == []
    with netCDF4.Dataset(tmp_path / "out.nc") as nc:
        assert nc.Conventions == "CF-1.10"
        assert nc.variables["anomalous_hall"].ancillary_variables == "anomalous_hall_error"
        assert nc.variables["anomalous_hall"].long_name == "anomalous Hall conductivity"
        assert nc.variables["mu"].units == "eV" and nc.variables["mu"].long_name == "chemical potential"
        assert nc.variables["T"].units == ("K" if units == "SI" else "eV")
        assert nc.variables["omega"].units == "eV"
        assert nc.variables["a"].long_name.startswith("direction of the current")
        assert nc.variables["conductivity_ac__real"].complex_part == "real"
        assert nc.variables["conductivity_ac__imag"].complex_variable == "conductivity_ac"
    if units == "natural":  # the natural unit converts to the SI one by qgtransport's own factor
        si = compute(model, ["anomalous_hall"], mu=0.0, T=300.0, nk=12)
        natural = ds.anomalous_hall.attrs["units"]
        assert natural == "e^2/hbar"
        factor = REGISTRY.Quantity(1.0, natural).to(si.anomalous_hall.attrs["units"]).magnitude
        assert factor == pytest.approx(si.anomalous_hall.values.max() / ds.anomalous_hall.sel(T=0.05).values.max(),
                                       rel=1e-3)


def test_complex_round_trip_through_the_public_reader(mixed, tmp_path):
    from qgtransport.cli.inputs import write_outputs

    write_outputs(mixed, tmp_path / "run.nc")
    back = qgtransport.open_dataset(tmp_path / "run.nc")
    assert set(back.data_vars) == set(mixed.data_vars)
    for name in mixed.data_vars:
        np.testing.assert_array_equal(back[name].values, mixed[name].values)
        assert back[name].dtype == mixed[name].dtype
        for key in ("units", "long_name", "ancillary_variables"):
            assert back[name].attrs.get(key) == mixed[name].attrs.get(key), (name, key)
    assert np.iscomplexobj(back.conductivity_ac.values)
    assert back.attrs["Conventions"] == "CF-1.10"
    assert open_dataset is qgtransport.open_dataset


def test_model_labels_have_no_internal_keys_or_paths():
    assert model_label("qwz", {"m": -1.0}) == "qwz (m=-1)"
    assert model_label("Fe", {"source": "wannier90 _hr.dat", "file": "/data/fe/Fe_hr.dat",
                              "hermiticity_max_deviation": 0.0, "num_R_file": 27}) == "Fe"
    assert model_label("/home/user/models/Fe") == "Fe"
    assert without_paths("qgt run /home/user/fe/fe.toml --output ../out") == "qgt run fe.toml --output out"
