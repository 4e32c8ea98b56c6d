"""Run configuration: one TOML file that names everything a run needs (`qgt run CONFIG`).

The file is read with `tomllib` and checked against `SCHEMA`, a table of every key with its type,
default, allowed range and a one-line help text (the same text that `qgt init` writes as comments
and docs/configuration.md lists). Every problem is collected and reported together, each naming the
table, the key and what is wrong (an unknown key, a wrong type, a value out of range), as one
`ConfigError` (a ValueError); nothing in here lets a traceback reach the user.

Layout (all tables optional except [model]; the values shown are the defaults):

    units = "SI"            # SI: mu in eV, T in K, tau in fs; natural: k_B = e = hbar = 1
    [model]                 # exactly one of builtin, wannier90, file
    builtin = "qwz"
    parameters = { m = -1.0 }
    [grid]      nk = 96, shift = 0.5, error_estimate = true
    [scan]      mu = {start = -4, stop = 4, num = 81}, T = [750, 1500, 3000], omega = ...
    [physics]   tau = 10.0, quantities = [...], kernel, rho1, broadening, width
    [field]     direction = [1, 0] (integers n of g = n . b), strength (V/m in SI)
    [execution] executor, workers, scheduler, checkpoint, task_size, progress (+ any key compute takes)
    [output]    folder, name, report, json, dpi
    [report]    path_labels, path_points, band_points, bz_nk, band, density_mu, density_T, title
    [checks]    relations, mu_points, exact, exact_nk, exact_mu, exact_T, tolerance
"""

from __future__ import annotations

import ast
import difflib
import inspect
import json
import math
import operator
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qgtransport.compute import BROADENINGS, KERNELS, RHO1, UNITS
from qgtransport.engine.executors import EXECUTORS
from qgtransport.responses import RESPONSES

RELATION_CHECKS = ("onsager", "positivity", "maxwell", "mott", "sommerfeld", "equilibrium_current",
                   "optical_ratio")


class ConfigError(ValueError):
    """Problems found in a configuration file; `problems` lists them, one line each."""

    def __init__(self, problems, source: str = "config"):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        if len(self.problems) == 1:
            message = f"{source}: {self.problems[0]}"
        else:
            message = f"{source} has {len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


# ---------------------------------------------------------------- schema

@dataclass(frozen=True)
class Key:
    """One configuration key: its kind, default, help text and allowed range.

    kind: "integer", "number", "boolean", "string", "choice" (one of `choices`), "spec" (numbers:
    a number, a list, {start, stop, num} or "start:stop:num"), "strings" (list of strings),
    "integers", "matrix" (list of lists of numbers), "parameters" (table of numbers), "nk" (an
    integer or one per direction), "path" (a file or folder, relative to the config file),
    "companion" (a path, "auto", or false), "any" (passed on unchecked).
    low / high: bounds; low_open / high_open make them exclusive.
    """

    kind: str
    default: object = None
    help: str = ""
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False


