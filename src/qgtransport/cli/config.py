"""Run configuration: one TOML file that names everything a run needs (`qgt run CONFIG`).

Each table is a pydantic model (`ModelTable`, `GridTable`, ...; `RunConfig` holds them) whose fields
declare the type, the default, the allowed range and a description with the units. The types of
the compute options are those of `qgtransport.options`, the ones `compute` itself and the command
line check, so that the three boundaries cannot disagree. A key belongs to exactly one table; an
unknown key is an error with a suggestion. Every problem is collected and reported together, each
naming the table, the key and the value, as one `ConfigError` (a ValueError); nothing in here lets
a traceback reach the user.

Layout (all tables optional except [model] and [scan] mu, T; docs/configuration.md lists every key):

    units = "SI"            # SI: mu in eV, T in K, tau in fs; natural: k_B = e = hbar = 1
    [model]     builtin + parameters, or wannier90 (+ wsvec, win, centres, ...), or file; positions
    [grid]      nk, shift, error_estimate
    [scan]      mu, T, omega
    [physics]   tau, quantities, kernel, rho1, broadening, width, degeneracy_tol
    [field]     direction, strength
    [execution] executor, workers, scheduler, checkpoint, task_size, progress, scan, bin_width,
                refine, backend, max_elements, force
    [output]    folder, name, report, json, dpi
    [report]    title, path_labels, path_points, band_points, bz_nk, band, density_mu, density_T
    [checks]    relations, mu_points, exact, exact_nk, exact_mu, exact_T, tolerance
    [symmetry]  group, force, check

The value types of the file (expressions, paths relative to the file, scans) are in
`qgtransport.cli.values`. `qgt init` writes the example from these models and the reference part of
docs/configuration.md is generated from them (`qgtransport.cli.reference`).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import tomllib
import warnings
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
)

from qgtransport import options as O
from qgtransport.cli.values import (
    Companion,
    Expr,
    Flag,
    Integer,
    Kind,
    Number,
    Numbers,
    PathValue,
    Text,
    direction_vector,
    entry,
    label_list,
    name_list,
    number_matrix,
    refinement_table,
    scan_array,
)
from qgtransport.cost import check_exact_grid
from qgtransport.engine.refine import Refinement
from qgtransport.report.checks import RELATION_CHECKS
from qgtransport.responses import RESPONSES
from qgtransport.units import conductivity_unit as a_conductivity_unit


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


# ---------------------------------------------------------------- the tables


class Table(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class ModelTable(Table):
    """The model: exactly one of builtin, wannier90 or file."""

    builtin: Text | None = entry(None, "a built-in model (`qgt models` lists them)", example="qwz")
    parameters: dict[str, Number] = entry({}, "parameters of the built-in model, e.g. { m = -1.0 }; numbers or "
                                           "expressions such as \"pi/2\"")
    wannier90: PathValue | None = entry(None, "a Wannier90 seedname_hr.dat or seedname_tb.dat file",
                                         example="lead_hr.dat")
    wsvec: Companion = entry("auto", "Wannier90 seedname_wsvec.dat: a path, \"auto\" (beside the model file) or "
                              "false", wannier90=True)
    win: Companion = entry("auto", "Wannier90 seedname.win (lattice, spinors, num_wann, fermi_energy): a path, "
                            "\"auto\" or false", wannier90=True)
    centres: Companion = entry("auto", "Wannier90 seedname_centres.xyz (_hr.dat only; the orbital positions): a "
                                "path, \"auto\" or false", wannier90=True)
    lattice: Annotated[list, BeforeValidator(number_matrix), Kind("list of lists")] | None = entry(
        None, "lattice vectors as rows in Angstrom (Wannier90 _hr.dat without a .win)",
        example=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    spin_degeneracy: Annotated[Integer, Field(ge=1, le=2)] | None = entry(
        None, "electrons per band state, 1 or 2 (default: from the .win)", example=2)
    file: PathValue | None = entry(None, "a qgtransport model file (netCDF, `qgt convert`)", example="model.nc")
    name: Text | None = entry(None, "a label for the model in the outputs", example="lead")
    positions: Annotated[O.Positions, Kind("string")] = entry(
        "diagonal", "diagonal: orbital positions only (tight-binding approximation); full: the position matrix of "
        "a _tb.dat (or of a model file) enters the Berry connection (linear and optical responses)")


class GridTable(Table):
    """The uniform k-grid."""

    nk: Annotated[O.GridSize, O.grid_size(2), Kind("integer or list", "&ge; 2 each")] = entry(
        96, "k-points per reciprocal direction: an integer or one per direction ([96, 48]); >= 2 for the "
        "error estimate on nk/2")
    shift: Annotated[O.GridShift, Expr, Kind("number or list", "&ge; 0, &lt; 1")] = entry(
        0.5, "grid offset in units of the grid step (0.5: no point at Gamma)")
    error_estimate: Flag = entry(True, "also integrate on nk/2 and store |I(nk) - I(nk/2)| as <name>_error")


class ScanTable(Table):
    """Chemical potentials, temperatures and frequencies."""

    mu: Annotated[O.ChemicalPotentials, BeforeValidator(scan_array), Numbers] = entry(
        ..., "chemical potentials (eV): a number, a list, {start, stop, num} or \"start:stop:num\"")
    T: Annotated[O.Temperatures, BeforeValidator(scan_array), Kind("numbers", "&ge; 0")] = entry(
        ..., "temperatures (K in SI units), >= 0 (T = 0 only for the quantities that allow it)")
    omega: Annotated[O.Frequencies, BeforeValidator(scan_array), Numbers] | None = entry(
        None, "frequencies hbar omega (eV) of the AC and optical responses", example="0:6:121")


class PhysicsTable(Table):
    """Relaxation time, responses and options (docs/conventions.md)."""

    tau: Annotated[O.RelaxationTime, Expr, Kind("number")] | None = entry(
        None, "relaxation time (fs in SI units); needed by the entropy production and Drude terms", example=10.0)
    quantities: Annotated[tuple, name_list(tuple(RESPONSES)), Kind("list of strings",
                                                                "names of `qgtransport.responses.RESPONSES`")] | None \
        = entry(None, "responses to compute (default: every linear DC response tau allows)",
                 example=["entropy_production", "entropy_hall", "anomalous_nernst", "anomalous_hall", "drude"])
    kernel: Annotated[O.Kernel, Kind("string")] = entry(
        "divided_difference", "interband entropy-production kernel (ERRATA E1); \"printed\" = Eq. 18 as printed")
    rho1: Annotated[O.Rho1, Kind("string")] = entry(
        "finite_eta", "first-order density matrix: Eq. 13 at omega = 0, or \"dc_limit\" = Eq. 14 (ERRATA E2)")
    broadening: Annotated[O.Broadening, Kind("string")] = entry(
        "gaussian", "delta function of the optical responses (Eqs. 32-33)")
    width: Annotated[O.Width, Expr, Kind("number")] = entry(0.02, "width of the broadened delta function (eV)")
    degeneracy_tol: Annotated[O.DegeneracyTol, Expr, Kind("number")] | None = entry(
        None, "energy (eV) below which two bands are one degenerate level (default 1e-6); below 1% of the band "
        "width", example=1e-6)


class FieldTable(Table):
    """The electric field of the entropy-production map and the exact-solver check."""

    direction: Annotated[tuple, BeforeValidator(direction_vector), Kind("list of integers")] | None = entry(
        None, "field along g = n1 b1 + n2 b2 (+ n3 b3), integers (default b1): the entropy-production map and the "
        "exact-solver check", example=[1, 0])
    strength: Annotated[Number, Field(gt=0)] | None = entry(
        None, "field strength (V/m in SI units): the report gives Pi at this field and E tau against the "
        "perturbative limit", example=1e5)


class ExecutionTable(Table):
    """Where and how the k-grid is computed (the options of `qgtransport.compute` that change no number
    beyond rounding, except scan and refine, which change the method)."""

    executor: Annotated[O.ExecutorName, Kind("string")] = entry(
        "auto", "where the k-chunks run: auto (worker processes for long runs on several cores), serial, "
        "processes or dask")
    workers: Annotated[O.Workers, Kind("integer")] | None = entry(
        None, "worker processes (default: available cores)", example=2)
    scheduler: Text | None = entry(None, "address of a running Dask scheduler (executor = \"dask\")",
                                    example="tcp://127.0.0.1:8786")
    checkpoint: PathValue | None = entry(None, "folder for finished chunks; a rerun resumes from them",
                                          example="checkpoint")
    task_size: Annotated[O.TaskSize, Kind("integer")] | None = entry(
        None, "k-points per task (unit of scheduling and checkpointing)", example=32768)
    progress: Flag | None = entry(None, "progress bar over the k-grid (default: when stderr is a terminal)",
                                   example=True)
    scan: Annotated[O.Scan, Kind("string")] = entry(
        "auto", "auto: binned from 5 (mu, T) points when every quantity (DC, AC, optical) has a binned form, else "
        "direct; direct: every kernel at every (mu, T); binned: energy histograms, then each (mu, T) by quadrature")
    bin_width: Annotated[O.BinWidth, Expr, Kind("number")] | None = entry(
        None, "energy bin width of scan = \"binned\" (eV; default T_min/32 per temperature group)", example=0.001)
    refine: Annotated[Refinement, BeforeValidator(refinement_table), Kind("boolean or table")] | None = entry(
        None, "adaptive refinement around Berry-curvature / quantum-metric hot spots: true, or { levels = 1, "
        "subdivision = 5, fraction = 1e-3, resolution = 0 } (or threshold; docs/physics.md)", example=True)
    backend: Annotated[O.Backend, Kind("string")] = entry("numpy", "numpy, or cupy (a CUDA GPU; the [gpu] extra)")
    max_elements: Annotated[O.MaxElements, Kind("integer")] | None = entry(
        None, "bound on the size of the per-chunk (k, n, n, ...) arrays (memory; default 2^21)", example=2097152)
    force: Flag = entry(False, "start a run estimated above 24 h of wall time or 80% of the available memory "
                        "(refused otherwise, before any work; as --force; the hard limits 2**50 k-points and 1e7 "
                        "scan points stay)")


class OutputTable(Table):
    """Files written."""

    model_config = ConfigDict(validate_default=True, populate_by_name=True)

    folder: PathValue = entry("qgt-run", "output folder (relative to the configuration file)")
    name: Text = entry("run", "file stem: <name>.nc and <name>.json")
    report: Flag = entry(True, "write report.html and figures/*.png")
    json_summary: Flag = Field(True, alias="json", description="write the JSON summary <name>.json")
    dpi: Annotated[Integer, Field(ge=50, le=600)] = entry(110, "resolution of the figures")
    conductivity_unit: Annotated[str, BeforeValidator(O.text), BeforeValidator(a_conductivity_unit), Kind("string")] = \
        entry("S/cm", "unit of 3D charge conductivities in the tables, figures and report (any pint unit of "
                      "conductivity: S/cm, S/m, kS/cm)")


class ReportTable(Table):
    """The HTML report."""

    title: Text | None = entry(None, "title of the report (default: from the model)", example="My model")
    path_labels: Annotated[tuple, BeforeValidator(label_list), Kind("list of strings")] | None = entry(
        None, "labels of the band-structure path vertices (default: the lattice's high-symmetry path)",
        example=["G", "X", "M", "G"])
    path_points: Annotated[list, BeforeValidator(number_matrix), Kind("list of lists")] | None = entry(
        None, "the vertices in reduced coordinates (fractions of b1, b2, b3)",
        example=[[0, 0], [0.5, 0], [0.5, 0.5], [0, 0]])
    band_points: Annotated[Integer, Field(ge=2, le=100000)] = entry(240, "k-points along the band-structure path")
    bz_nk: Annotated[Integer, Field(ge=4, le=2001)] = entry(101, "grid of the Brillouin-zone maps (per direction)")
    band: Annotated[Integer, Field(ge=0)] | None = entry(None, "band of the Berry-curvature and quantum-metric maps "
                                                          "(0 = lowest; default: the band nearest the density map's "
                                                          "mu)", example=0)
    density_mu: Number | None = entry(None, "mu of the entropy-production density map (default: where Pi_xx is "
                                       "largest at density_T)", example=1.5)
    density_T: Annotated[Number, Field(gt=0)] | None = entry(None, "T of the density map (default: the lowest T)",
                                                              example=750.0)


class ChecksTable(Table):
    """Relation and exact-solver checks shown in the report."""

    relations: Annotated[tuple, name_list(RELATION_CHECKS), Kind(
        "list of strings", "any of " + ", ".join(f"`\"{c}\"`" for c in RELATION_CHECKS))] | None = entry(
        None, "relation checks (default: every one the quantities allow)", example=list(RELATION_CHECKS[:4]))
    mu_points: Annotated[Integer, Field(ge=1, le=50)] = entry(
        3, "chemical potentials at which Maxwell and Mott/Sommerfeld are checked")
    exact: Flag = entry(False, "compare with the exact steady-state solver (as `qgt verify`)")
    exact_nk: Annotated[Integer, Field(ge=4, le=512)] = entry(32, "grid of the exact-solver check (its cost "
                                                               "grows fast: at most 2**20 k-points, 101 per direction "
                                                               "in 3D)")
    exact_mu: Number | None = entry(None, "mu of the exact-solver check (default: density_mu)", example=1.5)
    exact_T: Annotated[Number, Field(gt=0)] | None = entry(None, "T of the exact-solver check (default: "
                                                            "density_T)", example=750.0)
    tolerance: Annotated[Number, Field(gt=0)] = entry(1e-3, "relative difference that counts as agreement (exact "
                                                       "solver)")


class SymmetryTable(Table):
    """The magnetic point group of the model (docs/symmetry.md): only the irreducible k-points are computed."""

    group: Text | None = entry(None, "\"auto\" (declared by a built-in model, else spglib) or generators such as "
                               "\"C3z,C2x,TimeReversal\"; the grid must be invariant (shift = 0 suits every group)",
                               example="auto")
    force: Flag = entry(False, "use the group even where the model breaks it")
    check: Text | None = entry(None, "a group whose forbidden components a full-grid run counts as grid error "
                               "(in <name>_error and the report's convergence section): \"auto\" or generators",
                               example="auto")


def _table(cls):
    return Field(default_factory=dict, validate_default=True, description=cls.__doc__)


class RunConfig(BaseModel):
    """A validated run configuration: one attribute per table (config.grid.nk, config.scan.mu, ...).
    `text` is the file as written, `source` its name, `base` the folder relative paths start from."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    units: Annotated[O.Units, Kind("string")] = entry("SI", "SI: mu in eV, T in K, tau in fs, results in SI; "
                                                       "natural: k_B = e = hbar = 1")
    model: ModelTable = _table(ModelTable)
    grid: GridTable = _table(GridTable)
    scan: ScanTable = _table(ScanTable)
    physics: PhysicsTable = _table(PhysicsTable)
    field: FieldTable = _table(FieldTable)
    execution: ExecutionTable = _table(ExecutionTable)
    output: OutputTable = _table(OutputTable)
    report: ReportTable = _table(ReportTable)
    checks: ChecksTable = _table(ChecksTable)
    symmetry: SymmetryTable = _table(SymmetryTable)

    _text: str = PrivateAttr("")
    _source: str = PrivateAttr("config")
    _base: Path = PrivateAttr(Path("."))

    text = property(lambda self: self._text)
    source = property(lambda self: self._source)
    base = property(lambda self: self._base)

    @property
    def folder(self) -> Path:
        return self.output.folder

    def compute_options(self) -> dict:
        """Keyword arguments of qgtransport.compute (the model and the quantities aside)."""
        options = dict(mu=self.scan.mu, T=self.scan.T, tau=self.physics.tau, nk=self.grid.nk, shift=self.grid.shift,
                       units=self.units, kernel=self.physics.kernel, rho1=self.physics.rho1,
                       broadening=self.physics.broadening, width=self.physics.width,
                       error_estimate=self.grid.error_estimate, positions=self.model.positions)
        if self.scan.omega is not None:
            options["omega"] = self.scan.omega
        if self.symmetry.group is not None:
            options.update(symmetry=self.symmetry.group, symmetry_force=self.symmetry.force)
        if self.physics.degeneracy_tol is not None:
            options["degeneracy_tol"] = self.physics.degeneracy_tol
        for key, value in self.execution.model_dump().items():
            if value is not None:
                options[key] = str(value) if isinstance(value, Path) else getattr(self.execution, key)
        return options

    def to_json(self) -> str:
        """The configuration with every default filled in, as JSON (stored in the outputs)."""
        return json.dumps(self.model_dump(by_alias=True), default=_jsonable, sort_keys=False)


