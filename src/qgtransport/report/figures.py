"""Figures of computed responses: against mu, against T, against the frequency.

Every function returns a `matplotlib.figure.Figure`. Figures are built without pyplot (no global
state, no GUI backend, nothing shown): in Jupyter a returned Figure displays once; from a script,
`fig.savefig("out.png")` renders it with the Agg canvas. Functions that take `ax` draw into an
existing Axes instead and return its figure.

They take the `xarray.Dataset` of `qgtransport.compute` (SI or natural units: the units come from
the variables' attributes). Titles are the quantities' long names; axis labels are their symbols
(mathtext) with the display unit of the quantity's family (`qgtransport.units.display_units`: the
unit of the tables, e.g. S/cm for a 3D conductivity); the shaded band around a line is its grid-error
estimate. Figures over k-space (bands, Brillouin-zone maps) are in `qgtransport.report.kspace`.
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from qgtransport.responses import RESPONSES
from qgtransport.results import dataset_model_label, long_name
from qgtransport.units import display_units

# Symbols (matplotlib mathtext) for the axis labels; {a}{b} are the tensor indices.
SYMBOLS = {
    "entropy_production": r"\Pi_{{{a}{b}}}",
    "entropy_production_drude": r"\Pi^{{\rm D}}_{{{a}{b}}}",
    "entropy_production_interband": r"\Pi^{{\rm inter}}_{{{a}{b}}}",
    "entropy_production_band_curvature": r"\Pi^{{v^{{ab}}}}_{{{a}{b}}}",
    "entropy_production_drude_quantum_metric": r"\Pi^{{{{\rm D}},g}}_{{{a}{b}}}",
    "entropy_production_quantum_metric": r"\Pi^{{g}}_{{{a}{b}}}",
    "equilibrium_entropy_current": r"j^{{s,0}}_{{{a}}}",
    "entropy_current_drude": r"\sigma^{{s,{{\rm D}}}}_{{{a}{b}}}",
    "entropy_hall": r"\sigma^{{s}}_{{{a}{b}}}",
    "anomalous_hall": r"\sigma_{{{a}{b}}}",
    "drude": r"\sigma^{{\rm D}}_{{{a}{b}}}",
    "anomalous_nernst": r"\alpha_{{{a}{b}}}",
    "conductivity_ac": r"\sigma_{{{a}{b}}}(\omega)",
    "drude_ac": r"\sigma^{{\rm D}}_{{{a}{b}}}(\omega)",
    "entropy_conductivity_ac": r"\sigma^{{s}}_{{{a}{b}}}(\omega)",
    "heat_conductivity_ac": r"\sigma^{{q}}_{{{a}{b}}}(\omega)",
    "optical_conductivity": r"\sigma^{{\rm opt}}_{{{a}{b}}}(\omega)",
    "optical_entropy_conductivity": r"\sigma^{{s,{{\rm opt}}}}_{{{a}{b}}}(\omega)",
    "joint_density_of_states": r"J(\omega)",
}
# the symbol of any other response, by the kind of its unit
KIND_SYMBOLS = {
    "conductivity": r"\sigma_{{{a}{b}}}", "entropy_conductivity": r"\sigma^{{s}}_{{{a}{b}}}",
    "heat_conductivity": r"\sigma^{{q}}_{{{a}{b}}}", "entropy_production": r"\Pi_{{{a}{b}}}",
    "second_order_conductivity": r"\chi_{{{a}{b}{c}}}",
    "second_order_entropy_conductivity": r"\chi^{{s}}_{{{a}{b}{c}}}",
    "second_order_heat_conductivity": r"\chi^{{q}}_{{{a}{b}{c}}}",
    "third_order_entropy_production": r"\Pi_{{{a}{b}{c}}}", "entropy_current": r"j^{{s}}_{{{a}}}",
    "density_of_states": r"\rho",
}

_SI_PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "\u00b5", -3: "m", 0: "", 3: "k"}
_SI_BASE_UNITS = ("A", "S", "W", "V", "J")


def pretty_units(units: str) -> str:
    """A unit string for matplotlib, powers raised with mathtext: 'W/(K m^2)/(V/m)^2' ->
    'W/(K m$^{2}$)/(V/m)$^{2}$', 'angstrom' -> 'Å', 'hbar' -> 'ħ'."""
    units = re.sub(r"\^\(?(-?\d+)\)?", r"$^{\1}$", str(units))
    for plain, shown in (("Angstrom", "\u00c5"), ("angstrom", "\u00c5"), ("hbar", "\u0127"), ("k_B", "k$_B$")):
        units = units.replace(plain, shown)
    return units


def shown(ds, variable) -> tuple[float, str]:
    """(factor, units) in which a variable is drawn: its display unit (`qgtransport.units.display_units`),
    the same as in the tables."""
    units = str(ds[variable].attrs.get("units", ""))
    try:
        return display_units(units)
    except ValueError:
        return 1.0, units


def si_prefixed(values, units: str) -> tuple[float, str]:
    """(scale, units) with an SI prefix such that max |values| / scale lies in [1, 1000), for units
    starting with A, S, W, V or J ('A/K' -> 1e-9, 'nA/K'); (1, units) for any other units.
    (Figures no longer use it: they show the unit of the tables, with the power of ten on the axis.)"""
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    base = units.replace("/", " ").split(" ")[0] if units else ""
    if base not in _SI_BASE_UNITS or finite.size == 0 or finite.max() == 0:
        return 1.0, units
    exponent = int(np.clip(3 * np.floor(np.log10(finite.max()) / 3), -15, 3))
    return 10.0**exponent, _SI_PREFIXES[exponent] + units


def symbol(variable: str, component) -> str:
    """Mathtext symbol of a variable with its tensor indices, e.g. '$\\sigma^{s}_{xy}$'."""
    a, b, c = (tuple(component) + ("", "", ""))[:3]
    template = SYMBOLS.get(variable)
    if template is None and variable in RESPONSES:
        template = KIND_SYMBOLS.get(RESPONSES[variable].unit)
    if template is None:
        return f"{variable} [{a}{b}{c}]"
    return "$" + template.format(a=a, b=b, c=c) + "$"


def axis_label(ds, variable, component, units: str | None = None) -> str:
    """'$\\sigma_{xy}$ (S/cm)': the symbol and the display unit."""
    units = shown(ds, variable)[1] if units is None else units
    text = symbol(variable, component)
    return f"{text} ({pretty_units(units)})" if units else text


def title_of(variable: str) -> str:
    """The title of a quantity: its long name, capitalised ("Anomalous Hall conductivity")."""
    name = long_name(variable)
    return name[:1].upper() + name[1:]


def scientific(ax) -> None:
    """Powers of ten on the y axis as ×10ⁿ above it (the unit stays that of the tables)."""
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4), useMathText=True)


def temperature_colors(n: int) -> list:
    """One colour per temperature, cool (low T) to hot (high T)."""
    cmap = colormaps["plasma"]
    return [cmap(x) for x in np.linspace(0.05, 0.8, max(n, 1))][:n]


def temperature_label(ds, T) -> str:
    unit = ds["T"].attrs.get("units", "")
    return f"T = {T:g} {unit}".rstrip()


def mu_label(ds) -> str:
    unit = ds["mu"].attrs.get("units", "")
    return rf"chemical potential $\mu$ ({unit})" if unit else r"chemical potential $\mu$"


def select_component(da, component):
    """The (mu, T) slice of a variable over (mu, T, a[, b[, c]]) at one tensor component (cut to the
    variable's rank: a vector uses component[0]). Other dimensions (e.g. omega) must be selected
    first: ds.sel(omega=...)."""
    component = tuple(component)
    tensor = [d for d in da.dims if d in ("a", "b", "c")]
    if len(component) < len(tensor):
        raise ValueError(f"{da.name} has rank {len(tensor)}: give {len(tensor)} component indices, got {component!r}")
    da = da.sel(dict(zip(tensor, component[: len(tensor)], strict=True)))
    extra = [d for d in da.dims if d not in ("mu", "T")]
    if extra:
        raise ValueError(f"{da.name} also depends on {extra}; select one value first, e.g. ds.sel({extra[0]}=...)")
    if np.iscomplexobj(da.values):
        raise ValueError(f"{da.name} is complex; plot its real or imaginary part (ds[name].real)")
    return da.transpose("mu", "T")


def check_variable(ds, variable: str) -> None:
    if variable not in ds.data_vars:
        import difflib

        available = sorted(v for v in ds.data_vars if not v.endswith("_error"))
        close = difflib.get_close_matches(str(variable), available, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"the dataset has no variable {variable!r}{hint}; it has {available}")


def model_title(ds) -> str:
    """'qwz (m=-1), τ = 10 fs, 96x96 k-grid' from the dataset attributes (the model's physical
    parameters only, no paths: `qgtransport.results.model_label`)."""
    tau = ds.attrs.get("tau", "none")
    tau_text = "" if tau in ("none", None) else f", \u03c4 = {float(tau):g} {ds.attrs.get('tau_units', '')}"
    grid = ds.attrs.get("grid", "")
    return dataset_model_label(ds) + tau_text + (f", {grid} k-grid" if grid else "")


def error_band(ax, ds, variable, component, T, mu, values, factor, color) -> None:
    """Shade value ± grid error of one line (when the dataset has the estimate)."""
    if variable + "_error" not in ds:
        return
    error = np.abs(select_component(ds[variable + "_error"], component).sel(T=T).values) * factor
    ax.fill_between(mu, values - error, values + error, color=color, alpha=0.2, lw=0)


def new_axes(figsize=(6.4, 4.4)):
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def plot_vs_mu(ds, variable: str, component=("x", "x"), ax=None) -> Figure:
    """One variable of a computed dataset against mu, one line per temperature.

    Parameters
    ----------
    ds : xarray.Dataset
        The dataset of `qgtransport.compute` (or `qgtransport.open_dataset`).
    variable : str
        A data variable, e.g. "entropy_hall".
    component : tuple of str
        Tensor indices (a, b) from "x", "y", "z"; a vector variable uses only a.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        The figure: the variable in the unit of the tables (`qgtransport.units.display_units`),
        one line per temperature with its grid-error band.

    Example
    -------
    >>> import numpy as np
    >>> from qgtransport import builtin_model, compute
    >>> ds = compute(builtin_model("qwz"), "anomalous_hall", mu=np.linspace(-3, 3, 61), T=[300, 1000], nk=48)
    >>> plot_vs_mu(ds, "anomalous_hall", ("x", "y")).savefig("hall.png")
    """
    check_variable(ds, variable)
    da = select_component(ds[variable], component)
    fig, ax = new_axes() if ax is None else (ax.figure, ax)
    factor, units = shown(ds, variable)
    mu = ds["mu"].values
    for T, color in zip(ds["T"].values, temperature_colors(ds.sizes["T"]), strict=True):
        values = da.sel(T=T).values * factor
        ax.plot(mu, values, color=color, lw=1.6, label=temperature_label(ds, T))
        error_band(ax, ds, variable, component, T, mu, values, factor, color)
    ax.set_xlabel(mu_label(ds))
    ax.set_ylabel(axis_label(ds, variable, component, units))
    scientific(ax)
    ax.axhline(0.0, color="0.6", lw=0.6, zorder=0)
    ax.set_title(f"{title_of(variable)}\n{model_title(ds)}", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.25)
    return fig


def plot_entropy_hall_and_nernst(ds, component=("x", "y")) -> Figure:
    """Entropy Hall conductivity sigma^s (Eq. 28, lines) and anomalous Nernst coefficient alpha
    (Xiao, Yao, Fang, Niu 2006; markers) against mu, per temperature.

    The two are equal (ERRATA E7): the largest relative difference is written on the figure.
    """
    for variable in ("entropy_hall", "anomalous_nernst"):
        check_variable(ds, variable)
    hall = select_component(ds["entropy_hall"], component)
    nernst = select_component(ds["anomalous_nernst"], component)
    fig, ax = new_axes((6.8, 4.6))
    mu = ds["mu"].values
    every = max(1, len(mu) // 30)
    factor, units = shown(ds, "entropy_hall")
    for T, color in zip(ds["T"].values, temperature_colors(ds.sizes["T"]), strict=True):
        ax.plot(mu, hall.sel(T=T).values * factor, color=color, lw=1.8, label=temperature_label(ds, T))
        ax.plot(mu[::every], nernst.sel(T=T).values[::every] * factor, ls="none", marker="o", ms=4.5, mfc="none",
                mec=color, mew=1.0)
    units = pretty_units(units)
    a, b = component
    ax.set_xlabel(mu_label(ds))
    ax.set_ylabel(rf"$\sigma^s_{{{a}{b}}}$, $\alpha_{{{a}{b}}}$ ({units})")
    scientific(ax)
    ax.axhline(0.0, color="0.6", lw=0.6, zorder=0)
    ax.grid(alpha=0.25)
    scale = float(np.max(np.abs(nernst.values))) or 1.0
    deviation = float(np.max(np.abs(hall.values - nernst.values))) / scale
    ax.set_title(f"Entropy Hall conductivity and anomalous Nernst coefficient\n{model_title(ds)}", fontsize=10)
    ax.text(0.02, 0.03, rf"max $|\sigma^s - \alpha|$ / max $|\alpha|$ = {deviation:.1e}", transform=ax.transAxes,
            fontsize=8, color="0.3")
    temperature_legend = ax.legend(fontsize=8, frameon=False, loc="upper left")
    ax.add_artist(temperature_legend)
    styles = [
        Line2D([], [], color="0.2", lw=1.8, label=r"$\sigma^s$ = $\sum_n\int s_n\Omega_n$ (Eq. 28)"),
        Line2D([], [], color="0.2", ls="none", marker="o", mfc="none", label=r"$\alpha$ (Xiao et al. 2006)"),
    ]
    ax.legend(handles=styles, fontsize=8, frameon=False, loc="upper right")
    return fig


ENTROPY_PRODUCTION_PARTS = (
    ("entropy_production", "total", "-", 2.0),
    ("entropy_production_drude", "Drude (intraband)", "--", 1.4),
    ("entropy_production_interband", "interband", ":", 1.6),
)


def plot_entropy_production(ds, component=("x", "x")) -> Figure:
    """Entropy production Pi_ab (Pi = Pi_ab E_a E_b, Eq. 18 with ERRATA E1-E2): total, Drude and
    interband parts against mu, colour per temperature, line style per part.

    The y axis is logarithmic when every plotted value is positive (diagonal components are,
    Pi >= 0); the Drude part is exponentially small in a gap, where the interband part remains.
    """
    for variable, *_ in ENTROPY_PRODUCTION_PARTS:
        check_variable(ds, variable)
    fig, ax = new_axes((6.8, 4.8))
    mu = ds["mu"].values
    colors = temperature_colors(ds.sizes["T"])
    factor, _ = shown(ds, "entropy_production")
    values = {v: select_component(ds[v], component) * factor for v, *_ in ENTROPY_PRODUCTION_PARTS}
    for T, color in zip(ds["T"].values, colors, strict=True):
        for variable, _, style, width in ENTROPY_PRODUCTION_PARTS:
            ax.plot(mu, values[variable].sel(T=T).values, color=color, ls=style, lw=width)
    every = np.concatenate([np.ravel(v.values) for v in values.values()])
    if np.all(every > 0):
        ax.set_yscale("log")
        top = float(every.max())
        ax.set_ylim(max(float(every.min()), top * 1e-12) / 2, top * 80)  # room for the legends
    else:
        ax.axhline(0.0, color="0.6", lw=0.6, zorder=0)
    a, b = component
    ax.set_xlabel(mu_label(ds))
    ax.set_ylabel(axis_label(ds, "entropy_production", component))
    kernel = ds.attrs.get("kernel", "")
    rho1 = ds.attrs.get("rho1", "")
    ax.set_title(f"Entropy production coefficient, order E\u00b2 (kernel: {kernel}, \u03c1\u207d\u00b9\u207e: {rho1})\n"
                 f"{model_title(ds)}", fontsize=10)
    ax.grid(alpha=0.25, which="major")
    temperature_handles = [Line2D([], [], color=c, lw=2, label=temperature_label(ds, T))
                           for T, c in zip(ds["T"].values, colors, strict=True)]
    part_handles = [Line2D([], [], color="0.2", ls=style, lw=width, label=label)
                    for _, label, style, width in ENTROPY_PRODUCTION_PARTS]
    first = ax.legend(handles=temperature_handles, fontsize=8, frameon=False, loc="upper left")
    ax.add_artist(first)
    ax.legend(handles=part_handles, fontsize=8, frameon=False, loc="upper right")
    return fig


# ---------------------------------------------------------------- responses against T and omega

MAIN_RESPONSES = (  # (variable, component) shown against mu and T when present
    ("entropy_production", ("x", "x")),
    ("entropy_hall", ("x", "y")),
    ("anomalous_nernst", ("x", "y")),
    ("anomalous_hall", ("x", "y")),
    ("drude", ("x", "x")),
)


def plot_vs_T(ds, variable: str, component=("x", "x"), mu=None, ax=None) -> Figure:
    """One variable against T, one line per chemical potential (default: three across the scan)."""
    check_variable(ds, variable)
    da = select_component(ds[variable], component)
    mu_values = ds["mu"].values
    if mu is None:
        mu = pick_mu(mu_values, 3)
    fig, ax = new_axes((5.2, 3.8)) if ax is None else (ax.figure, ax)
    factor, units = shown(ds, variable)
    colours = colormaps["viridis"](np.linspace(0.1, 0.85, len(np.atleast_1d(mu))))
    for m, colour in zip(np.atleast_1d(mu), colours, strict=True):
        m = float(mu_values[np.argmin(np.abs(mu_values - m))])
        ax.plot(ds["T"].values, da.sel(mu=m).values * factor, marker="o", ms=4, lw=1.5, color=colour,
                label=f"μ = {m:.3g} {ds['mu'].attrs.get('units', '')}")
    T_unit = ds["T"].attrs.get("units", "")
    ax.set_xlabel(f"temperature T ({T_unit})" if T_unit else "temperature T")
    ax.set_ylabel(axis_label(ds, variable, component, units))
    scientific(ax)
    ax.axhline(0.0, color="0.6", lw=0.6, zorder=0)
    ax.grid(alpha=0.25)
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(title_of(variable), fontsize=10)
    return fig


def pick_mu(mu_values, count: int) -> np.ndarray:
    """`count` chemical potentials of the scan spread across it (its ends excluded when possible)."""
    mu_values = np.asarray(mu_values, dtype=float)
    if len(mu_values) <= count:
        return mu_values
    index = np.linspace(0, len(mu_values) - 1, count + 2)[1:-1].round().astype(int)
    return mu_values[np.unique(index)]


def responses_vs_T_figure(ds, mu=None) -> Figure | None:
    """The main responses against T (one panel each) at a few mu; None for a single temperature."""
    present = [(v, c) for v, c in MAIN_RESPONSES if v in ds.data_vars and plottable(ds, v, c)]
    if ds.sizes.get("T", 1) < 2 or not present:
        return None
    fig = Figure(figsize=(4.6 * min(3, len(present)), 3.7 * ((len(present) + 2) // 3)), layout="constrained")
    axes = np.atleast_1d(fig.subplots((len(present) + 2) // 3, min(3, len(present)))).ravel()
    for ax, (variable, component) in zip(axes, present, strict=False):
        plot_vs_T(ds, variable, component, mu=mu, ax=ax)
    for ax in axes[len(present):]:
        ax.set_visible(False)
    fig.suptitle(f"Responses against temperature — {model_title(ds)}", fontsize=11)
    return fig


def plottable(ds, variable, component) -> bool:
    """True for a real variable over (mu, T) and tensor indices that has the given component."""
    da = ds[variable]
    tensor = [d for d in da.dims if d in ("a", "b", "c")]
    if set(da.dims) - {"mu", "T", "a", "b", "c"} or np.iscomplexobj(da.values):
        return False
    return all(c in ds[d].values for d, c in zip(tensor, component, strict=False)) and len(component) >= len(tensor)


def default_component(ds, variable) -> tuple:
    rank = len([d for d in ds[variable].dims if d in ("a", "b", "c")])
    if variable in ("entropy_hall", "anomalous_hall", "anomalous_nernst") and ds.sizes.get("a", 1) >= 2:
        return ("x", "y")
    return ("x",) * max(rank, 1)


def panel_grid(count: int, height: float):
    """A figure with `count` panels, up to three per row: (figure, flat array of axes)."""
    columns = min(3, count)
    rows = (count + columns - 1) // columns
    fig = Figure(figsize=(4.8 * columns, height * rows), layout="constrained")
    return fig, np.atleast_1d(fig.subplots(rows, columns)).ravel()


def more_responses_figure(ds, skip) -> Figure | None:
    """Small panels against mu for every other real (mu, T) response of the dataset."""
    names = [v for v in ds.data_vars if not v.endswith("_error") and v not in skip
             and v != "equilibrium_entropy_current"  # zero identically (E6): in the relation table
             and plottable(ds, v, default_component(ds, v))]
    if not names:
        return None
    fig, axes = panel_grid(len(names), 3.7)
    for ax, name in zip(axes, names, strict=False):
        plot_vs_mu(ds, name, default_component(ds, name), ax=ax)
        ax.set_title(title_of(name), fontsize=9)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    return fig


def frequency_figure(ds) -> Figure | None:
    """Real and imaginary parts of the frequency-dependent responses against hbar omega, at the
    first (mu, T) of the scan."""
    names = [v for v in ds.data_vars if not v.endswith("_error") and "omega" in ds[v].dims]
    if not names:
        return None
    fig, axes = panel_grid(len(names), 3.6)
    omega = ds["omega"].values
    mu0, T0 = float(ds["mu"].values[0]), float(ds["T"].values[0])
    for ax, name in zip(axes, names, strict=False):
        da = ds[name].sel(mu=mu0, T=T0)
        tensor = [d for d in da.dims if d in ("a", "b", "c")]
        comp = default_component(ds, name)[: len(tensor)]
        da = da.sel(dict(zip(tensor, comp, strict=True))) if tensor else da
        factor, units = shown(ds, name)
        values = np.asarray(da.values) * factor
        ax.plot(omega, values.real, lw=1.6, label="Re")
        if np.iscomplexobj(values):
            ax.plot(omega, values.imag, lw=1.2, ls="--", label="Im")
        ax.set_xlabel(f"ħω ({ds['omega'].attrs.get('units', '')})")
        ax.set_ylabel(axis_label(ds, name, comp, units))
        scientific(ax)
        ax.set_title(title_of(name), fontsize=9)
        ax.grid(alpha=0.25)
        ax.legend(fontsize=7, frameon=False)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"Frequency dependence at μ = {mu0:g}, T = {T0:g} {ds['T'].attrs.get('units', '')}",
                 fontsize=11)
    return fig


__all__ = [
    "plot_vs_mu",
    "plot_entropy_hall_and_nernst",
    "plot_entropy_production",
    "plot_vs_T",
    "responses_vs_T_figure",
    "more_responses_figure",
    "frequency_figure",
]
