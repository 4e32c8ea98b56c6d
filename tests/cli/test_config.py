"""Run configuration (qgtransport.cli.config) and the commands `qgt run`, `qgt init`, `qgt show`.

Every kind of bad input (unknown key or table, wrong type, out-of-range value, missing key, bad
TOML, a model that cannot be built) must give one message naming the key and the problem and exit
code 2, never a traceback; a good configuration must give a dataset that carries the configuration
and the package version, the JSON summary and the report.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import qgtransport
from qgtransport import builtin_model, compute
from qgtransport.cli import main
from qgtransport.cli.config import TABLES, ConfigError, RunConfig, build_model, load_config, parse_config
from qgtransport.cli.reference import BEGIN, END, example_config, fields, reference_markdown
from qgtransport.models import BUILTIN_MODELS

DOCS = Path(__file__).parents[2] / "docs" / "configuration.md"

DATA = Path(__file__).parents[1] / "data" / "wannier90" / "pb"

SMALL = """
units = "SI"
[model]
builtin = "qwz"
parameters = { m = -1.0 }
[grid]
nk = 16
[scan]
mu = [-1.5, 0.0, 1.5]
T = [750.0, 1500.0]
[physics]
tau = 10.0
quantities = ["entropy_production", "entropy_production_drude", "entropy_production_interband",
              "entropy_hall", "anomalous_nernst", "anomalous_hall", "drude"]
[output]
folder = "out"
[report]
bz_nk = 24
band_points = 60
[checks]
relations = ["onsager", "positivity"]
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="c.toml")
    return info.value.problems


# ---------------------------------------------------------------- the example and the schema


@pytest.mark.parametrize("model", sorted(BUILTIN_MODELS))
def test_example_config_is_valid_for_every_builtin_model(model):
    config = parse_config(example_config("x.toml", model))
    built, warnings = build_model(config)
    assert built.name == model and not warnings
    assert config.units == "SI" and config.physics.tau == 10.0 and config.physics.kernel == "divided_difference"
    assert len(config.field.direction) == built.dim
    assert config.scan.mu[0] < config.scan.mu[-1] and np.all(config.scan.T > 0)


def every_key():
    return [(table, key) for table, cls in [("", RunConfig), *TABLES.items()] for key in fields(cls)
            if table or key not in TABLES]


def test_example_mentions_every_key():
    """qgt init writes every key of every table (the ones without a default commented out)."""
    text = example_config()
    for table in TABLES:
        assert f"[{table}]" in text
    section = ""
    seen = set()
    for line in text.splitlines():
        if line.startswith("["):
            section = line.split("]")[0][1:]
        statement = line.lstrip("# ")
        if " = " in statement and not line.startswith(" "):
            seen.add((section, statement.split(" = ")[0]))
    assert seen >= set(every_key()), set(every_key()) - seen


def test_docs_reference_is_generated_from_the_models():
    """docs/configuration.md holds, between its markers, exactly what the models generate (regenerate
    with `python -m qgtransport.cli.reference docs/configuration.md`), and so every key."""
    text = DOCS.read_text(encoding="utf-8")
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert generated.strip() == reference_markdown().strip()
    for table, key in every_key():
        assert f"| `{key}` |" in generated, (table, key)


def test_docs_examples_are_valid():
    """The configurations shown in docs/configuration.md parse (the Wannier90 one against the lead
    files of tests/data), except the one written to show the errors."""
    import re

    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    good = [b for b in blocks if "colour" not in b]
    assert len(good) == 2 and len(blocks) == 3
    for block in good:
        config = parse_config(block, base=DATA.parent)
        assert build_model(config)[0].norb in (2, 4)


