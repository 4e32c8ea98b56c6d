"""What a user reads: convergence flags and warnings under every table, no paths or reader keys in
titles and headers, one unit per quantity family, "did you mean", and `qgt report` of a saved
dataset (a real Wannier90 model: bcc Fe, tests/data/wannier90/fe)."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import qgtransport
from qgtransport.cli import main

FE = Path(__file__).parents[1] / "data" / "wannier90" / "fe"


@pytest.fixture
def runner():
    return CliRunner()


def table_rows(output: str) -> list[list[str]]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("quantity"))
    rows = []
    for line in lines[start + 2:]:
        if not line.strip() or line.startswith(("WARNING", "note")):
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def test_fe_compute_flags_unconverged_values_and_names_no_path(runner):
    """Fe on an 8^3 grid at 300 K is far from converged: every row says so, the warning under the
    table suggests a grid, conductivities are in S/cm, and the title is "Fe" without file keys."""
    result = runner.invoke(main, ["compute", "--hr", str(FE / "Fe_hr.dat"), "--mu", "17:18:3", "--T", "300",
                                  "--tau", "10", "--nk", "8", "--quantities", "anomalous_hall,drude", "--quiet"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("Fe, SI units, grid 8x8x8")
    assert str(FE) not in result.output and "hermiticity" not in result.output and "num_R_file" not in result.output
    header = result.output.splitlines()[2]
    assert "flag" in header and "grid error" in header
    rows = table_rows(result.output)
    assert [row[0] for row in rows] == ["anomalous_hall", "drude"]
    assert all(row[-2] == "NOT CONVERGED" and row[-1] == "S/cm" for row in rows)
    warning = [line for line in result.output.splitlines() if line.startswith("WARNING")]
    assert len(warning) == 1 and "2 of 2 rows NOT converged" in warning[0] and "--nk 32" in warning[0]


def test_converged_gap_has_no_warning(runner):
    result = runner.invoke(main, ["compute", "--model", "qwz", "--mu", "0", "--T", "300", "--nk", "48",
                                  "--quantities", "anomalous_hall", "--quiet"])
    assert result.exit_code == 0, result.output
    assert table_rows(result.output)[0][-2] == "ok" and "WARNING" not in result.output


def test_fe_run_and_report_have_flags_and_no_paths(runner, tmp_path):
    config = tmp_path / "fe.toml"
    config.write_text(f"""