SCHEMA: dict[str, dict[str, Key]] = {
    "": {
        "units": Key("choice", "SI", "SI: mu in eV, T in K, tau in fs, results in SI; natural: k_B = e = hbar = 1",
                     choices=UNITS),
    },
    "model": {
        "builtin": Key("string", None, "a built-in model (qgt models lists them)"),
        "parameters": Key("parameters", {}, "parameters of the built-in model, e.g. { m = -1.0 }; "
                          "numbers or expressions such as \"pi/2\""),
        "wannier90": Key("path", None, "a Wannier90 seedname_hr.dat or seedname_tb.dat file"),
        "wsvec": Key("companion", "auto", "Wannier90 seedname_wsvec.dat: a path, \"auto\" (beside the model file) "
                     "or false"),
        "win": Key("companion", "auto", "Wannier90 seedname.win: a path, \"auto\" or false"),
        "centres": Key("companion", "auto", "Wannier90 seedname_centres.xyz (_hr.dat only): a path, \"auto\" or false"),
        "lattice": Key("matrix", None, "lattice vectors as rows in Angstrom (Wannier90 _hr.dat without a .win)"),
        "spin_degeneracy": Key("integer", None, "electrons per band state, 1 or 2 (default: from the .win)",
                               low=1, high=2),
        "file": Key("path", None, "a qgtransport model file (netCDF, qgtransport.models.write_model)"),
        "name": Key("string", None, "a label for the model in the outputs"),
    },
    "grid": {
        "nk": Key("nk", 96, "k-points per reciprocal direction: an integer or one per direction", low=2),
        "shift": Key("number", 0.5, "grid offset in units of the grid step (0.5: no point at Gamma)", low=0.0,
                     high=1.0, high_open=True),
        "error_estimate": Key("boolean", True, "also integrate on nk/2 and store |I(nk) - I(nk/2)| as <name>_error"),
    },
    "scan": {
        "mu": Key("spec", None, "chemical potentials (eV): a number, a list, {start, stop, num} or \"start:stop:num\""),
        "T": Key("spec", None, "temperatures (K in SI units), > 0", low=0.0, low_open=True),
        "omega": Key("spec", None, "frequencies hbar omega (eV) for the AC and optical responses"),
    },
    "physics": {
        "tau": Key("number", None, "relaxation time (fs in SI units); needed by the entropy production and Drude "
                   "terms", low=0.0, low_open=True),
        "quantities": Key("strings", None, "responses to compute (default: every linear DC response tau allows)",
                          choices=tuple(RESPONSES)),
        "kernel": Key("choice", "divided_difference", "interband entropy-production kernel (ERRATA E1)",
                      choices=KERNELS),
        "rho1": Key("choice", "finite_eta", "first-order density matrix: Eq. 13 at omega = 0 or Eq. 14 (ERRATA E2)",
                    choices=RHO1),
        "broadening": Key("choice", "gaussian", "delta function of the optical responses (Eqs. 32-33)",
                          choices=BROADENINGS),
        "width": Key("number", 0.02, "width of the broadened delta function (eV)", low=0.0, low_open=True),
    },
    "field": {
        "direction": Key("integers", None, "field along g = n1 b1 + n2 b2 (+ n3 b3), integers (default b1): the "
                         "entropy-production map and the exact-solver check"),
        "strength": Key("number", None, "field strength (V/m in SI units): the report gives Pi at this field and "
                        "E tau against the perturbative limit", low=0.0, low_open=True),
    },
    "execution": {
        "executor": Key("choice", "auto", "where the k-chunks run: auto (worker processes for long runs on several "
                        "cores), serial, processes or dask", choices=EXECUTORS),
        "workers": Key("integer", None, "worker processes (default: available cores)", low=1),
        "scheduler": Key("string", None, "address of a running Dask scheduler (executor = \"dask\")"),
        "checkpoint": Key("path", None, "folder for finished chunks; a rerun resumes from them"),
        "task_size": Key("integer", None, "k-points per task (unit of scheduling and checkpointing)", low=1),
        "progress": Key("boolean", None, "progress bar over the k-grid (default: when stderr is a terminal)"),
    },
    "output": {
        "folder": Key("path", "qgt-run", "output folder (relative to the config file)"),
        "name": Key("string", "run", "file stem: <name>.nc and <name>.json"),
        "report": Key("boolean", True, "write report.html and figures/*.png"),
        "json": Key("boolean", True, "write the JSON summary <name>.json"),
        "dpi": Key("integer", 110, "resolution of the figures", low=50, high=600),
    },
    "report": {
        "title": Key("string", None, "title of the report (default: from the model)"),
        "path_labels": Key("strings", None, "labels of the band-structure path vertices, e.g. [\"G\", \"X\", \"M\", "
                           "\"G\"] (default: the lattice's high-symmetry path)"),
        "path_points": Key("matrix", None, "the vertices in reduced coordinates (fractions of b1, b2, b3)"),
        "band_points": Key("integer", 240, "k-points along the band-structure path", low=2, high=100000),
        "bz_nk": Key("integer", 101, "grid of the Brillouin-zone maps (per direction)", low=4, high=2001),
        "band": Key("integer", 0, "band of the Berry-curvature and quantum-metric maps (0 = lowest)", low=0),
        "density_mu": Key("number", None, "mu of the entropy-production density map (default: where Pi_xx is "
                          "largest at density_T)"),
        "density_T": Key("number", None, "T of the density map (default: the lowest T)", low=0.0, low_open=True),
    },
    "checks": {
        "relations": Key("strings", None, "relation checks (default: every one the quantities allow)",
                         choices=RELATION_CHECKS),
        "mu_points": Key("integer", 3, "chemical potentials at which Maxwell and Mott/Sommerfeld are checked",
                         low=1, high=50),
        "exact": Key("boolean", False, "compare with the exact steady-state solver (qgt verify)"),
        "exact_nk": Key("integer", 32, "grid of the exact-solver check (its cost grows fast)", low=4, high=512),
        "exact_mu": Key("number", None, "mu of the exact-solver check (default: density_mu)"),
        "exact_T": Key("number", None, "T of the exact-solver check (default: density_T)", low=0.0, low_open=True),
        "tolerance": Key("number", 1e-3, "relative difference that counts as agreement (exact solver)", low=0.0,
                         low_open=True),
    },
}

