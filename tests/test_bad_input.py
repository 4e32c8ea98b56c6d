"""The bad-input corpus of issue 16: malformed Wannier90 files, TOML configurations, command lines
and Python calls, generated from compact tables. Each bad input must give the package's error (a
ModelFileError / ConfigError / ValueError, or exit code 2 on the command line) whose message names
the problem; each valid input in the tables must be accepted. Nothing may crash, hang or run. One
file (over ~600 lines) because the tally below counts its tables together.

Tally (`python tests/test_bad_input.py` prints it; `test_tally_is_up_to_date` keeps it true):
    tried 681: clear error 651, accepted as valid 30
    (readers 112, configuration 280, command line 118, Python API 171)
plus two hypothesis fuzz tests (300 random configurations, 300 random sets of compute options).
"""

from __future__ import annotations

import shlex
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qgtransport import builtin_model, compute
from qgtransport.cli import main
from qgtransport.cli.config import TABLES, ConfigError, parse_config
from qgtransport.exact.density import perturbed_density_matrix
from qgtransport.models.reading import ModelFileError
from qgtransport.models.tightbinding import TightBinding
from qgtransport.models.wannier90 import read_hr, read_tb
from qgtransport.options import ComputeOptions, check_options, check_scans

# ---------------------------------------------------------------------------------------------
# Readers: a tiny valid Wannier90 model (2 orbitals, R = 0, +-a1), corrupted line by line
# ---------------------------------------------------------------------------------------------

R_LIST = [(-1, 0, 0), (0, 0, 0), (1, 0, 0)]
H0 = np.array([[1.0, 0.5 + 0.1j], [0.5 - 0.1j, -1.0]])
H1 = np.array([[0.3, 0.2 - 0.05j], [0.1 + 0.02j, -0.25]])
HOPPING = {(0, 0, 0): H0, (1, 0, 0): H1, (-1, 0, 0): H1.conj().T}


def hr_lines():
    """1 header, 2 num_wann, 3 nrpts, 4 ndegen, then per R the entries (m fastest): line
    5 + 4 b + (m - 1) + 2 (n - 1) for block b."""
    lines = ["tiny", "2", "3", "1 1 1"]
    for R in R_LIST:
        for n in (1, 2):
            for m in (1, 2):
                h = HOPPING[R][m - 1, n - 1]
                lines.append(f"{R[0]:5d}{R[1]:5d}{R[2]:5d}{m:5d}{n:5d}{h.real:12.6f}{h.imag:12.6f}")
    return lines


def tb_lines():
    """1 header, 2-4 lattice, 5 num_wann, 6 nrpts, 7 ndegen, per R: blank, R, 4 entries (H), then the
    same for the position matrix."""
    lines = ["tiny tb", "2.0 0.0 0.0", "0.0 2.0 0.0", "0.0 0.0 2.0", "2", "3", "1 1 1"]
    for R in R_LIST:
        lines += ["", f"{R[0]:5d}{R[1]:5d}{R[2]:5d}"]
        lines += [f"{m:5d}{n:5d}   {HOPPING[R][m - 1, n - 1].real:15.8E} {HOPPING[R][m - 1, n - 1].imag:15.8E}"
                  for n in (1, 2) for m in (1, 2)]
    for R in R_LIST:
        lines += ["", f"{R[0]:5d}{R[1]:5d}{R[2]:5d}"]
        lines += [f"{m:5d}{n:5d}   " + " ".join(f"{v:15.8E}" for v in ((0.1 * m if R == (0, 0, 0) and m == n else 0.0),
                                                                    0, 0, 0, 0, 0))
                  for n in (1, 2) for m in (1, 2)]
    return lines


def win_lines():
    return ["num_wann = 2", "spinors = false", "begin unit_cell_cart", "ang", "2.0 0.0 0.0", "0.0 2.0 0.0",
            "0.0 0.0 2.0", "end unit_cell_cart"]


def centres_lines():
    return ["3", "centres", "X 0.1 0.0 0.0", "X 1.0 1.0 0.0", "Pb 0.0 0.0 0.0"]


FILES = {"hr": ("tiny_hr.dat", hr_lines), "tb": ("tiny_tb.dat", tb_lines), "win": ("tiny.win", win_lines),
         "centres": ("tiny_centres.xyz", centres_lines)}


def write_model_files(folder: Path, kind: str | None = None, lines=None) -> dict:
    paths = {}
    for name, (filename, generator) in FILES.items():
        content = generator() if name != kind else lines
        (folder / filename).write_text("\n".join(content) + ("\n" if content else ""), encoding="utf-8")
        paths[name] = folder / filename
    return paths


