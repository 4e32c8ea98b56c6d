"""The options of `qgtransport.compute`, typed once: what each one is, its units and its allowed range.

One definition serves three boundaries. `compute` checks its keyword arguments against
`ComputeOptions` on entry (`checked`), so that nk = 2.5, shift = nan or degeneracy_tol = 0 are
errors that name the value instead of a grid of 2 points or NaN results; the command line checks
its options against the same model, and the tables of a run configuration (`qgtransport.cli.config`)
declare their keys with the same types. Each type is a pydantic `Annotated` alias: the validator,
the range (`Field(gt=..., ge=..., lt=...)`) and a description with the units, which the generated
configuration reference (docs/configuration.md) shows.

Errors are collected as pydantic errors and turned into one line each by `describe_errors`: at the
API "nk must be an integer, got 2.5"; in a configuration "[grid] nk: expected an integer, got a
number (2.5)" (the caller says how to name the place).

Chemical potentials, temperatures and frequencies are arrays; `compute` checks them itself with the
physics in view (which quantities allow T = 0). The boundary allows T >= 0 (`Temperatures`).
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from qgtransport.bands.geometry import DEGENERACY_TOL
from qgtransport.engine.backend import BACKENDS
from qgtransport.engine.executors import EXECUTORS, Executor
from qgtransport.engine.refine import as_refinement
from qgtransport.engine.spectral import SCANS
from qgtransport.models.reading import MAX_ABS_NUMBER
from qgtransport.models.tightbinding import TightBinding

UNITS = ("SI", "natural")
KERNELS = ("divided_difference", "printed")
RHO1 = ("finite_eta", "dc_limit")
BROADENINGS = ("lorentzian", "gaussian")
POSITIONS = ("diagonal", "full")
DEGENERACY_FRACTION = 1e-2  # degeneracy_tol must stay below this fraction of the band width
MAX_HOPPING = MAX_ABS_NUMBER  # |H(R)| above this: energies overflow in the kernels (as the readers refuse)


# ---------------------------------------------------------------- validators


def describe(value) -> str:
    """'a string ('96')', 'a number (2.5)': the kind and the value, for messages."""
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
             tuple: "a list", dict: "a table"}
    kind = kinds.get(type(value), type(value).__name__)
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{kind} ({shown})"


def suggestion(word, options) -> str:
    """' (did you mean 'x'?)' for the closest of options, or ''."""
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _error(kind: str, template: str, **context):
    return PydanticCustomError(kind, template, context)


def integer(value) -> int:
    """An integer (an integral float such as 16.0 too); not a boolean, a string or 2.5."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating))
            or not float(value).is_integer()):
        raise _error("integer", "expected an integer, got {described}", described=describe(value))
    return int(value)


def number(value) -> float:
    """A real number (an int or float, numpy ones included); not a boolean or a string."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise _error("number", "expected a number, got {described}", described=describe(value))
    return float(value)


def flag(value) -> bool:
    """true or false (a Python or numpy boolean), nothing else."""
    if not isinstance(value, (bool, np.bool_)):
        raise _error("bool_type", "expected true or false", got=value)
    return bool(value)


def text(value) -> str:
    """A non-empty string."""
    if not isinstance(value, str):
        raise _error("string", "expected a string, got {described}", described=describe(value))
    if not value.strip():
        raise _error("value", "must not be empty")
    return value


def choice(options: tuple) -> BeforeValidator:
    """One of `options` (strings), with a suggestion for a near miss."""
    def check(value):
        if not isinstance(value, str) or value not in options:
            raise _error("choice", "must be one of {options}", options=options, hint=suggestion(value, options))
        return value
    return BeforeValidator(check)


def _in_range(value: float, *, ge=None, gt=None, lt=None):
    """The range check of elementwise validators, as pydantic's own errors (with the element)."""
    if not math.isfinite(value):
        raise _error("finite_number", "must be finite", got=value)
    if ge is not None and value < ge:
        raise _error("greater_than_equal", "must be >= {ge}", ge=ge, got=value)
    if gt is not None and value <= gt:
        raise _error("greater_than", "must be > {gt}", gt=gt, got=value)
    if lt is not None and value >= lt:
        raise _error("less_than", "must be < {lt}", lt=lt, got=value)


def grid_size(low: int = 1) -> BeforeValidator:
    """nk: an integer >= low, or one per reciprocal direction (1 to 3 of them)."""
    def check(value):
        if isinstance(value, (list, tuple, np.ndarray)):
            if not 1 <= len(value) <= 3:
                raise _error("value", "expected an integer or 1 to 3 integers, got {count} entries",
                             count=len(value))
            sizes = tuple(integer(n) for n in value)
        else:
            sizes = (integer(value),)
        for n in sizes:
            _in_range(n, ge=low)
        return sizes if isinstance(value, (list, tuple, np.ndarray)) else sizes[0]
    return BeforeValidator(check)