TABLE_HELP = {
    "model": "the model: exactly one of builtin, wannier90 or file",
    "grid": "the uniform k-grid",
    "scan": "chemical potentials, temperatures and frequencies",
    "physics": "relaxation time, responses and options (docs/conventions.md)",
    "field": "the electric field of the entropy-production map and the exact-solver check",
    "execution": "executors; any other key that qgtransport.compute accepts is passed on",
    "output": "files written",
    "report": "the HTML report",
    "checks": "relation and exact-solver checks shown in the report",
}


# ---------------------------------------------------------------- the validated configuration

@dataclass(frozen=True)
class ModelSpec:
    """Which model, before it is built: builtin name and parameters, or a file with its companions."""

    builtin: str | None = None
    parameters: dict = field(default_factory=dict)
    wannier90: Path | None = None
    wsvec: object = "auto"
    win: object = "auto"
    centres: object = "auto"
    lattice: list | None = None
    spin_degeneracy: int | None = None
    file: Path | None = None
    name: str | None = None


@dataclass(frozen=True)
class RunConfig:
    """A validated run configuration. `tables` holds every table with defaults filled in (what
    `to_json` stores in the outputs); `text` is the file as written."""

    units: str
    model: ModelSpec
    nk: object
    shift: float
    error_estimate: bool
    mu: np.ndarray
    T: np.ndarray
    omega: np.ndarray | None
    tau: float | None
    quantities: tuple | None
    kernel: str
    rho1: str
    broadening: str
    width: float
    direction: tuple | None
    strength: float | None
    execution: dict
    output: dict
    report: dict
    checks: dict
    tables: dict
    text: str = ""
    source: str = "config"
    base: Path = Path(".")

    @property
    def folder(self) -> Path:
        return self.output["folder"]

    def compute_options(self) -> dict:
        """Keyword arguments of qgtransport.compute (the model and quantities aside)."""
        options = dict(mu=self.mu, T=self.T, tau=self.tau, nk=self.nk, shift=self.shift, units=self.units,
                       kernel=self.kernel, rho1=self.rho1, broadening=self.broadening, width=self.width,
                       error_estimate=self.error_estimate)
        if self.omega is not None:
            options["omega"] = self.omega
        options.update({k: (str(v) if isinstance(v, Path) else v) for k, v in self.execution.items()
                        if v is not None})
        return options

    def to_json(self) -> str:
        """The configuration with every default filled in, as JSON (stored in the outputs)."""
        return json.dumps(self.tables, default=_jsonable, sort_keys=False)


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return str(value)


# ---------------------------------------------------------------- reading