def read(paths: dict, kind: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "tb":
            return read_tb(paths["tb"], wsvec=None)
        return read_hr(paths["hr"], wsvec=None)


def hr_entry(block, m, n):
    return 5 + 4 * block + (m - 1) + 2 * (n - 1)


def replaced(kind, line, text):
    lines = FILES[kind][1]()
    lines[line - 1] = text
    return lines


def field_set(kind, line, index, value):
    lines = FILES[kind][1]()
    fields = lines[line - 1].split()
    fields[index] = value
    lines[line - 1] = " ".join(fields)
    return lines


ENDS = ("file ends", "the file has only")  # a truncated file: either phrase names the problem
HR_ENTRIES = [(b, m, n) for b in range(3) for m in (1, 2) for n in (1, 2)]
READER_CASES = (
    # truncated after every line of the _hr.dat (the last line: a line cut in the middle)
    [("hr", hr_lines()[:cut], ENDS) for cut in range(0, 16)]
    + [("hr", hr_lines()[:-1] + [hr_lines()[-1][:30]], "found 6 fields")]
    # truncated _tb.dat, every fourth line
    + [("tb", tb_lines()[:cut], ENDS) for cut in range(0, len(tb_lines()) - 1, 4)]
    # a non-numeric real part, imaginary part and orbital index in every _hr.dat entry
    + [("hr", field_set("hr", hr_entry(*e), 5, "abc"), "'abc' is not a number") for e in HR_ENTRIES[::2]]
    + [("hr", field_set("hr", hr_entry(*e), 3, "one"), "'one' is not a number") for e in HR_ENTRIES[1::3]]
    # NaN and infinite entries
    + [("hr", field_set("hr", hr_entry(*e), 5 + i % 2, bad), "non-finite")
       for i, (e, bad) in enumerate(zip(HR_ENTRIES, ["nan", "NaN", "inf", "-inf"] * 3, strict=True))]
    # non-Hermitian: an entry of R = 0 or of R = a1 without its partner; the deviation is named
    + [("hr", field_set("hr", hr_entry(b, m, n), 5, "0.77"), "are not complex conjugates: they differ by")
       for b, m, n in [(1, 1, 2), (1, 2, 1), (2, 1, 1), (2, 2, 2), (0, 1, 2), (2, 2, 1)]]
    + [("tb", replaced("tb", 23, "    2    1   9.0 0.0"), "H(-R) != H(R)^+")]
    # wrong counts
    + [("hr", replaced("hr", 2, text), phrase) for text, phrase in [
        ("3", "needs 27 matrix-element lines"), ("0", "out of the allowed range"), ("two", "'two' is not a number"),
        ("2.5", "must be integers"), ("2 2", "found 2 fields"), ("-1", "out of the allowed range")]]
    + [("hr", replaced("hr", 3, text), phrase) for text, phrase in [
        ("4", "needs 16 matrix-element lines"), ("2", "expected 2 more integers, found 3 fields"),
        ("0", "out of the allowed range"),
        ("x", "'x' is not a number"), ("1000000000", "matrix-element lines")]]
    + [("hr", replaced("hr", 4, text), phrase) for text, phrase in [
        ("1 1", "expected 1 more integers"), ("1 0 1", "ndegen[2] = 0"), ("1 -1 1", "ndegen[2] = -1"),
        ("1 1.5 1", "'1.5' is not an integer"), ("1 2 3", "ndegen = 1 for R = [-1, 0, 0] but 3 for -R")]]
    + [("hr", hr_lines() + ["    0    0    0    1    1    0.1    0.0"], "unexpected line")]
    + [("hr", field_set("hr", hr_entry(1, 2, 2), 3, "3"), "out of the allowed range [1, 2]")]
    + [("hr", field_set("hr", hr_entry(1, 2, 1), 3, "1"), "appears twice")]
    + [("tb", replaced("tb", 3, "0.0 two 0.0"), "'two' is not a number"),
       ("tb", replaced("tb", 3, "0.0 nan 0.0"), "non-finite"),
       ("tb", replaced("tb", 4, "0.0 0.0"), "found 2 fields"),
       ("tb", replaced("tb", 4, "0.0 2.0 0.0"), "does not match"),
       ("tb", replaced("tb", 5, "3"), "needs 54 matrix-element lines"),
       ("tb", replaced("tb", 10, "    1    1   1.0"), "found 3 fields"),
       ("tb", replaced("tb", 10, "    1    1   nan 0.0"), "non-finite")]
    # the .win: a broken lattice block, wrong num_wann, bad logicals
    + [("win", replaced("win", line, text), phrase) for line, text, phrase in [
        (1, "num_wann = 3", "num_wann = 3, but"), (1, "num_wann = x", "'x' is not"), (2, "spinors = maybe", "logical"),
        (5, "2.0 zero 0.0", "'zero' is not a number"), (6, "2.0 0.0 0.0", "linearly dependent"),
        (7, "0.0 0.0 nan", "non-finite"), (8, "", "never closed"), (4, "furlong", "found 4 lines"),
        (6, "0.0 2.0", "found 2 fields")]]
    + [("win", win_lines()[:6], "never closed"),
       ("win", ["end unit_cell_cart"] + win_lines(), "without a matching begin"),
       ("win", win_lines() + ["num_wann = 2"], "num_wann given twice")]
    # the _centres.xyz
    + [("centres", replaced("centres", line, text), phrase) for line, text, phrase in [
        (1, "three", "'three' is not a number"), (1, "1", "fewer than the 2 Wannier centres"),
        (4, "X nan 1.0 0.0", "non-finite"), (4, "X 1.0 1.0", "expected 'symbol x y z'"),
        (4, "Pb 1.0 1.0 0.0", "Wannier centres (symbol X) first"), (3, "X a 0 0", "'a' is not a number")]]
    + [("centres", centres_lines()[:4], "file ends"), ("centres", centres_lines() + ["X 0 0 0"], "unexpected line")]
)


def test_the_tiny_model_is_valid(tmp_path):
    paths = write_model_files(tmp_path)
    hr, tb = read(paths, "hr"), read(paths, "tb")
    k = hr.to_cartesian(np.array([[0.1, 0.2, 0.3]]))
    np.testing.assert_allclose(np.linalg.eigvalsh(hr.hamiltonian(k)), np.linalg.eigvalsh(tb.hamiltonian(k)),
                               atol=1e-6)


@pytest.mark.parametrize("kind, lines, phrase", READER_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(READER_CASES)])
def test_malformed_wannier90_files(kind, lines, phrase, tmp_path):
    paths = write_model_files(tmp_path, kind, lines)
    with pytest.raises(ModelFileError) as info:
        read(paths, "tb" if kind == "tb" else "hr")
    assert str(info.value).startswith(str(paths[kind])), str(info.value)  # the file is named ...
    phrases = (phrase,) if isinstance(phrase, str) else phrase
    assert any(p in str(info.value) for p in phrases), str(info.value)  # ... and the problem