def _grid_shift(value):
    """shift: a number in [0, 1), or one per reciprocal direction."""
    shifts = value if isinstance(value, (list, tuple, np.ndarray)) else [value]
    for s in shifts:
        _in_range(number(s), ge=0.0, lt=1.0)
    return tuple(float(s) for s in value) if isinstance(value, (list, tuple, np.ndarray)) else float(value)


def numbers(*, ge=None, gt=None) -> BeforeValidator:
    """A 1D array of finite numbers from a number, a list or an array, each in the range."""
    def check(value):
        if isinstance(value, (str, bytes, dict)):
            raise _error("number", "expected a number or a list of numbers, got {described}",
                         described=describe(value))
        array = np.atleast_1d(np.asarray(value))
        if array.ndim != 1 or array.size == 0:
            raise _error("value", "expected a number or a 1D list of numbers, got shape {shape}",
                         shape=array.shape)
        values = np.array([number(v) for v in array])
        for v in values:
            _in_range(float(v), ge=ge, gt=gt)
        return values
    return BeforeValidator(check)


def _executor(value):
    if isinstance(value, Executor):
        return value
    return choice(EXECUTORS).func(value)


def _folder(value):
    """A folder path: a string or a path-like object, not empty."""
    if isinstance(value, Path):
        return value
    if hasattr(value, "__fspath__"):
        return Path(value)
    return text(value)


def _refinement(value):
    try:
        as_refinement(value)
    except (TypeError, ValueError) as exc:
        raise _error("value", "{message}", message=str(exc)) from None
    return value


def _symmetry(value):
    """None, "auto", generator names (a list or a comma-separated string) or a Group."""
    from qgtransport.symmetry import Group, SymmetryError, as_group

    if value is None or isinstance(value, Group) or (isinstance(value, str) and value.strip().lower() == "auto"):
        return value
    try:
        as_group(value)
    except (SymmetryError, TypeError, ValueError) as exc:
        raise _error("value", "{message}", message=str(exc)) from None
    return value


# ---------------------------------------------------------------- the types

GridSize = Annotated[int | tuple[int, ...], grid_size(1), Field(
    description="k-points per reciprocal direction: an integer or one per direction")]
GridShift = Annotated[float | tuple[float, ...], BeforeValidator(_grid_shift), Field(
    description="grid offset in units of the grid step, in [0, 1) (0.5: no point at Gamma)")]
ChemicalPotentials = Annotated[np.ndarray, numbers(), Field(
    description="chemical potentials (the model's energy unit, eV)")]
Temperatures = Annotated[np.ndarray, numbers(ge=0.0), Field(
    description="temperatures, >= 0 (K in SI units, the energy unit in natural units)")]
Frequencies = Annotated[np.ndarray, numbers(), Field(
    description="frequencies hbar omega (the model's energy unit, eV) of the AC and optical responses")]
RelaxationTime = Annotated[float, BeforeValidator(number), Field(
    gt=0, allow_inf_nan=False, description="relaxation time (fs in SI units, hbar/energy in natural units)")]
Units = Annotated[Literal[UNITS], choice(UNITS), Field(
    description="SI: mu in eV, T in K, tau in fs, results in SI; natural: k_B = e = hbar = 1")]
Kernel = Annotated[Literal[KERNELS], choice(KERNELS), Field(
    description="interband entropy-production kernel (ERRATA E1; \"printed\" = Eq. 18 as printed)")]
Rho1 = Annotated[Literal[RHO1], choice(RHO1), Field(
    description="first-order density matrix: Eq. 13 at omega = 0 or Eq. 14 (ERRATA E2)")]
Broadening = Annotated[Literal[BROADENINGS], choice(BROADENINGS), Field(
    description="delta function of the optical responses (Eqs. 32-33)")]
Width = Annotated[float, BeforeValidator(number), Field(
    gt=0, allow_inf_nan=False, description="width of the broadened delta function (the model's energy unit, eV)")]
DegeneracyTol = Annotated[float, BeforeValidator(number), Field(
    gt=0, allow_inf_nan=False, description="energy (eV) below which two bands are one degenerate level; "
    f"below {DEGENERACY_FRACTION:g} of the band width")]
Positions = Annotated[Literal[POSITIONS], choice(POSITIONS), Field(
    description="diagonal: orbital positions only (tight-binding approximation); full: the model's "
    "off-diagonal position matrix enters the Berry connection")]
ExecutorName = Annotated[Literal[EXECUTORS], choice(EXECUTORS), Field(
    description="where the k-chunks run: auto (worker processes for long runs on several cores), serial, "
    "processes or dask")]
