"""The `qgt` command line: models, compute (netCDF and JSON round trip), input errors, demo."""

import json
import sys

import numpy as np
import pytest
import scipy.constants as C
import xarray as xr
from click.testing import CliRunner

from qgtransport import builtin_model, compute
from qgtransport.cli import main
from qgtransport.cli.inputs import BadInput, parse_number, parse_params, parse_spec
from qgtransport.models import BUILTIN_MODELS

E2_OVER_H = C.e**2 / C.h  # 3.874045865e-5 S


@pytest.fixture
def runner():
    return CliRunner()


def test_models_lists_every_builtin_model(runner):
    result = runner.invoke(main, ["models"])
    assert result.exit_code == 0, result.output
    for name in BUILTIN_MODELS:
        assert name in result.output
    assert len(BUILTIN_MODELS) == 6
    assert "m=-1" in result.output  # QWZ default parameter


@pytest.mark.parametrize("command", [[], ["models"], ["compute"], ["demo"]])
def test_help_has_an_example(runner, command):
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and "qgt " in result.output


def test_compute_quantised_hall_conductance_round_trip(runner, tmp_path):
    """QWZ m = -1 in its 2 eV gap at 300 K: sigma_xy = -C e^2/h with C = +1 (thermal corrections
    ~ exp(-1 eV / k_B T) ~ 1e-17); the netCDF and JSON files hold the numbers of the Python API."""
    nc, js = tmp_path / "qwz.nc", tmp_path / "qwz.json"
    args = ["compute", "--model", "qwz", "--param", "m=-1", "--mu", "0", "--T", "300", "--nk", "32",
            "--quantities", "anomalous_hall,entropy_hall", "--output", str(nc), "--json", str(js), "--quiet"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "anomalous_hall" in result.output and " S" in result.output
    with xr.open_dataset(nc) as ds:
        ds = ds.load()
    hall = float(ds.anomalous_hall.sel(a="x", b="y", mu=0.0, T=300.0))
    error = float(ds.anomalous_hall_error.sel(a="x", b="y", mu=0.0, T=300.0))
    assert ds.anomalous_hall.attrs["units"] == "S"
    assert error < 1e-3 * E2_OVER_H  # the grid is fine enough for the test to mean something
    assert abs(hall - (-E2_OVER_H)) <= error
    direct = compute(builtin_model("qwz", m=-1.0), ["anomalous_hall", "entropy_hall"], mu=0.0, T=300.0, nk=32)
    for name in ("anomalous_hall", "anomalous_hall_error", "entropy_hall"):
        np.testing.assert_array_equal(ds[name].values, direct[name].values)
    summary = json.loads(js.read_text())
    np.testing.assert_array_equal(np.array(summary["variables"]["anomalous_hall"]["values"]),
                                  direct["anomalous_hall"].values)
    assert summary["variables"]["anomalous_hall"]["units"] == "S"


def test_compute_spec_grid_and_natural_units(runner, tmp_path):
    nc = tmp_path / "scan.nc"
    result = runner.invoke(main, ["compute", "--model", "haldane", "--param", "phi=pi/2", "--mu", "-1:1:5",
                                  "--T", "0.05,0.1", "--units", "natural", "--tau", "10", "--nk", "12",
                                  "--quantities", "entropy_production,anomalous_hall", "--output", str(nc)])
    assert result.exit_code == 0, result.output
    with xr.open_dataset(nc) as ds:
        np.testing.assert_allclose(ds.mu.values, np.linspace(-1, 1, 5))
        np.testing.assert_allclose(ds.T.values, [0.05, 0.1])
        assert ds.attrs["units"] == "natural"
        assert json.loads(ds.attrs["model_parameters"])["phi"] == pytest.approx(np.pi / 2)
        assert set(ds.data_vars) >= {"entropy_production", "anomalous_hall"}


@pytest.mark.parametrize(
    "args, named",
    [
        (["--model", "qwzz", "--mu", "0", "--T", "300"], "qwzz"),
        (["--model", "qwz", "--param", "q=1", "--mu", "0", "--T", "300"], "'q'"),
        (["--model", "qwz", "--param", "m", "--mu", "0", "--T", "300"], "key=value"),
        (["--model", "qwz", "--mu", "0", "--T", "-1"], "temperature"),
        (["--model", "qwz", "--mu", "0", "--T", "300", "--quantities", "drude"], "--tau"),
        (["--model", "qwz", "--mu", "0", "--T", "300", "--quantities", "nonsense"], "nonsense"),
        (["--model", "qwz", "--mu", "0:1", "--T", "300"], "start:stop:num"),
        (["--model", "qwz", "--mu", "zero", "--T", "300"], "--mu"),
        (["--model", "qwz", "--mu", "0", "--T", "300", "--tau", "-5"], "tau"),
        (["--model", "qwz", "--mu", "0", "--T", "300", "--width", "0"], "--width: must be > 0, got 0.0"),
        (["--model", "qwz", "--mu", "0", "--T", "300,inf"], "--T"),
        (["--model", "qwz", "--mu", "0", "--T", "0", "--tau", "10", "--quantities", "entropy_production"],
         "T = 0 is accepted only for the Fermi-sea quantities"),  # T >= 0 at the boundary, compute judges T = 0
    ],
)
def test_bad_input_exits_2_with_one_clear_line(runner, args, named):
    result = runner.invoke(main, ["compute", *args, "--nk", "8", "--quiet"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    assert named in lines[0]


def test_unexpected_error_exits_1_without_traceback(runner, monkeypatch):
    compute_module = sys.modules["qgtransport.compute"]  # the package attribute `compute` is the function

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(compute_module, "compute", broken)
    result = runner.invoke(main, ["compute", "--model", "qwz", "--mu", "0", "--T", "300", "--nk", "8"])
    assert result.exit_code == 1
    assert "simulated failure" in result.output and "Traceback" not in result.output


def test_parsers():
    np.testing.assert_allclose(parse_spec("-3:3:7", "--mu"), np.linspace(-3, 3, 7))
    np.testing.assert_allclose(parse_spec("300, 600,1200", "--T"), [300, 600, 1200])
    np.testing.assert_allclose(parse_spec("0.5", "--mu"), [0.5])
    assert parse_number("-2*pi/3", "x") == pytest.approx(-2 * np.pi / 3)
    assert parse_params(["m=-1", "phi = pi/2"]) == {"m": -1.0, "phi": pytest.approx(np.pi / 2)}
    for bad in ("", "1,,2", "0:1:x", "0:1:0", "1:2:3:4", "nan", "__import__('os')"):
        with pytest.raises(BadInput):
            parse_spec(bad, "--mu")


def test_demo_writes_dataset_summary_and_figures(runner, tmp_path):
    out = tmp_path / "demo"
    result = runner.invoke(main, ["demo", "--output", str(out), "--nk", "24", "--quiet"])
    assert result.exit_code == 0, result.output
    for name in ("demo.nc", "summary.json", "entropy_production.png", "entropy_hall_nernst.png", "bz_maps.png"):
        path = out / name
        assert path.is_file() and path.stat().st_size > 0, name
        assert str(path) in result.output
    assert "grid error" in result.output and "entropy_hall" in result.output
    with xr.open_dataset(out / "demo.nc") as ds:
        assert ds.attrs["model"] == "qwz" and ds.attrs["units"] == "SI"
        assert "entropy_production_error" in ds and ds.sizes["T"] == 3
        hall = ds.anomalous_hall.sel(a="x", b="y").sel(mu=0.0, method="nearest").isel(T=0)
        assert float(hall["T"]) == 750.0
        assert float(hall) == pytest.approx(-E2_OVER_H, rel=1e-3)  # 2 eV gap at k_B T = 0.065 eV; nk = 24
    summary = json.loads((out / "summary.json").read_text())
    assert "grid error" in summary["demo"]["table_header"]
    assert {row[0] for row in summary["demo"]["table"]} >= {"entropy_hall", "anomalous_nernst", "entropy_production"}


def test_compute_table_shows_each_end_of_the_omega_axis(tmp_path):
    result = CliRunner().invoke(main, ["compute", "--model", "qwz", "--mu", "1.5", "--T", "1000", "--tau", "10",
                                       "--nk", "8", "--omega", "0:2:3", "--quantities",
                                       "anomalous_hall,conductivity_ac", "--output", str(tmp_path / "o.nc")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("omega (eV)" in line for line in lines)
    ac_rows = [line.split() for line in lines if line.startswith("conductivity_ac")]
    assert [row[3] for row in ac_rows] == ["0", "2"]
    assert [line.split()[3] for line in lines if line.startswith("anomalous_hall")] == ["-"]


def test_output_paths_are_checked_before_computing(runner, tmp_path, monkeypatch):
    compute_module = sys.modules["qgtransport.compute"]

    def never(*args, **kwargs):
        raise AssertionError("computed before checking the output paths")

    monkeypatch.setattr(compute_module, "compute", never)
    (tmp_path / "file").write_text("not a folder")
    common = ["compute", "--model", "qwz", "--mu", "0", "--T", "300", "--nk", "8", "--quiet"]
    for option, path, named in (("--output", tmp_path / "file" / "x.nc", "--output: cannot create"),
                                ("--json", tmp_path / "file" / "x.json", "--json: cannot create"),
                                ("--checkpoint", tmp_path / "file" / "chunks", "--checkpoint: cannot create")):
        result = runner.invoke(main, [*common, option, str(path)])
        assert result.exit_code == 2 and named in result.output, result.output
    result = runner.invoke(main, ["demo", "--output", str(tmp_path / "file" / "demo"), "--quiet"])
    assert result.exit_code == 2 and "--output: cannot create" in result.output