READER_API_CASES = [
    (lambda p: read_hr(p["hr"], wsvec=None, lattice=[[1, 0], [0, 1]]), "lattice"),
    (lambda p: read_hr(p["hr"], wsvec=None, spin_degeneracy=3), "spin_degeneracy"),
    (lambda p: read_hr(p["hr"], wsvec=None, win=None, centres=None), "holds no lattice vectors"),
    (lambda p: read_hr(p["hr"], wsvec=None, win=None, lattice=2 * np.eye(3)), "spin degeneracy unknown"),
    (lambda p: read_hr(p["hr"], wsvec=p["hr"].parent / "nowhere_wsvec.dat"), "no such file"),
    (lambda p: read_hr(p["hr"].parent / "nowhere_hr.dat"), "nowhere_hr.dat"),
    (lambda p: read_hr(p["hr"].parent, wsvec=None), "Is a directory"),
    (lambda p: read_tb(p["win"], wsvec=None), "tiny.win"),
]


@pytest.mark.parametrize("call, phrase", READER_API_CASES)
def test_reader_arguments(call, phrase, tmp_path):
    with pytest.raises((ValueError, OSError)) as info:
        call(write_model_files(tmp_path))
    assert phrase in str(info.value), str(info.value)


# ---------------------------------------------------------------------------------------------
# Configurations: every key of every table misspelt, moved to the wrong table, given a table
# instead of its value; out-of-range values; the whole file
# ---------------------------------------------------------------------------------------------

BASE = {"model": "builtin = 'qwz'", "scan": "mu = 0\nT = 300"}


def config_text(table: str | None = None, body: str = "", top: str = "") -> str:
    """The minimal valid configuration with `body` added to [table] (None: at the top level)."""
    tables = dict(BASE)
    if table is not None:
        tables[table] = (tables.get(table, "") + "\n" + body).strip()
    text = (top or (body if table is None else "")) + "\n"
    return text + "".join(f"[{name}]\n{content}\n" for name, content in tables.items())


def keys_of(table: str) -> list[str]:
    return [info.alias or name for name, info in TABLES[table].model_fields.items()]


KEYS = [(table, key) for table in TABLES for key in keys_of(table)]
DICT_KEYS = {("model", "builtin"), ("model", "parameters"), ("execution", "refine"), ("scan", "mu"), ("scan", "T"),
             ("scan", "omega")}
# (DICT_KEYS: the keys that take a table, and [model] builtin, already in BASE)
ELSEWHERE = {table: ("grid" if table == "execution" else "execution") for table in TABLES}

