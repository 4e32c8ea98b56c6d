"""Figures of computed responses and of the band geometry over the Brillouin zone.

Every function returns a `matplotlib.figure.Figure`. Figures are built without pyplot (no global
state, no GUI backend, nothing shown): in Jupyter a returned Figure displays once; from a script,
`fig.savefig("out.png")` renders it with the Agg canvas. Functions that take `ax` draw into an
existing Axes instead and return its figure.

Response plots take the `xarray.Dataset` of `qgtransport.compute` (SI or natural units: the units
come from the variables' attributes). Brillouin-zone maps take a model and evaluate
`geometry.band_geometry` on a k-grid.
"""

from __future__ import annotations

import json

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from qgtransport.bands.geometry import band_geometry, berry_curvature, quantum_metric

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
}

BZ_QUANTITIES = {
    "berry_curvature": "Berry curvature",
    "quantum_metric": "quantum metric",
}

_SUPERSCRIPTS = {"^2": "\u00b2", "^3": "\u00b3", "^-1": "\u207b\u00b9"}


_SI_PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "\u00b5", -3: "m", 0: "", 3: "k"}
_SI_BASE_UNITS = ("A", "S", "W", "V", "J")


def pretty_units(units: str) -> str:
    """'W/(K m^2) per (V/m)^2' -> 'W/(K m²) per (V/m)²', 'Angstrom' -> 'Å' (plain text, no mathtext)."""
    for plain, sup in _SUPERSCRIPTS.items():
        units = units.replace(plain, sup)
    return units.replace("Angstrom", "\u00c5")


def si_prefixed(values, units: str) -> tuple[float, str]:
    """(scale, units) with an SI prefix such that max |values| / scale lies in [1, 1000), for units
    starting with A, S, W, V or J ('A/K' -> 1e-9, 'nA/K'); (1, units) for any other units."""
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    base = units.replace("/", " ").split(" ")[0] if units else ""
    if base not in _SI_BASE_UNITS or finite.size == 0 or finite.max() == 0:
        return 1.0, units
    exponent = int(np.clip(3 * np.floor(np.log10(finite.max()) / 3), -15, 3))
    return 10.0**exponent, _SI_PREFIXES[exponent] + units


def symbol(variable: str, component) -> str:
    """Mathtext symbol of a variable with its tensor indices, e.g. '$\\sigma^{s}_{xy}$'."""
    a, b = (tuple(component) + ("", ""))[:2]
    template = SYMBOLS.get(variable)
    if template is None:
        return f"{variable} [{a}{b}]"
    return "$" + template.format(a=a, b=b) + "$"


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
        available = sorted(v for v in ds.data_vars if not v.endswith("_error"))
        raise ValueError(f"the dataset has no variable {variable!r}; it has {available}")


def model_title(ds) -> str:
    """'qwz (m=-1), τ = 10 fs, 96x96 k-grid' from the dataset attributes."""
    name = ds.attrs.get("model", "model")
    try:
        params = json.loads(ds.attrs.get("model_parameters", "{}"))
    except (TypeError, ValueError):
        params = {}
    inner = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in params.items())
    tau = ds.attrs.get("tau", "none")
    tau_text = "" if tau in ("none", None) else f", \u03c4 = {float(tau):g} {ds.attrs.get('tau_units', '')}"
    grid = ds.attrs.get("grid", "")
    return f"{name}" + (f" ({inner})" if inner else "") + tau_text + (f", {grid} k-grid" if grid else "")