[model]
wannier90 = "{FE / 'Fe_hr.dat'}"
[grid]
nk = 6
[scan]
mu = "17.2:17.8:3"
T = [300]
[physics]
tau = 10
quantities = ["anomalous_hall", "drude", "entropy_production"]
[output]
folder = "out"
dpi = 50
[report]
bz_nk = 12
band_points = 40
[checks]
relations = ["onsager", "positivity"]
""")
    result = runner.invoke(main, ["run", str(config), "--quiet"])
    assert result.exit_code == 0, result.output
    shown = [line for line in result.output.splitlines() if not line.startswith("wrote ")]
    assert not any(str(FE) in line or str(tmp_path) in line for line in shown), shown
    assert shown[0].startswith("Fe, SI units, grid 6x6x6")
    assert any(line.startswith("WARNING") and "[grid] nk =" in line for line in shown)
    assert all(row[-2] in ("NOT CONVERGED", "fair", "ok") for row in table_rows(result.output))
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    page = html.split('<section id="configuration">')[0]  # the configuration itself is shown as written
    assert str(FE) not in page and str(tmp_path) not in page
    assert "<title>qgtransport report: Fe, τ = 10 fs, 6x6x6 k-grid</title>" in html
    assert "Γ – H – N – Γ – P – H | P – N" in page and "qgt run fe.toml" in page
    assert 'class="bad" id="convergence-status"' in page

    # the report again from the file, without recomputing: the model from the stored configuration
    again = runner.invoke(main, ["report", str(tmp_path / "out" / "run.nc"), "--output", str(tmp_path / "again"),
                                 "--quiet"])
    assert again.exit_code == 0, again.output
    assert (tmp_path / "again" / "figures" / "band_structure.png").is_file()
    assert "results NOT converged" in again.output


def test_report_of_a_saved_dataset_from_python_and_the_command_line(runner, tmp_path):
    """qgt report FILE rebuilds a built-in model from the dataset; qgtransport.report(FILE) with no model
    writes the figures of the dataset alone; both recompute nothing."""
    nc = tmp_path / "qwz.nc"
    made = runner.invoke(main, ["compute", "--model", "qwz", "--param", "m=-1", "--mu", "-1:1:5", "--T", "300,600",
                                "--tau", "10", "--nk", "12", "--quantities", "anomalous_hall,drude",
                                "--output", str(nc), "--quiet"])
    assert made.exit_code == 0, made.output
    result = runner.invoke(main, ["report", str(nc), "--dpi", "50", "--quiet"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").is_file() and (tmp_path / "figures" / "bz_geometry.png").is_file()
    small = qgtransport.report.ReportOptions(bz_nk=12, band_points=40, dpi=50)
    report = qgtransport.report(nc, None, tmp_path / "alone", small)
    assert "band_structure" not in report.figures and "anomalous_hall" in report.figures
    assert "No model given" in report.html_path.read_text(encoding="utf-8")
    model = qgtransport.builtin_model("qwz", m=-1.0)
    assert "band_structure" in qgtransport.report(qgtransport.open_dataset(nc), model, tmp_path / "with", small).figures
    missing = runner.invoke(main, ["report", str(tmp_path / "nope.nc")])
    assert missing.exit_code == 2 and "no such file" in missing.output


@pytest.mark.parametrize("args, hint", [
    (["--model", "qzw"], "did you mean 'qwz'?"),
    (["--model", "qwz", "--quantities", "anomalus_hall"], "did you mean 'anomalous_hall'?"),
])
def test_did_you_mean(runner, args, hint):
    result = runner.invoke(main, ["compute", *args, "--mu", "0", "--T", "300", "--nk", "4"])
    assert result.exit_code == 2 and hint in result.output


def test_progress_bar_is_tqdm_auto(monkeypatch):
    """The bar comes from tqdm.auto: a widget in Jupyter, text in a terminal."""
    import tqdm.auto

    made = []

    class Bar:
        def __init__(self, **keywords):
            made.append(keywords)

        def update(self, n):
            made.append(n)

        def close(self):
            pass

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    qgtransport.compute(qgtransport.builtin_model("qwz"), ["anomalous_hall"], mu=0.0, T=300.0, nk=8, progress=True,
                        executor="serial")
    assert made[0]["unit"] == " k-points" and made[0]["total"] == sum(n for n in made[1:] if isinstance(n, int)) == 64


def test_conductivity_unit_is_configurable(runner, tmp_path, monkeypatch):
    """[output] conductivity_unit = "S/m": the table of qgt run and the report's figure in S/m; a unit
    of another dimension is refused naming the key."""
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "weyl.toml"
    base = """[model]\nbuiltin = "weyl"\n[grid]\nnk = 6\n[scan]\nmu = "-0.2:0.2:3"\nT = [300]\n[physics]
quantities = ["anomalous_hall"]\n[output]\nfolder = "out"\nreport = false\n"""
    config.write_text(base + 'conductivity_unit = "S/m"\n')
    result = runner.invoke(main, ["run", str(config), "--quiet"])
    assert result.exit_code == 0, result.output
    assert table_rows(result.output)[0][-1] == "S/m"
    from qgtransport.units import DISPLAY_UNITS

    assert DISPLAY_UNITS["S/m"] == "S/cm"  # restored after the run
    config.write_text(base + 'conductivity_unit = "A/K"\n')
    bad = runner.invoke(main, ["run", str(config), "--quiet"])
    assert bad.exit_code == 2 and "[output] conductivity_unit: 'A/K' is not a unit of conductivity" in bad.output