CONFIG_CASES = (
    # a misspelt key: did you mean
    [(config_text(t, f"{k}{k[-1]} = 1"), f"[{t}]: unknown key '{k}{k[-1]}' (did you mean '{k}'?)") for t, k in KEYS
     if f"{k}{k[-1]}" not in dict(KEYS).values()]
    # a key in the wrong table: it says where the key belongs
    + [(config_text(ELSEWHERE[t], f"{k} = 1"), f"[{ELSEWHERE[t]}]: unknown key '{k}' (it belongs in") for t, k in KEYS
       if k not in keys_of(ELSEWHERE[t])]
    # a table where a value belongs
    + [(config_text(t, f"{k} = {{ x = 1 }}"), f"[{t}] {k}") for t, k in KEYS if (t, k) not in DICT_KEYS]
    # out of range, wrong types
    + [(config_text(t, body), phrase) for t, body, phrase in [
        ("grid", "nk = 2.5", "[grid] nk: expected an integer, got a number (2.5)"),
        ("grid", "nk = 0", "[grid] nk: must be >= 2, got 0"), ("grid", "nk = -4", "[grid] nk: must be >= 2"),
        ("grid", "nk = '16'", "[grid] nk: expected an integer, got a string"),
        ("grid", "nk = true", "[grid] nk: expected an integer, got a boolean"),
        ("grid", "nk = [16, 2.5]", "[grid] nk: expected an integer"), ("grid", "nk = []", "1 to 3 integers"),
        ("grid", "shift = nan", "[grid] shift: must be finite, got nan"), ("grid", "shift = inf", "must be finite"),
        ("grid", "shift = 1.0", "[grid] shift: must be < 1"), ("grid", "shift = -0.1", "[grid] shift: must be >= 0"),
        ("grid", "error_estimate = 'no'", "[grid] error_estimate: expected true or false"),
        ("physics", "tau = 0", "[physics] tau: must be > 0"), ("physics", "tau = -1", "[physics] tau: must be > 0"),
        ("physics", "tau = nan", "[physics] tau: must be finite"),
        ("physics", "tau = inf", "[physics] tau: must be finite"),
        ("physics", "tau = 'ten'", "[physics] tau: 'ten' is not a number"),
        ("physics", "width = 0", "[physics] width: must be > 0"), ("physics", "width = nan", "[physics] width"),
        ("physics", "degeneracy_tol = 0", "[physics] degeneracy_tol: must be > 0"),
        ("physics", "degeneracy_tol = -1e-6", "[physics] degeneracy_tol: must be > 0"),
        ("physics", "degeneracy_tol = nan", "[physics] degeneracy_tol: must be finite"),
        ("physics", "kernel = 'exact'", "[physics] kernel: 'exact' is not one of"),
        ("physics", "rho1 = 'eq14'", "[physics] rho1: 'eq14' is not one of"),
        ("physics", "broadening = 'lorenzian'", "(did you mean 'lorentzian'?)"),
        ("physics", "quantities = []", "[physics] quantities: must not be empty"),
        ("physics", "quantities = ['anomalous_hal']", "(did you mean 'anomalous_hall'?)"),
        ("physics", "quantities = [1]", "[physics] quantities: expected a list of strings"),
        ("physics", "quantities = ['drude']", "[physics] tau: missing: drude need the relaxation time"),
        ("physics", "quantities = ['optical_conductivity']", "[scan] omega: missing"),
        ("scan", "omega = nan", "[scan] omega: must be finite"), ("scan", "omega = []", "[scan] omega: must not be"),
        ("execution", "workers = 0", "[execution] workers: must be >= 1"),
        ("execution", "workers = 1.5", "[execution] workers: expected an integer"),
        ("execution", "task_size = 0", "[execution] task_size: must be >= 1"),
        ("execution", "max_elements = -1", "[execution] max_elements: must be >= 1"),
        ("execution", "executor = 'threads'", "[execution] executor: 'threads' is not one of"),
        ("execution", "scan = 'binnned'", "(did you mean 'binned'?)"),
        ("execution", "bin_width = 0.001", "[execution] bin_width: only used with scan = \"binned\""),
        ("execution", "bin_width = -1\nscan = 'binned'", "[execution] bin_width: must be > 0"),
        ("execution", "backend = 'cuda'", "[execution] backend: 'cuda' is not one of"),
        ("execution", "refine = { levls = 2 }", "(did you mean 'levels'?)"),
        ("execution", "refine = { levels = 1.5 }", "[execution] refine levels"),
        ("execution", "force = 'yes'", "[execution] force: expected true or false"),
        ("execution", "checkpoint = 5", "[execution] checkpoint: expected a string"),
        ("execution", "scheduler = ''", "[execution] scheduler: must not be empty"),
        ("output", "dpi = 10", "[output] dpi: must be >= 50"), ("output", "dpi = 6000", "[output] dpi: must be <= 600"),
        ("output", "name = ''", "[output] name: must not be empty"), ("output", "name = 'a/b'", "without folders"),
        ("output", "conductivity_unit = 'eV'", "is not a unit of conductivity"),
        ("report", "band_points = 1", "[report] band_points: must be >= 2"),
        ("report", "bz_nk = 100000", "[report] bz_nk: must be <= 2001"),
        ("report", "density_T = 0", "[report] density_T: must be > 0"),
        ("report", "path_labels = ['G', 'X']", "give both path_labels and path_points"),
        ("field", "direction = [0, 0]", "[field] direction: must not be all zero"),
        ("field", "direction = [1.5, 0]", "[field] direction: expected a list of integers"),
        ("field", "strength = 0", "[field] strength: must be > 0"),
        ("checks", "exact_nk = 1000", "[checks] exact_nk: must be <= 512"),
        ("checks", "mu_points = 0", "[checks] mu_points: must be >= 1"),
        ("checks", "tolerance = 0", "[checks] tolerance: must be > 0"),
        ("checks", "relations = ['onsagr']", "(did you mean 'onsager'?)"),
        ("checks", "exact = true", "[checks] exact: the exact-solver check needs [physics] tau"),
        ("model", "parameters = { q = 1 }", "[model] parameters q: unknown parameter of 'qwz'"),
        ("model", "parameters = { m = 'abc' }", "[model] parameters m: 'abc' is not a number"),
        ("model", "parameters = { m = inf }", "[model] parameters m: must be finite"),
        ("model", "wannier90 = 'x_hr.dat'", "[model]: give exactly one of builtin, wannier90 or file"),
        ("model", "lattice = [[1, 0], [0, 1]]", "[model]: lattice only apply to wannier90 models"),
        ("model", "spin_degeneracy = 3", "[model] spin_degeneracy: must be <= 2"),
        ("model", "positions = 'full'", "[model] positions: \"full\" needs the position matrix"),
        ("model", "positions = 'offdiagonal'", "[model] positions: 'offdiagonal' is not one of"),
    ]]
    + [(text, phrase) for text, phrase in [
        ("[model]\nbuiltin = 'qwz'\n[scan]\nT = 300", "[scan] mu: missing (required)"),
        ("[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0", "[scan] T: missing (required)"),
        ("[scan]\nmu = 0\nT = 300", "[model]: give exactly one of builtin, wannier90 or file"),
        ("[model]\nbuiltin = 'qzw'\n[scan]\nmu = 0\nT = 300", "(did you mean 'qwz'?)"),
        ("[modle]\nbuiltin = 'qwz'", "unknown table [modle] (did you mean [model]?)"),
        ("unit = 'SI'\n" + config_text(), "top level: unknown key 'unit' (did you mean 'units'?)"),
        ("units = 'cgs'\n" + config_text(), "units: 'cgs' is not one of 'SI', 'natural'"),
        ("grid = 5\n" + config_text(), "grid: must be a table ([grid])"),
        ("[model\nbuiltin = 'qwz'", "not valid TOML"), ("[model]\nbuiltin = 'qwz'\nbuiltin = 'x'", "not valid TOML"),
        ("", "[scan]"), ("mu = 0", "top level: unknown key 'mu' (it belongs in [scan])"),
        (config_text("scan", "mu = 1"), "not valid TOML"),
    ]]
    + [(config_text("scan", "").replace("mu = 0", f"mu = {spec}"), phrase) for spec, phrase in [
        ("'0:1:100000000'", "above the hard limit of 1e+07 scan points"),
        ("{ start = 0, stop = 1, num = 100000000 }", "above the hard limit"),
        ("'0:1'", "must be start:stop:num"), ("'0:1:0'", "must be >= 1"), ("'0:1:x'", "must be an integer"),
        ("'0:nan:3'", "must be finite"), ("'a:1:3'", "'a' is not a number"), ("[]", "must not be an empty list"),
        ("[[0, 1]]", "expected a number, a list"), ("{ start = 0, stop = 1 }", "a range is"),
        ("{ start = 0, stop = 1, num = 0 }", "num of a range must be an integer >= 1"), ("'pi/0'", "is not a number"),
        ("nan", "[scan] mu: must be finite"), ("true", "[scan] mu"),
    ]]
)

