"""The `qgt` command group and the commands `qgt models`, `qgt compute`, `qgt demo`, `qgt convert`,
`qgt verify` (`qgt run`, `init` and `show` are in `qgtransport.cli.run`).

Inputs are checked at the boundary (`qgtransport.cli.inputs`); a bad input prints one line naming
the value and what is allowed, and exits with code 2. Exit codes: 0 ok, 1 unexpected error, 2 bad
input or an output that cannot be written (`qgtransport.files.OutputError`), 130 Ctrl-C, 143 SIGTERM
(handled as Ctrl-C: the workers ended, the checkpoint kept, one line).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import signal
import sys
import threading
import time
from pathlib import Path

import click
import numpy as np

from qgtransport import options as O
from qgtransport.cli.inputs import (
    EXIT_UNEXPECTED,
    BadInput,
    check_options,
    check_writable,
    load_model,
    make_model,
    model_options,
    parse_component,
    parse_number,
    parse_params,
    parse_spec,
    run_compute,
    shown_path,
    write_outputs,
)
from qgtransport.cli.run import register
from qgtransport.cli.tables import (
    component_value,
    compute_table,
    demo_table,
    flags_warning,
    format_table,
    model_title_line,
)
from qgtransport.cost import check_exact_grid
from qgtransport.files import OutputError, write_text, write_with
from qgtransport.results import model_label

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


EXIT_TERMINATED = 128 + 15  # SIGTERM, as the shell reports a process it killed
EXIT_INTERRUPTED = 128 + 2  # SIGINT (Ctrl-C)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (a batch scheduler, `timeout`, `kill`): stop like Ctrl-C."""


