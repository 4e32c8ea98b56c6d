"""The `qgt` command line: `qgt models`, `qgt compute`, `qgt demo`.

Inputs are checked here, at the boundary; a bad input prints one line naming the value and what is
allowed, and exits with code 2. Exit codes: 0 ok, 1 unexpected error, 2 bad input.
"""

from __future__ import annotations

import inspect
import json
import math
import sys
import time
from pathlib import Path

import click
import numpy as np

EXIT_UNEXPECTED = 1
EXIT_BAD_INPUT = 2

HALL_LIKE = ("entropy_hall", "anomalous_hall", "anomalous_nernst")
TENSOR_DIMS = ("a", "b", "c")

DEMO_T = (750.0, 1500.0, 3000.0)  # K: k_B T = 0.065, 0.13, 0.26 eV against the eV band scale
DEMO_TAU = 10.0  # fs: tau = 15.2 hbar/eV
DEMO_MU_POINTS = 141
DEMO_QUANTITIES = (  # the linear DC responses of Eqs. 18-28 and their charge partners
    "entropy_production", "entropy_production_drude", "entropy_production_interband",
    "entropy_production_band_curvature", "entropy_production_drude_quantum_metric",
    "entropy_production_quantum_metric", "equilibrium_entropy_current", "entropy_current_drude",
    "entropy_hall", "anomalous_hall", "drude", "anomalous_nernst",
)
DEMO_NK = {1: 512, 2: 96, 3: 24}  # by dimension: each demo runs in under 15 s on 2 cores


class BadInput(click.ClickException):
    """A user error: one line on stderr, exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class QgtGroup(click.Group):
    """Turns unexpected exceptions into one line and exit code 1 (the traceback with --traceback)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if ctx.params.get("traceback"):
                raise
            click.echo(f"qgt: unexpected error: {type(exc).__name__}: {exc} "
                       "(run 'qgt --traceback ...' for the traceback)", err=True)
            ctx.exit(EXIT_UNEXPECTED)


# ---------------------------------------------------------------- parsing of inputs

def parse_number(text: str, what: str) -> float:
    """A float, or arithmetic with pi and sqrt ("pi/3", "-2*pi/3"); raises BadInput naming `what`."""
    from qgtransport.config import evaluate_number

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
        from qgtransport.config import split_range

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


# ---------------------------------------------------------------- output

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


def tensor_dims(da) -> list:
    return [d for d in da.dims if d in TENSOR_DIMS]


def default_component(ds, name: str, requested=None) -> tuple:
    """The component shown in tables: the requested one (cut to the variable's rank), else xy for
    Hall-type responses and xx (x, xxx) otherwise."""
    rank = len(tensor_dims(ds[name]))
    if requested is not None and len(requested) >= rank:
        return tuple(requested[:rank])
    if name in HALL_LIKE and rank == 2 and ds.sizes.get("a", 1) >= 2:
        return ("x", "y")
    return ("x",) * rank


def component_value(ds, name: str, component: tuple, **where):
    """One number: the variable at the given coordinates and tensor component (first index of any
    other dimension, e.g. omega)."""
    da = ds[name].sel(**where)
    tensor = tensor_dims(da)
    da = da.sel(dict(zip(tensor, component[: len(tensor)], strict=True)))
    return da.isel({d: 0 for d in da.dims}).values.item()


def response_names(ds) -> list:
    return [v for v in ds.data_vars if not v.endswith("_error")]


