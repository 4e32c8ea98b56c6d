"""The inputs of the `qgt` commands, checked at the boundary: numbers and scans written as text, the
model options, the compute options (against `qgtransport.options`, the same types that `compute`
and the run configuration check), the output paths (writable before anything is computed).

A bad input is a `BadInput`: one line on stderr naming the option, the value and what is allowed,
and exit code 2.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import click
import numpy as np
from pydantic import ConfigDict, ValidationError

from qgtransport import options as O
from qgtransport.cli.values import evaluate_number, split_range

EXIT_UNEXPECTED = 1
EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    """A user error: one line on stderr, exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


# ---------------------------------------------------------------- parsing of inputs

def parse_number(text: str, what: str) -> float:
    """A float, or arithmetic with pi and sqrt ("pi/3", "-2*pi/3"); raises BadInput naming `what`."""
    try:
        value = evaluate_number(text)
    except ValueError:
        raise BadInput(f"{what}: {text!r} is not a number (write e.g. 1.5, -2e-3 or pi/3)") from None
    if not math.isfinite(value):
        raise BadInput(f"{what}: {text!r} is not finite")
    return value


def parse_spec(text: str, what: str) -> np.ndarray:
    """A number ("0.5"), a comma list ("300,600,1200") or start:stop:num (inclusive linspace)."""
    text = text.strip()
    if ":" in text:
        try:
            start, stop, num = split_range(text)
        except ValueError as err:
            raise BadInput(f"{what}: {err}") from None
        return np.linspace(parse_number(start, what), parse_number(stop, what), num)
    items = text.split(",")
    if not text or any(not p.strip() for p in items):
        raise BadInput(f"{what}: {text!r} must be a number, a comma list or start:stop:num")
    return np.array([parse_number(p, what) for p in items])


def parse_params(pairs) -> dict:
    """('m=-1', 'phi=pi/2') -> {'m': -1.0, 'phi': 1.5707...}."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise BadInput(f"--param {pair!r}: expected key=value, e.g. --param m=-1")
        out[key] = parse_number(value, f"--param {key}")
    return out


def load_model(name, params: dict, *, hr=None, tb=None, model_file=None, wsvec="auto", win="auto",
               centres="auto", spin_degeneracy=None, positions="diagonal"):
    """The model of the command line: a built-in model (--model) or a file (--hr, --tb, --model-file);
    with positions="full" and --tb, the file's position matrix is attached."""
    from qgtransport.models import read_hr, read_model, read_tb, read_tb_positions
    from qgtransport.models.tightbinding import with_position_matrix

    if positions == "full" and tb is None and model_file is None:
        raise BadInput("--positions full needs the position matrix of a --tb file (or a --model-file that has one)")

    sources = [x for x in (name, hr, tb, model_file) if x is not None]
    if len(sources) != 1:
        raise BadInput("give exactly one model: --model NAME, --hr FILE, --tb FILE or --model-file FILE")
    if name is not None:
        return make_model(name, params)
    if params:
        raise BadInput("--param applies to built-in models only")

    def companion(value):
        return None if value == "none" else value

    try:
        if hr is not None:
            return read_hr(hr, wsvec=companion(wsvec), win=companion(win), centres=companion(centres),
                           spin_degeneracy=spin_degeneracy)
        if tb is not None:
            model = read_tb(tb, wsvec=companion(wsvec), win=companion(win), spin_degeneracy=spin_degeneracy)
            if positions == "full":
                matrix = read_tb_positions(tb, wsvec=companion(wsvec))
                model = with_position_matrix(model, matrix.R, matrix.r)
            return model
        return read_model(model_file)
    except (ValueError, OSError) as exc:
        raise BadInput(str(exc)) from None


MODEL_OPTIONS = [
    click.option("--model", "model_name", default=None, metavar="NAME", help="Built-in model (see 'qgt models')."),
    click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
                 help="Parameter of a built-in model; repeat for several."),
    click.option("--hr", type=click.Path(exists=True, dir_okay=False), default=None,
                 help="Wannier90 seedname_hr.dat (with seedname_wsvec.dat, .win, _centres.xyz found beside it)."),
    click.option("--tb", type=click.Path(exists=True, dir_okay=False), default=None,
                 help="Wannier90 seedname_tb.dat."),
    click.option("--model-file", type=click.Path(exists=True, dir_okay=False), default=None,
                 help="A model written by 'qgt convert' (lossless netCDF)."),
    click.option("--wsvec", default="auto", show_default=True, metavar="PATH|auto|none",
                 help="MDRS file seedname_wsvec.dat for --hr/--tb."),
    click.option("--win", default="auto", show_default=True, metavar="PATH|auto|none",
                 help="seedname.win (lattice, spinors, num_elec_per_state)."),
    click.option("--centres", default="auto", show_default=True, metavar="PATH|auto|none",
                 help="seedname_centres.xyz (Wannier centres) for --hr."),
    click.option("--spin-degeneracy", type=click.Choice(["1", "2"]), default=None,
                 help="Electrons per band state; required for Wannier90 files without a .win."),
]


def model_options(function):
    for option in reversed(MODEL_OPTIONS):
        function = option(function)
    return function


def make_model(name: str, params: dict):
    from qgtransport.models import builtin_model

    try:
        return builtin_model(name, **params)
    except (ValueError, OverflowError) as exc:
        raise BadInput(str(exc)) from None