TABLES = {name: info.annotation for name, info in RunConfig.model_fields.items() if name != "units"}


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
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
    try:
        config = RunConfig.model_validate(data, context={"base": base})
    except ValidationError as error:
        raise ConfigError(problems(error), source) from None
    config._text, config._source, config._base = text, source, base
    found = cross_checks(config)
    if found:
        raise ConfigError(found, source)
    return config


def where(loc: tuple) -> str:
    """("grid", "nk") -> "[grid] nk"; ("units",) -> "units"; ("model", "parameters", "m") -> "[model] parameters m"."""
    if loc[0] not in TABLES:
        return str(loc[0])
    rest = "".join(f"[{part}]" if isinstance(part, int) else f" {part}" for part in loc[1:])
    return f"[{loc[0]}]{rest}"


UNKNOWN = ("extra_forbidden", "unexpected_keyword_argument")


def problems(error: ValidationError) -> list[str]:
    """One line per problem of a validation: unknown tables and keys with a suggestion, the others
    as `qgtransport.options.describe_errors` words them."""
    lines = []
    unknown_first = sorted(error.errors(include_url=False), key=lambda item: item["type"] not in UNKNOWN)
    for item in unknown_first:
        loc, kind = item["loc"], item["type"]
        if kind in UNKNOWN:
            name = loc[-1]
            container = RunConfig if len(loc) == 1 else TABLES.get(loc[0])
            if loc[:2] == ("execution", "refine"):
                container = Refinement
            allowed = [k for k in _keys(container) if len(loc) > 1 or k not in TABLES]
            if len(loc) == 1 and isinstance(item["input"], dict):
                tables = list(TABLES)
                hint = O.suggestion(name, tables).replace("'", "").replace("mean ", "mean [").replace("?)", "]?)")
                lines.append(f"unknown table [{name}]{hint}; tables are {', '.join(f'[{t}]' for t in tables)}")
            else:
                table = "top level" if len(loc) == 1 else where(loc[:-1])
                home = [f"[{t}]" for t, cls in TABLES.items() if name in _keys(cls)]
                hint = f" (it belongs in {' or '.join(home)})" if home else O.suggestion(name, allowed)
                if name in _keys(RunConfig) and name not in TABLES:
                    hint = " (a top-level key: write it before the first table)"
                elif name in TABLES and not home:
                    hint = f" ({name} is a table: write [{name}] with its keys)"
                lines.append(f"{table}: unknown key {name!r}{hint}; allowed: {', '.join(allowed)}")
        elif kind == "model_type" and len(loc) == 1:
            lines.append(f"{loc[0]}: must be a table ([{loc[0]}]), got {O.describe(item['input'])}")
        else:
            lines.append(O.describe_error(item, where))
    return lines