def load_config(path) -> RunConfig:
    """Read and validate a TOML run configuration; raises ConfigError listing every problem."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such file", source) from None
    except IsADirectoryError:
        raise ConfigError("is a folder, not a TOML file", source) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"is not UTF-8 text ({exc.reason} at byte {exc.start})", source) from None
    except OSError as exc:
        raise ConfigError(f"cannot be read: {exc.strerror}", source) from None
    return parse_config(text, source=source, base=path.resolve().parent)


def parse_config(text: str, *, source: str = "config", base=None) -> RunConfig:
    """Validate TOML text (relative paths are taken from `base`, default the current folder)."""
    base = Path.cwd() if base is None else Path(base)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source) from None
    checker = _Checker(base)
    tables = checker.check_tables(data)
    if checker.problems:
        raise ConfigError(checker.problems, source)
    config = _assemble(tables, checker, text, source, base)
    if checker.problems:
        raise ConfigError(checker.problems, source)
    return config


class _Checker:
    def __init__(self, base: Path):
        self.base = base
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def check_tables(self, data: dict) -> dict:
        out = {}
        top_keys = {k: v for k, v in data.items() if not isinstance(v, dict)}
        for name, value in data.items():
            if isinstance(value, dict) and name not in SCHEMA:
                close = difflib.get_close_matches(name, [t for t in SCHEMA if t], n=1, cutoff=0.6)
                hint = f" (did you mean [{close[0]}]?)" if close else ""
                self.problems.append(f"unknown table [{name}]{hint}; "
                                     f"tables are {', '.join(f'[{t}]' for t in SCHEMA if t)}")
            elif isinstance(value, dict) and name == "":
                self.problems.append("unknown table [\"\"]")
        for name in SCHEMA:
            if name == "":
                table = top_keys
            else:
                table = data.get(name, {})
                if not isinstance(table, dict):
                    self.problem(name, f"must be a table ([{name}]), got {_describe(table)}")
                    table = {}
            out[name] = self.check_table(name, table)
        return out

    def check_table(self, name: str, table: dict) -> dict:
        schema = SCHEMA[name]
        out = {}
        where_table = "top level" if name == "" else f"[{name}]"
        for key, value in table.items():
            if key not in schema:
                if name == "execution" and key in compute_parameters():
                    out[key] = value  # a newer compute option: passed on as it is
                    continue
                allowed = list(schema) + (sorted(set(compute_parameters()) - set(schema) - _NOT_EXECUTION)
                                          if name == "execution" else [])
                self.problem(where_table, f"unknown key {key!r}{_suggest(key, allowed)}; allowed: {', '.join(allowed)}")
        for key, spec in schema.items():
            where = f"{where_table} {key}" if name else key
            if key in table:
                out[key] = self.check_value(where, spec, table[key])
            elif spec.kind == "path" and spec.default is not None:
                out[key] = self.check_value(where, spec, spec.default)  # relative to the config's folder
            else:
                out[key] = spec.default
        return out

    # one value -------------------------------------------------------------------------------
    def check_value(self, where: str, spec: Key, value):
        try:
            return _CHECKS[spec.kind](self, spec, value)
        except _Bad as bad:
            self.problem(where, str(bad))
            return spec.default

    def number(self, spec: Key, value, what="a number"):
        if isinstance(value, str):
            number = _expression(value)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Bad(f"expected {what}, got {_describe(value)}")
        else:
            number = float(value)
        if not math.isfinite(number):
            raise _Bad(f"must be finite, got {value!r}")
        _in_range(spec, number, value)
        return number

    def integer(self, spec: Key, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(f"expected an integer, got {_describe(value)}")
        _in_range(spec, value, value)
        return int(value)


class _Bad(Exception):
    pass


_NOT_EXECUTION = {"model", "quantities", "mu", "T", "tau", "nk", "omega", "shift", "units", "kernel", "rho1",
                  "broadening", "width", "error_estimate"}


def compute_parameters() -> dict:
    """Keyword parameters of qgtransport.compute (so that [execution] passes on what it accepts)."""
    from qgtransport.compute import compute

    return dict(inspect.signature(compute).parameters)


def _describe(value) -> str:
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "a table"}
    kind = kinds.get(type(value), type(value).__name__)
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{kind} ({shown})"


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _in_range(spec: Key, number, shown) -> None:
    if spec.low is not None and (number < spec.low or (spec.low_open and number == spec.low)):
        raise _Bad(f"must be {'>' if spec.low_open else '>='} {spec.low:g}, got {shown!r}")
    if spec.high is not None and (number > spec.high or (spec.high_open and number == spec.high)):
        raise _Bad(f"must be {'<' if spec.high_open else '<='} {spec.high:g}, got {shown!r}")


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}


def evaluate_number(text: str) -> float:
    """A number written as text: "1.5", "pi/2", "-2*pi/3", "sqrt(3)/2"; ValueError otherwise.

    Shared by the config and the command line (cli.parse_number)."""
    def evaluate(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id == "pi":
            return math.pi
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](evaluate(node.left), evaluate(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](evaluate(node.operand))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sqrt"
                and len(node.args) == 1 and not node.keywords):
            return math.sqrt(evaluate(node.args[0]))
        raise ValueError
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float(evaluate(ast.parse(text.strip(), mode="eval").body))
    except (SyntaxError, ZeroDivisionError, TypeError, OverflowError):
        raise ValueError(text) from None


def split_range(text: str) -> tuple[str, str, int]:
    """"start:stop:num" -> (start text, stop text, num >= 1); ValueError naming the problem.

    Shared by the config and the command line (cli.parse_spec)."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"{text!r} must be start:stop:num, e.g. -3:3:61")
    try:
        num = int(parts[2])
    except ValueError:
        raise ValueError(f"the number of points in {text!r} must be an integer >= 1") from None
    if num < 1:
        raise ValueError(f"the number of points in {text!r} must be >= 1, got {num}")
    return parts[0], parts[1], num


def _expression(text: str) -> float:
    """evaluate_number, with the config's error."""
    try:
        return evaluate_number(text)
    except ValueError:
        raise _Bad(f"{text!r} is not a number (write e.g. 1.5, -2e-3, \"pi/2\" or \"sqrt(3)/2\")") from None


def _check_integer(checker, spec, value):
    return checker.integer(spec, value)


def _check_number(checker, spec, value):
    return checker.number(spec, value)


def _check_boolean(checker, spec, value):
    if not isinstance(value, bool):
        raise _Bad(f"expected true or false, got {_describe(value)}")
    return value


def _check_string(checker, spec, value):
    if not isinstance(value, str):
        raise _Bad(f"expected a string, got {_describe(value)}")
    if not value.strip():
        raise _Bad("must not be empty")
    return value