def test_defaults_and_value_forms():
    config = parse_config("""
        [model]
        builtin = "haldane"
        parameters = { phi = "pi/2", M = "sqrt(3)/10" }
        [scan]
        mu = "-1:1:5"
        T = 300
        omega = { start = 0, stop = 2, num = 3 }
        [grid]
        nk = [12, 8]
    """)
    assert config.model.parameters == pytest.approx({"phi": np.pi / 2, "M": np.sqrt(3) / 10})
    np.testing.assert_allclose(config.scan.mu, np.linspace(-1, 1, 5))
    np.testing.assert_allclose(config.scan.T, [300.0])
    np.testing.assert_allclose(config.scan.omega, [0.0, 1.0, 2.0])
    assert config.grid.nk == (12, 8) and config.grid.shift == 0.5 and config.physics.tau is None
    assert config.output.folder.name == "qgt-run" and config.output.report is True
    stored = json.loads(config.to_json())
    assert stored["grid"]["nk"] == [12, 8] and stored["model"]["builtin"] == "haldane"
    assert stored["output"]["json"] is True


# ---------------------------------------------------------------- errors name the key and the problem


@pytest.mark.parametrize("text, expected", [
    ("[model]\nbuiltin = 'qwz'\nparamters = {}\n[scan]\nmu = 0\nT = 300",
     ["[model]: unknown key 'paramters' (did you mean 'parameters'?)"]),
    ("[modle]\nbuiltin = 'qwz'", ["unknown table [modle] (did you mean [model]?)"]),
    ("[model]\nbuiltin = 'qwz'\n[grid]\nnk = '96'\n[scan]\nmu = 0\nT = 300",
     ["[grid] nk: expected an integer, got a string ('96')"]),
    ("[model]\nbuiltin = 'qwz'\n[grid]\nnk = 1\n[scan]\nmu = 0\nT = 300", ["[grid] nk: must be >= 2, got 1"]),
    ("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = [300, -5]", ["[scan] T: must be >= 0, got -5.0"]),
    ("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 300\n[physics]\ntau = 0",
     ["[physics] tau: must be > 0, got 0"]),
    ("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 300\n[physics]\nkernel = 'printd'",
     ["[physics] kernel: 'printd' is not one of 'divided_difference', 'printed' (did you mean 'printed'?)"]),
    ("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 300\n[physics]\nquantities = ['entropy_hal']",
     ["[physics] quantities: unknown entry 'entropy_hal' (did you mean 'entropy_hall'?)"]),
    ("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0", ["[scan] T: missing (required)"]),
    ("[model]\nbuiltin = 'qzw'\n[scan]\nmu = 0\nT = 1", ["[model] builtin: 'qzw' is not a built-in model (did you "
                                                        "mean 'qwz'?)"]),
    ("[model]\nbuiltin = 'qwz'\nparameters = { mass = 1 }\n[scan]\nmu = 0\nT = 1",
     ["[model] parameters mass: unknown parameter of 'qwz'"]),
    ("[model]\nbuiltin = 'qwz'\nparameters = { m = 'pi/0' }\n[scan]\nmu = 0\nT = 1",
     ["[model] parameters m: 'pi/0' is not a number"]),
    ("[model]\n[scan]\nmu = 0\nT = 1", ["[model]: give exactly one of builtin, wannier90 or file"]),
    ("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 1\n[execution]\nexecutor = 'threads'",
     ["[execution] executor: 'threads' is not one of 'auto', 'serial', 'processes', 'dask'"]),
    ("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 1\n[execution]\nmax_elements = 'x'",
     ["[execution] max_elements: expected an integer, got a string ('x')"]),
    ("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 1\n[execution]\nwarp_drive = true",
     ["[execution]: unknown key 'warp_drive'"]),
    ("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 1\n[physics]\nquantities = ['drude']",
     ["[physics] tau: missing: drude need the relaxation time"]),
    ("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 1\n[report]\npath_labels = ['G', 'X']",
     ["[report]: give both path_labels and path_points, or neither"]),
    ("[model]\nbuiltin = 'qwz'\n[scan]\nmu = { start = 0, stop = 1 }\nT = 1",
     ["[scan] mu: a range is { start = ..., stop = ..., num = ... }"]),
    ("[model]\nwannier90 = 'nowhere_hr.dat'\n[scan]\nmu = 0\nT = 1", ["[model] wannier90: no such file"]),
    ("units = 'atomic'\n[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 1",
     ["units: 'atomic' is not one of 'SI', 'natural'"]),
])
def test_each_problem_is_named(text, expected):
    problems = problems_of(text)
    for fragment in expected:
        assert any(p.startswith(fragment) or fragment in p for p in problems), (fragment, problems)