def parse_component(text: str | None, dim: int):
    """'xy' -> ('x', 'y'); None stays None (each response then gets its default component)."""
    if text is None:
        return None
    axes = "xyz"[:dim]
    if not 1 <= len(text) <= 3 or any(c not in axes for c in text):
        raise BadInput(f"--component {text!r}: give one to three of {list(axes)}, e.g. xy")
    return tuple(text)


# ---------------------------------------------------------------- checks


class CommandLineOptions(O.ComputeOptions, O.Scans):
    """compute's options as `qgt compute` gives them, with its scans (`qgtransport.options.Scans`: T >= 0
    at the boundary; compute decides, per quantity, whether T = 0 is allowed)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


OPTION_NAMES = {"T": "--T (temperature)", "tau": "--tau (relaxation time)", "mu": "--mu (chemical potential)",
                "omega": "--omega (frequency)"}


def option_name(loc: tuple) -> str:
    """("refine_levels",) -> "--refine-levels"; T, tau, mu, omega with what they are."""
    key = str(loc[0])
    return OPTION_NAMES.get(key, "--" + key.replace("_", "-"))


def check_options(**given) -> None:
    """Check command-line values against the types of compute's options; BadInput naming the first
    bad one (every problem, if several)."""
    try:
        CommandLineOptions.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as error:
        raise BadInput("; ".join(O.describe_errors(error, option_name))) from None


def check_writable(path, what: str, folder: bool = False) -> None:
    """BadInput unless `path` (a file, or a folder with folder=True) can be written, checked before
    anything is computed: an existing file must be writable, an existing folder must take a new
    file, and a path that does not exist yet must lie below a folder in which one can be created
    (a temporary file is made and removed there: a read-only disk or /proc fails even for root)."""
    if path is None:
        return
    target = Path(path)
    if target.exists():
        if folder != target.is_dir():
            kind = "a folder" if target.is_dir() else "a file"
            raise BadInput(f"{what}: {path} is {kind}; give {'a folder' if folder else 'a file name'}")
        if not folder:
            try:
                open(target, "ab").close()  # opened to append, nothing written: the file is unchanged
            except OSError as exc:
                raise BadInput(f"{what}: cannot write {path}: {exc.strerror or exc}") from None
            return
        parent = target
    else:
        parent = target.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise BadInput(f"{what}: cannot create {path}: {parent} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=parent, prefix=".qgt-write-check-"):
            pass
    except OSError as exc:
        action = "write in" if parent == target else "create"
        raise BadInput(f"{what}: cannot {action} {path}: {exc.strerror or exc} ({parent})") from None


# ---------------------------------------------------------------- compute and write


def run_compute(model, quantities, *, mu, T, tau, nk, units, kernel, rho1, progress, **options):
    """qgtransport.compute with the boundary checks: input errors -> BadInput (exit 2).

    The library raises ValueError (bad option or value) or OverflowError (the printed kernel of
    Eq. 18 leaving float64) for inputs it cannot take; both are reported as bad input.
    """
    from qgtransport.compute import compute
    from qgtransport.responses import RESPONSES

    if tau is None and quantities is not None:
        needing = [q for q in quantities if q in RESPONSES and RESPONSES[q].needs_tau]
        if needing:
            tau_unit = "fs" if units == "SI" else f"hbar/{model.energy_unit}"
            raise BadInput(f"{', '.join(needing)} need(s) the relaxation time: give --tau (in {tau_unit})")
    try:
        return compute(model, quantities, mu=mu, T=T, tau=tau, nk=nk, units=units, kernel=kernel, rho1=rho1,
                       progress=progress, **options)
    except (ValueError, OverflowError) as exc:
        raise BadInput(str(exc)) from None


def netcdf_safe(ds):
    """A copy whose attributes netCDF accepts: str, numbers and 1D numeric arrays (bool -> int,
    None -> "none", dict/list of non-numbers -> JSON text)."""
    def safe(value):
        if value is None:
            return "none"
        if isinstance(value, (bool, np.bool_)):
            return int(value)
        if isinstance(value, (str, int, float, np.integer, np.floating)):
            return value
        if isinstance(value, (list, tuple, np.ndarray)):
            array = np.asarray(value)
            if array.ndim == 1 and array.dtype.kind in "iuf":
                return array
        if isinstance(value, dict | list | tuple):
            return json.dumps(value, default=str)
        return str(value)

    out = ds.copy()
    out.attrs = {k: safe(v) for k, v in ds.attrs.items()}
    for name in list(out.variables):
        out[name].attrs = {k: safe(v) for k, v in ds[name].attrs.items()}
    return out


def shown_path(path) -> str:
    """A written file as the user finds it: relative to the current folder when it lies below it."""
    relative = os.path.relpath(Path(path).absolute(), Path.cwd())
    return str(path) if relative.startswith("..") else relative


def write_outputs(ds, netcdf_path, json_path=None) -> list:
    """Write the dataset (results.write_netcdf: complex variables as <name>__real, <name>__imag) and
    the JSON summary; return the paths written."""
    from qgtransport.results import write_json, write_netcdf

    written = []
    if netcdf_path is not None:
        netcdf_path = Path(netcdf_path)
        netcdf_path.parent.mkdir(parents=True, exist_ok=True)
        write_netcdf(netcdf_safe(ds), netcdf_path)
        written.append(netcdf_path)
    if json_path is not None:
        json_path = Path(json_path)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        write_json(ds, json_path)
        written.append(json_path)
    return written