def _check_choice(checker, spec, value):
    if not isinstance(value, str):
        raise _Bad(f"expected one of {', '.join(map(repr, spec.choices))}, got {_describe(value)}")
    if value not in spec.choices:
        raise _Bad(f"{value!r} is not one of {', '.join(map(repr, spec.choices))}{_suggest(value, spec.choices)}")
    return value


def _check_strings(checker, spec, value):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad(f"expected a list of strings, got {_describe(value)}")
    if not value:
        raise _Bad("must not be empty")
    if spec.choices:
        unknown = [v for v in value if v not in spec.choices]
        if unknown:
            hint = _suggest(unknown[0], spec.choices)
            raise _Bad(f"unknown {'entry' if len(unknown) == 1 else 'entries'} {', '.join(map(repr, unknown))}"
                       f"{hint}; allowed: {', '.join(spec.choices)}")
        return tuple(dict.fromkeys(value))  # a name asked for twice is computed once
    return tuple(value)


def _check_integers(checker, spec, value):
    if not isinstance(value, list) or not value or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise _Bad(f"expected a list of integers, e.g. [1, 0], got {_describe(value)}")
    if not 1 <= len(value) <= 3:
        raise _Bad(f"expected 1 to 3 integers, got {len(value)}")
    if all(v == 0 for v in value):
        raise _Bad("must not be all zero")
    return tuple(int(v) for v in value)


def _check_matrix(checker, spec, value):
    if not isinstance(value, list) or not value or not all(isinstance(row, list) and row for row in value):
        raise _Bad(f"expected a list of lists of numbers, e.g. [[0, 0], [0.5, 0]], got {_describe(value)}")
    rows = [[checker.number(Key("number"), x) for x in row] for row in value]
    if len({len(row) for row in rows}) != 1:
        raise _Bad("every row must have the same number of entries")
    return rows


def _check_parameters(checker, spec, value):
    if not isinstance(value, dict):
        raise _Bad(f"expected a table of numbers, e.g. {{ m = -1.0 }}, got {_describe(value)}")
    out = {}
    bad = []
    for key, item in value.items():
        try:
            out[key] = checker.number(Key("number"), item)
        except _Bad as exc:
            bad.append(f"{key}: {exc}")
    if bad:
        raise _Bad("; ".join(bad))
    return out


def _check_nk(checker, spec, value):
    if isinstance(value, list):
        if not 1 <= len(value) <= 3:
            raise _Bad(f"expected an integer or 1 to 3 integers, got {len(value)} entries")
        return tuple(checker.integer(spec, v) for v in value)
    return checker.integer(spec, value)


def _check_path(checker, spec, value):
    text = _check_string(checker, spec, value)
    path = Path(text).expanduser()
    return path if path.is_absolute() else checker.base / path


def _check_companion(checker, spec, value):
    if value is False:
        return None
    if value == "auto":
        return "auto"
    if value is True:
        raise _Bad("expected a path, \"auto\" or false, got true")
    return _check_path(checker, spec, value)


def _check_spec(checker, spec, value):
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"start", "stop", "num"})
        if unknown or not {"start", "stop", "num"} <= set(value):
            raise _Bad(f"a range is {{ start = ..., stop = ..., num = ... }}, got keys {sorted(value)}")
        start = checker.number(Key("number"), value["start"])
        stop = checker.number(Key("number"), value["stop"])
        num = checker.integer(Key("integer", low=1), value["num"])
        values = np.linspace(start, stop, num)
    elif isinstance(value, str) and ":" in value:
        try:
            start, stop, num = split_range(value)
        except ValueError as err:
            raise _Bad(str(err)) from None
        values = np.linspace(_expression(start), _expression(stop), num)
    elif isinstance(value, list):
        if not value:
            raise _Bad("must not be an empty list")
        values = np.array([checker.number(Key("number"), v) for v in value])
    else:
        values = np.array([checker.number(Key("number"), value, "a number, a list or {start, stop, num}")])
    for v in values:
        _in_range(spec, float(v), float(v))
    return values


_CHECKS = {
    "integer": _check_integer, "number": _check_number, "boolean": _check_boolean, "string": _check_string,
    "choice": _check_choice, "strings": _check_strings, "integers": _check_integers, "matrix": _check_matrix,
    "parameters": _check_parameters, "nk": _check_nk, "path": _check_path, "companion": _check_companion,
    "spec": _check_spec, "any": lambda checker, spec, value: value,
}


# ---------------------------------------------------------------- cross-key checks