Workers = Annotated[int, BeforeValidator(integer), Field(
    ge=1, description="worker processes (default: available cores)")]
TaskSize = Annotated[int, BeforeValidator(integer), Field(
    ge=1, description="k-points per task (unit of scheduling and checkpointing)")]
MaxElements = Annotated[int, BeforeValidator(integer), Field(
    ge=1, description="bound on the size of the per-chunk (k, n, n, ...) arrays (memory)")]
Scan = Annotated[Literal[SCANS], choice(SCANS), Field(
    description="auto: binned for 5 or more (mu, T) points when every quantity has a binned form, else direct; "
    "direct: every kernel at every (mu, T); binned: energy histograms once, then each (mu, T) "
    "by quadrature (DC linear, AC and optical responses)")]
BinWidth = Annotated[float, BeforeValidator(number), Field(
    gt=0, allow_inf_nan=False,
    description="energy bin width of the binned scan (eV; default T_min/32 of each temperature group)")]
Backend = Annotated[Literal[BACKENDS], choice(BACKENDS), Field(
    description="numpy, or cupy (a CUDA GPU; the [gpu] extra)")]
Flag = Annotated[bool, BeforeValidator(flag)]
Force = Annotated[bool, BeforeValidator(flag), Field(
    description="start a run estimated above 24 h of wall time or 80% of the available memory "
    "(qgtransport.cost; hard limits: 2**50 k-points, 1e7 scan points)")]


class ComputeOptions(BaseModel):
    """The keyword options of `qgtransport.compute` (all but the model, the quantities and the
    mu, T, omega scans, which compute checks with the physics in view)."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True)

    nk: GridSize
    shift: GridShift = 0.5
    tau: RelaxationTime | None = None
    units: Units = "SI"
    kernel: Kernel = "divided_difference"
    rho1: Rho1 = "finite_eta"
    broadening: Broadening = "gaussian"
    width: Width = 0.02
    degeneracy_tol: DegeneracyTol = DEGENERACY_TOL
    max_elements: MaxElements = 2**21
    error_estimate: Flag = True
    progress: Flag = False
    executor: Annotated[object, BeforeValidator(_executor)] = "auto"
    workers: Workers | None = None
    scheduler: Annotated[str, BeforeValidator(text)] | None = None
    checkpoint: Annotated[object, BeforeValidator(_folder)] | None = None
    task_size: TaskSize | None = None
    scan: Scan = "auto"
    bin_width: BinWidth | None = None
    refine: Annotated[object, BeforeValidator(_refinement)] = None
    backend: Backend = "numpy"
    positions: Positions = "diagonal"
    force: Force = False
    symmetry: Annotated[object, BeforeValidator(_symmetry)] = None
    symmetry_force: Flag = False


class Scans(BaseModel):
    """The scans of `qgtransport.compute`: mu, T (>= 0 here; compute decides per quantity whether
    T = 0 is allowed) and omega, each a finite number or a 1D list of them."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    mu: ChemicalPotentials
    T: Temperatures
    omega: Frequencies | None = None


# ---------------------------------------------------------------- messages


def _shown(value) -> str:
    return repr(float(value)) if isinstance(value, (np.floating, float)) else repr(value)


def requirement(error: dict, api: bool = False) -> str:
    """The text of one pydantic error after the name of its place: "must be >= 2, got 1" (or, with
    api=True, the phrasing of compute's own errors: "must be a positive integer, got 0")."""
    kind, context = error["type"], error.get("ctx") or {}
    got = context.get("got", error.get("input"))
    if isinstance(got, (float, np.floating)) and not math.isfinite(got) and kind != "finite_number":
        kind = "finite_number"
    if kind == "finite_number":
        return f"must be finite, got {_shown(got)}"
    bounds = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"), "less_than": ("<", "lt"),
              "less_than_equal": ("<=", "le")}
    if kind in bounds:
        sign, key = bounds[kind]
        limit = context[key]
        if api and kind == "greater_than" and limit == 0:
            return f"must be finite and > 0, got {_shown(got)}"
        if api and kind == "greater_than_equal" and limit == 1 and isinstance(got, (int, np.integer)):
            return f"must be a positive integer, got {_shown(got)}"
        return f"must be {sign} {limit:g}, got {_shown(got)}"
    if kind == "choice":
        options = context["options"]
        if api:
            return f"must be one of {options}, got {got!r}"
        if not isinstance(got, str):
            return f"expected one of {', '.join(map(repr, options))}, got {describe(got)}"
        return f"{got!r} is not one of {', '.join(map(repr, options))}{context['hint']}"
    if kind == "integer" and api:
        return f"must be an integer, got {_shown(got)}"
    if kind == "bool_type":
        return f"expected true or false, got {describe(got)}"
    if kind == "string_type":
        return f"expected a string, got {describe(got)}"
    if kind in ("dict_type", "model_type"):
        return f"expected a table, got {describe(got)}"
    if kind == "list_type":
        return f"expected a list, got {describe(got)}"
    if kind == "missing":
        return "missing (required)"
    message = error["msg"]
    return message[len("Value error, "):] if message.startswith("Value error, ") else message


