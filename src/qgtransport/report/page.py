"""The report of a run: one self-contained HTML page (figures embedded as PNG, relation checks,
grid convergence, the conventions and the errata that apply), written by `qgt run` and `qgt demo`.

    report = write_report(ds, model, "out")       # out/report.html + out/figures/*.png
    report.html_path, report.checks

Contents: the band structure coloured by the Berry curvature and the quantum metric, Brillouin-zone
maps of both and of the entropy-production density (`qgtransport.report.kspace`); the responses
against mu and T (`qgtransport.report.figures`); the relation checks, each with its two sides and
residual, the exact steady-state solver on request, and the grid-convergence estimate of every
response (`qgtransport.report.checks`); the conventions of the dataset and the errata that apply.
This module chooses, draws and writes; it computes no physics of its own.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from qgtransport import convergence as conv
from qgtransport import units as U
from qgtransport.entropy_density import field_unit_vector
from qgtransport.files import write_bytes, write_text
from qgtransport.report import figures as plots
from qgtransport.report.checks import (
    RECOMPUTING,
    applicable_errata,
    exact_checks,
    exact_summary,
    grid_convergence,
    relation_checks,
)
from qgtransport.report.figures import default_component, pick_mu
from qgtransport.report.kspace import (
    KPath,
    band_structure_figure,
    entropy_density_figure,
    high_symmetry_path,
    nearest_band,
    plot_bz_maps,
    route,
)
from qgtransport.results import dataset_model_label, without_paths

RTA_CAVEAT = (
    "Relaxation-time caveat: the seed's equation of motion relaxes ρ towards f(H) at the rate 1/τ, which gives "
    "the interband DC conductivity a finite Re σ_inter(0) ∝ ħ/τ even in a gap; the interband entropy production "
    "is that Joule heat over T, Π_inter = Re σ_inter(0)/T, so Π_inter·T stays constant as T → 0 in an insulator "
    "(Qi-Wu-Zhang, m = -1, μ = 0 in the gap, τ = 10 ħ/eV: Π_inter·T = 9.68e-3 e²/ħ at T = 0.02 to 0.1 eV, "
    "and ∝ 1/τ). True of the seed's equation, not of a clean insulator: see Physics and checks (docs).")

# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class ReportOptions:
    """What the report shows and how it is computed (defaults: everything the dataset allows).

    path: a KPath (default `high_symmetry_path`); band_points, bz_nk, band: band structure and maps
    (band None: the band nearest the density map's mu);
    density_mu, density_T: the (mu, T) of the density map (default: largest Pi_EE at the lowest T);
    direction: integers n of the field direction g = n . b; strength: the field (V/m in SI) at which
    Pi is quoted; checks: names of relation checks (None: all applicable); mu_points: chemical
    potentials of Maxwell and Mott/Sommerfeld; exact: also run the exact solver at (exact_mu,
    exact_T) on exact_nk; execution: executor options for the recomputations; dpi of the PNGs.
    """

    title: str | None = None
    path: KPath | None = None
    band_points: int = 240
    bz_nk: int = 101
    band: int | None = None
    density_mu: float | None = None
    density_T: float | None = None
    direction: tuple | None = None
    strength: float | None = None
    checks: tuple | None = None
    mu_points: int = 3
    exact: bool = False
    exact_nk: int = 32
    exact_mu: float | None = None
    exact_T: float | None = None
    tolerance: float = 1e-3
    execution: dict = field(default_factory=dict)
    dpi: int = 110
    recompute: bool = True


@dataclass
class Report:
    """What write_report produced: the HTML file, the PNGs, and the checks shown."""

    html_path: Path
    figures: dict
    checks: list
    exact_rows: list
    convergence: list

    @property
    def paths(self) -> list:
        return [self.html_path, *self.figures.values()]


@dataclass
class _Figure:
    name: str
    title: str
    caption: str
    png: bytes


def _render(fig: Figure, dpi: int) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def density_point(ds, options: ReportOptions, direction_vector) -> tuple[float, float]:
    """(mu, T) of the density map: the configured one, else the mu of largest E^.Pi.E^ at the lowest T
    (direction_vector None: the middle of the scan)."""
    T_values = ds["T"].values
    T = float(T_values.min()) if options.density_T is None else float(options.density_T)
    if options.density_mu is not None:
        return float(options.density_mu), T
    if "entropy_production" not in ds or direction_vector is None:
        return float(ds["mu"].values[len(ds["mu"]) // 2]), T
    nearest_T = float(T_values[np.argmin(np.abs(T_values - T))])
    pi = np.asarray(ds["entropy_production"].sel(T=nearest_T).values)  # (mu, a, b)
    projected = np.einsum("mab,a,b->m", pi, direction_vector, direction_vector)
    return float(ds["mu"].values[int(np.argmax(projected))]), T


def write_report(ds, model, folder, options: ReportOptions | None = None, *, config_text: str | None = None,
                 command: str | None = None, log=None) -> Report:
    """Write folder/report.html (self-contained: figures embedded as base64 PNG, no external
    resources, no scripts) and folder/figures/*.png; return what was written and checked.

    ds : the dataset of `qgtransport.compute` (SI or natural units) for `model`.
    options : ReportOptions (default: everything the dataset allows, no exact-solver run).
    config_text : the run configuration, shown verbatim; command : the command line that ran it.
    log : a callable taking one line of progress text (e.g. click.echo to stderr).
    """
    options = ReportOptions() if options is None else options
    folder = Path(folder)
    figures_dir = folder / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    say = log if log is not None else (lambda text: None)
    units = ds.attrs.get("units", "SI")
    tau = ds.attrs.get("tau", "none")
    tau = None if tau in ("none", None) else float(tau)
    figures: list[_Figure] = []
    notes: list[str] = []

    def add(name, title, caption, fig):
        if fig is not None:
            figures.append(_Figure(name, title, caption, _render(fig, options.dpi)))

    density = None
    direction_vector = None if model is None else field_unit_vector(model, options.direction)
    mu_d, T_d = density_point(ds, options, direction_vector)
    if model is None:
        notes.append("No model given: the band structure, the zone maps, the density map and the checks that "
                     "recompute are left out (give the model: qgt report FILE --hr ..., or "
                     "qgtransport.report(ds, model)).")
    else:
        say("report: band structure")
        path = options.path or high_symmetry_path(model)
        add("band_structure", "Band structure and band geometry",
            "Bands along " + route(path) + ", coloured by the Berry curvature Ω^xy_n (left) and "
            "the quantum-metric trace (right) of each band; colour scales are clipped at the 98th percentile "
            "(both diverge where bands touch). Dashed line: μ of the density map.",
            band_structure_figure(model, path, options.band_points, mu=[mu_d]))
        if model.dim >= 2:
            say("report: Brillouin-zone maps")
            band = options.band if options.band is not None else nearest_band(model, mu_d)
            chosen = "" if options.band is not None else f" (the band nearest μ = {mu_d:g})"
            add("bz_geometry", "Berry curvature and quantum metric over the Brillouin zone",
                f"Band {band}{chosen}: Ω^xy (Chern number in the title) and tr g (its integral bounds |C| from "
                "above)" + (", plane k₃ = 0" if model.dim == 3 else "") + ".",
                plot_bz_maps(model, band=band, nk=options.bz_nk))
        if tau is not None:
            say(f"report: entropy-production density at mu = {mu_d:g}, T = {T_d:g}")
            fig, values = entropy_density_figure(model, mu_d, T_d, tau, units=units,
                                                 rho1=ds.attrs.get("rho1", "finite_eta"),
                                                 direction=options.direction, nk=options.bz_nk)
            density = {"total": values["total"], "where": f"μ = {mu_d:g}, T = {T_d:g}, {options.bz_nk}-point map"}
            add("entropy_density", "Where the entropy is produced",
                "Per-k contribution π(k) to Ê·Π·Ê (Eq. 18 with ERRATA E1-E2, divided-difference "
                "kernel): its zone average is the entropy production coefficient. The Drude part lives on the "
                "Fermi surface (width ~ k_B T), the interband part where the quantum metric is large and bands are "
                "close. " + RTA_CAVEAT, fig)
        else:
            notes.append("No relaxation time: no entropy-production density map (give [physics] tau).")

    say("report: responses against mu")
    shown = set()
    if {"entropy_production", "entropy_production_drude", "entropy_production_interband"} <= set(ds.data_vars):
        add("entropy_production", "Entropy production against μ",
            "Π_xx (Π = Π_ab E_a E_b): total, Drude and interband parts; one colour per temperature. "
            + RTA_CAVEAT, plots.plot_entropy_production(ds))
        shown |= {"entropy_production", "entropy_production_drude", "entropy_production_interband"}
    dim = int(ds.attrs.get("dimension", ds.sizes.get("a", 1))) if model is None else model.dim
    if {"entropy_hall", "anomalous_nernst"} <= set(ds.data_vars) and dim >= 2:
        add("entropy_hall_nernst", "Entropy Hall conductivity and anomalous Nernst coefficient",
            "σˢ_xy (Eq. 28, lines) and α_xy (Xiao et al. 2006, markers): equal by Onsager (ERRATA E7).",
            plots.plot_entropy_hall_and_nernst(ds))
        shown |= {"entropy_hall", "anomalous_nernst"}
    for variable, component, title in (("anomalous_hall", ("x", "y"), "Anomalous Hall conductivity"),
                                       ("drude", ("x", "x"), "Drude conductivity")):
        if variable in ds.data_vars and (variable != "anomalous_hall" or dim >= 2):
            add(variable, title, f"{variable}_{''.join(component)} of the charge current J = -e Tr[v ρ]; the shaded "
                "band is the grid-error estimate.", plots.plot_vs_mu(ds, variable, component))
            shown.add(variable)
    add("more_responses", "Other responses against μ",
        "Every other response of the run (component xy for Hall-type responses, xx otherwise).",
        plots.more_responses_figure(ds, shown))
    add("responses_vs_T", "Responses against temperature",
        "The main responses against T at three chemical potentials across the scan.", plots.responses_vs_T_figure(ds))
    if ds.sizes.get("T", 1) < 2:
        notes.append("One temperature in the scan: no plot against T (give several T in [scan]).")
    add("frequency", "Frequency-dependent responses", "Real (solid) and imaginary (dashed) parts.",
        plots.frequency_figure(ds))

    say("report: relation checks")
    skip = () if (options.recompute and model is not None) else RECOMPUTING
    if model is None:
        skip += ("equilibrium_current",)
    checks = relation_checks(ds, model, options.checks, mu_points=options.mu_points, density=density,
                             execution=options.execution, log=say, skip=skip)
    if skip and options.checks is None and model is not None:
        notes.append("The checks that recompute responses (Maxwell, Mott, Sommerfeld, optical ratio) were left "
                     "out: run the report with recompute=True (qgt report --recompute-checks).")
    exact_rows: list = []
    if options.exact and model is not None:
        if tau is None:
            raise ValueError("the exact-solver check needs the relaxation time tau")
        mu_e = mu_d if options.exact_mu is None else float(options.exact_mu)
        T_e = T_d if options.exact_T is None else float(options.exact_T)
        say(f"report: exact steady-state solver at mu = {mu_e:g}, T = {T_e:g}, grid {options.exact_nk}")
        exact_rows = exact_checks(model, mu_e, T_e, tau, units=units, nk=options.exact_nk, direction=options.direction,
                                  tolerance=options.tolerance)
        checks.append(exact_summary(exact_rows, f"μ = {mu_e:g}, T = {T_e:g}, grid {options.exact_nk}^{model.dim}"))
    convergence = grid_convergence(ds)

    field_text = _field_text(ds, model, options, direction_vector, tau, mu_d, T_d)
    document = _html(ds, model, options, figures, checks, exact_rows, convergence, notes, field_text,
                     config_text, command)
    html_path = folder / "report.html"
    write_text(html_path, document)
    written = {}
    for item in figures:
        target = figures_dir / f"{item.name}.png"
        write_bytes(target, item.png)
        written[item.name] = target
    return Report(html_path, written, checks, exact_rows, convergence)


def _field_text(ds, model, options, direction_vector, tau, mu_d, T_d) -> str | None:
    """Pi at the configured field and E tau against the perturbative limit (ERRATA, exact facts)."""
    if options.strength is None or tau is None or "entropy_production" not in ds or model is None:
        return None
    units = ds.attrs.get("units", "SI")
    E = float(options.strength)
    if units == "SI":
        E_nat = E / U.field_to_si(1.0, model)
        tau_nat = float(U.relaxation_time_to_natural(tau, model))
        field_unit = "V/m"
    else:
        E_nat, tau_nat, field_unit = E, tau, f"{model.energy_unit}/(e {model.length_unit})"
    drift = E_nat * tau_nat  # k-space drift per relaxation time, 1/length_unit
    a = float(np.linalg.norm(model.lattice, axis=1).min())
    pi = np.asarray(ds["entropy_production"].sel(mu=mu_d, T=T_d, method="nearest").values)
    rate = float(direction_vector @ pi @ direction_vector) * E**2
    unit = ds["entropy_production"].attrs.get("units", "").removesuffix("/(V/m)^2")
    verdict = ("within the perturbative range" if drift * a < 0.2 else
               "BEYOND the perturbative range: the E² result is off by 10% or more (use the exact solver)")
    return (f"At |E| = {E:g} {field_unit} along Ê: Π = {rate:.4g} {unit} at μ = {mu_d:g}, T = {T_d:g}. "
            f"Drift per relaxation time Eτ = {drift:.3g} /{model.length_unit} = {drift * a:.3g}/a "
            f"(a = {a:g} {model.length_unit}): {verdict} (perturbation theory fails at Eτ a ≈ 0.2-0.4 for "
            "Drude-dominated, 0.6-1.8 for interband-dominated production; ERRATA, exact facts).")


# ---------------------------------------------------------------- HTML

CONVENTION_KEYS = ("units_natural", "charge_sign", "berry_curvature_sign", "fourier_convention", "measure",
                   "equation_of_motion", "errata")

_CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 0; color: #1d232a;
       background: #fafbfc; line-height: 1.45; }
header { background: #1f3b57; color: white; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 1.6em; }
header p { margin: 2px 0; opacity: 0.9; }
nav { padding: 8px 32px; background: #e9eef3; font-size: 0.92em; }
nav a { margin-right: 14px; color: #1f3b57; }
main { padding: 8px 32px 40px 32px; max-width: 1500px; }
section { margin-top: 26px; }
h2 { border-bottom: 2px solid #d0d7de; padding-bottom: 4px; font-size: 1.3em; }
figure { margin: 14px 0 22px 0; background: white; border: 1px solid #d0d7de; padding: 10px; border-radius: 4px; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.9em; color: #444; margin-top: 6px; }
table { border-collapse: collapse; font-size: 0.86em; background: white; margin: 8px 0 16px 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef2f6; }
td.num { font-family: 'DejaVu Sans Mono', Menlo, monospace; text-align: right; white-space: nowrap; }
.ok { color: #1a7f37; font-weight: 600; }
.bad { color: #cf222e; font-weight: 700; }
.info { color: #8a6100; }
.skip { color: #777; }
pre { background: #f3f5f7; border: 1px solid #d0d7de; padding: 10px; overflow-x: auto; font-size: 0.85em; }
.note { background: #fff8e1; border-left: 4px solid #e0a800; padding: 6px 12px; margin: 8px 0; }
"""


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _num(value, digits=3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}e}"


def _verdict_class(verdict: str) -> str:
    if verdict in ("holds", "agrees", "converged"):
        return "ok"
    if verdict in ("FAILS", "DISAGREES") or verdict.startswith("NOT"):
        return "bad"
    if verdict == "skipped":
        return "skip"
    return "info"


class _Html(str):
    """Text that is HTML already (not escaped again)."""


def _units_html(units: str) -> _Html:
    """'W/(K m^3)/(V/m)^2' -> 'W/(K m<sup>3</sup>)/(V/m)<sup>2</sup>' (escaped, then powers raised)."""
    import re

    return _Html(re.sub(r"\^\(?(-?\d+)\)?", r"<sup>\1</sup>", _esc(units)))


def _table(header, rows, numeric=()) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if isinstance(cell, _Html):
                cells.append(f"<td>{cell}</td>")
            elif isinstance(cell, tuple):  # (text, css class)
                cells.append(f'<td class="{cell[1]}">{_esc(cell[0])}</td>')
            elif i in numeric:
                cells.append(f'<td class="num">{_esc(cell)}</td>')
            else:
                cells.append(f"<td>{_esc(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary_rows(ds, mu_values, T):
    """[long name, component, value ± error (status) per mu..., units] and the status counts."""
    rows = []
    counts: dict = {}
    for name in ds.data_vars:
        if name.endswith("_error") or "omega" in ds[name].dims:
            continue
        component = default_component(ds, name)
        if not plots.plottable(ds, name, component):
            continue
        factor, units = plots.shown(ds, name)
        da = plots.select_component(ds[name], component)
        row = [plots.title_of(name), "".join(component)]
        for m in mu_values:
            value = float(da.sel(mu=m, T=T).values)
            error = (abs(float(plots.select_component(ds[name + "_error"], component).sel(mu=m, T=T).values))
                     if name + "_error" in ds else None)
            status = conv.value_status(ds, name, value, error)
            counts[status] = counts.get(status, 0) + 1
            text = f"{factor * value: .4e}" + (f" ± {factor * error:.1e}" if error is not None else "")
            row.append((f"{text} ({conv.flag(status)})", _status_class(status)))
        row.append(_units_html(units))
        rows.append(row)
    return rows, counts


def _status_class(status: str) -> str:
    return {"converged": "ok", "fair": "info", "not converged": "bad"}.get(status, "skip")


def _model_source(attrs) -> str:
    """The file a model was read from, by name only ("Fe_hr.dat"), or ''."""
    import json

    try:
        params = json.loads(attrs.get("model_parameters", "{}"))
    except (TypeError, ValueError):
        return ""
    file = params.get("file") if isinstance(params, dict) else None
    return Path(str(file)).name if file else ""


def _html(ds, model, options, figures, checks, exact_rows, convergence, notes, field_text, config_text,
          command) -> str:
    from qgtransport import __version__

    title = options.title or f"qgtransport report: {plots.model_title(ds)}"
    label = dataset_model_label(ds)
    T_unit = ds["T"].attrs.get("units", "")
    mu_unit = ds["mu"].attrs.get("units", "")
    mu_values = ds["mu"].values
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = []
    nav = []

    def section(anchor, heading, content):
        nav.append(f'<a href="#{anchor}">{_esc(heading)}</a>')
        sections.append(f'<section id="{anchor}"><h2>{_esc(heading)}</h2>{content}</section>')

    # overview
    attrs = ds.attrs
    facts = [("model", label)]
    source = _model_source(attrs)
    if source:
        facts.append(("read from", source))
    if model is not None:
        facts.append(("dimension, bands, spin degeneracy",
                      f"{model.dim}D, {model.norb} bands, g_s = {model.spin_degeneracy}"))
    facts += [
        ("units", f"{attrs.get('units', '')} (μ in {mu_unit}, T in {T_unit}, τ in {attrs.get('tau_units', '')})"),
        ("k-grid", f"{attrs.get('grid', '')}, shift {attrs.get('grid_shift', '')}"),
        ("μ scan", f"{mu_values[0]:g} .. {mu_values[-1]:g} {mu_unit}, {len(mu_values)} points"),
        ("temperatures", ", ".join(f"{t:g}" for t in ds["T"].values) + f" {T_unit}"),
        ("relaxation time τ", f"{attrs.get('tau', 'none')} {attrs.get('tau_units', '')}"),
        ("options", f"kernel = {attrs.get('kernel', '')}, rho1 = {attrs.get('rho1', '')}"),
        ("qgtransport", str(attrs.get("qgtransport_version", __version__))),
    ]
    if command:
        facts.append(("command", without_paths(command)))
    overview = _table(["", ""], facts)
    overview += "".join(f'<p class="note">{_esc(n)}</p>' for n in notes)
    if field_text:
        overview += f'<p class="note">{_esc(field_text)}</p>'
    T0 = float(ds["T"].values.min())
    mu_show = pick_mu(mu_values, 3)
    summary, counts = _summary_rows(ds, mu_show, T0)
    if summary:
        overview += (f"<p>Responses at T = {T0:g} {_esc(T_unit)} (± the grid-error estimate; flag: "
                     f"ok = converged, relative error below {conv.CONVERGED:g}; fair, below {conv.FAIR:g}; NOT "
                     "CONVERGED above):</p>"
                     + _table(["quantity", "comp", *(f"μ = {m:.3g} {mu_unit}" for m in mu_show), "units"],
                              summary, numeric=range(2, 2 + len(mu_show))))
    if "entropy_production_interband" in ds.data_vars:
        overview += f'<p class="note">{_esc(RTA_CAVEAT)}</p>'
    failures = [c for c in checks if c.verdict == "FAILS"]
    unconverged = [r for r in convergence if r["status"].startswith("NOT")]
    headline = []
    if unconverged:
        headline.append(f'<p class="bad" id="convergence-status">{len(unconverged)} of {len(convergence)} results NOT '
                        f"converged on the {_esc(attrs.get('grid', ''))} grid ("
                        + _esc(", ".join(r["quantity"] for r in unconverged))
                        + '): raise nk, see <a href="#convergence">Grid convergence</a>.</p>')
    elif convergence:
        headline.append(f'<p class="ok" id="convergence-status">All {len(convergence)} results converged or fair on '
                        f"the {_esc(attrs.get('grid', ''))} grid.</p>")
    if checks:
        headline.append(f'<p class="bad">{len(failures)} of {len(checks)} checks FAIL: see the relation table.</p>'
                        if failures else f'<p class="ok">All {len([c for c in checks if c.verdict != "skipped"])} '
                        "relation checks hold (or deviate only where expected).</p>")
    overview = "".join(headline) + overview
    section("overview", "Overview", overview)

    for item in figures:
        encoded = base64.b64encode(item.png).decode("ascii")
        content = (f'<figure><img src="data:image/png;base64,{encoded}" alt="{_esc(item.title)}" '
                   f'id="fig-{item.name}"><figcaption>{_esc(item.caption)} '
                   f'(figures/{_esc(item.name)}.png)</figcaption></figure>')
        section(item.name, item.title, content)

    rows = [[c.name, c.source, c.where, c.lhs, c.rhs, _num(c.residual, 2), _num(c.tolerance, 0),
             (c.verdict, _verdict_class(c.verdict)), c.note] for c in checks]
    relation_html = ("<p>Each relation evaluated on both sides; residual = max |lhs - rhs| / max |side|. "
                     "Currents j are particle currents (-J), entropy currents Tr[v s]; see the conventions.</p>"
                     + _table(["relation", "source", "where", "lhs", "rhs", "residual", "tolerance", "verdict",
                               "note"], rows, numeric=(5, 6)))
    section("relations", "Relation checks", relation_html if checks else "<p>No checks were requested.</p>")
    if exact_rows:
        rows = [[r["quantity"], r["component"], f"{r['closed_form']:.8g}", f"{r['exact']:.8g}",
                 f"{r['exact_error']:.1e}", f"{r['relative_difference']:.2e}", r["expected"],
                 (r["verdict"], _verdict_class(r["verdict"].split(",")[0]))] for r in exact_rows]
        section("exact", "Closed forms against the exact steady-state solver",
                "<p>Natural units; the exact values are fitted from exact DC solves of Eqs. 6 + 10 at small "
                "fields (qgtransport.exact.verify; the same table as <code>qgt verify</code>).</p>"
                + _table(["quantity", "a", "closed form", "exact", "±", "rel. diff", "expected", "verdict"], rows,
                         numeric=(2, 3, 4, 5)))
    rows = []
    for r in convergence:
        factor, units = plots.shown(ds, r["quantity"])
        rows.append([r["quantity"], _num(None if r["max_value"] is None else factor * r["max_value"]),
                     _num(None if r["max_error"] is None else factor * r["max_error"], 1),
                     "-" if r["relative"] is None else f"{r['relative']:.1e}",
                     "-" if r.get("worst") is None else f"{r['worst']:.1e}", _units_html(units),
                     (r["status"], _verdict_class(r["status"].split(":")[0]))])
    section("convergence", "Grid convergence",
            "<p>Estimate |I(nk) - I(nk/2)| from a second grid of nk/2 points (the <code>&lt;name&gt;_error</code> "
            "variables), largest over the scan. Status of the worst value: the error relative to the value, with a "
            f"floor at {conv.FLOOR:g} of the quantity's largest magnitude; converged below {conv.CONVERGED:g}, fair "
            f"below {conv.FAIR:g}, NOT converged above (the flags of every table). Gapped, smooth integrands converge "
            "exponentially; metals at low T algebraically and need T ≫ (band velocity) × (grid spacing).</p>"
            + _table(["quantity", "max |value|", "max error", "max error / max value", "worst error / value",
                      "units", "status"], rows,
                     numeric=(1, 2, 3, 4)))
    conventions = [(key, attrs[key]) for key in CONVENTION_KEYS if key in attrs]
    conventions += [("kernel", attrs.get("kernel", "")), ("rho1", attrs.get("rho1", "")),
                    ("spin_degeneracy", attrs.get("spin_degeneracy", "?" if model is None else model.spin_degeneracy))]
    errata = applicable_errata(ds)
    section("conventions", "Conventions and errata",
            _table(["convention", "statement"], conventions)
            + "<p>Errata of the seed preprint (Xiang, Jia &amp; Wang) that bear on this run; qgtransport implements "
              "the corrected form by default (docs/errata.md):</p>"
            + _table(["", "erratum", "what qgtransport does"], [[k, t, x] for k, t, x in errata]))
    if config_text:
        section("configuration", "Configuration", f"<pre>{_esc(config_text)}</pre>")
    files = ", ".join(f"figures/{item.name}.png" for item in figures)
    footer = (f"<p>Generated {now} by qgtransport {_esc(__version__)}. Figures also as PNG files: "
              f"{_esc(files)}.</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            '<link rel="icon" href="data:,">\n'
            f"<title>{_esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<header><h1>{_esc(title)}</h1><p>Quantum-geometric entropy production and entropy currents "
            f"(qgtransport {_esc(__version__)})</p></header>\n"
            f"<nav>{''.join(nav)}</nav>\n<main>\n{''.join(sections)}\n{footer}\n</main>\n</body>\n</html>\n")


__all__ = ["ReportOptions", "Report", "write_report"]