def _raise_terminated(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM raises Terminated in the main thread while the block runs (the previous handler after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_message(kind: str) -> str:
    return (f"qgt: stopped by {kind}; no file is left half-written, and a rerun resumes from the finished chunks "
            "in the checkpoint folder (if one was given)")


class QgtGroup(click.Group):
    """Turns unexpected exceptions into one line and exit code 1 (the traceback with --traceback); a
    file that cannot be written (full disk) into one line and exit code 2; SIGTERM and Ctrl-C into a
    clean stop (the workers ended, the checkpoint kept), one line and exit code 143 or 130."""

    def invoke(self, ctx: click.Context):
        try:
            with sigterm_as_interrupt():
                return super().invoke(ctx)
        except Terminated:
            click.echo(stop_message("SIGTERM"), err=True)
            ctx.exit(EXIT_TERMINATED)
        except KeyboardInterrupt:
            click.echo(stop_message("Ctrl-C"), err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except OutputError as exc:
            raise BadInput(str(exc)) from None
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if ctx.params.get("traceback"):
                raise
            click.echo(f"qgt: unexpected error: {type(exc).__name__}: {exc} "
                       "(run 'qgt --traceback ...' for the traceback)", err=True)
            ctx.exit(EXIT_UNEXPECTED)


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


FORCE_HELP = ("Start a run estimated above 24 h or 80% of the available memory (refused otherwise, before any "
              "work, with the estimate; hard limits 2**50 k-points and 1e7 scan points stay).")

COMPUTE_EPILOG = """\b
SPEC: a number (0.5), a comma list (300,600,1200) or start:stop:num (inclusive, -3:3:61;
at most 1e7 points).
Before any work the time and memory of the run are estimated (qgtransport.cost); a run above
24 h or 80% of the available memory is refused unless --force is given.
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
@click.option("--units", type=click.Choice(O.UNITS), default="SI", show_default=True)
@click.option("--kernel", type=click.Choice(O.KERNELS), default="divided_difference",
              show_default=True, help="Interband entropy-production kernel (ERRATA E1).")
@click.option("--rho1", type=click.Choice(O.RHO1), default="finite_eta", show_default=True,
              help="First-order density matrix: Eq. 13 at omega = 0, or Eq. 14 (ERRATA E2).")
@click.option("--omega", "omega_spec", default=None, metavar="SPEC",
              help="Frequencies hbar omega (eV) for the AC and optical responses.")
@click.option("--broadening", type=click.Choice(O.BROADENINGS), default="gaussian", show_default=True,
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
@click.option("--executor", type=click.Choice(O.EXECUTORS), default="auto",
              show_default=True,
              help="Where the k-chunks run: auto (local worker processes on every core for runs longer than a "
                   "few seconds, else this process), this process, local worker processes, or Dask.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes (processes, dask).")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="Address of a running Dask scheduler.")
@click.option("--checkpoint", type=click.Path(file_okay=False), default=None,
              help="Folder for finished chunks; the same command resumes from it after an interruption.")
@click.option("--scan", type=click.Choice(O.SCANS), default="direct", show_default=True,
              help="binned: energy histograms once, then every (mu, T) by quadrature (DC linear responses).")
@click.option("--refine-levels", type=click.IntRange(min=0), default=0, show_default=True,
              help="Adaptive refinement levels around Berry-curvature / quantum-metric hot spots.")
@click.option("--positions", type=click.Choice(O.POSITIONS), default="diagonal", show_default=True,
              help="full: the position matrix of a --tb file enters the Berry connection and curvature "
                   "(Wannier interpolation, WYSV 2006).")
@click.option("--symmetry", "symmetry_text", default=None, metavar="auto|G1,G2",
              help="Magnetic point group: 'auto' or generators such as 'C3z,C2x,TimeReversal': only the irreducible "
                   "k-points of a Gamma-centred grid are computed and the tensors symmetrised (docs/symmetry.md).")
@click.option("--symmetry-force", is_flag=True, help="Use --symmetry even where the model breaks it.")
@click.option("--force", is_flag=True, help=FORCE_HELP)
def compute_command(model_name, params, hr, tb, model_file, wsvec, win, centres, spin_degeneracy, mu_spec, T_spec,
                    tau_text, nk, quantities, units, kernel, rho1, omega_spec, broadening, width_text, component,
                    output, json_path, progress, executor, workers, scheduler, checkpoint, scan, refine_levels,
                    positions, force, symmetry_text, symmetry_force):
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
    mu = parse_spec(mu_spec, "--mu")
    T = parse_spec(T_spec, "--T")
    tau = None if tau_text is None else parse_number(tau_text, "--tau")
    omega = None if omega_spec is None else parse_spec(omega_spec, "--omega")
    width = parse_number(width_text, "--width")
    engine = dict(executor=executor, workers=workers, scheduler=scheduler, checkpoint=checkpoint, scan=scan,
                  refine={"levels": refine_levels} if refine_levels else None, positions=positions, force=force)
    if symmetry_text is not None:  # a Gamma-centred grid: invariant under every point group
        engine.update(symmetry=symmetry_text, symmetry_force=symmetry_force, shift=0.0)
    check_options(mu=mu, T=T, tau=tau, nk=nk, omega=omega, width=width, units=units, kernel=kernel, rho1=rho1,
                  broadening=broadening, **engine)
    check_writable(output, "--output")
    check_writable(json_path, "--json")
    check_writable(checkpoint, "--checkpoint", folder=True)
    model = load_model(model_name, parse_params(params), hr=hr, tb=tb, model_file=model_file, wsvec=wsvec, win=win,
                       centres=centres, spin_degeneracy=None if spin_degeneracy is None else int(spin_degeneracy),
                       positions=positions)
    names = None if quantities is None else [q.strip() for q in quantities.split(",") if q.strip()]
    comp = parse_component(component, model.dim)
    if progress is None:
        progress = sys.stderr.isatty()
    ds = run_compute(model, names, mu=mu, T=T, tau=tau, nk=nk, units=units, kernel=kernel, rho1=rho1,
                     progress=progress, omega=omega, broadening=broadening, width=width, **engine)
    written = write_outputs(ds, output, json_path)
    click.echo(f"{model_title_line(ds)}\n")
    click.echo(compute_table(ds, comp))
    for path in written:
        click.echo(f"wrote {shown_path(path)}")


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
@click.option("--force", is_flag=True, help=FORCE_HELP)
def demo_command(output_dir, model_name, params, nk, progress, force):
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
    from qgtransport.report import (
        plot_bz_maps,
        plot_entropy_hall_and_nernst,
        plot_entropy_production,
        write_report,
    )

    start = time.perf_counter()
    check_writable(output_dir, "--output", folder=True)
    model = make_model(model_name, parse_params(params))
    if progress is None:
        progress = sys.stderr.isatty()
    nk = DEMO_NK[model.dim] if nk is None else nk
    bands = band_ranges(model)
    low = math.floor(bands.min() * 2) / 2 - 0.5
    high = math.ceil(bands.max() * 2) / 2 + 0.5
    mu = np.linspace(low, high, DEMO_MU_POINTS)
    ds = run_compute(model, list(DEMO_QUANTITIES), mu=mu, T=np.array(DEMO_T), tau=DEMO_TAU, nk=nk, units="SI",
                     kernel="divided_difference", rho1="finite_eta", progress=progress, force=force)
    ds.attrs["demo"] = "qgt demo: every response on a built-in model, SI units"
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = write_outputs(ds, out / "demo.nc")

    figures = {"entropy_production.png": plot_entropy_production(ds)}
    skipped = []
    if model.dim >= 2:
        figures["entropy_hall_nernst.png"] = plot_entropy_hall_and_nernst(ds)
        figures["bz_maps.png"] = plot_bz_maps(model, band=0, nk=101, kz=0.0)
    else:
        skipped.append("entropy_hall_nernst.png and bz_maps.png (no Hall response or Berry curvature in 1D)")
    for name, fig in figures.items():
        write_with(out / name, lambda tmp, fig=fig: fig.savefig(tmp, dpi=130, format="png"))
        written.append(out / name)
    report = write_report(ds, model, out, command=f"qgt demo --model {model_name}")
    written.append(report.html_path)

    T_ref = DEMO_T[1]
    top = bands[-1]
    mu_points = {"gap/centre": nearest(mu, 0.0), "metal": nearest(mu, 0.5 * (top[0] + top[1]))}
    header, rows = demo_table(ds, mu_points, T_ref)
    summary = _demo_summary(ds, header, rows, bands, T_ref)
    json_path = out / "summary.json"
    write_text(json_path, json.dumps(summary, indent=1))
    written.insert(1, json_path)

    click.echo(model_title_line(ds))
    ranges = ", ".join(f"[{lo:.3g}, {hi:.3g}]" for lo, hi in bands)
    click.echo(f"bands (eV): {ranges};  mu: {mu[0]:g} .. {mu[-1]:g} eV, {len(mu)} points;  "
               f"T: {', '.join(f'{t:g}' for t in DEMO_T)} K\n")
    click.echo(f"Responses at T = {T_ref:g} K (grid error = |I(nk) - I(nk/2)|):")
    click.echo(format_table(header, rows))
    warning = flags_warning(ds, header, rows)
    if warning:
        click.echo(warning)
    if "anomalous_hall" in ds and model.dim == 2:
        from qgtransport.units import E_CHARGE, HBAR

        e2_over_h = E_CHARGE**2 / (2 * math.pi * HBAR)
        hall = component_value(ds, "anomalous_hall", ("x", "y"), mu=mu_points["gap/centre"], T=DEMO_T[0])
        click.echo(f"\nanomalous_hall xy at mu = {mu_points['gap/centre']:g} eV, T = {DEMO_T[0]:g} K: "
                   f"{hall / e2_over_h:.6f} e^2/h (a Chern insulator gives -C e^2/h)")
    click.echo("")
    for path in written:
        click.echo(f"wrote {shown_path(path)}")
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


@main.command("symmetry")
@model_options
@click.option("--generators", default="auto", show_default=True, metavar="auto|G1,G2",
              help="The group to check: 'auto' (declared by a built-in model, else spglib) or generators such as "
                   "'Inversion,C4z,TimeReversal*C2x'.")
@click.option("--tolerance", "tolerance_text", default=None, metavar="X",
              help="Energy tolerance (eV) of a respected operation (default 1e-5).")
def symmetry_command(model_name, params, hr, tb, model_file, wsvec, win, centres, spin_degeneracy, generators,
                     tolerance_text):
    """Check how far a model breaks each operation of a point group (band energies and Berry curvature
    at g k against k, random k), and print the largest subgroup it respects.

    \b
    Examples:
      qgt symmetry --model qwz --generators C4z,TimeReversal*Mx,TimeReversal
      qgt symmetry --hr Fe_hr.dat --generators Inversion,C4z,TimeReversal*C2x
    """
    from qgtransport.symmetry import ENERGY_TOL, check

    model = load_model(model_name, parse_params(params), hr=hr, tb=tb, model_file=model_file, wsvec=wsvec, win=win,
                       centres=centres, spin_degeneracy=None if spin_degeneracy is None else int(spin_degeneracy))
    tol = ENERGY_TOL if tolerance_text is None else parse_number(tolerance_text, "--tolerance")
    try:
        result = check(model, generators, energy_tol=tol)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    unit = model.energy_unit
    rows = [[r["operation"], f"{r['energy']:.2e}", f"{r['curvature']:.2e}", "yes" if r["respected"] else "BROKEN"]
            for r in result.rows()]
    click.echo(f"{model.name}: group of order {result.group.order} ({', '.join(result.group.generators)})\n")
    click.echo(format_table(["operation", f"max |e(k) - e(gk)| ({unit})", "Berry curvature (relative)",
                             "respected"], rows))
    respected = result.respected
    click.echo(f"\nlargest subgroup respected (energies to {tol:g} {unit}, curvature to {result.curvature_tol:g}): "
               f"order {respected.order}, generators {', '.join(respected.generators)}")


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

    check_writable(output, "--output")
    model = load_model(model_name, parse_params(params), hr=hr, tb=tb, model_file=model_file, wsvec=wsvec, win=win,
                       centres=centres, spin_degeneracy=None if spin_degeneracy is None else int(spin_degeneracy))
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    write_model(model, output)
    click.echo(f"wrote {output}: {model.name}, {model.dim}D, {model.norb} orbitals, {len(model.R)} R vectors, "
               f"spin degeneracy {model.spin_degeneracy}")


@main.command("verify")
@click.option("--model", "model_name", required=True, metavar="NAME", help="Built-in model (see 'qgt models').")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Model parameter; repeat for several.")
@click.option("--mu", "mu_text", required=True, metavar="X", help="Chemical potential (model energy unit, eV).")
@click.option("--T", "T_text", required=True, metavar="X",
              help="Temperature, > 0: K with --units SI (default), k_B T in the model's energy unit with --units "
                   "natural.")
@click.option("--tau", "tau_text", default=None, metavar="X",
              help="Relaxation time, > 0: fs with --units SI, hbar/energy with --units natural (not needed with "
                   "--intrinsic).")
@click.option("--units", type=click.Choice(O.UNITS), default="SI", show_default=True,
              help="Units of --T and --tau (as qgt compute); the table itself is in natural units.")
@click.option("--intrinsic", is_flag=True,
              help="Compare the tau^0 second-order currents (seed, Gao-Yang-Niu, Kaplan-Holder-Yan) with the "
                   "exact tau^0 current of the seed's equation instead.")
@click.option("--nk", type=click.IntRange(min=4, max=512), default=48, show_default=True,
              help="k-points per reciprocal direction (closed forms and exact solver share the grid; at most 512, "
                   "as [checks] exact_nk).")
@click.option("--direction", default=None, metavar="n1,n2[,n3]",
              help="Field along g = n . b (integers; default b_1).")
@click.option("--tolerance", "tolerance_text", default="1e-3", show_default=True, metavar="X",
              help="Relative difference that counts as agreement.")
def verify_command(model_name, params, mu_text, T_text, tau_text, units, intrinsic, nk, direction, tolerance_text):
    """Each perturbative closed form beside the exact steady state of the seed's equation of motion.

    T and tau in SI units by default (K, fs), as qgt compute; --units natural takes them in the
    model's units (k_B = e = hbar = 1). The table is in natural units: quantity, closed form,
    exact (fitted from exact DC solves at small fields, with its error), relative difference and
    verdict; exit code 1 if a formula expected to agree does not.

    \b
    Examples:
      qgt verify --model qwz --mu 1.5 --T 2300 --tau 6.6
      qgt verify --model qwz --mu 1.5 --T 0.2 --tau 10 --units natural
      qgt verify --model pt_symmetric --mu 1.2 --T 0.2 --tau 3 --nk 64 --direction 1,1 --units natural
      qgt verify --model pt_symmetric --mu 1.2 --T 0.2 --intrinsic --nk 64 --units natural
    """
    from qgtransport import units as U
    from qgtransport.exact.verify import format_verify_table, verify, verify_intrinsic

    model = make_model(model_name, parse_params(params))
    try:
        check_exact_grid(nk, model.dim, "--nk")
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    mu, T_given = (parse_number(t, w) for t, w in ((mu_text, "--mu"), (T_text, "--T")))
    if tau_text is None and not intrinsic:
        raise BadInput("--tau is required (or give --intrinsic for the tau^0 comparison)")
    tau_given = None if tau_text is None else parse_number(tau_text, "--tau")
    tolerance = parse_number(tolerance_text, "--tolerance")
    for value, what, unit in ((T_given, "--T", "K" if units == "SI" else model.energy_unit),
                              (tau_given, "--tau", "fs" if units == "SI" else "hbar/energy"),
                              (tolerance, "--tolerance", "relative")):
        if value is not None and value <= 0:
            raise BadInput(f"{what} must be > 0 ({unit}), got {value:g}")
    energy = model.energy_unit
    if units == "SI":
        if 0 < T_given < 1.0:
            click.echo(f"warning: --T {T_given:g} is in K (--units SI); for k_B T in {energy} give --units natural",
                       err=True)
        T = float(U.temperature_to_natural(T_given, model))
        tau = None if tau_given is None else float(U.relaxation_time_to_natural(tau_given, model))
    else:
        T, tau = T_given, tau_given
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
    relaxation = "tau^0 terms" if intrinsic else f"tau = {tau:.6g} hbar/{energy}"
    given = ""
    if units == "SI":
        given = f" (T = {T_given:g} K" + ("" if intrinsic else f", tau = {tau_given:g} fs") + ")"
    click.echo(f"{model_label(model.name, model.parameters)}, mu = {mu:g} {energy}, k_B T = {T:.6g} {energy}, "
               f"{relaxation}{given}, grid {nk}^{model.dim}; natural units\n")
    click.echo(format_verify_table(rows))
    if any(r["verdict"] == "DISAGREES" for r in rows):
        raise click.exceptions.Exit(EXIT_UNEXPECTED)


register(main)

if __name__ == "__main__":  # pragma: no cover
    main()