def format_table(header: list, rows: list) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(f"{h:<{w}}" for h, w in zip(header, widths, strict=True)).rstrip()
    body = ["  ".join(f"{str(c):<{w}}" for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join([line, "-" * len(line), *body])


def number(value) -> str:
    if isinstance(value, complex):
        return f"{value.real: .4e}{value.imag:+.4e}j"
    return f"{value: .4e}"


def compute_table(ds, component=None) -> str:
    """Each response at the first and last mu for each T (and the first and last omega of a
    frequency-dependent one), one component, with its grid error and units."""
    mu = ds["mu"].values
    mu_unit = ds["mu"].attrs.get("units", "")
    T_unit = ds["T"].attrs.get("units", "")
    ends = [float(mu[0])] if len(mu) == 1 else [float(mu[0]), float(mu[-1])]
    header = ["quantity", "comp", f"T ({T_unit})", *(f"mu={m:g} {mu_unit}" for m in ends), "grid error", "units"]
    has_omega = "omega" in ds.coords and any("omega" in ds[n].dims for n in response_names(ds))
    if has_omega:
        header.insert(3, f"omega ({ds['omega'].attrs.get('units', '')})")
    rows = []
    for name in response_names(ds):
        comp = default_component(ds, name, component)
        unit = ds[name].attrs.get("units", "")
        scale = 1.0
        if unit == "S/m":  # summaries give 3D conductivities in S/cm
            unit, scale = "S/cm", 0.01
        omegas = [None]
        if "omega" in ds[name].dims:
            w = ds["omega"].values
            omegas = [float(w[0])] if len(w) == 1 else [float(w[0]), float(w[-1])]
        for T in ds["T"].values:
            for omega in omegas:
                where = dict(T=T) | ({} if omega is None else dict(omega=omega))
                values = [scale * component_value(ds, name, comp, mu=m, **where) for m in ends]
                error = "-"
                if name + "_error" in ds:
                    worst = max(abs(component_value(ds, name + "_error", comp, mu=m, **where)) for m in ends)
                    error = f"{scale * worst:.1e}"
                row = [name, "".join(comp), f"{T:g}", *(number(v) for v in values), error, unit]
                if has_omega:
                    row.insert(3, "-" if omega is None else f"{omega:g}")
                rows.append(row)
    return format_table(header, rows)


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


# ---------------------------------------------------------------- commands

@click.group(cls=QgtGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--traceback", is_flag=True, help="Show the full traceback of an unexpected error.")
@click.version_option(package_name="qgtransport", prog_name="qgt")
def main(traceback):
    """qgt: quantum-geometric transport of Bloch electrons (entropy production, entropy Hall
    effect, anomalous Hall and Nernst) for tight-binding models.

    \b
    Examples:
      qgt models
      qgt demo --output qgt-demo
      qgt compute --model qwz --param m=-1 --mu -3:3:61 --T 300,1000 --tau 10 --nk 96 --output qwz.nc
    """


@main.command("models")
def models_command():
    """List the built-in models: dimension, bands, parameters (defaults) and description.

    \b
    Example:
      qgt models
    """
    from qgtransport.models import BUILTIN_MODELS, builtin_model

    rows = []
    for name, builder in BUILTIN_MODELS.items():
        model = builtin_model(name)
        params = ", ".join(f"{p.name}={p.default:.6g}" for p in inspect.signature(builder).parameters.values())
        doc = (inspect.getdoc(builder) or "").splitlines()
        rows.append([name, f"{model.dim}D", model.norb, params, doc[0].rstrip(".") if doc else ""])
    click.echo(format_table(["model", "dim", "bands", "parameters (defaults)", "description"], rows))
    click.echo("\nEnergies in eV, lengths in Angstrom; set parameters with --param key=value (e.g. phi=pi/2).")


COMPUTE_EPILOG = """\b
SPEC: a number (0.5), a comma list (300,600,1200) or start:stop:num (inclusive, -3:3:61).
Units: SI (default) takes mu in eV, T in K, tau in fs; natural takes T and tau in the model's
energy units (k_B = e = hbar = 1).
"""


@main.command("compute", epilog=COMPUTE_EPILOG)
@model_options
@click.option("--mu", "mu_spec", required=True, metavar="SPEC", help="Chemical potentials (eV).")
@click.option("--T", "T_spec", required=True, metavar="SPEC",
              help="Temperatures (K in SI units), > 0; 0 for the Fermi-sea quantities (anomalous_hall, ...).")
@click.option("--tau", "tau_text", default=None, metavar="X",
              help="Relaxation time (fs in SI units); needed by the entropy production and Drude terms.")
@click.option("--nk", type=click.IntRange(min=1), required=True, help="k-points per reciprocal direction.")
@click.option("--quantities", default=None, metavar="a,b",
              help="Comma list of responses (default: all that the given --tau allows).")
@click.option("--units", type=click.Choice(["SI", "natural"]), default="SI", show_default=True)
@click.option("--kernel", type=click.Choice(["divided_difference", "printed"]), default="divided_difference",
              show_default=True, help="Interband entropy-production kernel (ERRATA E1).")
@click.option("--rho1", type=click.Choice(["finite_eta", "dc_limit"]), default="finite_eta", show_default=True,
              help="First-order density matrix: Eq. 13 at omega = 0, or Eq. 14 (ERRATA E2).")
@click.option("--omega", "omega_spec", default=None, metavar="SPEC",
              help="Frequencies hbar omega (eV) for the AC and optical responses.")
@click.option("--broadening", type=click.Choice(["gaussian", "lorentzian"]), default="gaussian", show_default=True,
              help="Delta function of the optical responses (Eqs. 32-33).")
@click.option("--width", "width_text", default="0.02", show_default=True, metavar="X",
              help="Width of the broadened delta function (eV).")
@click.option("--component", default=None, metavar="ab",
              help="Component shown in the table (default xy for Hall-type responses, xx otherwise).")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="netCDF file to write.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="JSON summary to write.")
@click.option("--progress/--quiet", default=None,
              help="Show a progress bar over the k-grid (default: when stderr is a terminal).")
@click.option("--executor", type=click.Choice(["auto", "serial", "processes", "dask"]), default="auto",
              show_default=True,
              help="Where the k-chunks run: auto (local worker processes on every core for runs longer than a "
                   "few seconds, else this process), this process, local worker processes, or Dask.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes (processes, dask).")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="Address of a running Dask scheduler.")
@click.option("--checkpoint", type=click.Path(file_okay=False), default=None,
              help="Folder for finished chunks; the same command resumes from it after an interruption.")
@click.option("--scan", type=click.Choice(["direct", "binned"]), default="direct", show_default=True,
              help="binned: energy histograms once, then every (mu, T) by quadrature (DC linear responses).")
@click.option("--refine-levels", type=click.IntRange(min=0), default=0, show_default=True,
              help="Adaptive refinement levels around Berry-curvature / quantum-metric hot spots.")
@click.option("--positions", type=click.Choice(["diagonal", "full"]), default="diagonal", show_default=True,
              help="full: the off-diagonal position matrix of a --tb file enters the Berry connection.")
def compute_command(model_name, params, hr, tb, model_file, wsvec, win, centres, spin_degeneracy, mu_spec, T_spec,
                    tau_text, nk, quantities, units, kernel, rho1, omega_spec, broadening, width_text, component,
                    output, json_path, progress, executor, workers, scheduler, checkpoint, scan, refine_levels,
                    positions):
    """Compute responses of a built-in model on a k-grid for every (mu, T).

    Writes the dataset (netCDF, --output) and a JSON summary (--json), and prints each response at
    the first and last mu for each T.

    \b
    Examples:
      qgt compute --model qwz --mu 0 --T 300 --nk 48 --quantities anomalous_hall
      qgt compute --model haldane --param phi=pi/2 --param M=0.1 --mu -3:3:121 --T 300,1000 \\
          --tau 10 --nk 96 --output haldane.nc --json haldane.json
      qgt compute --model qwz --mu 1.5 --T 1000 --tau 10 --nk 96 --omega 0:6:121 \\
          --quantities optical_conductivity,optical_entropy_conductivity,conductivity_ac
      qgt compute --model pt_symmetric --mu 1.2 --T 1000 --tau 10 --nk 64 \\
          --quantities second_order_current,intrinsic_second_order,entropy_production_third_order
      qgt compute --hr lead_hr.dat --mu 11.0:13.0:21 --T 300 --tau 10 --nk 24 --quantities drude,entropy_production
    """
    model = load_model(model_name, parse_params(params), hr=hr, tb=tb, model_file=model_file, wsvec=wsvec, win=win,
                       centres=centres, spin_degeneracy=None if spin_degeneracy is None else int(spin_degeneracy),
                       positions=positions)
    mu = parse_spec(mu_spec, "--mu")
    T = parse_spec(T_spec, "--T")
    tau = None if tau_text is None else parse_number(tau_text, "--tau")
    names = None if quantities is None else [q.strip() for q in quantities.split(",") if q.strip()]
    comp = parse_component(component, model.dim)
    if progress is None:
        progress = sys.stderr.isatty()
    omega = None if omega_spec is None else parse_spec(omega_spec, "--omega")
    width = parse_number(width_text, "--width")
    engine = dict(executor=executor, workers=workers, scheduler=scheduler, checkpoint=checkpoint, scan=scan,
                  refine={"levels": refine_levels} if refine_levels else None, positions=positions)
    ds = run_compute(model, names, mu=mu, T=T, tau=tau, nk=nk, units=units, kernel=kernel, rho1=rho1,
                     progress=progress, omega=omega, broadening=broadening, width=width, **engine)
    written = write_outputs(ds, output, json_path)
    click.echo(f"{model_title_line(ds)}\n")
    click.echo(compute_table(ds, comp))
    for path in written:
        click.echo(f"wrote {path}")


def model_title_line(ds) -> str:
    params = json.loads(ds.attrs.get("model_parameters", "{}"))
    shown = {k: v for k, v in params.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    inner = f" ({', '.join(f'{k}={v:.6g}' for k, v in shown.items())})" if shown else ""
    tau = ds.attrs.get("tau", "none")
    tau_text = "" if tau == "none" else f", tau = {float(tau):g} {ds.attrs['tau_units']}"
    return (f"{ds.attrs['model']}{inner}, {ds.attrs['units']} units, grid {ds.attrs['grid']}{tau_text}, "
            f"kernel {ds.attrs['kernel']}, rho1 {ds.attrs['rho1']}")


def band_ranges(model, nk: int = 48) -> np.ndarray:
    """(norb, 2) array of each band's min and max energy on a coarse grid (nk per direction in 1D/2D,
    24 in 3D), Gamma and the zone boundary included."""
    n = nk if model.dim < 3 else 24
    axes = np.meshgrid(*([np.arange(n) / n] * model.dim), indexing="ij")
    k_reduced = np.stack([a.ravel() for a in axes], axis=-1)
    low = np.full(model.norb, np.inf)
    high = np.full(model.norb, -np.inf)
    for start in range(0, len(k_reduced), 16384):
        H = model.hamiltonian(model.to_cartesian(k_reduced[start:start + 16384]))
        energies = np.linalg.eigvalsh(H)
        low = np.minimum(low, energies.min(axis=0))
        high = np.maximum(high, energies.max(axis=0))
    return np.stack([low, high], axis=-1)


def nearest(values: np.ndarray, target: float) -> float:
    return float(values[np.argmin(np.abs(values - target))])


def demo_table(ds, mu_points: dict, T: float) -> tuple[list, list]:
    header = ["quantity", "comp"]
    for label, m in mu_points.items():
        header += [f"{label} mu={m:.3g} eV", "grid error"]
    header.append("units")
    rows = []
    for name in response_names(ds):
        comp = default_component(ds, name)
        row = [name, "".join(comp)]
        for m in mu_points.values():
            row.append(number(component_value(ds, name, comp, mu=m, T=T)))
            has_error = name + "_error" in ds
            row.append(f"{abs(component_value(ds, name + '_error', comp, mu=m, T=T)):.1e}" if has_error else "-")
        row.append(ds[name].attrs.get("units", ""))
        rows.append(row)
    return header, rows


@main.command("demo")
@click.option("--output", "output_dir", type=click.Path(file_okay=False), default="qgt-demo", show_default=True,
              help="Folder for the dataset, the JSON summary and the figures.")
@click.option("--model", "model_name", default="qwz", show_default=True, metavar="NAME",
              help="Built-in model (see 'qgt models').")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Model parameter; repeat for several.")
@click.option("--nk", type=click.IntRange(min=2), default=None,
              help="k-points per reciprocal direction (default 512 in 1D, 96 in 2D, 24 in 3D; smaller is "
                   "faster and coarser).")
@click.option("--progress/--quiet", default=None,
              help="Show a progress bar over the k-grid (default: when stderr is a terminal).")
def demo_command(output_dir, model_name, params, nk, progress):
    """Run every response on a built-in model with no input files, and plot them.

    The Qi-Wu-Zhang Chern insulator (m = -1: bands -3..-1 and 1..3 eV, C = +1 for the lower band)
    by default, in SI units: T = 750, 1500, 3000 K, tau = 10 fs, a mu scan across the bands, the
    linear DC responses (entropy production and its parts, entropy currents, anomalous Hall, Drude,
    anomalous Nernst) with their grid errors. Writes DIR/demo.nc, DIR/summary.json, DIR/entropy_production.png,
    DIR/entropy_hall_nernst.png and DIR/bz_maps.png, the report DIR/report.html (figures also in
    DIR/figures/), and prints a summary table.

    \b
    Examples:
      qgt demo
      qgt demo --output /tmp/haldane --model haldane --param M=0.2 --nk 64
    """
    from qgtransport import plot

    start = time.perf_counter()
    model = make_model(model_name, parse_params(params))
    if progress is None:
        progress = sys.stderr.isatty()
    nk = DEMO_NK[model.dim] if nk is None else nk
    bands = band_ranges(model)
    low = math.floor(bands.min() * 2) / 2 - 0.5
    high = math.ceil(bands.max() * 2) / 2 + 0.5
    mu = np.linspace(low, high, DEMO_MU_POINTS)
    ds = run_compute(model, list(DEMO_QUANTITIES), mu=mu, T=np.array(DEMO_T), tau=DEMO_TAU, nk=nk, units="SI",
                     kernel="divided_difference", rho1="finite_eta", progress=progress)
    ds.attrs["demo"] = "qgt demo: every response on a built-in model, SI units"
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = write_outputs(ds, out / "demo.nc")

    figures = {"entropy_production.png": plot.plot_entropy_production(ds)}
    skipped = []
    if model.dim >= 2:
        figures["entropy_hall_nernst.png"] = plot.plot_entropy_hall_and_nernst(ds)
        figures["bz_maps.png"] = plot.plot_bz_maps(model, band=0, nk=101, kz=0.0)
    else:
        skipped.append("entropy_hall_nernst.png and bz_maps.png (no Hall response or Berry curvature in 1D)")
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=130)
        written.append(out / name)
    from qgtransport.report import write_report

    report = write_report(ds, model, out, command=f"qgt demo --model {model_name}")
    written.append(report.html_path)

    T_ref = DEMO_T[1]
    top = bands[-1]
    mu_points = {"gap/centre": nearest(mu, 0.0), "metal": nearest(mu, 0.5 * (top[0] + top[1]))}
    header, rows = demo_table(ds, mu_points, T_ref)
    summary = _demo_summary(ds, header, rows, bands, T_ref)
    json_path = out / "summary.json"
    with open(json_path, "w") as fh:
        json.dump(summary, fh, indent=1)
    written.insert(1, json_path)

    click.echo(model_title_line(ds))
    ranges = ", ".join(f"[{lo:.3g}, {hi:.3g}]" for lo, hi in bands)
    click.echo(f"bands (eV): {ranges};  mu: {mu[0]:g} .. {mu[-1]:g} eV, {len(mu)} points;  "
               f"T: {', '.join(f'{t:g}' for t in DEMO_T)} K\n")
    click.echo(f"Responses at T = {T_ref:g} K (grid error = |I(nk) - I(nk/2)|):")
    click.echo(format_table(header, rows))
    if "anomalous_hall" in ds and model.dim == 2:
        from qgtransport.units import E_CHARGE, HBAR

        e2_over_h = E_CHARGE**2 / (2 * math.pi * HBAR)
        hall = component_value(ds, "anomalous_hall", ("x", "y"), mu=mu_points["gap/centre"], T=DEMO_T[0])
        click.echo(f"\nanomalous_hall xy at mu = {mu_points['gap/centre']:g} eV, T = {DEMO_T[0]:g} K: "
                   f"{hall / e2_over_h:.6f} e^2/h (a Chern insulator gives -C e^2/h)")
    click.echo("")
    for path in written:
        click.echo(f"wrote {path}")
    for text in skipped:
        click.echo(f"skipped {text}")
    click.echo(f"done in {time.perf_counter() - start:.1f} s")


def _demo_summary(ds, header, rows, bands, T_ref) -> dict:
    from qgtransport.results import summary

    data = summary(ds)
    data["demo"] = {
        "band_ranges_eV": bands.tolist(),
        "table_T_K": T_ref,
        "table_header": header,
        "table": rows,
    }
    return data


@main.command("convert")
@model_options
@click.option("--output", type=click.Path(dir_okay=False), required=True, help="netCDF model file to write.")
def convert_command(model_name, params, hr, tb, model_file, wsvec, win, centres, spin_degeneracy, output):
    """Write a model (built-in or Wannier90) to qgtransport's lossless netCDF model file.

    \b
    Examples:
      qgt convert --hr lead_hr.dat --output lead.nc
      qgt compute --model-file lead.nc --mu 12 --T 300 --tau 10 --nk 24
    """
    from qgtransport.models import write_model

    model = load_model(model_name, parse_params(params), hr=hr, tb=tb, model_file=model_file, wsvec=wsvec, win=win,
                       centres=centres, spin_degeneracy=None if spin_degeneracy is None else int(spin_degeneracy))
    write_model(model, output)
    click.echo(f"wrote {output}: {model.name}, {model.dim}D, {model.norb} orbitals, {len(model.R)} R vectors, "
               f"spin degeneracy {model.spin_degeneracy}")


@main.command("verify")
@click.option("--model", "model_name", required=True, metavar="NAME", help="Built-in model (see 'qgt models').")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Model parameter; repeat for several.")
@click.option("--mu", "mu_text", required=True, metavar="X", help="Chemical potential (model energy unit).")
@click.option("--T", "T_text", required=True, metavar="X", help="Temperature (model energy unit), > 0.")
@click.option("--tau", "tau_text", default=None, metavar="X",
              help="Relaxation time (hbar/energy), > 0 (not needed with --intrinsic).")
@click.option("--intrinsic", is_flag=True,
              help="Compare the tau^0 second-order currents (seed, Gao-Yang-Niu, Kaplan-Holder-Yan) with the "
                   "exact tau^0 current of the seed's equation instead.")
@click.option("--nk", type=click.IntRange(min=4), default=48, show_default=True,
              help="k-points per reciprocal direction (closed forms and exact solver share the grid).")
@click.option("--direction", default=None, metavar="n1,n2[,n3]",
              help="Field along g = n . b (integers; default b_1).")
@click.option("--tolerance", "tolerance_text", default="1e-3", show_default=True, metavar="X",
              help="Relative difference that counts as agreement.")
def verify_command(model_name, params, mu_text, T_text, tau_text, intrinsic, nk, direction, tolerance_text):
    """Each perturbative closed form beside the exact steady state of the seed's equation of motion.

    Natural units (k_B = e = hbar = 1; the model's energy and length units). Prints quantity,
    closed form, exact (fitted from exact DC solves at small fields, with its error), relative
    difference and verdict; exit code 1 if a formula expected to agree does not.

    \b
    Examples:
      qgt verify --model qwz --mu 1.5 --T 0.2 --tau 10
      qgt verify --model pt_symmetric --mu 1.2 --T 0.2 --tau 3 --nk 64 --direction 1,1
      qgt verify --model pt_symmetric --mu 1.2 --T 0.2 --intrinsic --nk 64
    """
    from qgtransport.verify import format_verify_table, verify, verify_intrinsic

    model = make_model(model_name, parse_params(params))
    mu, T = (parse_number(t, w) for t, w in ((mu_text, "--mu"), (T_text, "--T")))
    if tau_text is None and not intrinsic:
        raise BadInput("--tau is required (or give --intrinsic for the tau^0 comparison)")
    tau = None if tau_text is None else parse_number(tau_text, "--tau")
    tolerance = parse_number(tolerance_text, "--tolerance")
    n = None
    if direction is not None:
        try:
            n = tuple(int(x) for x in direction.split(","))
        except ValueError:
            raise BadInput(f"--direction must be comma-separated integers, got {direction!r}") from None
    try:
        if intrinsic:
            rows = verify_intrinsic(model, mu, T, nk, directions=None if n is None else [n], tolerance=tolerance)
        else:
            rows = verify(model, mu, T, tau, nk, direction=n, tolerance=tolerance)
    except (ValueError, OverflowError) as exc:
        raise BadInput(str(exc)) from None
    relaxation = "tau^0 terms" if intrinsic else f"tau = {tau:g}"
    click.echo(f"{model.name} {model.parameters}, mu = {mu:g}, T = {T:g}, {relaxation}, grid {nk}^{model.dim}\n")
    click.echo(format_verify_table(rows))
    if any(r["verdict"] == "DISAGREES" for r in rows):
        raise click.exceptions.Exit(EXIT_UNEXPECTED)


from qgtransport.cli_run import register  # noqa: E402  (qgt run, init, show)

register(main)

if __name__ == "__main__":  # pragma: no cover
    main()