VALID_CONFIGS = [
    config_text(), config_text("grid", "nk = 16.0"), config_text("grid", "nk = [8, 4]\nshift = [0, 0.5]"),
    config_text("scan", "").replace("mu = 0", "mu = '-pi:pi:5'"), config_text("physics", "tau = '2*5'"),
    config_text("scan", "").replace("T = 300", "T = 0"), config_text("execution", "force = true"),
    config_text("execution", "refine = true"), config_text("physics", "degeneracy_tol = 1e-9"),
    "units = 'natural'\n" + config_text(),
    config_text("scan", "").replace("mu = 0", "mu = { start = 0, stop = 1, num = 3 }"),
]


@pytest.mark.parametrize("text, phrase", CONFIG_CASES, ids=[f"config-{i}" for i in range(len(CONFIG_CASES))])
def test_bad_configurations(text, phrase):
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="run.toml")
    assert str(info.value).startswith("run.toml"), str(info.value)
    assert phrase in str(info.value), str(info.value)


@pytest.mark.parametrize("text", VALID_CONFIGS)
def test_valid_configurations_are_accepted(text):
    parse_config(text, source="run.toml")


# ---------------------------------------------------------------------------------------------
# The command line: exit code 2 and a message naming the problem, in process
# ---------------------------------------------------------------------------------------------

COMPUTE = "compute --model qwz --mu 0 --T 300 --nk 8 --quantities anomalous_hall --quiet"
NUMBER_OPTIONS = {"--mu": "0", "--T": "300", "--tau": None, "--width": "0.02", "--omega": None}
BAD_NUMBERS = [("abc", "is not a number"), ("nan", "is not finite"), ("inf", "is not finite"), ("", "must be a number"),
               ("1:2", "must be start:stop:num"), ("1,,2", "must be a number, a comma list"),
               ("0:1:0", "must be >= 1"), ("0:1:x", "must be an integer")]


def with_option(option: str, value: str) -> str:
    words = shlex.split(COMPUTE)
    if option in words:
        words[words.index(option) + 1] = value
    else:
        words += [option, value]
    return shlex.join(words)


CLI_CASES = (
    [(with_option(option, bad), option, phrase) for option in NUMBER_OPTIONS for bad, phrase in BAD_NUMBERS
     if option in ("--mu", "--T", "--omega") or bad in ("abc", "nan", "inf")]
    + [(with_option(option, value), phrase, "") for option, value, phrase in [
        ("--nk", "0", "--nk"), ("--nk", "2.5", "--nk"), ("--nk", "abc", "--nk"), ("--nk", "-8", "--nk"),
        ("--nk", "1000000", "estimated time is above the limit of 24 h"), ("--mu", "0:1:100000000", "hard limit"),
        ("--T", "-1", "--T (temperature): must be >= 0"), ("--tau", "0", "--tau (relaxation time): must be > 0"),
        ("--tau", "-5", "must be > 0"), ("--width", "0", "--width: must be > 0"), ("--width", "-1", "--width"),
        ("--workers", "0", "--workers"), ("--executor", "threads", "--executor"), ("--units", "cgs", "--units"),
        ("--kernel", "exact", "--kernel"), ("--rho1", "x", "--rho1"), ("--broadening", "box", "--broadening"),
        ("--scan", "binnned", "--scan"), ("--refine-levels", "-1", "--refine-levels"),
        ("--positions", "x", "--positions"),
        ("--quantities", "", "quantities must not be empty"), ("--quantities", "anomalous_hal", "did you mean"),
        ("--quantities", "drude", "need(s) the relaxation time: give --tau"),
        ("--quantities", "optical_conductivity", "need the frequencies omega"),
        ("--component", "xq", "--component 'xq'"), ("--component", "xyzx", "--component"),
        ("--model", "qzw", "did you mean 'qwz'"), ("--param", "m", "--param 'm': expected key=value"),
        ("--param", "m=abc", "--param m"), ("--param", "q=1", "has no parameter(s) ['q']"),
        ("--param", "m=1e300", "above 1e+12"), ("--spin-degeneracy", "3", "--spin-degeneracy"),
        ("--positions", "full", "--positions full needs"), ("--output", "afile/x.nc", "afile is not a folder"),
        ("--output", ".", "--output"), ("--json", "afile/x.json", "--json: cannot create"),
        ("--checkpoint", "afile", "--checkpoint"), ("--output", "/proc/qgt/x.nc", "--output: cannot create"),
    ]]
    + [(COMPUTE.replace("--model qwz", f"{option} {value}"), phrase, "") for option, value, phrase in [
        ("--hr", "afile", "afile, line 2"), ("--tb", "afile", "afile, line 2"),
        ("--model-file", "afile", "afile: not a"),
        ("--hr", "nowhere_hr.dat", "--hr"), ("--model", "qwz --hr afile", "give exactly one model")]]
    + [(argv, phrase, "") for argv, phrase in [
        ("compute --mu 0 --T 300 --nk 8", "give exactly one model"),
        ("compute --model qwz --T 300 --nk 8", "--mu"), ("compute --model qwz --mu 0 --nk 8", "--T"),
        ("verify --model qwz --mu 0 --T 0 --tau 1", "--T must be > 0"),
        ("verify --model qwz --mu 0 --T -3 --tau 1", "--T must be > 0 (K), got -3"),
        ("verify --model qwz --mu 0 --T 300 --tau 0", "--tau must be > 0"),
        ("verify --model qwz --mu 0 --T 300", "--tau is required"),
        ("verify --model qwz --mu 0 --T 300 --tau 1 --tolerance -1", "--tolerance must be > 0"),
        ("verify --model qwz --mu 0 --T 300 --tau 1 --nk 100000", "--nk"),
        ("verify --model weyl --mu 0 --T 300 --tau 1 --nk 200", "above the exact solver's limit of 2**20"),
        ("verify --model qwz --mu 0 --T 300 --tau 1 --direction 0,0", "not all zero"),
        ("verify --model qwz --mu 0 --T 300 --tau 1 --direction a", "--direction must be comma-separated integers"),
        ("verify --model qwz --mu nan --T 300 --tau 1", "--mu: 'nan' is not finite"),
        ("demo --nk 1", "--nk"), ("demo --model nope", "unknown model 'nope'"), ("demo --output afile", "--output"),
        ("demo --nk 100000 --output d", "estimated time is above the limit of 24 h"),
        ("demo --param m=x", "--param m"),
        ("convert --model qwz --output afile/x.nc", "--output: cannot create"),
        ("convert --model qwz", "--output"), ("show afile", "afile: not a netCDF file"),
        ("show nowhere.nc", "nowhere.nc: no such file"), ("report afile", "afile: not a netCDF file"),
        ("run nowhere.toml", "nowhere.toml: no such file"), ("run .", "is a folder, not a TOML file"),
        ("run afile", "afile: not valid TOML"), ("run bad.toml", "[grid] nk: expected an integer, got a number (2.5)"),
        ("run wrongtable.toml", "[execution]: unknown key 'nk' (it belongs in [grid])"),
        ("run big.toml", "estimated time is above the limit of 24 h"),
        ("run big.toml --force --output afile", "--output"), ("run hugescan.toml", "above the hard limit"),
        ("run ok.toml --output afile", "'--output': Directory 'afile' is a file"),
        ("run procout.toml", "[output] folder: cannot create"),
        ("run dirout.toml", "[output] name: "),
        ("run exact3d.toml", "[checks] exact_nk: exact_nk = 128 gives 2.1e+06 k-points in 3D"),
        ("run dirout.toml --output elsewhere", "run.nc is a folder"),
        ("init afile", "afile exists; give --force"), ("init x.toml --model nope", "--model"),
        ("models extra", "unexpected extra argument"), ("nonsense", "No such command"),
    ]]
)
CLI_FILES = {
    "afile": "not a TOML file or a model\n",
    "ok.toml": config_text(),
    "bad.toml": config_text("grid", "nk = 2.5"),
    "wrongtable.toml": config_text("execution", "nk = 4"),
    "big.toml": config_text("grid", "nk = 1000000"),
    "hugescan.toml": config_text("scan", "").replace("mu = 0", "mu = '0:1:20000000'"),
    "procout.toml": config_text("output", "folder = '/proc/qgt-out'"),
    "dirout.toml": config_text("output", "folder = 'out'"),  # out/run.nc is a folder
    "exact3d.toml": "[model]\nbuiltin = 'weyl'\n[scan]\nmu = 0\nT = 300\n[physics]\ntau = 1\n[checks]\nexact = true\n"
                    "exact_nk = 128\n",
}
VALID_COMMANDS = ["models", "compute --help", "init x.toml", "run --help", "verify --help"]