@pytest.mark.parametrize("text, expected", [
    # a key belongs to one table: [execution] no longer passes compute keywords through
    ("[execution]\nnk = 4", "[execution]: unknown key 'nk' (it belongs in [grid])"),
    ("[execution]\nunits = 'natural'",
     "[execution]: unknown key 'units' (a top-level key: write it before the first table)"),
    ("[execution]\nT = 300", "[execution]: unknown key 'T' (it belongs in [scan])"),
    ("[execution]\nquantities = ['drude']", "[execution]: unknown key 'quantities' (it belongs in [physics])"),
    ("[execution]\nmodel = 'qwz'", "[execution]: unknown key 'model' (model is a table: write [model] with its keys)"),
    ("[grid]\nscan = 'binned'", "[grid]: unknown key 'scan' (it belongs in [execution])"),
    # types and ranges of every option
    ("[grid]\nnk = 2.5", "[grid] nk: expected an integer, got a number (2.5)"),
    ("[grid]\nnk = [16, 1]", "[grid] nk: must be >= 2, got 1"),
    ("[grid]\nnk = [16, 16, 16, 16]", "[grid] nk: expected an integer or 1 to 3 integers, got 4 entries"),
    ("[grid]\nshift = nan", "[grid] shift: must be finite, got nan"),
    ("[grid]\nshift = -0.5", "[grid] shift: must be >= 0, got -0.5"),
    ("[physics]\ndegeneracy_tol = 0", "[physics] degeneracy_tol: must be > 0, got 0"),
    ("[physics]\ndegeneracy_tol = -1e-6", "[physics] degeneracy_tol: must be > 0, got -1e-06"),
    ("[physics]\ntau = nan", "[physics] tau: must be finite, got nan"),
    ("[physics]\ntau = inf", "[physics] tau: must be finite, got inf"),
    ("[physics]\nwidth = 0", "[physics] width: must be > 0, got 0"),
    ("[execution]\nworkers = 0", "[execution] workers: must be >= 1, got 0"),
    ("[execution]\ntask_size = 1.5", "[execution] task_size: expected an integer, got a number (1.5)"),
    ("[execution]\nprogress = 'yes'", "[execution] progress: expected true or false, got a string ('yes')"),
    ("[execution]\nscan = 'tetrahedra'", "[execution] scan: 'tetrahedra' is not one of 'direct', 'binned'"),
    ("[execution]\nbin_width = 0.01", "[execution] bin_width: only used with scan = \"binned\""),
    ("[execution]\nrefine = { levls = 2 }", "[execution] refine: unknown key 'levls' (did you mean 'levels'?)"),
    ("[execution]\nrefine = { subdivision = 1 }", "[execution] refine: refinement subdivision must be an integer >= 2"),
    ("[model]\npositions = 'full'", "[model] positions: \"full\" needs the position matrix"),
    ("[output]\njson = 1", "[output] json: expected true or false, got an integer (1)"),
])
def test_boundary_checks_of_every_option(text, expected):
    """Issue 16: each of these was passed on, silently changed or crashed in compute."""
    base = "[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 300\n"
    text = base.replace("[model]\nbuiltin = 'qwz'\n", "[model]\nbuiltin = 'qwz'\n" + text.split("\n", 1)[1] + "\n") \
        if text.startswith("[model]") else base + text
    problems = problems_of(text)
    assert any(expected in p for p in problems), (expected, problems)


def test_temperature_zero_is_allowed_by_the_file_and_judged_by_compute(runner, tmp_path):
    config = parse_config("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = [0, 300]")
    np.testing.assert_array_equal(config.scan.T, [0.0, 300.0])
    path = tmp_path / "c.toml"
    path.write_text("[model]\nbuiltin = 'qwz'\n[grid]\nnk = 8\n[scan]\nmu = 0\nT = 0\n[physics]\ntau = 10\n"
                    "quantities = ['entropy_production']\n[output]\nreport = false\n")
    result = runner.invoke(main, ["run", str(path), "--quiet"])
    assert result.exit_code == 2 and "Traceback" not in result.output and "T = 0 is accepted only for" in result.output