def describe_error(item: dict, name: Callable[[tuple], str], api: bool = False) -> str:
    """One problem in one line: name(loc) + ": " + requirement, or (api) "name must be ..."."""
    where, what = name(item["loc"]), requirement(item, api)
    return f"{where} {what}" if api and what.startswith("must") else f"{where}: {what}"


def describe_errors(error: ValidationError, name: Callable[[tuple], str], api: bool = False) -> list[str]:
    """One line per problem of a validation (see describe_error)."""
    return [describe_error(item, name, api) for item in error.errors(include_url=False)]


def api_name(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


# ---------------------------------------------------------------- compute's entry


def band_width(model, points: int = 4) -> float:
    """max e - min e on a points^d grid (Gamma included): the energy scale of the model."""
    axes = np.meshgrid(*([np.arange(points) / points] * model.dim), indexing="ij")
    k = np.stack([a.ravel() for a in axes], axis=-1)
    energies = np.linalg.eigvalsh(model.hamiltonian(model.to_cartesian(k)))
    return float(energies.max() - energies.min())


def check_model(model) -> None:
    """The model must be a TightBinding (ValueError naming what was given, not an AttributeError later)."""
    if not isinstance(model, TightBinding):
        raise ValueError(f"model must be a qgtransport TightBinding (builtin_model, read_hr, read_tb, read_model), "
                         f"got {describe(model)}")
    largest = float(np.abs(model.H_R).max(initial=0.0))
    if largest > MAX_HOPPING:
        raise ValueError(f"model {model.name!r} has hoppings up to |H(R)| = {largest:.3g} {model.energy_unit}, above "
                         f"{MAX_HOPPING:.0e} (the bound of the file readers): its energies would overflow")


def check_options(model, options: dict) -> ComputeOptions:
    """Validate compute's keyword options (those given); ValueError naming every bad one."""
    check_model(model)
    try:
        checked_options = ComputeOptions.model_validate(options)
    except ValidationError as error:
        raise ValueError("; ".join(describe_errors(error, api_name, api=True))) from None
    for name in ("nk", "shift"):
        value = getattr(checked_options, name)
        if isinstance(value, tuple) and len(value) != model.dim:
            raise ValueError(f"{name} has {len(value)} entries for a {model.dim}D model: give one value or "
                             f"{model.dim}, got {value!r}")
    if "degeneracy_tol" in options:
        width = band_width(model)
        tol = checked_options.degeneracy_tol
        if width > 0 and tol >= DEGENERACY_FRACTION * width:
            raise ValueError(f"degeneracy_tol must be small against the band width ({width:.3g} {model.energy_unit}"
                             f" on a coarse grid): below {DEGENERACY_FRACTION:g} of it, got {tol!r}")
    return checked_options


def check_scalar(name: str, value, *, ge=None, gt=None) -> float:
    """One finite number in its range, for the API functions that take scalars (mu, T, tau of
    `perturbed_density_matrix`); ValueError naming it: "T must be finite and > 0, got 0.0"."""
    try:
        checked_value = number(value)
        _in_range(checked_value, ge=ge, gt=gt)
    except PydanticCustomError as error:
        item = {"type": error.type, "ctx": error.context, "input": value, "msg": error.message(), "loc": (name,)}
        raise ValueError(describe_error(item, lambda loc: name, api=True)) from None
    return checked_value


def check_scans(mu, T, omega=None) -> Scans:
    """mu, T and omega as 1D float arrays; ValueError naming every bad one ("T must be >= 0, got -1.0")."""
    try:
        return Scans.model_validate({"mu": mu, "T": T, "omega": omega})
    except ValidationError as error:
        raise ValueError("; ".join(describe_errors(error, api_name, api=True))) from None


def checked(compute: Callable) -> Callable:
    """compute, with its keyword options checked against ComputeOptions first (the values given are
    passed on unchanged: checking changes no number)."""
    signature = inspect.signature(compute)
    names = set(ComputeOptions.model_fields)

    @functools.wraps(compute)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        given = {k: v for k, v in bound.arguments.items() if k in names}
        check_options(bound.arguments.get("model"), {"nk": bound.arguments.get("nk"), **given})
        return compute(*args, **kwargs)

    return wrapper


__all__ = ["ComputeOptions", "Scans", "checked", "check_options", "check_scans", "describe_error", "describe_errors",
           "requirement",
           "UNITS", "KERNELS", "RHO1", "BROADENINGS", "POSITIONS"]