@pytest.fixture
def cli_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, text in CLI_FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "out" / "run.nc").mkdir(parents=True)
    (tmp_path / "elsewhere" / "run.nc").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize("argv, phrase, extra", CLI_CASES, ids=[f"cli-{i}" for i in range(len(CLI_CASES))])
def test_bad_command_lines_exit_2_naming_the_problem(argv, phrase, extra, cli_folder):
    result = CliRunner().invoke(main, shlex.split(argv))
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert phrase in result.output, result.output
    assert extra in result.output
    assert not (cli_folder / "d").exists() and not list(cli_folder.glob("*.nc"))  # nothing was computed


@pytest.mark.parametrize("argv", VALID_COMMANDS)
def test_valid_commands_are_accepted(argv, cli_folder):
    result = CliRunner().invoke(main, shlex.split(argv))
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------------------------------------
# The Python API: ValueError naming the option
# ---------------------------------------------------------------------------------------------

QWZ = builtin_model("qwz", m=-1.0)
CALL = dict(quantities=["anomalous_hall"], mu=0.0, T=0.2, nk=8, units="natural")
BAD_BY_KIND = {  # values no option of that kind takes, and what the message says
    "choice": [("nope", "must be one of"), (3, "must be one of"), (None, "must be one of")],
    "flag": [("yes", "expected true or false"), (1, "expected true or false"), (None, "expected true or false")],
    "integer": [(2.5, "must be an integer, got 2.5"), (True, "must be an integer"), ("8", "must be an integer"),
                (0, "must be a positive integer, got 0"), (float("nan"), "must be finite")],
    "positive": [(0.0, "must be finite and > 0"), (-1.0, "must be finite and > 0"), (float("nan"), "must be finite"),
                 (float("inf"), "must be finite"), ("1", "expected a number"), (True, "expected a number")],
}
OPTION_KINDS = {
    "units": "choice", "kernel": "choice", "rho1": "choice", "broadening": "choice", "positions": "choice",
    "scan": "choice", "backend": "choice", "executor": "choice", "error_estimate": "flag", "progress": "flag",
    "force": "flag", "max_elements": "integer", "workers": "integer", "task_size": "integer", "tau": "positive",
    "width": "positive", "degeneracy_tol": "positive", "bin_width": "positive",
}
API_CASES = (
    [({option: value}, f"{option}", phrase) for option, kind in OPTION_KINDS.items()
     for value, phrase in BAD_BY_KIND[kind]
     if not (value is None and option in ("workers", "task_size", "tau", "bin_width"))]
    + [({"nk": value}, "nk", phrase) for value, phrase in [
        (2.5, "nk must be an integer, got 2.5"), (0, "nk must be a positive integer, got 0"), (-8, "positive integer"),
        (True, "nk must be an integer"), ("8", "nk must be an integer"), (None, "nk must be an integer"),
        (float("inf"), "nk must be finite"), ((8, 0), "positive integer"), ((8, 8, 8), "nk has 3 entries for a 2D"),
        ((8,), "nk has 1 entries"), ((8, 8, 8, 8), "1 to 3 integers"), (10**6, "estimated time is above the limit"),
        (2**26, "above the hard limit of 2**50")]]
    + [({"shift": value}, "shift", phrase) for value, phrase in [
        (float("nan"), "shift must be finite, got nan"), (1.0, "shift must be < 1"), (-0.5, "shift must be >= 0"),
        ((0.5, float("inf")), "shift must be finite"), ((0.5,), "shift has 1 entries"), ("0.5", "expected a number")]]
    + [({name: value}, name, phrase) for name, value, phrase in [
        ("mu", float("nan"), "mu must be finite, got nan"), ("mu", [0.0, float("inf")], "mu must be finite"),
        ("mu", [], "mu: expected a number or a 1D list"), ("mu", [[0.0]], "mu: expected a number or a 1D list"),
        ("mu", "0.5", "mu: expected a number"), ("mu", None, "mu: expected a number"), ("mu", [True], "mu"),
        ("mu", 1j, "mu: expected a number"), ("T", -1.0, "T must be >= 0, got -1.0"),
        ("T", [0.2, -0.1], "T must be >= 0"),
        ("T", float("nan"), "T must be finite"), ("T", "300", "T: expected a number"), ("T", [], "T: expected"),
        ("omega", float("inf"), "omega must be finite"), ("omega", "1", "omega: expected a number"),
        ("quantities", [], "quantities must not be empty"), ("quantities", ["anomalous_hal"], "did you mean"),
        ("quantities", 3, "quantities must be a name or a list"),
        ("degeneracy_tol", 0.5, "degeneracy_tol must be small against the band width"),
        ("refine", {"levls": 2}, "levls"), ("refine", {"levels": -1}, "levels must be an integer >= 0"),
        ("refine", {"subdivision": 1}, "subdivision must be an integer >= 2"), ("refine", "yes", "refine"),
        ("refine", {"subdivision": 100001}, "estimated time is above"), ("checkpoint", 5, "checkpoint"),
        ("scheduler", "", "scheduler"), ("max_elements", 10**15, "estimated memory is above"),
    ]]
    + [(change, option, phrase) for change, option, phrase in [
        ({"T": 0.0, "quantities": ["entropy_production"], "tau": 1.0}, "T", "T = 0 is accepted only for the Fermi-sea"),
        ({"quantities": ["drude"]}, "tau", "need the relaxation time tau"),
        ({"quantities": ["optical_conductivity"]}, "omega", "need the frequencies omega"),
        ({"mu": np.zeros(5000), "T": np.linspace(0.1, 1, 5000)}, "mu", "above the hard limit of 1e+07"),
        ({"omega": np.linspace(0, 1, 5000), "mu": np.zeros(5000), "quantities": ["optical_conductivity"]}, "omega",
         "above the hard limit of 1e+07")]]
)
API_MODEL_CASES = [
    (lambda: compute(None, **CALL), "model must be a qgtransport TightBinding"),
    (lambda: compute("qwz", **CALL), "got a string ('qwz')"),
    (lambda: compute(builtin_model("qwz", m=1e300), **CALL), "hoppings up to"),
    (lambda: builtin_model("qzw"), "did you mean 'qwz'"), (lambda: builtin_model("qwz", q=1), "no parameter(s) ['q']"),
    (lambda: builtin_model("qwz", m=float("nan")), "non-finite"),
    (lambda: compute(QWZ, **{**CALL, "mu": 0.0, "T": 0.2, "scan": "binned", "bin_width": 1e-15,
                             "quantities": ["drude"], "tau": 1.0}), "energy bins"),
    (lambda: compute(QWZ, **{**CALL, "T": 0.0, "scan": "binned"}), 'scan="binned" needs T > 0'),
]
TWO_BY_TWO = dict(lattice=np.eye(2), positions=np.zeros((2, 2)), R=[[0, 0]], H_R=np.array([[[1, 0], [0, -1]]]))
MODEL_CASES = [  # TightBinding(**{**TWO_BY_TWO, **change})
    (dict(lattice=np.zeros((2, 2))), "linearly dependent"), (dict(lattice=np.full((2, 2), np.nan)), "non-finite"),
    (dict(lattice=np.eye(4)), "dim 1, 2 or 3"), (dict(lattice=np.eye(3)), "R must be (nR, 3)"),
    (dict(positions=np.full((2, 2), np.nan)), "positions has a non-finite"),
    (dict(positions=[[0, 0]]), "positions must be"),
    (dict(R=[[0, 0.5]]), "R vectors must be integer"), (dict(R=[[0, 0], [1, 0]]), "2 R vectors but 1 hopping"),
    (dict(H_R=np.zeros((1, 2, 3))), "H_R must have shape"),
    (dict(H_R=np.array([[[0, 1], [0, 0]]])), "H(-R) != H(R)^dagger"),
    (dict(H_R=np.array([[[np.nan, 0], [0, 0]]])), "non-finite"),
    (dict(spin_degeneracy=3), "spin_degeneracy must be 1 or 2"),
    (dict(energy_unit="furlong"), "energy_unit"),
]
DENSITY_CASES = [  # perturbed_density_matrix(QWZ, k, mu=0, T=300, tau=10, **change)
    (dict(mu=float("nan")), "mu must be finite"), (dict(mu="1"), "mu: expected a number"),
    (dict(T=0.0), "T must be finite and > 0"),
    (dict(T=-1.0), "T must be finite and > 0"), (dict(T=[300, 400]), "T: expected a number"),
    (dict(tau=0.0), "tau must be"),
    (dict(tau=float("inf")), "tau must be finite"), (dict(order=3), "order must be 1 or 2"),
    (dict(basis="x"), "basis must be"),
    (dict(units="cgs"), "units must be"), (dict(k=[[float("nan"), 0.0]]), "k must be finite"),
    (dict(k=[[0.1, 0.2, 0.3]]), "k must have 2 Cartesian components"), (dict(k="a"), "k must be an array"),
    (dict(model=None), "model must be a qgtransport TightBinding"),
]
VALID_API = [
    dict(nk=8.0), dict(nk=np.int64(8)), dict(nk=(8, 4)), dict(shift=0.0), dict(shift=(0.0, 0.5)), dict(T=0.0),
    dict(mu=np.float32(0.5)), dict(mu=[0, 1, 2]), dict(degeneracy_tol=1e-9), dict(refine=True), dict(force=True),
    dict(quantities="anomalous_hall"), dict(checkpoint=Path("folder")),
]