def _assemble(tables: dict, checker: _Checker, text: str, source: str, base: Path) -> RunConfig:
    model = tables["model"]
    kinds = [k for k in ("builtin", "wannier90", "file") if model[k] is not None]
    if len(kinds) != 1:
        checker.problem("[model]", "give exactly one of builtin, wannier90 or file"
                        + (f" (got {', '.join(kinds)})" if kinds else ""))
    if model["builtin"] is not None:
        from qgtransport.models import BUILTIN_MODELS

        if model["builtin"] not in BUILTIN_MODELS:
            checker.problem("[model] builtin", f"{model['builtin']!r} is not a built-in model"
                            f"{_suggest(model['builtin'], BUILTIN_MODELS)}; built-in models: "
                            f"{', '.join(BUILTIN_MODELS)}")
        else:
            allowed = list(inspect.signature(BUILTIN_MODELS[model["builtin"]]).parameters)
            for key in model["parameters"]:
                if key not in allowed:
                    checker.problem(f"[model] parameters {key}", f"unknown parameter of {model['builtin']!r}"
                                    f"{_suggest(key, allowed)}; it takes {', '.join(allowed)}")
    elif model["parameters"]:
        checker.problem("[model] parameters", "only built-in models take parameters")
    wannier_only = [k for k in ("lattice", "spin_degeneracy") if model[k] is not None]
    if wannier_only and model["wannier90"] is None:
        checker.problem("[model]", f"{', '.join(wannier_only)} only apply to wannier90 models")
    for key in ("wannier90", "file"):
        path = model[key]
        if path is not None and not Path(path).is_file():
            checker.problem(f"[model] {key}", f"no such file: {path}")
    if model["wannier90"] is not None and not str(model["wannier90"]).endswith(("_hr.dat", "_tb.dat")):
        checker.problem("[model] wannier90", f"expected a seedname_hr.dat or seedname_tb.dat file, got "
                        f"{Path(model['wannier90']).name!r}")
    if model["lattice"] is not None and (len(model["lattice"]) != 3 or len(model["lattice"][0]) != 3):
        checker.problem("[model] lattice", "expected 3 rows of 3 numbers (Angstrom)")

    scan, physics, field_table = tables["scan"], tables["physics"], tables["field"]
    for key in ("mu", "T"):
        if scan[key] is None:
            checker.problem(f"[scan] {key}", "missing (required)")
    quantities = physics["quantities"]
    if quantities is not None:
        needing_tau = [q for q in quantities if RESPONSES[q].needs_tau]
        if needing_tau and physics["tau"] is None:
            checker.problem("[physics] tau", f"missing: {', '.join(needing_tau)} need the relaxation time")
        needing_omega = [q for q in quantities if RESPONSES[q].frequency]
        if needing_omega and scan["omega"] is None:
            checker.problem("[scan] omega", f"missing: {', '.join(needing_omega)} need the frequencies")
    execution = {k: v for k, v in tables["execution"].items() if v is not None}
    accepted = compute_parameters()
    for key in execution:
        if key not in accepted:
            checker.problem(f"[execution] {key}", "this version of qgtransport.compute does not accept it")
    if execution.get("scheduler") is not None and execution.get("executor", "auto") not in ("dask", "auto"):
        checker.problem("[execution] scheduler", "only used with executor = \"dask\"")
    report = tables["report"]
    if (report["path_labels"] is None) != (report["path_points"] is None):
        checker.problem("[report]", "give both path_labels and path_points, or neither")
    elif report["path_labels"] is not None:
        if len(report["path_labels"]) != len(report["path_points"]):
            checker.problem("[report] path_points", f"{len(report['path_points'])} points for "
                            f"{len(report['path_labels'])} labels")
        if len(report["path_points"]) < 2:
            checker.problem("[report] path_points", "a path needs at least 2 points")
    checks = tables["checks"]
    if checks["exact"] and physics["tau"] is None:
        checker.problem("[checks] exact", "the exact-solver check needs [physics] tau")
    output = dict(tables["output"])
    if "/" in output["name"] or output["name"] in (".", ".."):
        checker.problem("[output] name", f"a file stem without folders, got {output['name']!r}")
    if not checker.problems:
        spec = ModelSpec(**{k: model[k] for k in ModelSpec.__dataclass_fields__})
    else:
        spec = ModelSpec()
    return RunConfig(
        units=tables[""]["units"], model=spec, nk=tables["grid"]["nk"], shift=tables["grid"]["shift"],
        error_estimate=tables["grid"]["error_estimate"], mu=scan["mu"], T=scan["T"], omega=scan["omega"],
        tau=physics["tau"], quantities=quantities, kernel=physics["kernel"], rho1=physics["rho1"],
        broadening=physics["broadening"], width=physics["width"], direction=field_table["direction"],
        strength=field_table["strength"], execution=execution, output=output, report=dict(report),
        checks=dict(checks), tables=tables, text=text, source=source, base=base,
    )