def _keys(container) -> list:
    if dataclasses.is_dataclass(container):
        return [f.name for f in dataclasses.fields(container)]
    return [info.alias or name for name, info in container.model_fields.items()]


# ---------------------------------------------------------------- cross-key checks


def cross_checks(config: RunConfig) -> list[str]:
    """What no single key can say: one model, tau and omega where the quantities need them, both
    path keys or neither, and so on."""
    from qgtransport.models import BUILTIN_MODELS

    found = []
    model = config.model
    kinds = [k for k in ("builtin", "wannier90", "file") if getattr(model, k) is not None]
    if len(kinds) != 1:
        found.append("[model]: give exactly one of builtin, wannier90 or file" + (f" (got {', '.join(kinds)})"
                                                                                  if kinds else ""))
    if model.builtin is not None:
        if model.builtin not in BUILTIN_MODELS:
            found.append(f"[model] builtin: {model.builtin!r} is not a built-in model"
                         f"{O.suggestion(model.builtin, BUILTIN_MODELS)}; built-in models: {', '.join(BUILTIN_MODELS)}")
        else:
            allowed = list(inspect.signature(BUILTIN_MODELS[model.builtin]).parameters)
            for key in model.parameters:
                if key not in allowed:
                    found.append(f"[model] parameters {key}: unknown parameter of {model.builtin!r}"
                                 f"{O.suggestion(key, allowed)}; it takes {', '.join(allowed)}")
    elif model.parameters:
        found.append("[model] parameters: only built-in models take parameters")
    wannier_only = [k for k in ("lattice", "spin_degeneracy") if getattr(model, k) is not None]
    if wannier_only and model.wannier90 is None:
        found.append(f"[model]: {', '.join(wannier_only)} only apply to wannier90 models")
    for key in ("wannier90", "file"):
        path = getattr(model, key)
        if path is not None and not Path(path).is_file():
            found.append(f"[model] {key}: no such file: {path}")
    if model.wannier90 is not None and not str(model.wannier90).endswith(("_hr.dat", "_tb.dat")):
        found.append(f"[model] wannier90: expected a seedname_hr.dat or seedname_tb.dat file, got "
                     f"{Path(model.wannier90).name!r}")
    if model.lattice is not None and (len(model.lattice) != 3 or len(model.lattice[0]) != 3):
        found.append("[model] lattice: expected 3 rows of 3 numbers (Angstrom)")
    if model.positions == "full" and model.builtin is not None:
        found.append("[model] positions: \"full\" needs the position matrix of a wannier90 _tb.dat or a model file")

    quantities = config.physics.quantities
    if quantities is not None:
        needing_tau = [q for q in quantities if RESPONSES[q].needs_tau]
        if needing_tau and config.physics.tau is None:
            found.append(f"[physics] tau: missing: {', '.join(needing_tau)} need the relaxation time")
        needing_omega = [q for q in quantities if RESPONSES[q].frequency]
        if needing_omega and config.scan.omega is None:
            found.append(f"[scan] omega: missing: {', '.join(needing_omega)} need the frequencies")
    execution = config.execution
    if execution.scheduler is not None and execution.executor not in ("dask", "auto"):
        found.append("[execution] scheduler: only used with executor = \"dask\"")
    if execution.bin_width is not None and execution.scan == "direct":
        found.append("[execution] bin_width: only used with scan = \"binned\" or \"auto\"")
    report = config.report
    if (report.path_labels is None) != (report.path_points is None):
        found.append("[report]: give both path_labels and path_points, or neither")
    elif report.path_labels is not None:
        if len(report.path_labels) != len(report.path_points):
            found.append(f"[report] path_points: {len(report.path_points)} points for {len(report.path_labels)} "
                         "labels")
        if len(report.path_points) < 2:
            found.append("[report] path_points: a path needs at least 2 points")
    if config.checks.exact and config.physics.tau is None:
        found.append("[checks] exact: the exact-solver check needs [physics] tau")
    name = config.output.name
    if "/" in name or name in (".", ".."):
        found.append(f"[output] name: a file stem without folders, got {name!r}")
    return found