@pytest.mark.parametrize("change, option, phrase", API_CASES, ids=[f"api-{i}" for i in range(len(API_CASES))])
def test_bad_api_options(change, option, phrase):
    with pytest.raises(ValueError) as info:
        compute(QWZ, **{**CALL, **change})
    assert option in str(info.value) and phrase in str(info.value), str(info.value)


@pytest.mark.parametrize("call, phrase", API_MODEL_CASES)
def test_bad_api_models(call, phrase):
    with pytest.raises(ValueError) as info:
        call()
    assert phrase in str(info.value), str(info.value)


@pytest.mark.parametrize("change, phrase", MODEL_CASES)
def test_bad_tight_binding_models(change, phrase):
    with pytest.raises(ValueError) as info:
        TightBinding(**{**TWO_BY_TWO, **change})
    assert phrase in str(info.value), str(info.value)


@pytest.mark.parametrize("change, phrase", DENSITY_CASES)
def test_bad_perturbed_density_matrix_calls(change, phrase):
    given = {"model": QWZ, "k": [[0.1, 0.2]], "mu": 0.0, "T": 300.0, "tau": 10.0, **change}
    with pytest.raises(ValueError) as info:
        perturbed_density_matrix(given.pop("model"), given.pop("k"), **given)
    assert phrase in str(info.value), str(info.value)


