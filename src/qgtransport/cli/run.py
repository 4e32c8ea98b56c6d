"""`qgt run CONFIG`, `qgt init [PATH]`, `qgt show FILE` and `qgt report FILE`: a run from one
configuration file, the commented example configuration, a summary of a dataset written by
qgtransport, and its report (figures and HTML) without recomputing it.

Registered on the `qgt` group by `register(main)` (qgtransport/cli/commands.py). Exit codes as
for every qgt command: 0 ok, 1 unexpected error, 2 bad input (configuration, model file, data file).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from qgtransport.cli.inputs import (
    BadInput,
    check_writable,
    load_model,
    model_options,
    parse_component,
    parse_params,
    run_compute,
    shown_path,
    write_outputs,
)
from qgtransport.cli.tables import compute_table, model_title_line, response_names, summary_table
from qgtransport.files import write_text
from qgtransport.results import without_paths
from qgtransport.units import displayed

EXIT_CODES = """\b
Exit codes: 0 ok; 1 unexpected error (run 'qgt --traceback ...' for the traceback);
2 bad input (the message names the file, table and key, or the value, and what is allowed)
or an output that cannot be written (full disk: the previous file is kept);
130/143 stopped by Ctrl-C/SIGTERM (the checkpoint kept).
"""


def _stderr(text: str) -> None:
    click.echo(text, err=True)


def report_options(config):
    """qgtransport.report.ReportOptions from a validated RunConfig."""
    from qgtransport.report import ReportOptions, custom_path

    report, checks = config.report, config.checks
    path = None
    if report.path_labels is not None:
        path = custom_path(report.path_labels, report.path_points)
    execution = {k: v for k, v in config.compute_options().items() if k in EXECUTION_KEYS}
    return ReportOptions(
        title=report.title, path=path, band_points=report.band_points, bz_nk=report.bz_nk, band=report.band,
        density_mu=report.density_mu, density_T=report.density_T, direction=config.field.direction,
        strength=config.field.strength, checks=checks.relations, mu_points=checks.mu_points, exact=checks.exact,
        exact_nk=checks.exact_nk, exact_mu=checks.exact_mu, exact_T=checks.exact_T, tolerance=checks.tolerance,
        execution=execution, dpi=config.output.dpi,
    )


EXECUTION_KEYS = ("executor", "workers", "scheduler", "task_size", "max_elements", "backend", "scan", "bin_width",
                  "refine", "force")  # what the recomputations of the relation checks take from [execution]


RUN_EPILOG = """\b
The configuration (TOML) names the model (built-in with parameters, Wannier90 files or a
qgtransport model file), the k-grid, the mu, T (and omega) scans, tau, the field direction, the
quantities, the executor and the output folder; 'qgt init' writes a commented example and
docs/configuration.md lists every key. Relative paths are taken from the configuration's folder.