# ---------------------------------------------------------------- the model


def build_model(config: RunConfig):
    """The TightBinding model the configuration names; ConfigError (naming the key) if it cannot be
    built. Warnings of the file readers (e.g. a missing _wsvec.dat) are returned with it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ResourceWarning)  # a reader's unclosed file is not the user's business
        model = _build(config.model, config.source)
    model = _check_against_model(config, model)
    return model, [str(w.message) for w in caught]


def _build(spec: ModelTable, source: str):
    if spec.builtin is not None:
        from qgtransport.models import builtin_model

        try:
            return builtin_model(spec.builtin, **spec.parameters)
        except (ValueError, OverflowError, ZeroDivisionError) as exc:
            raise ConfigError(f"[model] parameters: {exc}", source) from None
    if spec.file is not None:
        from qgtransport.models import read_model

        try:
            model = read_model(spec.file)
        except (ValueError, OSError) as exc:
            raise ConfigError(f"[model] file: {exc}", source) from None
        if spec.positions == "full" and model.position_R is None:
            raise ConfigError("[model] positions: \"full\" needs a model file with a position matrix", source)
        return model
    from qgtransport.models.tightbinding import with_position_matrix
    from qgtransport.models.wannier90 import read_hr, read_tb, read_tb_positions

    path = str(spec.wannier90)
    companion = {key: str(value) if isinstance(value, Path) else value
                 for key, value in (("wsvec", spec.wsvec), ("win", spec.win), ("centres", spec.centres))}
    options = dict(wsvec=companion["wsvec"], win=companion["win"], spin_degeneracy=spec.spin_degeneracy,
                   name=spec.name)
    try:
        if path.endswith("_tb.dat"):
            if spec.lattice is not None or spec.centres != "auto":
                raise ConfigError("[model] lattice and centres are read from the _tb.dat file itself; remove them",
                                  source)
            model = read_tb(path, **options)
            if spec.positions == "full":
                matrix = read_tb_positions(path, wsvec=companion["wsvec"])
                model = with_position_matrix(model, matrix.R, matrix.r)
            return model
        if spec.positions == "full":
            raise ConfigError("[model] positions: \"full\" needs a _tb.dat file (the _hr.dat has no position "
                              "matrix)", source)
        return read_hr(path, centres=companion["centres"], lattice=spec.lattice, **options)
    except ConfigError:
        raise
    except (ValueError, OSError) as exc:
        raise ConfigError(f"[model] wannier90: {exc}", source) from None


def _check_against_model(config: RunConfig, model):
    found = []
    d = model.dim
    if isinstance(config.grid.nk, tuple) and len(config.grid.nk) != d:
        found.append(f"[grid] nk: {len(config.grid.nk)} entries for a {d}D model; give one integer or {d}")
    if isinstance(config.grid.shift, tuple) and len(config.grid.shift) != d:
        found.append(f"[grid] shift: {len(config.grid.shift)} entries for a {d}D model; give one number or {d}")
    if config.field.direction is not None and len(config.field.direction) != d:
        found.append(f"[field] direction: {len(config.field.direction)} integers for a {d}D model; give {d}")
    points = config.report.path_points
    if points is not None and len(points[0]) != d:
        found.append(f"[report] path_points: points have {len(points[0])} coordinates; the model is {d}D")
    if config.report.band is not None and config.report.band >= model.norb:
        found.append(f"[report] band: {config.report.band} but the model has {model.norb} bands "
                     f"(0..{model.norb - 1})")
    if config.checks.exact:
        try:
            check_exact_grid(config.checks.exact_nk, d, "exact_nk")
        except ValueError as exc:
            found.append(f"[checks] exact_nk: {exc}")
    tol = config.physics.degeneracy_tol
    if tol is not None:
        width = O.band_width(model)
        if width > 0 and tol >= O.DEGENERACY_FRACTION * width:
            found.append(f"[physics] degeneracy_tol: must be below {O.DEGENERACY_FRACTION:g} of the band width "
                         f"({width:.3g} {model.energy_unit}), got {tol!r}")
    if found:
        raise ConfigError(found, config.source)
    return model


__all__ = ["ConfigError", "RunConfig", "TABLES", "load_config", "parse_config", "build_model", "problems",
           "cross_checks"]