def new_axes(figsize=(6.4, 4.4)):
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def plot_vs_mu(ds, variable: str, component=("x", "x"), ax=None) -> Figure:
    """One variable of a computed dataset against mu, one line per temperature.

    Parameters
    ----------
    ds : xarray.Dataset from `qgtransport.compute`.
    variable : a data variable, e.g. "entropy_hall".
    component : (a, b) tensor indices ("x", "y", "z"); a vector variable uses only a.
    ax : matplotlib Axes to draw into (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure

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
    scale, units = si_prefixed(da.values, ds[variable].attrs.get("units", ""))
    for T, color in zip(ds["T"].values, temperature_colors(ds.sizes["T"]), strict=True):
        ax.plot(ds["mu"].values, da.sel(T=T).values / scale, color=color, lw=1.6, label=temperature_label(ds, T))
    units = pretty_units(units)
    ax.set_xlabel(mu_label(ds))
    ax.set_ylabel(f"{symbol(variable, component)} ({units})" if units else symbol(variable, component))
    ax.axhline(0.0, color="0.6", lw=0.6, zorder=0)
    ax.set_title(f"{variable.replace('_', ' ')}\n{model_title(ds)}", fontsize=10)
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
    scale, units = si_prefixed(hall.values, ds["entropy_hall"].attrs.get("units", ""))
    for T, color in zip(ds["T"].values, temperature_colors(ds.sizes["T"]), strict=True):
        ax.plot(mu, hall.sel(T=T).values / scale, color=color, lw=1.8, label=temperature_label(ds, T))
        ax.plot(mu[::every], nernst.sel(T=T).values[::every] / scale, ls="none", marker="o", ms=4.5, mfc="none",
                mec=color, mew=1.0)
    units = pretty_units(units)
    a, b = component
    ax.set_xlabel(mu_label(ds))
    ax.set_ylabel(rf"$\sigma^s_{{{a}{b}}}$, $\alpha_{{{a}{b}}}$ ({units})")
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
    values = {v: select_component(ds[v], component) for v, *_ in ENTROPY_PRODUCTION_PARTS}
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
    units = pretty_units(ds["entropy_production"].attrs.get("units", ""))
    a, b = component
    ax.set_xlabel(mu_label(ds))
    ax.set_ylabel(rf"$\Pi_{{{a}{b}}}$ ({units})")
    kernel = ds.attrs.get("kernel", "")
    rho1 = ds.attrs.get("rho1", "")
    ax.set_title(f"Entropy production to order E\u00b2 (kernel: {kernel}, \u03c1\u207d\u00b9\u207e: {rho1})\n"
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


def bz_grid(model, nk: int, kz: float):
    """Cell-centred grid over the first two reciprocal directions, reduced coordinates in [-1/2, 1/2).

    Returns (k_reduced (nk*nk, dim), edges (nk+1,)); in 3D the third reduced coordinate is kz.
    """
    edges = np.linspace(-0.5, 0.5, nk + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    k1, k2 = np.meshgrid(centres, centres, indexing="ij")
    columns = [k1.ravel(), k2.ravel()]
    if model.dim == 3:
        columns.append(np.full(k1.size, float(kz)))
    return np.stack(columns, axis=-1), edges


def bz_values(model, quantity: str, band: int = 0, nk: int = 101, kz: float = 0.0,
              chunk_size: int = 16384) -> np.ndarray:
    """Omega^xy_n or g^xx_n + g^yy_n of one band on the cell-centred grid of `bz_grid`, shape (nk, nk).

    Cartesian components, in length_unit^2; evaluated in chunks of k-points (bounded memory).
    """
    if quantity not in BZ_QUANTITIES:
        raise ValueError(f"quantity must be one of {sorted(BZ_QUANTITIES)}, got {quantity!r}")
    if model.dim not in (2, 3):
        raise ValueError(f"Brillouin-zone maps need a 2D or 3D model; {model.name!r} is {model.dim}D")
    if not 0 <= band < model.norb:
        raise ValueError(f"band must be in 0..{model.norb - 1} for {model.name!r}, got {band}")
    if int(nk) < 2:
        raise ValueError(f"nk must be >= 2, got {nk}")
    k_reduced, _ = bz_grid(model, int(nk), kz)
    out = np.empty(len(k_reduced))
    for start in range(0, len(k_reduced), chunk_size):
        geo = band_geometry(model, model.to_cartesian(k_reduced[start:start + chunk_size]), order=1)
        if quantity == "berry_curvature":
            out[start:start + chunk_size] = berry_curvature(geo)[:, band, 0, 1]
        else:
            g = quantum_metric(geo)[:, band]
            out[start:start + chunk_size] = g[:, 0, 0] + g[:, 1, 1]
    return out.reshape(int(nk), int(nk))


def bz_area(model) -> float:
    """Area of the k-plane spanned by b1, b2 projected on (kx, ky), in length_unit^-2."""
    b = model.reciprocal
    return abs(float(np.linalg.det(b[:2, :2])))


def bz_map(model, quantity: str, band: int = 0, nk: int = 101, kz: float = 0.0, *, cartesian: bool = False,
           ax=None) -> Figure:
    """Map of Omega^xy_n (quantity="berry_curvature") or g^xx_n + g^yy_n ("quantum_metric") of one
    band over the Brillouin zone of a 2D model, or over the plane k3 = kz of a 3D model.

    Parameters
    ----------
    model : TightBinding (2D or 3D).
    quantity : "berry_curvature" or "quantum_metric".
    band : band index, 0 = lowest.
    nk : grid points per direction (cell-centred; odd nk puts a point at Gamma).
    kz : for 3D models, the third reduced coordinate of the plane (fraction of b3).
    cartesian : False: axes k1, k2 in reduced coordinates (fractions of b1, b2);
        True: Cartesian kx, ky (1/length_unit) of k = k1 b1 + k2 b2 + kz b3 (a parallelogram).
    ax : Axes to draw into (default: a new figure).

    The title gives the integral over the plane: the Chern number C_n = (1/2 pi) int Omega^xy_n d^2k,
    or (1/2 pi) int tr g_n d^2k, which is >= |C_n| (the quantum-geometric bound).

    Example
    -------
    >>> from qgtransport import builtin_model
    >>> bz_map(builtin_model("qwz", m=-1), "berry_curvature").savefig("omega.png")
    """
    values = bz_values(model, quantity, band, nk, kz)
    _, edges = bz_grid(model, int(nk), kz)
    fig, ax = new_axes((5.0, 4.3)) if ax is None else (ax.figure, ax)
    E1, E2 = np.meshgrid(edges, edges, indexing="ij")
    if cartesian:
        b = model.reciprocal
        shift = kz * b[2, :2] if model.dim == 3 else np.zeros(2)
        X = E1 * b[0, 0] + E2 * b[1, 0] + shift[0]
        Y = E1 * b[0, 1] + E2 * b[1, 1] + shift[1]
        unit = pretty_units(model.length_unit)
        ax.set_xlabel(f"$k_x$ (1/{unit})")
        ax.set_ylabel(f"$k_y$ (1/{unit})")
    else:
        X, Y = E1, E2
        ax.set_xlabel(r"$k_1$ (units of $\mathbf{b}_1$)")
        ax.set_ylabel(r"$k_2$ (units of $\mathbf{b}_2$)")
    integral = float(values.mean()) * bz_area(model) / (2 * np.pi)
    if quantity == "berry_curvature":
        limit = float(np.max(np.abs(values))) or 1.0
        norm, cmap = TwoSlopeNorm(0.0, -limit, limit), "RdBu_r"
        label = rf"$\Omega^{{xy}}_{{{band}}}$ ({pretty_units(model.length_unit)}$^2$)"
        summary = rf"$C_{{{band}}} = \frac{{1}}{{2\pi}}\int\Omega^{{xy}}_{{{band}}} = {integral:.3f}$"
    else:
        norm, cmap = Normalize(0.0, float(values.max()) or 1.0), "viridis"
        label = rf"$g^{{xx}}_{{{band}}} + g^{{yy}}_{{{band}}}$ ({pretty_units(model.length_unit)}$^2$)"
        summary = rf"$\frac{{1}}{{2\pi}}\int {{\rm tr}}\, g_{{{band}}} = {integral:.3f}$ ($\geq |C_{{{band}}}|$)"
    mesh = ax.pcolormesh(X, Y, values, cmap=cmap, norm=norm, shading="flat", rasterized=True)
    fig.colorbar(mesh, ax=ax, label=label, shrink=0.9)
    ax.set_aspect("equal")
    plane = f", plane $k_3$ = {kz:g}" if model.dim == 3 else ""
    ax.set_title(f"{BZ_QUANTITIES[quantity]}, band {band}{plane}\n{summary}", fontsize=10)
    return fig


def plot_bz_maps(model, band: int = 0, nk: int = 101, kz: float = 0.0, *, cartesian: bool = False) -> Figure:
    """Berry curvature and quantum-metric trace of one band, side by side (see `bz_map`)."""
    width = 10.0
    if cartesian:  # fit the figure to the parallelogram spanned by b1, b2
        b = model.reciprocal[:2, :2]
        corners = np.array([[0, 0], [1, 0], [0, 1], [1, 1]]) @ b
        extent = corners.max(axis=0) - corners.min(axis=0)
        width = float(np.clip(2 * (3.4 * extent[0] / extent[1] + 1.6), 6.0, 12.0))
    fig = Figure(figsize=(width, 4.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    bz_map(model, "berry_curvature", band, nk, kz, cartesian=cartesian, ax=left)
    bz_map(model, "quantum_metric", band, nk, kz, cartesian=cartesian, ax=right)
    params = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in model.parameters.items())
    fig.suptitle(f"Band geometry of {model.name}" + (f" ({params})" if params else ""), fontsize=11)
    return fig


__all__ = [
    "plot_vs_mu",
    "plot_entropy_hall_and_nernst",
    "plot_entropy_production",
    "bz_map",
    "bz_values",
    "plot_bz_maps",
]