def test_degeneracy_tol_must_be_small_against_the_band_width():
    config = parse_config("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 300\n[physics]\ndegeneracy_tol = 0.5")
    with pytest.raises(ConfigError, match=r"\[physics\] degeneracy_tol: must be below 0.01 of the band width \(6 eV"):
        build_model(config)
    fine = parse_config("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 300\n[physics]\ndegeneracy_tol = 1e-4")
    assert fine.compute_options()["degeneracy_tol"] == 1e-4 and build_model(fine)[0].name == "qwz"


def test_execution_keys_reach_compute():
    config = parse_config("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 300\n[execution]\nexecutor = 'serial'\n"
                          "scan = 'binned'\nbin_width = 0.001\nrefine = true\ntask_size = 64\nmax_elements = 4096")
    options = config.compute_options()
    assert (options["executor"], options["scan"], options["bin_width"], options["task_size"],
            options["max_elements"]) == ("serial", "binned", 0.001, 64, 4096)
    assert options["refine"].levels == 1 and "progress" not in options and "workers" not in options


def test_positions_full_from_a_tb_file(tmp_path):
    (tmp_path / "c.toml").write_text(f'[model]\nwannier90 = "{DATA / "lead_tb.dat"}"\npositions = "full"\n'
                                     '[scan]\nmu = 5\nT = 300\n')
    model, _ = build_model(load_config(tmp_path / "c.toml"))
    assert model.position_R is not None
    (tmp_path / "c.toml").write_text(f'[model]\nwannier90 = "{DATA / "lead_hr.dat"}"\npositions = "full"\n'
                                     '[scan]\nmu = 5\nT = 300\n')
    with pytest.raises(ConfigError, match=r"\[model\] positions: \"full\" needs a _tb.dat file"):
        build_model(load_config(tmp_path / "c.toml"))