# ---------------------------------------------------------------- the model

def build_model(config: RunConfig):
    """The TightBinding model the configuration names; ConfigError (naming the key) if it cannot be
    built. Warnings of the file readers (e.g. a missing _wsvec.dat) are returned with it."""
    spec = config.model
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ResourceWarning)  # a reader's unclosed file is not the user's business
        model = _build(spec, config.source)
    model = _check_against_model(config, model)
    return model, [str(w.message) for w in caught]


def _build(spec: ModelSpec, source: str):
    if spec.builtin is not None:
        from qgtransport.models import builtin_model

        try:
            model = builtin_model(spec.builtin, **spec.parameters)
        except (ValueError, OverflowError, ZeroDivisionError) as exc:
            raise ConfigError(f"[model] parameters: {exc}", source) from None
        return model
    if spec.file is not None:
        from qgtransport.models import read_model

        try:
            return read_model(spec.file)
        except (ValueError, OSError) as exc:
            raise ConfigError(f"[model] file: {exc}", source) from None
    try:
        from qgtransport.models.wannier90 import read_hr, read_tb
    except ImportError as exc:
        raise ConfigError(f"[model] wannier90: this installation has no Wannier90 reader "
                          f"(qgtransport.models.wannier90: {exc})", source) from None
    path = str(spec.wannier90)
    options = dict(wsvec=_companion(spec.wsvec), win=_companion(spec.win), spin_degeneracy=spec.spin_degeneracy,
                   name=spec.name)
    try:
        if path.endswith("_tb.dat"):
            if spec.lattice is not None or spec.centres != "auto":
                raise ConfigError("[model] lattice and centres are read from the _tb.dat file itself; "
                                  "remove them", source)
            return read_tb(path, **options)
        return read_hr(path, centres=_companion(spec.centres), lattice=spec.lattice, **options)
    except ConfigError:
        raise
    except (ValueError, OSError) as exc:
        raise ConfigError(f"[model] wannier90: {exc}", source) from None


def _companion(value):
    return str(value) if isinstance(value, Path) else value


def _check_against_model(config: RunConfig, model):
    problems = []
    d = model.dim
    if isinstance(config.nk, tuple) and len(config.nk) != d:
        problems.append(f"[grid] nk: {len(config.nk)} entries for a {d}D model; give one integer or {d}")
    if config.direction is not None and len(config.direction) != d:
        problems.append(f"[field] direction: {len(config.direction)} integers for a {d}D model; give {d}")
    points = config.report["path_points"]
    if points is not None and len(points[0]) != d:
        problems.append(f"[report] path_points: points have {len(points[0])} coordinates; the model is {d}D")
    if config.report["band"] >= model.norb:
        problems.append(f"[report] band: {config.report['band']} but the model has {model.norb} bands "
                        f"(0..{model.norb - 1})")
    if problems:
        raise ConfigError(problems, config.source)
    return model


# ---------------------------------------------------------------- qgt init