\b
Writes, in the output folder:
  <name>.nc      the dataset (netCDF, CF-1.10: units and a long name on every variable, the
                 grid errors linked; the configuration and the qgtransport version in the
                 attributes; read it with qgtransport.open_dataset, report it with qgt report)
  <name>.json    the same numbers as JSON (unless [output] json = false)
  report.html    one self-contained page: figures, relation checks, grid convergence,
                 conventions and errata (unless [output] report = false or --no-report)
  figures/*.png  the report's figures

""" + EXIT_CODES


@click.command("run", epilog=RUN_EPILOG)
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=True))
@click.option("--output", "output_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (overrides [output] folder).")
@click.option("--no-report", is_flag=True, help="Write the dataset only, no report.")
@click.option("--progress/--quiet", default=None,
              help="Progress bar over the k-grid and stage messages (default: [execution] progress, else when "
                   "stderr is a terminal).")
@click.option("--force", is_flag=True,
              help="Start a run estimated above 24 h or 80% of the available memory (as [execution] force = true).")
def run_command(config_path, output_dir, no_report, progress, force):
    """Compute everything a configuration file asks for, write the dataset and the HTML report.

    \b
    Examples:
      qgt init qwz.toml && qgt run qwz.toml
      qgt run lead.toml --output lead-run
      qgt run qwz.toml --no-report --quiet
    """
    from qgtransport import __version__
    from qgtransport.cli.config import ConfigError, build_model, load_config

    start = time.perf_counter()
    try:
        config = load_config(config_path)
        model, warnings = build_model(config)
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    for text in warnings:
        _stderr(f"warning: {text}")
    folder = Path(output_dir) if output_dir is not None else config.folder
    check_writable(folder, "--output" if output_dir is not None else f"{config_path}: [output] folder", folder=True)
    for suffix in (".nc", ".json") if config.output.json_summary else (".nc",):
        check_writable(folder / f"{config.output.name}{suffix}", f"{config_path}: [output] name")
    if config.execution.checkpoint is not None:
        check_writable(config.execution.checkpoint, f"{config_path}: [execution] checkpoint", folder=True)
    if progress is None:
        progress = config.execution.progress if config.execution.progress is not None else sys.stderr.isatty()
    say = _stderr if progress else (lambda text: None)
    if force:  # as [execution] force = true: the recomputations of the report's checks are forced too
        config.execution.force = True
    options = config.compute_options()
    options.pop("progress", None)
    mu, T, tau, nk, units, kernel, rho1 = (options.pop(k) for k in ("mu", "T", "tau", "nk", "units", "kernel",
                                                                     "rho1"))
    quantities = None if config.physics.quantities is None else list(config.physics.quantities)
    shape = "x".join(str(n) for n in (nk if isinstance(nk, tuple) else (nk,) * model.dim))
    what = "the linear DC responses" if quantities is None else f"{len(quantities)} responses"
    say(f"computing {what} of {model.name} on a {shape} k-grid for {len(mu)} mu x {len(T)} T")
    ds = run_compute(model, quantities, mu=mu, T=T, tau=tau, nk=nk, units=units, kernel=kernel, rho1=rho1,
                     progress=bool(progress), **options)
    if config.symmetry.check is not None:  # forbidden components count as grid error (docs/symmetry.md)
        from qgtransport.compute import add_forbidden_components

        try:
            ds = add_forbidden_components(ds, model, config.symmetry.check)
        except ValueError as exc:
            raise BadInput(f"{config_path}: [symmetry] check: {exc}") from None
    ds.attrs["config"] = config.text
    ds.attrs["config_resolved"] = config.to_json()
    ds.attrs["config_file"] = str(Path(config_path).resolve())
    ds.attrs["qgtransport_version"] = __version__
    ds.attrs["created_by"] = f"qgt run {config_path}"
    name = config.output.name
    json_path = folder / f"{name}.json" if config.output.json_summary else None
    written = write_outputs(ds, folder / f"{name}.nc", json_path)
    report = None
    with displayed({"S/m": config.output.conductivity_unit}):  # [output] conductivity_unit
        if config.output.report and not no_report:
            from qgtransport.report import write_report

            say("writing the report")
            report = write_report(ds, model, folder, report_options(config), config_text=config.text,
                                  command=f"qgt run {config_path}", log=say)
            written += report.paths
        click.echo(f"{model_title_line(ds)}\n")
        click.echo(compute_table(ds, nk_option="[grid] nk ="))
    click.echo("")
    if report is not None:
        failing = [c for c in report.checks if c.verdict == "FAILS"]
        counted = [c for c in report.checks if c.verdict != "skipped"]
        if failing:
            click.echo(f"WARNING: {len(failing)} of {len(counted)} relation checks FAIL: "
                       + "; ".join(c.name for c in failing))
        else:
            click.echo(f"relation checks: {len(counted)} hold or deviate only where expected (see the report)")
    for path in written:
        click.echo(f"wrote {shown_path(path)}")
    click.echo(f"done in {time.perf_counter() - start:.1f} s")


INIT_EPILOG = EXIT_CODES


@click.command("init", epilog=INIT_EPILOG)
@click.argument("path", required=False, default="qgt.toml", type=click.Path(dir_okay=False))
@click.option("--model", "model_name", default="qwz", show_default=True, metavar="NAME",
              help="Built-in model of the example (see 'qgt models').")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init_command(path, model_name, force):
    """Write a commented example configuration (valid as it is) for 'qgt run'.

    Every key is shown with its default and a one-line explanation; the Wannier90 keys are
    commented out. Edit it, then run it.

    \b
    Examples:
      qgt init
      qgt init haldane.toml --model haldane
      qgt init qgt.toml --force && qgt run qgt.toml
    """
    from qgtransport.cli.reference import example_config

    target = Path(path)
    if target.exists() and not force:
        raise BadInput(f"{path} exists; give --force to overwrite it, or another PATH")
    try:
        text = example_config(target.name, model_name)
    except ValueError as exc:
        raise BadInput(f"--model: {exc}") from None
    if target.parent != Path("") and not target.parent.is_dir():
        raise BadInput(f"{path}: the folder {target.parent} does not exist")
    check_writable(target, "PATH")
    write_text(target, text)
    click.echo(f"wrote {path}: edit it, then run 'qgt run {path}'")


SHOW_EPILOG = EXIT_CODES


@click.command("show", epilog=SHOW_EPILOG)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--component", default=None, metavar="ab",
              help="Tensor component shown (default xy for Hall-type responses, xx otherwise).")
@click.option("--config", "show_config", is_flag=True, help="Also print the configuration stored by 'qgt run'.")
def show_command(file, component, show_config):
    """Print a summary of a netCDF dataset written by qgtransport (qgt run, qgt compute, qgt demo).

    For each response: its tensor component, the range of its values over the scan, the largest
    grid-error estimate, the units and the description; then the run's settings.

    \b
    Examples:
      qgt show qgt-run/run.nc
      qgt show qgt-demo/demo.nc --component xy
      qgt show qgt-run/run.nc --config
    """
    ds = read_dataset(file)
    comp = parse_component(component, int(ds.attrs.get("dimension", ds.sizes.get("a", 3))))
    click.echo(f"{Path(file).name}: {model_title_line(ds)}")
    mu = ds["mu"].values
    scan = [f"mu {mu.min():g} .. {mu.max():g} {ds['mu'].attrs.get('units', '')} ({len(mu)})",
            f"T {', '.join(f'{t:g}' for t in ds['T'].values)} {ds['T'].attrs.get('units', '')}"]
    if "omega" in ds.coords:
        omega = ds["omega"].values
        scan.append(f"hbar omega {omega.min():g} .. {omega.max():g} {ds['omega'].attrs.get('units', '')} "
                    f"({len(omega)})")
    click.echo("scan: " + "; ".join(scan))
    click.echo(f"qgtransport {ds.attrs.get('qgtransport_version', 'unknown')}; spin degeneracy "
               f"{ds.attrs.get('spin_degeneracy', '?')}; created by "
               f"{without_paths(ds.attrs.get('created_by', 'qgtransport'))}\n")
    click.echo(summary_table(ds, comp))
    click.echo("\ndescriptions:")
    for name in response_names(ds):
        click.echo(f"  {name}: {ds[name].attrs.get('description', '')} [{ds[name].attrs.get('current', '-')}]")
    if show_config:
        text = ds.attrs.get("config")
        click.echo("\nconfiguration:\n" + (text if text else "(none stored: not written by 'qgt run')"))


def read_dataset(path):
    """A dataset written by qgtransport; BadInput (exit 2) for a missing, unreadable or foreign file."""
    from qgtransport.results import read_netcdf

    target = Path(path)
    if not target.is_file():
        raise BadInput(f"{path}: no such file")
    try:
        ds = read_netcdf(target)
    except (OSError, ValueError, KeyError) as exc:
        raise BadInput(f"{path}: not a netCDF file that can be read ({type(exc).__name__}: {exc})") from None
    missing = [c for c in ("mu", "T") if c not in ds.coords]
    if "model" not in ds.attrs or missing:
        raise BadInput(f"{path}: not a dataset written by qgtransport (no 'model' attribute or no mu/T "
                            "coordinates)")
    return ds


REPORT_EPILOG = """\b
The model: the one given (--model, --hr, --tb or --model-file), else the one the dataset names
(a built-in model with its parameters, or the configuration stored by 'qgt run' if its files are
still there), else none: then the report has the figures and checks of the dataset alone (no band
structure, zone maps or density map).

""" + EXIT_CODES


@click.command("report", epilog=REPORT_EPILOG)
@click.argument("file", type=click.Path(dir_okay=False))
@model_options
@click.option("--output", "output_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of report.html and figures/ (default: the dataset's folder).")
@click.option("--recompute-checks", is_flag=True,
              help="Also run the relation checks that recompute responses (Maxwell, Mott, Sommerfeld, optical ratio).")
@click.option("--dpi", type=click.IntRange(min=50, max=600), default=None,
              help="Resolution of the figures (default: the stored configuration's, else 110).")
@click.option("--progress/--quiet", default=None, help="Stage messages (default: when stderr is a terminal).")
def report_command(file, model_name, params, hr, tb, model_file, wsvec, win, centres, spin_degeneracy, output_dir,
                   recompute_checks, dpi, progress):
    """Write the HTML report and its figures for a saved dataset, without recomputing it.

    \b
    Examples:
      qgt report qgt-run/run.nc
      qgt report fe.nc --hr Fe_hr.dat --output fe-report
      qgt report qwz.nc --recompute-checks
    """
    import dataclasses

    from qgtransport.report import ReportOptions, write_report

    start = time.perf_counter()
    ds = read_dataset(file)
    folder = Path(output_dir) if output_dir is not None else Path(file).parent
    check_writable(folder, "--output", folder=True)
    say = _stderr if (sys.stderr.isatty() if progress is None else progress) else (lambda text: None)
    given = [x for x in (model_name, hr, tb, model_file) if x is not None]
    options, config_text, source = ReportOptions(), ds.attrs.get("config"), None
    if given:
        model = load_model(model_name, parse_params(params), hr=hr, tb=tb, model_file=model_file, wsvec=wsvec, win=win,
                           centres=centres, spin_degeneracy=None if spin_degeneracy is None else int(spin_degeneracy))
        source = "the model given"
    else:
        model, options, source = model_of_dataset(ds, say)
    options = dataclasses.replace(options, recompute=recompute_checks, dpi=options.dpi if dpi is None else dpi)
    if model is not None and model.dim != int(ds.attrs.get("dimension", model.dim)):
        raise BadInput(f"the model is {model.dim}D but {Path(file).name} holds a {ds.attrs.get('dimension')}D dataset")
    say(f"report of {Path(file).name}: model {source or 'none (the dataset alone)'}")
    with displayed({"S/m": stored_conductivity_unit(ds)}):
        report = write_report(ds, model, folder, options, config_text=config_text if config_text else None,
                              command=f"qgt report {Path(file).name}", log=say)
    click.echo(f"{Path(file).name}: {model_title_line(ds)}")
    counted = [c for c in report.checks if c.verdict != "skipped"]
    failing = [c for c in counted if c.verdict == "FAILS"]
    unconverged = [r["quantity"] for r in report.convergence if r["status"].startswith("NOT")]
    if unconverged:
        click.echo(f"WARNING: {len(unconverged)} of {len(report.convergence)} results NOT converged: "
                   + ", ".join(unconverged))
    if failing:
        click.echo(f"WARNING: {len(failing)} of {len(counted)} relation checks FAIL: "
                   + "; ".join(c.name for c in failing))
    for path in report.paths:
        click.echo(f"wrote {shown_path(path)}")
    click.echo(f"done in {time.perf_counter() - start:.1f} s")


def stored_conductivity_unit(ds) -> str:
    """[output] conductivity_unit of the configuration stored by 'qgt run', else the default."""
    import json

    from qgtransport.units import DISPLAY_UNITS

    try:
        return json.loads(ds.attrs.get("config_resolved", "{}"))["output"]["conductivity_unit"]
    except (KeyError, TypeError, ValueError):
        return DISPLAY_UNITS.get("S/m", "S/m")


def model_of_dataset(ds, say):
    """(model, ReportOptions, where it came from) for a dataset: the configuration stored by 'qgt run'
    (its files relative to the configuration's folder), else a built-in model named with its
    parameters, else (None, ReportOptions(), None)."""
    import json

    from qgtransport.models import BUILTIN_MODELS, builtin_model
    from qgtransport.report import ReportOptions

    text, config_file = ds.attrs.get("config"), ds.attrs.get("config_file")
    if text and config_file:
        from qgtransport.cli.config import ConfigError, build_model, parse_config

        try:
            config = parse_config(text, source=Path(config_file).name, base=Path(config_file).parent)
            model, _ = build_model(config)
            return model, report_options(config), f"from the stored configuration {Path(config_file).name}"
        except (ConfigError, OSError, ValueError) as exc:
            say(f"warning: the stored configuration does not give the model ({exc}); trying the model's name")
    name = str(ds.attrs.get("model", ""))
    if name in BUILTIN_MODELS:
        try:
            params = json.loads(ds.attrs.get("model_parameters", "{}"))
            return builtin_model(name, **params), ReportOptions(), f"built-in {name}"
        except (ValueError, TypeError) as exc:
            say(f"warning: cannot rebuild the built-in model {name!r} ({exc})")
    return None, ReportOptions(), None


def register(group) -> None:
    """Add run, init, show and report to the qgt command group (and the exit codes to its --help)."""
    for command in (run_command, init_command, show_command, report_command):
        group.add_command(command)
    if not group.epilog:
        group.epilog = EXIT_CODES


__all__ = ["register", "run_command", "init_command", "show_command", "report_command", "report_options",
           "read_dataset", "model_of_dataset"]