@pytest.mark.parametrize("change", VALID_API, ids=[f"valid-{i}" for i in range(len(VALID_API))])
def test_valid_api_options_are_accepted(change):
    """Checked without running: the options and the scans pass their types."""
    given = {**CALL, **change}
    check_options(QWZ, {k: v for k, v in given.items() if k in ComputeOptions.model_fields})
    check_scans(given["mu"], given["T"])


# ---------------------------------------------------------------------------------------------
# The tally
# ---------------------------------------------------------------------------------------------


def tally() -> dict:
    readers = len(READER_CASES) + len(READER_API_CASES) + 1  # + the valid tiny model
    config = len(CONFIG_CASES) + len(VALID_CONFIGS)
    cli = len(CLI_CASES) + len(VALID_COMMANDS)
    api = len(API_CASES) + len(API_MODEL_CASES) + len(MODEL_CASES) + len(DENSITY_CASES) + len(VALID_API)
    valid = 1 + len(VALID_CONFIGS) + len(VALID_COMMANDS) + len(VALID_API)
    tried = readers + config + cli + api
    return dict(tried=tried, clear_error=tried - valid, valid=valid, readers=readers, config=config, cli=cli, api=api)


def tally_line() -> str:
    t = tally()
    return (f"tried {t['tried']}: clear error {t['clear_error']}, accepted as valid {t['valid']}\n"
            f"    (readers {t['readers']}, configuration {t['config']}, command line {t['cli']}, "
            f"Python API {t['api']})")


def test_tally_is_up_to_date():
    assert tally()["tried"] >= 250
    assert tally_line() in __doc__, tally_line()


if __name__ == "__main__":  # pragma: no cover
    print(tally_line())


# ---------------------------------------------------------------------------------------------
# Fuzzing the configuration: any value under any key gives a configuration or a ConfigError
# ---------------------------------------------------------------------------------------------

TOML_VALUES = ["0", "1", "-1", "2.5", "1e308", "-1e-308", "nan", "inf", "-inf", "true", "false", "''", "'x'",
               "'pi/2'", "'0:1:3'", "'1:0:2'", "'0:1:99999999'", "[]", "[1, 2]", "[1, 2, 3, 4]", "[[0, 0], [1, 1]]",
               "['a']", "{ }", "{ levels = 2 }", "{ start = 0, stop = 1, num = 2 }", "99999999999999999999",
               "'auto'", "'qwz'", "'anomalous_hall'", "'binned'", "'/proc/x'", "1979-05-27"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(TOML_VALUES)), min_size=1, max_size=4,
                        unique_by=lambda entry: entry[0]))
def test_fuzzed_configurations_give_a_configuration_or_a_named_error(entries):
    tables: dict = {}
    for (table, key), value in entries:
        tables.setdefault(table, {})[key] = value
    tables.setdefault("model", {}).setdefault("builtin", "'qwz'")
    tables.setdefault("scan", {}).setdefault("mu", "0")
    tables["scan"].setdefault("T", "300")
    text = "".join(f"[{t}]\n" + "".join(f"{k} = {v}\n" for k, v in body.items()) for t, body in tables.items())
    try:
        parse_config(text, source="fuzz.toml")
    except ConfigError as error:
        assert str(error).startswith("fuzz.toml") and error.problems


PYTHON_VALUES = [0, 1, -1, 2.5, 8, 16.0, 1e308, float("nan"), float("inf"), True, None, "", "x", "auto", "binned",
                 [], [8, 8], (0.5, 0.5), [1, 2, 3, 4], {"levels": 2}, {"x": 1}, np.int64(4), np.float32(0.5),
                 np.array([1.0, 2.0]), object(), 1j, b"8"]


@settings(max_examples=300, deadline=None)
@given(entries=st.dictionaries(st.sampled_from(sorted(ComputeOptions.model_fields)), st.sampled_from(PYTHON_VALUES),
                               min_size=1, max_size=4))
def test_fuzzed_api_options_give_options_or_a_value_error(entries):
    """check_options (what compute runs on entry) accepts or raises a ValueError, nothing else."""
    try:
        check_options(QWZ, {"nk": 8, **entries})
    except ValueError as error:
        assert str(error)