EXAMPLE = '''\
# qgtransport run configuration: `qgt run {name}` computes, writes the dataset and a report.
# Every key is optional except [model] and [scan] mu, T; the values shown are the defaults where
# one exists. Errors name the table and key. Documentation: docs/configuration.md.

units = "SI"                 # SI: mu in eV, T in K, tau in fs, results in SI units;
                             # "natural": k_B = e = hbar = 1 (T and tau in the model's energy units)

[model]                      # exactly one of builtin, wannier90, file
builtin = "{model}"              # `qgt models` lists the built-in models and their parameters
parameters = {{ {parameters} }}     # numbers, or expressions such as "pi/2"
# wannier90 = "lead_hr.dat"  # a Wannier90 seedname_hr.dat or _tb.dat (paths relative to this file)
# wsvec = "auto"             # seedname_wsvec.dat beside it ("auto"), a path, or false
# win = "auto"               # seedname.win: lattice, spinors, num_wann, fermi_energy
# centres = "auto"           # seedname_centres.xyz: the orbital positions (Berry curvature, metric)
# spin_degeneracy = 2        # electrons per band state; default from the .win
# file = "model.nc"          # a qgtransport model file (qgtransport.models.write_model)

[grid]
nk = {nk}                      # k-points per reciprocal direction (or one per direction: [96, 48])
shift = 0.5                  # grid offset in grid steps (0.5: no point at Gamma)
error_estimate = true        # also integrate on nk/2: <name>_error = |I(nk) - I(nk/2)|

[scan]
mu = {{ start = {mu_start}, stop = {mu_stop}, num = {mu_num} }}   # eV; or a list [0.0, 0.5] or "-4:4:81"
T = [750.0, 1500.0, 3000.0]  # K (k_B T = 0.065, 0.13, 0.26 eV)
# omega = "0:6:121"          # hbar omega (eV), for the AC and optical responses

[physics]
tau = 10.0                   # relaxation time (fs): the entropy production and Drude terms need it
# quantities = ["entropy_production", "entropy_hall", "anomalous_nernst", "anomalous_hall", "drude"]
                             # default: every linear DC response (qgtransport.responses.RESPONSES)
kernel = "divided_difference"  # interband entropy-production kernel; "printed" = Eq. 18 (ERRATA E1)
rho1 = "finite_eta"          # Eq. 13 at omega = 0; "dc_limit" = Eq. 14 (ERRATA E2)
# broadening = "gaussian"    # optical delta function: "gaussian" or "lorentzian"
# width = 0.02               # its width (eV)

[field]
direction = {direction}           # field along g = n . b (integers; [1, 0] = b1 = x for the square lattice)
# strength = 1e5             # V/m: the report gives Pi at this field and checks E tau < 0.2/Angstrom

[execution]
executor = "auto"            # "auto" (cores for long runs), "serial", "processes" or "dask"
# workers = 2                # worker processes (default: available cores)
# checkpoint = "checkpoint"  # folder of finished chunks: an interrupted run resumes from it
# progress = true            # progress bar (default: when stderr is a terminal)

[output]
folder = "qgt-run"           # relative to this file
name = "run"                 # run.nc (netCDF, units on every variable) and run.json
json = true                  # also the JSON summary run.json
report = true                # report.html (self-contained) and figures/*.png
dpi = 110

[report]
# title = "My model"
# path_labels = ["G", "X", "M", "G"]                        # band-structure path (default: the
# path_points = [[0, 0], [0.5, 0], [0.5, 0.5], [0, 0]]      # lattice's high-symmetry path), reduced
band_points = 240            # k-points along the path
bz_nk = 101                  # grid of the Brillouin-zone maps
band = 0                     # band of the Berry-curvature and quantum-metric maps (0 = lowest)
# density_mu = 1.5           # (mu, T) of the entropy-production density map; default: where Pi_xx
# density_T = 750.0          # is largest at the lowest T

[checks]
relations = ["onsager", "positivity", "maxwell", "mott", "sommerfeld", "equilibrium_current"]
mu_points = 3                # chemical potentials for Maxwell and Mott/Sommerfeld
exact = false                # true: compare with the exact steady-state solver (as `qgt verify`)
exact_nk = 32                # its grid (cost grows fast)
'''


def example_config(name: str = "qgt.toml", model: str = "qwz") -> str:
    """The commented example configuration that `qgt init` writes (valid as it is)."""
    from qgtransport.models import BUILTIN_MODELS

    if model not in BUILTIN_MODELS:
        raise ValueError(f"unknown model {model!r}; built-in models are {', '.join(BUILTIN_MODELS)}")
    defaults = {p.name: p.default for p in inspect.signature(BUILTIN_MODELS[model]).parameters.values()}
    parameters = ", ".join(f"{k} = {_toml_number(v)}" for k, v in defaults.items())
    from qgtransport.models import builtin_model

    instance = builtin_model(model)
    dim = instance.dim
    nk = {1: 512, 2: 96, 3: 24}[dim]
    direction = "[" + ", ".join(["1"] + ["0"] * (dim - 1)) + "]"
    k = np.stack(np.meshgrid(*([np.arange(24) / 24] * dim), indexing="ij"), axis=-1).reshape(-1, dim)
    energies = np.linalg.eigvalsh(instance.hamiltonian(instance.to_cartesian(k)))
    start = math.floor(energies.min() * 2) / 2 - 0.5
    stop = math.ceil(energies.max() * 2) / 2 + 0.5
    num = int(round((stop - start) / 0.1)) + 1
    return EXAMPLE.format(name=name, model=model, parameters=parameters, nk=nk, mu_start=_toml_number(start),
                          mu_stop=_toml_number(stop), mu_num=num, direction=direction)


def _toml_number(value: float) -> str:
    value = float(value)
    if value == math.pi / 2:
        return '"pi/2"'
    text = repr(value)
    return text


__all__ = ["ConfigError", "RunConfig", "ModelSpec", "SCHEMA", "Key", "RELATION_CHECKS", "load_config",
           "parse_config", "build_model", "example_config", "compute_parameters"]