def test_run_checks_the_output_folder_before_computing(runner, tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    path = tmp_path / "c.toml"
    path.write_text("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 300\n[output]\nfolder = 'taken/out'\n")
    result = runner.invoke(main, ["run", str(path)])
    assert result.exit_code == 2 and "[output] folder: cannot create" in result.output and "is not a folder" in \
        result.output
    assert "computing" not in result.output
    result = runner.invoke(main, ["run", str(path), "--output", str(tmp_path / "taken" / "out")])
    assert result.exit_code == 2 and "--output: cannot create" in result.output


def test_all_problems_are_reported_together():
    problems = problems_of("[model]\nbuiltin = 'qwz'\nfoo = 1\n[grid]\nnk = 0\nshift = 1.0\n[scan]\nmu = []\nT = 'x'")
    assert len(problems) == 5, problems
    message = str(ConfigError(problems, "c.toml"))
    assert message.startswith("c.toml has 5 problems:") and "[grid] shift: must be < 1" in message


def test_bad_toml_names_the_line():
    with pytest.raises(ConfigError, match=r"c.toml: not valid TOML: .*line 2"):
        parse_config("[model]\nbuiltin = qwz\n", source="c.toml")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")


def test_dimension_mismatches_are_found_with_the_model():
    config = parse_config("[model]\nbuiltin = 'rice_mele'\n[grid]\nnk = [8, 8]\n[scan]\nmu = 0\nT = 1\n"
                          "[field]\ndirection = [1, 0]\n[report]\nband = 2")
    with pytest.raises(ConfigError) as info:
        build_model(config)
    text = str(info.value)
    assert "[grid] nk: 2 entries for a 1D model" in text
    assert "[field] direction: 2 integers for a 1D model" in text
    assert "[report] band: 2 but the model has 2 bands" in text


def test_wannier90_model_from_a_config(tmp_path):
    """Paths are relative to the configuration file; the Wannier90 reader finds the companions."""
    config_path = tmp_path / "lead.toml"
    config_path.write_text(f'[model]\nwannier90 = "{DATA / "lead_hr.dat"}"\n[scan]\nmu = 5.2676\nT = 300\n')
    config = load_config(config_path)
    model, warnings = build_model(config)
    assert (model.norb, model.dim, model.spin_degeneracy) == (4, 3, 2)
    assert not warnings  # wsvec, win and centres found beside the file
    config_path.write_text(f'[model]\nwannier90 = "{DATA / "lead_hr.dat"}"\nwsvec = false\n[scan]\nmu = 5\nT = 300')
    plain, _ = build_model(load_config(config_path))
    assert model.parameters["mdrs"] and not plain.parameters["mdrs"]  # wsvec = false: no MDRS shifts


def test_wannier90_relative_path(tmp_path):
    """A relative path is taken from the configuration's folder; the reader's warnings (here: no
    _wsvec.dat beside the file) are passed on."""
    (tmp_path / "pb").mkdir()
    for name in ("lead_hr.dat", "lead.win", "lead_centres.xyz"):
        (tmp_path / "pb" / name).write_bytes((DATA / name).read_bytes())
    (tmp_path / "run.toml").write_text('[model]\nwannier90 = "pb/lead_hr.dat"\n[scan]\nmu = 5\nT = 300')
    model, warnings = build_model(load_config(tmp_path / "run.toml"))
    assert model.norb == 4
    assert any("wsvec" in w for w in warnings), warnings
    (tmp_path / "bad.toml").write_text('[model]\nwannier90 = "pb/lead.win"\n[scan]\nmu = 5\nT = 300')
    with pytest.raises(ConfigError, match=r"\[model\] wannier90: expected a seedname_hr.dat or seedname_tb.dat"):
        load_config(tmp_path / "bad.toml")


def test_broken_wannier90_file_is_bad_input(tmp_path):
    (tmp_path / "x_hr.dat").write_text("written by hand\n2\n")
    (tmp_path / "c.toml").write_text('[model]\nwannier90 = "x_hr.dat"\nspin_degeneracy = 1\n[scan]\nmu = 0\nT = 1')
    with pytest.raises(ConfigError, match=r"\[model\] wannier90: .*x_hr.dat"):
        build_model(load_config(tmp_path / "c.toml"))


# ---------------------------------------------------------------- the commands


@pytest.fixture
def runner():
    return CliRunner()


@pytest.mark.parametrize("command", ["run", "init", "show"])
def test_help_has_examples_and_exit_codes(runner, command):
    result = runner.invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"qgt {command}" in result.output
    assert "Exit codes: 0 ok; 1 unexpected error" in result.output and "2 bad input" in result.output


def test_main_help_states_the_exit_codes(runner):
    result = runner.invoke(main, ["--help"])
    assert "Exit codes: 0 ok; 1 unexpected error" in result.output
    for command in ("run", "init", "show"):
        assert f"  {command} " in result.output


def test_model_file_from_a_config(tmp_path):
    from qgtransport.models import write_model

    write_model(builtin_model("haldane", M=0.2), tmp_path / "haldane.nc")
    (tmp_path / "c.toml").write_text('[model]\nfile = "haldane.nc"\n[scan]\nmu = 0\nT = 300')
    model, _ = build_model(load_config(tmp_path / "c.toml"))
    assert model.name == "haldane" and model.parameters["M"] == 0.2
    (tmp_path / "c.toml").write_text('[model]\nfile = "c.toml"\n[scan]\nmu = 0\nT = 300')
    with pytest.raises(ConfigError, match=r"\[model\] file: "):
        build_model(load_config(tmp_path / "c.toml"))


def test_init_writes_a_runnable_example_and_refuses_to_overwrite(runner, tmp_path):
    target = tmp_path / "qgt.toml"
    result = runner.invoke(main, ["init", str(target), "--model", "haldane"])
    assert result.exit_code == 0, result.output
    assert parse_config(target.read_text()).model.builtin == "haldane"
    again = runner.invoke(main, ["init", str(target)])
    assert again.exit_code == 2 and "exists; give --force" in again.output
    assert runner.invoke(main, ["init", str(target), "--force"]).exit_code == 0
    bad = runner.invoke(main, ["init", str(tmp_path / "x.toml"), "--model", "nope"])
    assert bad.exit_code == 2 and "unknown model 'nope'" in bad.output


def test_run_bad_config_exits_2_without_traceback(runner, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[model]\nbuiltin = 'qwz'\n[grid]\nnk = -3\n[scan]\nmu = 0\nT = 300\n[output]\ncolour = 'red'\n")
    result = runner.invoke(main, ["run", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "[grid] nk: must be >= 2, got -3" in result.output
    assert "[output]: unknown key 'colour'" in result.output
    missing = runner.invoke(main, ["run", str(tmp_path / "absent.toml")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_run_writes_dataset_json_and_report(runner, tmp_path):
    """The dataset holds the numbers of the Python API, units and descriptions on every variable,
    the configuration (as written and resolved) and the package version."""
    config_path = tmp_path / "small.toml"
    config_path.write_text(SMALL)
    result = runner.invoke(main, ["run", str(config_path), "--quiet"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    for name in ("run.nc", "run.json", "report.html", "figures/entropy_density.png", "figures/band_structure.png"):
        assert (out / name).is_file(), name
    assert "relation checks: 3 hold" in result.output
    with xr.open_dataset(out / "run.nc") as ds:
        ds = ds.load()
    assert ds.attrs["config"] == SMALL
    assert json.loads(ds.attrs["config_resolved"])["grid"]["nk"] == 16
    assert ds.attrs["qgtransport_version"] == qgtransport.__version__
    for name, var in ds.data_vars.items():
        assert var.attrs.get("units") and var.attrs.get("description"), name
    direct = compute(builtin_model("qwz", m=-1.0), ["entropy_production", "anomalous_hall"],
                     mu=[-1.5, 0.0, 1.5], T=[750.0, 1500.0], tau=10.0, nk=16)
    for name in ("entropy_production", "anomalous_hall", "anomalous_hall_error"):
        np.testing.assert_allclose(ds[name].values, direct[name].values, rtol=1e-12, atol=0)
    summary = json.loads((out / "run.json").read_text())
    assert summary["attrs"]["config"] == SMALL

    shown = runner.invoke(main, ["show", str(out / "run.nc"), "--config"])
    assert shown.exit_code == 0, shown.output
    for text in ("entropy_production", "xx", "anomalous_hall", "xy", "W/(K m^2)/(V/m)^2", "max grid error",
                 "qgtransport " + qgtransport.__version__, "[physics]", "descriptions:"):
        assert text in shown.output, text
    hall_row = next(line for line in shown.output.splitlines() if line.startswith("anomalous_hall "))
    assert f"{float(direct.anomalous_hall.sel(a='x', b='y').min()): .4e}" in hall_row


def test_run_output_override_and_no_report(runner, tmp_path):
    config_path = tmp_path / "small.toml"
    config_path.write_text(SMALL.replace('folder = "out"', 'folder = "out"\njson = false'))
    result = runner.invoke(main, ["run", str(config_path), "--output", str(tmp_path / "elsewhere"), "--no-report",
                                  "--quiet"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == ["run.nc"]


def test_show_rejects_what_it_cannot_read(runner, tmp_path):
    text_file = tmp_path / "notes.nc"
    text_file.write_text("not netCDF")
    result = runner.invoke(main, ["show", str(text_file)])
    assert result.exit_code == 2 and "not a netCDF file" in result.output and "Traceback" not in result.output
    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"x": ("t", [1.0, 2.0])}).to_netcdf(foreign)
    result = runner.invoke(main, ["show", str(foreign)])
    assert result.exit_code == 2 and "not a dataset written by qgtransport" in result.output
    result = runner.invoke(main, ["show", str(tmp_path / "absent.nc")])
    assert result.exit_code == 2 and "no such file" in result.output
