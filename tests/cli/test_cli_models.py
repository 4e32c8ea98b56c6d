"""qgt compute / convert with Wannier90 and model files."""

from pathlib import Path

import numpy as np
import xarray as xr
from click.testing import CliRunner

from qgtransport import compute
from qgtransport.cli import main
from qgtransport.models import read_hr

PB = Path(__file__).parents[1] / "data" / "wannier90" / "pb"


def test_compute_from_hr_matches_the_api(tmp_path):
    out = tmp_path / "pb.nc"
    args = ["compute", "--hr", str(PB / "lead_hr.dat"), "--mu", "5.2676", "--T", "300", "--tau", "10", "--nk", "8",
            "--quantities", "drude", "--output", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    ds = xr.load_dataset(out)
    direct = compute(read_hr(PB / "lead_hr.dat"), ["drude"], mu=5.2676, T=300.0, tau=10.0, nk=8)
    assert np.allclose(ds.drude.values, direct.drude.values, rtol=1e-12)
    assert ds.attrs["spin_degeneracy"] == 2 and ds.drude.attrs["units"] == "S/m"


def test_convert_round_trip_and_model_source_errors(tmp_path):
    path = tmp_path / "lead.nc"
    result = CliRunner().invoke(main, ["convert", "--hr", str(PB / "lead_hr.dat"), "--output", str(path)])
    assert result.exit_code == 0, result.output
    a = CliRunner().invoke(main, ["compute", "--model-file", str(path), "--mu", "5", "--T", "300", "--nk", "6",
                                  "--quantities", "anomalous_hall", "--json", str(tmp_path / "s.json")])
    assert a.exit_code == 0, a.output
    both = CliRunner().invoke(main, ["compute", "--model", "qwz", "--hr", str(PB / "lead_hr.dat"), "--mu", "0",
                                     "--T", "300", "--nk", "4"])
    assert both.exit_code == 2 and "exactly one model" in both.output
    bad = tmp_path / "bad_hr.dat"
    bad.write_text("header\n2\n")
    broken = CliRunner().invoke(main, ["compute", "--hr", str(bad), "--spin-degeneracy", "1", "--mu", "0", "--T", "300",
                                       "--nk", "4"])
    assert broken.exit_code == 2 and "bad_hr.dat" in broken.output and "line" in broken.output


def test_engine_options_on_the_command_line(tmp_path):
    base = ["compute", "--model", "qwz", "--mu", "-0.5,0.5", "--T", "3000", "--nk", "16", "--quantities",
            "anomalous_hall", "--units", "SI"]
    plain = CliRunner().invoke(main, base + ["--output", str(tmp_path / "a.nc")])
    engine = CliRunner().invoke(main, base + ["--output", str(tmp_path / "b.nc"), "--checkpoint", str(tmp_path / "ck"),
                                              "--scan", "binned"])
    assert plain.exit_code == 0 and engine.exit_code == 0, engine.output
    a, b = xr.load_dataset(tmp_path / "a.nc"), xr.load_dataset(tmp_path / "b.nc")
    assert np.allclose(a.anomalous_hall.values, b.anomalous_hall.values, rtol=1e-6, atol=1e-12)
    assert any((tmp_path / "ck").iterdir())


def test_positions_full_from_a_tb_file():
    args = ["compute", "--tb", str(PB / "lead_tb.dat"), "--mu", "5.27", "--T", "300", "--tau", "10", "--nk", "8",
            "--quantities", "drude,entropy_production_interband"]
    diagonal = CliRunner().invoke(main, args)
    full = CliRunner().invoke(main, args + ["--positions", "full"])
    assert diagonal.exit_code == 0 and full.exit_code == 0, full.output
    pick = [line for line in full.output.splitlines() if line.startswith("drude")]
    assert pick == [line for line in diagonal.output.splitlines() if line.startswith("drude")]  # band velocities
    assert [line for line in full.output.splitlines() if line.startswith("entropy_production_interband")] != [
        line for line in diagonal.output.splitlines() if line.startswith("entropy_production_interband")]
    bad = CliRunner().invoke(main, ["compute", "--hr", str(PB / "lead_hr.dat"), "--positions", "full", "--mu", "5",
                                    "--T", "300", "--nk", "4"])
    assert bad.exit_code == 2 and "--positions full needs" in bad.output
