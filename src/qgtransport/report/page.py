"""A self-contained HTML report of a run: figures (embedded PNG), relation checks, grid convergence,
the conventions and the errata that apply. Written by `qgt run` and `qgt demo`.

    report = write_report(ds, model, "out")       # out/report.html + out/figures/*.png
    report.html_path, report.checks

Contents:
- the band structure along a high-symmetry path, coloured by the Berry curvature Omega^xy_n and by
  the quantum-metric trace g^xx_n + g^yy_n (`high_symmetry_path`, `band_structure_figure`);
- Brillouin-zone maps of Omega and g (`qgtransport.plot.plot_bz_maps`) and of the entropy-production
  density: the per-k contribution to E^.Pi.E^ at one (mu, T), its Drude and interband parts
  (`entropy_production_density`, `entropy_density_figure`);
- responses against mu (`qgtransport.plot`) and against T (`plot_vs_T`);
- a table of relation checks, each with its two sides and residual: Onsager (sigma^s = alpha, Eq. 29
  and ERRATA E7), Maxwell (ERRATA E4), Mott and Sommerfeld (Eq. 31), positivity of Pi and of Pi_k,
  the vanishing equilibrium entropy current (E6), the optical ratio (Eq. 34, E9) and, on request,
  the exact steady-state solver (`qgtransport.verify`);
- the grid-convergence estimate |I(nk) - I(nk/2)| of every response (`<name>_error`);
- the conventions of the dataset and the errata that apply to what was computed.

Figure functions return matplotlib Figures (no pyplot), usable from Jupyter like `qgtransport.plot`.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.colors import LogNorm, Normalize, TwoSlopeNorm
from matplotlib.figure import Figure

from qgtransport import units as U
from qgtransport.bands.geometry import band_geometry, berry_curvature, quantum_metric
from qgtransport.report import figures as plot

# ---------------------------------------------------------------- high-symmetry paths


@dataclass(frozen=True)
class KPath:
    """A path through the Brillouin zone: vertex labels and vertices in reduced coordinates
    (fractions of the reciprocal vectors b_i), visited in order."""

    labels: tuple
    points: np.ndarray
    lattice: str = "custom"


def lattice_kind(model, tol: float = 1e-6) -> str:
    """'chain' (1D), 'square', 'rectangular', 'hexagonal' (2D), 'cubic' (3D) or 'other'."""
    a = np.asarray(model.lattice, dtype=float)
    if model.dim == 1:
        return "chain"
    lengths = np.linalg.norm(a, axis=1)
    cosines = (a @ a.T) / np.outer(lengths, lengths)
    off = cosines[~np.eye(model.dim, dtype=bool)]
    equal = np.ptp(lengths) < tol * lengths.max()
    if np.all(np.abs(off) < tol):
        if model.dim == 2:
            return "square" if equal else "rectangular"
        return "cubic" if equal else "other"
    if model.dim == 2 and equal and abs(abs(off[0]) - 0.5) < tol:
        return "hexagonal"
    return "other"


_G = "Γ"


def high_symmetry_path(model) -> KPath:
    """The standard path of the built-in lattices, else one along the reciprocal axes.

    chain: -X - Gamma - X; square: Gamma - X - M - Gamma; rectangular: Gamma - X - S - Y - Gamma;
    hexagonal: Gamma - K - M - Gamma (K the zone corner: (2/3, 1/3) when b1.b2 < 0, else (1/3, 1/3));
    cubic: Gamma - X - M - Gamma - R - X, then Gamma - Z (Z = b3/2: the kz axis, where the Weyl
    nodes of the built-in Weyl model lie). Any other lattice (e.g. a Wannier90 model):
    Gamma - b1/2 - (b1 + b2)/2 - Gamma [- b3/2 - (b1 + b2 + b3)/2 - Gamma]; give a path in the
    configuration ([report] path_labels, path_points) for the standard one of your lattice.
    """
    kind = lattice_kind(model)
    if kind == "chain":
        return KPath(("-X", _G, "X"), np.array([[-0.5], [0.0], [0.5]]), kind)
    if kind == "square":
        return KPath((_G, "X", "M", _G), np.array([[0, 0], [0.5, 0], [0.5, 0.5], [0, 0]], float), kind)
    if kind == "rectangular":
        return KPath((_G, "X", "S", "Y", _G), np.array([[0, 0], [0.5, 0], [0.5, 0.5], [0, 0.5], [0, 0]], float),
                     kind)
    if kind == "hexagonal":
        b = model.reciprocal
        corner = [2 / 3, 1 / 3] if b[0] @ b[1] < 0 else [1 / 3, 1 / 3]
        return KPath((_G, "K", "M", _G), np.array([[0, 0], corner, [0.5, 0], [0, 0]], float), kind)
    if kind == "cubic":
        return KPath((_G, "X", "M", _G, "R", "X", _G, "Z"),
                     np.array([[0, 0, 0], [0.5, 0, 0], [0.5, 0.5, 0], [0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0, 0],
                               [0, 0, 0], [0, 0, 0.5]], float), kind)
    if model.dim == 2:
        return KPath((_G, "b1/2", "(b1+b2)/2", _G), np.array([[0, 0], [0.5, 0], [0.5, 0.5], [0, 0]], float), kind)
    return KPath((_G, "b1/2", "(b1+b2)/2", _G, "b3/2", "(b1+b2+b3)/2", _G),
                 np.array([[0, 0, 0], [0.5, 0, 0], [0.5, 0.5, 0], [0, 0, 0], [0, 0, 0.5], [0.5, 0.5, 0.5],
                           [0, 0, 0]], float), kind)


def custom_path(labels, points) -> KPath:
    """A KPath from labels and reduced vertices (e.g. from a configuration file)."""
    points = np.atleast_2d(np.asarray(points, dtype=float))
    if len(labels) != len(points) or len(points) < 2:
        raise ValueError(f"a path needs as many labels as points (>= 2), got {len(labels)} and {len(points)}")
    return KPath(tuple(labels), points)


def sample_path(model, path: KPath, npoints: int = 240):
    """k-points along a path, spaced evenly in Cartesian length (each vertex included).

    Returns (k_reduced (N, dim), distance (N,) in 1/length_unit, vertex distances (n_vertices,)).
    """
    points = np.asarray(path.points, dtype=float)
    cart = points @ model.reciprocal
    lengths = np.linalg.norm(np.diff(cart, axis=0), axis=1)
    total = lengths.sum()
    if total == 0:
        raise ValueError("the band-structure path has zero length")
    counts = np.maximum(1, np.round(lengths / total * (npoints - 1)).astype(int))
    segments = []
    for start, stop, count in zip(points[:-1], points[1:], counts, strict=True):
        t = np.arange(count)[:, None] / count
        segments.append(start + t * (stop - start))
    segments.append(points[-1:])
    k = np.concatenate(segments)
    steps = np.linalg.norm(np.diff(k @ model.reciprocal, axis=0), axis=1)
    distance = np.concatenate([[0.0], np.cumsum(steps)])
    ticks = np.concatenate([[0.0], np.cumsum(lengths)])
    return k, distance, ticks


def band_data(model, k_reduced: np.ndarray):
    """Energies (N, n), Omega^xy_n (N, n) (None in 1D) and g^xx_n + g^yy_n (N, n) at the k-points."""
    geo = band_geometry(model, model.to_cartesian(k_reduced), order=1)
    g = quantum_metric(geo)
    trace = sum(g[:, :, i, i] for i in range(min(model.dim, 2)))
    omega = berry_curvature(geo)[:, :, 0, 1] if model.dim >= 2 else None
    return geo.energies, omega, trace


def _colored_bands(ax, distance, energies, values, cmap, norm):
    segments = []
    colours = []
    for n in range(energies.shape[1]):
        xy = np.stack([distance, energies[:, n]], axis=-1)
        segments.append(np.stack([xy[:-1], xy[1:]], axis=1))
        colours.append(0.5 * (values[:-1, n] + values[1:, n]))
    segments = np.concatenate(segments)
    ax.add_collection(LineCollection(segments, colors="0.35", linewidths=3.4))  # outline: pale colours stay visible
    lines = LineCollection(segments, cmap=cmap, norm=norm, linewidths=2.2)
    lines.set_array(np.concatenate(colours))
    ax.add_collection(lines)
    ax.set_xlim(distance[0], distance[-1])
    low, high = energies.min(), energies.max()
    pad = 0.05 * (high - low or 1.0)
    ax.set_ylim(low - pad, high + pad)
    return lines


def band_structure_figure(model, path: KPath | None = None, npoints: int = 240, mu=None) -> Figure:
    """Bands along a path, coloured by Omega^xy_n (left; not in 1D) and by g^xx_n + g^yy_n (right).

    Colour scales are clipped at the 98th percentile of |value| (Berry curvature and metric
    diverge where bands touch); the metric's scale is logarithmic when it spans more than a
    factor 50. mu: chemical potentials to mark as horizontal lines.
    """
    path = high_symmetry_path(model) if path is None else path
    k, distance, ticks = sample_path(model, path, npoints)
    energies, omega, trace = band_data(model, k)
    panels = [("omega", omega)] if omega is not None else []
    panels.append(("metric", trace))
    fig = Figure(figsize=(5.2 * len(panels) + 0.6, 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True))
    unit = plot.pretty_units(model.length_unit)
    for ax, (kind, values) in zip(axes, panels, strict=True):
        finite = np.abs(values[np.isfinite(values)])
        limit = float(np.percentile(finite, 98)) if finite.size else 1.0
        limit = limit or float(finite.max() if finite.size else 1.0) or 1.0
        if kind == "omega":
            norm, cmap = TwoSlopeNorm(0.0, -limit, limit), colormaps["RdBu_r"]
            label = rf"Berry curvature $\Omega^{{xy}}_n$ ({unit}$^2$)"
        else:
            label = (r"quantum metric $g^{xx}_n + g^{yy}_n$" if model.dim >= 2 else r"quantum metric $g^{xx}_n$") \
                + f" ({unit}$^2$)"
            norm, cmap = Normalize(0.0, limit), colormaps["viridis"]
            if finite.size and limit > 50 * max(float(np.percentile(finite, 5)), 1e-300):
                low = max(float(np.percentile(finite, 5)), limit * 1e-4)  # a wide range: logarithmic colours
                norm = LogNorm(low, limit)
                values = np.clip(values, low, None)
        lines = _colored_bands(ax, distance, energies, np.clip(values, -limit, limit), cmap, norm)
        fig.colorbar(lines, ax=ax, label=label, extend="both" if kind == "omega" else "max", shrink=0.92)
        for t in ticks:
            ax.axvline(t, color="0.75", lw=0.6, zorder=0)
        for m in np.atleast_1d(mu) if mu is not None else []:
            ax.axhline(float(m), color="0.35", lw=0.8, ls="--", zorder=0)
        ax.set_xticks(ticks, path.labels)
        ax.set_facecolor("0.97")
    axes[0].set_ylabel(f"energy ({model.energy_unit})")
    route = " – ".join(path.labels)
    fig.suptitle(f"Bands of {_model_name(model)} along {route}", fontsize=11)
    return fig


def _model_name(model) -> str:
    params = ", ".join(f"{k}={v:.4g}" for k, v in model.parameters.items() if isinstance(v, (int, float))
                       and not isinstance(v, bool))
    return model.name + (f" ({params})" if params and len(params) < 60 else "")


# ---------------------------------------------------------------- entropy-production density


def field_unit_vector(model, direction=None) -> np.ndarray:
    """E^ = g/|g|, g = n . b (Cartesian), the field direction of the density map (default b1)."""
    n = np.zeros(model.dim)
    n[0] = 1.0
    if direction is not None:
        n = np.asarray(direction, dtype=float)
        if n.shape != (model.dim,) or not np.any(n):
            raise ValueError(f"direction needs {model.dim} integers, not all zero; got {direction!r}")
    g = n @ model.reciprocal
    return g / np.linalg.norm(g)


def entropy_production_density(model, k_reduced, mu: float, T: float, tau: float, *, units: str = "SI",
                               rho1: str = "finite_eta", direction=None) -> dict:
    """Per-k contribution to E^.Pi.E^ (Eq. 18 with ERRATA E1, E2; divided-difference kernel).

    pi(k) = (g_s/V_cell) [ -tau sum_{n,m in a level} F_mn Re(v.E^ v.E^)_nm
                           - (eta/T) sum_{other pairs} F_mn Re(v.E^ v.E^)_nm w_nm ],
    w_nm = 1/(e_nm^2 + eta^2) (rho1 = "finite_eta") or 1/e_nm^2 ("dc_limit"), F_mn the divided
    difference of f (kernels of `qgtransport.responses.entropy`), so that the mean of pi over a
    uniform grid is the `entropy_production` of `compute` on that grid, and every pi(k) >= 0.

    mu in the energy unit; T and tau in K and fs (units="SI") or natural units. Returns
    {"total", "drude", "interband"}: arrays (N,) in the units of Pi (SI: W/(K m^d) per (V/m)^2).
    """
    from qgtransport.responses.entropy import interband_propagator_squared
    from qgtransport.responses.kernels import Block, Settings

    if units == "SI":
        T_nat = float(U.temperature_to_natural(T, model))
        tau_nat = float(U.relaxation_time_to_natural(tau, model))
    else:
        T_nat, tau_nat = float(T), float(tau)
    settings = Settings(tau=tau_nat, rho1=rho1)
    E = field_unit_vector(model, direction)
    k_reduced = np.atleast_2d(np.asarray(k_reduced, dtype=float))
    scale = model.spin_degeneracy / model.cell_volume
    if units == "SI":
        scale *= U.si_factor("entropy_production", model)
    drude = np.empty(len(k_reduced))
    interband = np.empty(len(k_reduced))
    for start in range(0, len(k_reduced), 8192):
        window = slice(start, start + 8192)
        geo = band_geometry(model, model.to_cartesian(k_reduced[window]), order=1)
        block = Block(geo, np.array([mu]), np.array([T_nat]), settings)
        projected = np.einsum("knmab,a,b->knm", block.products.real, E, E)
        dd = block.fermi_dd[..., 0]
        same = block.same_level[..., 0]
        drude[window] = np.einsum("knm,knm->k", np.where(same, -tau_nat * dd / T_nat, 0.0), projected)
        inter_kernel = -settings.eta * dd / T_nat * interband_propagator_squared(block)[..., 0]
        interband[window] = np.einsum("knm,knm->k", inter_kernel, projected)
    return {"total": scale * (drude + interband), "drude": scale * drude, "interband": scale * interband}


def entropy_density_figure(model, mu: float, T: float, tau: float, *, units: str = "SI", rho1: str = "finite_eta",
                           direction=None, nk: int = 101, kz: float = 0.0):
    """Maps of the entropy-production density pi(k) (total, Drude, interband) at one (mu, T).

    2D: the Brillouin zone (reduced coordinates, nk x nk); 3D: the plane k3 = kz; 1D: pi against k
    on 4 nk points.
    Returns (figure, values): values holds the three (nk, nk) or (nk,) arrays and "mean_total"
    (2D and 1D: the zone average, = E^.Pi.E^ of compute on the same grid with shift 1/2 for even nk).
    """
    E = field_unit_vector(model, direction)
    T_unit = "K" if units == "SI" else model.energy_unit
    e_text = "x" if np.allclose(E, np.eye(model.dim)[0]) else "(" + ", ".join(f"{x:.2f}" for x in E) + ")"
    if model.dim == 1:
        nk = 4 * nk  # a line is cheap: resolve the Fermi points
        edges = np.linspace(-0.5, 0.5, nk + 1)
        k = 0.5 * (edges[1:] + edges[:-1])[:, None]
        values = entropy_production_density(model, k, mu, T, tau, units=units, rho1=rho1, direction=direction)
        fig = Figure(figsize=(6.8, 4.2), layout="constrained")
        ax = fig.add_subplot()
        for key, style in (("total", "-"), ("drude", "--"), ("interband", ":")):
            ax.plot(k[:, 0], values[key], ls=style, lw=1.8, label=key)
        positive = np.concatenate([values[key] for key in ("total", "drude", "interband")])
        if np.all(positive > 0):
            ax.set_yscale("log")
            ax.set_ylim(positive.max() * 1e-12, positive.max() * 3)
        ax.set_xlabel(r"$k$ (units of $b_1$)")
        ax.set_ylabel(rf"$\pi(k)$ ({plot.pretty_units(_pi_units(model, units))})")
        ax.legend(frameon=False, fontsize=8)
        ax.grid(alpha=0.25)
        values["mean_total"] = float(values["total"].mean())
        fig.suptitle(f"Entropy-production density, E ∥ {e_text}, μ = {mu:g} {model.energy_unit}, "
                     f"T = {T:g} {T_unit}", fontsize=11)
        return fig, values
    k, edges = plot.bz_grid(model, nk, kz)
    values = entropy_production_density(model, k, mu, T, tau, units=units, rho1=rho1, direction=direction)
    values = {key: v.reshape(nk, nk) for key, v in values.items()}
    values["mean_total"] = float(values["total"].mean())
    fig = Figure(figsize=(14.0, 4.4), layout="constrained")
    axes = fig.subplots(1, 3)
    E1, E2 = np.meshgrid(edges, edges, indexing="ij")
    units_text = plot.pretty_units(_pi_units(model, units)).replace(" per (V/m)²", "")
    titles = {"total": "total (Drude + interband)", "drude": "Drude (intraband, Fermi surface)",
              "interband": "interband (quantum metric)"}
    for ax, key in zip(axes, ("total", "drude", "interband"), strict=True):
        data = values[key]
        top = float(np.max(data)) or 1.0
        low = min(float(np.min(data)), 0.0)
        mesh = ax.pcolormesh(E1, E2, data, cmap="magma", norm=Normalize(low, top), shading="flat", rasterized=True)
        fig.colorbar(mesh, ax=ax, shrink=0.9, label=rf"$\pi_{{EE}}(\mathbf{{k}})$ ({units_text} per (V/m)²)")
        ax.set_aspect("equal")
        ax.set_xlabel(r"$k_1$ (units of $\mathbf{b}_1$)")
        ax.set_ylabel(r"$k_2$ (units of $\mathbf{b}_2$)")
        ax.set_title(f"{titles[key]}\nzone average {float(data.mean()):.3e}", fontsize=9)
    plane = f", plane k₃ = {kz:g}" if model.dim == 3 else ""
    fig.suptitle(f"Where the entropy is produced: per-k contribution to Π_EE, E ∥ {e_text}, "
                 f"μ = {mu:g} {model.energy_unit}, T = {T:g} {T_unit}{plane}", fontsize=11)
    return fig, values


def _pi_units(model, units: str) -> str:
    if units == "SI":
        return U.si_unit("entropy_production", model)
    return U.UNIT_KINDS["entropy_production"].natural_unit


# ---------------------------------------------------------------- responses against T

MAIN_RESPONSES = (  # (variable, component) shown against mu and T when present
    ("entropy_production", ("x", "x")),
    ("entropy_hall", ("x", "y")),
    ("anomalous_nernst", ("x", "y")),
    ("anomalous_hall", ("x", "y")),
    ("drude", ("x", "x")),
)


def plot_vs_T(ds, variable: str, component=("x", "x"), mu=None, ax=None) -> Figure:
    """One variable against T, one line per chemical potential (default: three across the scan)."""
    plot.check_variable(ds, variable)
    da = plot.select_component(ds[variable], component)
    mu_values = ds["mu"].values
    if mu is None:
        mu = pick_mu(mu_values, 3)
    fig, ax = plot.new_axes((5.2, 3.8)) if ax is None else (ax.figure, ax)
    scale, units = plot.si_prefixed(da.values, ds[variable].attrs.get("units", ""))
    colours = colormaps["viridis"](np.linspace(0.1, 0.85, len(np.atleast_1d(mu))))
    for m, colour in zip(np.atleast_1d(mu), colours, strict=True):
        m = float(mu_values[np.argmin(np.abs(mu_values - m))])
        ax.plot(ds["T"].values, da.sel(mu=m).values / scale, marker="o", ms=4, lw=1.5, color=colour,
                label=f"μ = {m:.3g} {ds['mu'].attrs.get('units', '')}")
    T_unit = ds["T"].attrs.get("units", "")
    ax.set_xlabel(f"temperature T ({T_unit})" if T_unit else "temperature T")
    units = plot.pretty_units(units)
    ax.set_ylabel(f"{plot.symbol(variable, component)} ({units})" if units else plot.symbol(variable, component))
    ax.axhline(0.0, color="0.6", lw=0.6, zorder=0)
    ax.grid(alpha=0.25)
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(variable.replace("_", " "), fontsize=10)
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
    present = [(v, c) for v, c in MAIN_RESPONSES if v in ds.data_vars and _plottable(ds, v, c)]
    if ds.sizes.get("T", 1) < 2 or not present:
        return None
    fig = Figure(figsize=(4.6 * min(3, len(present)), 3.7 * ((len(present) + 2) // 3)), layout="constrained")
    axes = np.atleast_1d(fig.subplots((len(present) + 2) // 3, min(3, len(present)))).ravel()
    for ax, (variable, component) in zip(axes, present, strict=False):
        plot_vs_T(ds, variable, component, mu=mu, ax=ax)
    for ax in axes[len(present):]:
        ax.set_visible(False)
    fig.suptitle(f"Responses against temperature — {plot.model_title(ds)}", fontsize=11)
    return fig


def _plottable(ds, variable, component) -> bool:
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
             and _plottable(ds, v, default_component(ds, v))]
    if not names:
        return None
    fig, axes = panel_grid(len(names), 3.7)
    for ax, name in zip(axes, names, strict=False):
        plot.plot_vs_mu(ds, name, default_component(ds, name), ax=ax)
        ax.set_title(name.replace("_", " "), fontsize=9)
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
        values = np.asarray(da.values)
        ax.plot(omega, values.real, lw=1.6, label="Re")
        if np.iscomplexobj(values):
            ax.plot(omega, values.imag, lw=1.2, ls="--", label="Im")
        ax.set_xlabel(f"ħω ({ds['omega'].attrs.get('units', '')})")
        ax.set_ylabel(f"{''.join(comp)} ({plot.pretty_units(ds[name].attrs.get('units', ''))})")
        ax.set_title(name.replace("_", " "), fontsize=9)
        ax.grid(alpha=0.25)
        ax.legend(fontsize=7, frameon=False)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"Frequency dependence at μ = {mu0:g}, T = {T0:g} {ds['T'].attrs.get('units', '')}",
                 fontsize=11)
    return fig


# ---------------------------------------------------------------- checks


@dataclass(frozen=True)
class Check:
    """One row of the relation table. verdict: "holds", "FAILS", "deviates, as expected" (an
    asymptotic or restricted relation off its range) or "skipped"."""

    name: str
    source: str
    where: str
    lhs: str
    rhs: str
    residual: float | None
    tolerance: float | None
    verdict: str
    note: str = ""


def _residual(lhs, rhs, floor: float = 0.0) -> float:
    lhs, rhs = np.asarray(lhs, dtype=float), np.asarray(rhs, dtype=float)
    scale = max(float(np.abs(lhs).max()), float(np.abs(rhs).max()), floor, 1e-300)
    return float(np.abs(lhs - rhs).max() / scale)


def _span(values) -> str:
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0:
        return "-"
    low, high = values.min(), values.max()
    return f"{low:.4g}" if np.isclose(low, high, rtol=1e-12, atol=0) else f"{low:.4g} .. {high:.4g}"


def _verdict(residual, tolerance, *, asymptotic=False) -> str:
    if residual <= tolerance:
        return "holds"
    return "deviates, as expected" if asymptotic else "FAILS"


def _run_options(ds) -> dict:
    """compute options of the dataset (units, grid, shift, tau, kernel, rho1) for the check runs."""
    options = {"units": ds.attrs.get("units", "SI"), "kernel": ds.attrs.get("kernel", "divided_difference"),
               "rho1": ds.attrs.get("rho1", "finite_eta")}
    grid = str(ds.attrs.get("grid", ""))
    nk = tuple(int(n) for n in grid.split("x")) if grid else 48
    shift = ds.attrs.get("grid_shift")
    try:
        shift = json.loads(shift) if isinstance(shift, str) else shift
    except ValueError:
        shift = None
    options["shift"] = 0.5 if shift is None else np.asarray(shift, dtype=float)
    tau = ds.attrs.get("tau", "none")
    options["tau"] = None if tau in ("none", None) else float(tau)
    options["broadening"] = ds.attrs.get("broadening", "gaussian")
    options["width"] = float(ds.attrs.get("broadening_width", 0.02))
    return {"nk": nk, **options}


def relation_checks(ds, model, checks=None, *, mu_points: int = 3, density=None, execution=None, log=None) -> list:
    """Evaluate the relation checks on a dataset of `compute` (some recompute on the same grid).

    checks: names from qgtransport.config.RELATION_CHECKS (default: every one the dataset allows).
    density: the values of `entropy_density_figure` (for Pi_k >= 0 at every k).
    execution: executor options passed to the recomputations (executor, workers, ...).
    """
    from qgtransport import relations

    options = _run_options(ds)
    nk = options.pop("nk")
    tau = options.pop("tau")
    execution = {k: v for k, v in (execution or {}).items() if k not in ("checkpoint", "progress")}
    names = set(ds.data_vars)
    auto = checks is None
    wanted = list(checks) if checks is not None else [
        "onsager", "positivity", "maxwell", "mott", "sommerfeld", "equilibrium_current", "optical_ratio"]
    mu_all = ds["mu"].values
    T_all = ds["T"].values
    mu_check = pick_mu(mu_all, mu_points)
    T_low = float(T_all.min())
    T_unit = ds["T"].attrs.get("units", "")
    mu_unit = ds["mu"].attrs.get("units", "")
    mu_text = ", ".join(f"{m:.3g}" for m in mu_check) + f" {mu_unit}"
    rows = []

    def say(text):
        if log is not None:
            log(text)

    def skipped(name, source, why):
        if not auto:
            rows.append(Check(name, source, "-", "-", "-", None, None, "skipped", why))

    charge_pairs = [(c, relations.PAIRS[c]) for c in ("anomalous_hall", "drude")
                    if c in names and relations.PAIRS[c] in names and (c != "drude" or tau is not None)]
    if model.dim == 1:
        charge_pairs = [p for p in charge_pairs if p[0] != "anomalous_hall"]
    expansions: dict = {}  # Mott (1) and Sommerfeld (3) sides, from one computation
    for check in wanted:
        if check == "onsager":
            if {"entropy_hall", "anomalous_nernst"} <= names and model.dim >= 2:
                lhs, rhs = ds["entropy_hall"].values, ds["anomalous_nernst"].values
                res = _residual(lhs, rhs)
                rows.append(Check("Onsager: entropy Hall = anomalous Nernst, σˢ_ab = α_ab",
                                  "Eq. 29; ERRATA E7", "every (μ, T, a, b) of the scan", _span(lhs), _span(rhs),
                                  res, 1e-8, _verdict(res, 1e-8)))
            else:
                skipped("Onsager", "Eq. 29", "needs entropy_hall and anomalous_nernst in a 2D or 3D model")
        elif check == "positivity":
            if "entropy_production" in names:
                smallest = relations.entropy_production_positive(ds).lhs  # min(smallest eigenvalue, 0)
                values = np.asarray(ds["entropy_production"].values)
                scale = float(np.abs(values).max()) or 1e-300
                res = -float(smallest.min()) / scale
                rows.append(Check("Π_ab positive semi-definite (smallest eigenvalue ≥ 0)", "Eq. 9; ERRATA E1",
                                  "every (μ, T) of the scan", f"min eigenvalue {float(smallest.min()):.3e}",
                                  "0", res, 1e-12, _verdict(res, 1e-12),
                                  f"{int(np.sum(smallest < -1e-12 * scale))} points below -1e-12 max|Π|"))
            else:
                skipped("Π ≥ 0", "Eq. 9", "needs entropy_production")
            if density is not None:
                total = np.asarray(density["total"])
                res = max(0.0, -float(total.min())) / (float(np.abs(total).max()) or 1e-300)
                rows.append(Check("Π_k ≥ 0 at every k (density map)", "ERRATA E1",
                                  density.get("where", "the density map"), f"min {float(total.min()):.3e}",
                                  "0", res, 1e-12, _verdict(res, 1e-12)))
        elif check == "equilibrium_current":
            if "equilibrium_entropy_current" in names:
                values = np.asarray(ds["equilibrium_entropy_current"].values)
                factor = U.si_factor("entropy_current", model) if options["units"] == "SI" else 1.0
                k_grid = np.stack(np.meshgrid(*([np.linspace(0, 1, 9, endpoint=False)] * model.dim),
                                              indexing="ij"), -1).reshape(-1, model.dim)
                energies = np.linalg.eigvalsh(model.hamiltonian(model.to_cartesian(k_grid)))
                width = float(np.ptp(energies)) or 1.0
                length = float(np.linalg.norm(model.lattice, axis=1).max())
                scale = factor * model.spin_degeneracy * model.norb * width * length * np.log(2) / model.cell_volume
                res = float(np.abs(values).max()) / scale
                # zero identically, but on a grid only to within its discretisation error (metals at low T)
                error_name = "equilibrium_entropy_current_error"
                grid = float(np.abs(np.asarray(ds[error_name].values)).max()) / scale if error_name in ds else 0.0
                tolerance = max(1e-10, grid)
                rows.append(Check("equilibrium entropy current Σ_n ∫ v_n s_n = 0", "Eqs. 24-25; ERRATA E6",
                                  "every (μ, T) of the scan", f"max |j| {float(np.abs(values).max()):.2e} "
                                  f"{ds['equilibrium_entropy_current'].attrs.get('units', '')}", "0", res, tolerance,
                                  _verdict(res, tolerance),
                                  "residual relative to g_s n W a ln2 / V_cell; tolerance: 1e-10 or the grid-error "
                                  "estimate, whichever is larger"))
            else:
                skipped("equilibrium entropy current", "E6", "needs equilibrium_entropy_current")
        elif check == "maxwell":
            if not charge_pairs:
                skipped("Maxwell", "ERRATA E4", "needs anomalous_hall + entropy_hall or drude + entropy_current_drude")
                continue
            T_check = np.unique([T_low, float(T_all.max())])
            say(f"  Maxwell relation at {len(mu_check)} x {len(T_check)} points")
            sides = maxwell_sides(model, charge_pairs, mu_check, T_check, nk, {**options, "tau": tau, **execution})
            for (charge, entropy_name), (lhs, rhs) in zip(charge_pairs, sides, strict=True):
                res = _residual(lhs, rhs)
                rows.append(Check(f"Maxwell: ∂_T j = ∂_μ jˢ ({charge} / {entropy_name})",
                                  "Eq. 30 without 1/T: ERRATA E4",
                                  f"μ = {mu_text}; T = {', '.join(f'{t:g}' for t in T_check)} {T_unit}",
                                  _span(lhs), _span(rhs), res, 1e-4, _verdict(res, 1e-4),
                                  "central differences, steps 1e-4 in μ and T"))
        elif check in ("mott", "sommerfeld"):
            if not charge_pairs:
                skipped(check, "Eq. 31", "needs a charge response and its entropy partner")
                continue
            order = 1 if check == "mott" else 3
            if order not in expansions:
                say(f"  Mott and Sommerfeld relations at {len(mu_check)} points")
                natural = _natural_options(model, options, tau)
                T_nat = float(U.temperature_to_natural(T_low, model)) if options["units"] == "SI" else T_low
                expansions.update(sommerfeld_sides(model, charge_pairs, mu_check, T_nat, nk, {**natural, **execution}))
            for (charge, entropy_name), (lhs, rhs) in zip(charge_pairs, expansions[order], strict=True):
                res = _residual(lhs, rhs)
                title = ("Mott: jˢ = (π²T/3) ∂_μ j" if order == 1 else
                         "Sommerfeld: jˢ = (π²T/3) ∂_μ j + (π⁴T³/45) ∂³_μ j")
                rows.append(Check(f"{title} ({charge} / {entropy_name})", "Eq. 31",
                                  f"μ = {mu_text}; T = {T_low:g} {T_unit}", _span(lhs), _span(rhs), res, 1e-2,
                                  _verdict(res, 1e-2, asymptotic=True),
                                  f"natural units; a low-T expansion: the residual falls as T^{2 if order == 1 else 4} "
                                  "against the band structure's energy scale"))
        elif check == "optical_ratio":
            if {"optical_conductivity", "optical_entropy_conductivity"} <= names and "omega" in ds.coords:
                omega = ds["omega"].values
                omega = omega[omega > 0][:: max(1, len(omega) // 12)]
                if omega.size:
                    say(f"  optical ratio (Eq. 34) at {omega.size} frequencies")
                    relation = relations.optical_ratio(model, mu=float(mu_check[0]), T=T_low, omega=omega, nk=nk,
                                                       units=options["units"], shift=options["shift"],
                                                       broadening=options["broadening"], width=options["width"],
                                                       **execution)
                    res = relation.residual
                    rows.append(Check("optical ratio σˢ/σ = Δs/Δf at e± = ±ω/2",
                                      "Eq. 34; ERRATA E9",
                                      f"μ = {float(mu_check[0]):.3g} {mu_unit}; T = {T_low:g} {T_unit}",
                                      _span(relation.lhs), _span(relation.rhs), res, 1e-2,
                                      _verdict(res, 1e-2, asymptotic=True),
                                      "holds only with particle-hole symmetric resonances (e+ + e- = 0)"))
            else:
                skipped("optical ratio", "Eq. 34", "needs optical_conductivity and optical_entropy_conductivity")
        else:
            raise ValueError(f"unknown check {check!r}")
    return rows


def maxwell_sides(model, pairs, mu, T, nk, options, h_mu: float = 1e-4, h_T: float | None = None) -> list:
    """Both sides of d_T j = d_mu j^s (Eq. 30 without its 1/T, ERRATA E4) for several (charge,
    entropy) pairs, as `qgtransport.relations.maxwell` computes them (particle current j = -J,
    central differences, h_T = 1e-4 min T by default), from one computation on the points
    (mu - h_mu, mu, mu + h_mu) x (T - h_T, T, T + h_T) instead of four.

    Returns [(lhs, rhs)] with arrays over (mu, T, a, b), one pair each.
    """
    from qgtransport.compute import compute

    mu = np.asarray(mu, dtype=float)
    T = np.asarray(T, dtype=float)
    h_T = 1e-4 * float(T.min()) if h_T is None else h_T
    n, m = len(mu), len(T)
    quantities = list(dict.fromkeys(q for pair in pairs for q in pair))
    ds = compute(model, quantities, mu=np.concatenate([mu - h_mu, mu, mu + h_mu]),
                 T=np.concatenate([T - h_T, T, T + h_T]), nk=nk, error_estimate=False, **options)
    sides = []
    for charge, entropy_name in pairs:
        J = ds[charge].values
        S = ds[entropy_name].values
        lhs = -(J[n:2 * n, 2 * m:] - J[n:2 * n, :m]) / (2 * h_T)
        rhs = (S[2 * n:, m:2 * m] - S[:n, m:2 * m]) / (2 * h_mu)
        sides.append((lhs, rhs))
    return sides


def sommerfeld_sides(model, pairs, mu, T: float, nk, options, h: float | None = None) -> dict:
    """Both sides of Eq. 31 at one temperature, as `qgtransport.relations.sommerfeld` computes them
    (natural units: k_B T in the energy unit; j = -J; step h = T/4 in mu), for several (charge,
    entropy) pairs and chemical potentials from one computation on the points mu + (-2..2) h.

    Returns {1: [(lhs, rhs)], 3: [(lhs, rhs)]}: order 1 is the Mott relation
    j^s = (pi^2 T/3) d_mu j, order 3 adds (pi^4 T^3/45) d_mu^3 j; arrays over (mu, a, b).
    """
    from qgtransport.compute import compute

    mu = np.asarray(mu, dtype=float)
    h = T / 4 if h is None else h
    offsets = np.arange(-2, 3) * h
    quantities = list(dict.fromkeys(q for pair in pairs for q in pair))
    options = {k: v for k, v in options.items() if k != "units"}
    ds = compute(model, quantities, mu=(mu[:, None] + offsets).ravel(), T=T, nk=nk, units="natural",
                 error_estimate=False, **options)
    out: dict = {1: [], 3: []}
    for charge, entropy_name in pairs:
        j = -ds[charge].values[:, 0].reshape(len(mu), 5, *ds[charge].shape[2:])
        lhs = ds[entropy_name].values[:, 0].reshape(len(mu), 5, *ds[entropy_name].shape[2:])[:, 2]
        first = (j[:, 3] - j[:, 1]) / (2 * h)
        third = (j[:, 4] - 2 * j[:, 3] + 2 * j[:, 1] - j[:, 0]) / (2 * h**3)
        mott = np.pi**2 * T / 3 * first
        out[1].append((lhs, mott))
        out[3].append((lhs, mott + np.pi**4 * T**3 / 45 * third))
    return out


def _natural_options(model, options: dict, tau) -> dict:
    """The dataset's compute options in natural units (tau converted from fs in SI)."""
    out = dict(options, units="natural")
    if tau is not None:
        out["tau"] = float(U.relaxation_time_to_natural(tau, model)) if options["units"] == "SI" else tau
    return out


def exact_checks(model, mu: float, T: float, tau: float, *, units: str = "SI", nk: int = 32, direction=None,
                 tolerance: float = 1e-3) -> list[dict]:
    """Rows of `qgtransport.verify.verify` (closed forms vs the exact steady-state solver) at one
    (mu, T, tau) given in the dataset's units (converted to natural units here)."""
    from qgtransport.exact.verify import verify

    if units == "SI":
        T = float(U.temperature_to_natural(T, model))
        tau = float(U.relaxation_time_to_natural(tau, model))
    n = None if direction is None else tuple(int(x) for x in direction)
    return verify(model, float(mu), float(T), float(tau), nk, direction=n, tolerance=tolerance)


def exact_summary(rows: list[dict], where: str) -> Check:
    verdicts = [r["verdict"] for r in rows]
    failures = verdicts.count("DISAGREES")
    counts = {v: verdicts.count(v) for v in dict.fromkeys(verdicts)}
    agree = [r for r in rows if r["expected"] == "agree"]
    worst = max((r["relative_difference"] for r in agree), default=0.0)
    return Check("closed forms vs the exact steady-state solver (qgt verify)", "Eqs. 6 + 10; ERRATA E1, E2, S1",
                 where, f"{len(rows)} comparisons", "; ".join(f"{n} {v}" for v, n in counts.items()), worst,
                 max((r["tolerance"] for r in agree), default=None), "FAILS" if failures else "holds",
                 "residual: the largest relative difference among the rows expected to agree")


# ---------------------------------------------------------------- grid convergence


def grid_convergence(ds) -> list[dict]:
    """Per response: max |value|, max grid error |I(nk) - I(nk/2)| and their ratio."""
    rows = []
    for name in ds.data_vars:
        if name.endswith("_error"):
            continue
        values = np.abs(np.asarray(ds[name].values))
        error_name = name + "_error"
        top = float(values.max()) if values.size else 0.0
        if error_name not in ds:
            rows.append({"quantity": name, "max_value": top, "max_error": None, "relative": None,
                         "units": ds[name].attrs.get("units", ""), "status": "no estimate (grid below 4)"})
            continue
        error = float(np.abs(np.asarray(ds[error_name].values)).max())
        relative = error / top if top > 0 else None
        if name == "equilibrium_entropy_current":
            status = "vanishes identically (E6): the error is the value itself"
        elif relative is None:
            status = "zero"
        elif relative < 1e-3:
            status = "converged"
        elif relative < 3e-2:
            status = "fair: a finer grid would change it by ~ the error"
        else:
            status = "NOT converged: raise nk (or T)"
        rows.append({"quantity": name, "max_value": top, "max_error": error, "relative": relative,
                     "units": ds[name].attrs.get("units", ""), "status": status})
    return rows


# ---------------------------------------------------------------- conventions and errata

ERRATA = {
    "E1": ("Eq. 18, interband entropy-production kernel",
           "The printed kernel 1/(f_n(1-f_n)) is wrong for n ≠ m; the exact second order of Eq. 9 uses the "
           "divided difference K_nm = -e_nm/(T f_nm) > 0. Default kernel=\"divided_difference\"; \"printed\" keeps "
           "Eq. 18 (it grows like exp(|e - μ|/T)).",
           lambda names, attrs: any(n.startswith("entropy_production") for n in names)),
    "E2": ("Eq. 14 vs Eq. 13: which ρ⁽¹⁾",
           "Eq. 13 at ω = 0 with finite η (rho1=\"finite_eta\", default) reproduces the exact steady state; "
           "Eq. 14 (rho1=\"dc_limit\") differs by O(η²/e_nm²).",
           lambda names, attrs: any(n.startswith("entropy_production") for n in names)),
    "E3": ("Eq. 21: a missing factor τ and a misleading conclusion",
           "The quantum-metric part of the Drude term is ≤ 0 at every k and the v^ab part is not negligible: "
           "the parts are reported separately (entropy_production_band_curvature, _drude_quantum_metric, "
           "_quantum_metric); never Eq. 21 alone as the entropy production.",
           lambda names, attrs: any(n in names for n in ("entropy_production_band_curvature",
                                                         "entropy_production_drude_quantum_metric",
                                                         "entropy_production_quantum_metric"))),
    "E4": ("Eq. 30: the Maxwell relation has a spurious 1/T",
           "s_n = -∂_T g_n and f_n = -∂_μ g_n give ∂_T j = ∂_μ jˢ (checked in the table).",
           lambda names, attrs: "entropy_hall" in names or "entropy_current_drude" in names),
    "E5": ("Small slips", "s_n = [(e_n - μ) f_n - g_n]/T; Ω_n = Σ_{m≠n} Ω_nm; Eq. 19 sums over n.",
           lambda names, attrs: True),
    "E6": ("Eqs. 24-25: the equilibrium entropy current vanishes identically",
           "Σ_n ∫ v_n s_n is the integral of a total derivative: zero for every band structure; computed as a "
           "check, not a response.",
           lambda names, attrs: "equilibrium_entropy_current" in names),
    "E7": ("Eq. 28 is the Nernst coefficient α, not a heat conductivity",
           "σˢ_ab = Σ_n ∫ s_n Ω_n equals the anomalous Nernst coefficient of Xiao, Yao, Fang, Niu "
           "(PRL 97, 026603, 2006) exactly; A/(m K) in 3D, A/K in 2D.",
           lambda names, attrs: "entropy_hall" in names or "anomalous_nernst" in names),
    "E8": ("Eq. 32: overall sign",
           "Eq. 32 is the charge conductivity (J = -Tr[v ρ]), Eqs. 27-28 use Tr[v ρ]; every output is "
           "labelled charge or particle/entropy (the variable's 'current' attribute).",
           lambda names, attrs: any(n in names for n in ("optical_conductivity", "optical_entropy_conductivity",
                                                         "conductivity_ac"))),
    "E9": ("Eq. 34 holds only with particle-hole symmetric resonances",
           "The true ratio is a weighted average of Δs/Δf over the resonance surface; the table shows it "
           "against Eq. 34.",
           lambda names, attrs: "optical_entropy_conductivity" in names),
    "E10": ("Eq. 15 and η⁽ⁱ⁾",
            "One η at every order (the equation of motion as written); the τ⁰ term is twice the printed one.",
            lambda names, attrs: any(n in names for n in ("second_order_current", "intrinsic_second_order",
                                                          "nonlinear_drude", "berry_curvature_dipole_current"))),
    "S1": ("Nonlinear entropy currents",
           "Beyond first order s(ρ) is not the f → s replacement: Tr[v s(ρ)] "
           "(second_order_entropy_current) and the replaced current are both computed and named.",
           lambda names, attrs: any(n.startswith("second_order_entropy") for n in names)),
}


def applicable_errata(ds) -> list[tuple]:
    """(id, title, text) of the errata that bear on the dataset's quantities."""
    names = set(ds.data_vars)
    return [(key, title, text) for key, (title, text, applies) in ERRATA.items() if applies(names, ds.attrs)]


CONVENTION_KEYS = ("units_natural", "charge_sign", "berry_curvature_sign", "fourier_convention", "measure",
                   "equation_of_motion", "errata")


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class ReportOptions:
    """What the report shows and how it is computed (defaults: everything the dataset allows).

    path: a KPath (default `high_symmetry_path`); band_points, bz_nk, band: band structure and maps;
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
    band: int = 0
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
    """(mu, T) of the density map: the configured one, else the mu of largest E^.Pi.E^ at the lowest T."""
    T_values = ds["T"].values
    T = float(T_values.min()) if options.density_T is None else float(options.density_T)
    if options.density_mu is not None:
        return float(options.density_mu), T
    if "entropy_production" not in ds:
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

    direction_vector = field_unit_vector(model, options.direction)
    mu_d, T_d = density_point(ds, options, direction_vector)

    say("report: band structure")
    path = options.path or high_symmetry_path(model)
    add("band_structure", "Band structure and band geometry",
        "Bands along " + " – ".join(path.labels) + ", coloured by the Berry curvature Ω^xy_n (left) and "
        "the quantum-metric trace (right) of each band; colour scales are clipped at the 98th percentile "
        "(both diverge where bands touch). Dashed line: μ of the density map.",
        band_structure_figure(model, path, options.band_points, mu=[mu_d]))
    if model.dim >= 2:
        say("report: Brillouin-zone maps")
        add("bz_geometry", "Berry curvature and quantum metric over the Brillouin zone",
            f"Band {options.band}: Ω^xy (Chern number in the title) and tr g (its integral bounds |C| from "
            "above)" + (", plane k₃ = 0" if model.dim == 3 else "") + ".",
            plot.plot_bz_maps(model, band=options.band, nk=options.bz_nk))
    density = None
    if tau is not None:
        say(f"report: entropy-production density at mu = {mu_d:g}, T = {T_d:g}")
        fig, values = entropy_density_figure(model, mu_d, T_d, tau, units=units,
                                             rho1=ds.attrs.get("rho1", "finite_eta"), direction=options.direction,
                                             nk=options.bz_nk)
        density = {"total": values["total"], "where": f"μ = {mu_d:g}, T = {T_d:g}, {options.bz_nk}-point map"}
        add("entropy_density", "Where the entropy is produced",
            "Per-k contribution π(k) to Ê·Π·Ê (Eq. 18 with ERRATA E1-E2, divided-difference "
            "kernel): its zone average is the entropy production coefficient. The Drude part lives on the Fermi "
            "surface (width ~ k_B T), the interband part where the quantum metric is large and bands are close.",
            fig)
    else:
        notes.append("No relaxation time: no entropy-production density map (give [physics] tau).")

    say("report: responses against mu")
    shown = set()
    if {"entropy_production", "entropy_production_drude", "entropy_production_interband"} <= set(ds.data_vars):
        add("entropy_production", "Entropy production against μ",
            "Π_xx (Π = Π_ab E_a E_b): total, Drude and interband parts; one colour per temperature.",
            plot.plot_entropy_production(ds))
        shown |= {"entropy_production", "entropy_production_drude", "entropy_production_interband"}
    if {"entropy_hall", "anomalous_nernst"} <= set(ds.data_vars) and model.dim >= 2:
        add("entropy_hall_nernst", "Entropy Hall conductivity and anomalous Nernst coefficient",
            "σˢ_xy (Eq. 28, lines) and α_xy (Xiao et al. 2006, markers): equal by Onsager (ERRATA E7).",
            plot.plot_entropy_hall_and_nernst(ds))
        shown |= {"entropy_hall", "anomalous_nernst"}
    for variable, component, title in (("anomalous_hall", ("x", "y"), "Anomalous Hall conductivity"),
                                       ("drude", ("x", "x"), "Drude conductivity")):
        if variable in ds.data_vars and (variable != "anomalous_hall" or model.dim >= 2):
            add(variable, title, f"{variable}_{''.join(component)} of the charge current J = -e Tr[v ρ].",
                plot.plot_vs_mu(ds, variable, component))
            shown.add(variable)
    add("more_responses", "Other responses against μ",
        "Every other response of the run (component xy for Hall-type responses, xx otherwise).",
        more_responses_figure(ds, shown))
    add("responses_vs_T", "Responses against temperature",
        "The main responses against T at three chemical potentials across the scan.", responses_vs_T_figure(ds))
    if ds.sizes.get("T", 1) < 2:
        notes.append("One temperature in the scan: no plot against T (give several T in [scan]).")
    add("frequency", "Frequency-dependent responses", "Real (solid) and imaginary (dashed) parts.",
        frequency_figure(ds))

    say("report: relation checks")
    checks = relation_checks(ds, model, options.checks, mu_points=options.mu_points, density=density,
                             execution=options.execution, log=say)
    exact_rows: list = []
    if options.exact:
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
    html_path.write_text(document, encoding="utf-8")
    written = {}
    for item in figures:
        target = figures_dir / f"{item.name}.png"
        target.write_bytes(item.png)
        written[item.name] = target
    return Report(html_path, written, checks, exact_rows, convergence)


def _field_text(ds, model, options, direction_vector, tau, mu_d, T_d) -> str | None:
    """Pi at the configured field and E tau against the perturbative limit (ERRATA, exact facts)."""
    if options.strength is None or tau is None or "entropy_production" not in ds:
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
    unit = ds["entropy_production"].attrs.get("units", "").split(" per ")[0]
    verdict = ("within the perturbative range" if drift * a < 0.2 else
               "BEYOND the perturbative range: the E² result is off by 10% or more (use the exact solver)")
    return (f"At |E| = {E:g} {field_unit} along Ê: Π = {rate:.4g} {unit} at μ = {mu_d:g}, T = {T_d:g}. "
            f"Drift per relaxation time Eτ = {drift:.3g} /{model.length_unit} = {drift * a:.3g}/a "
            f"(a = {a:g} {model.length_unit}): {verdict} (perturbation theory fails at Eτ a ≈ 0.2-0.4 for "
            "Drude-dominated, 0.6-1.8 for interband-dominated production; ERRATA, exact facts).")


# ---------------------------------------------------------------- HTML

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


def _table(header, rows, numeric=()) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if isinstance(cell, tuple):  # (text, css class)
                cells.append(f'<td class="{cell[1]}">{_esc(cell[0])}</td>')
            elif i in numeric:
                cells.append(f'<td class="num">{_esc(cell)}</td>')
            else:
                cells.append(f"<td>{_esc(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary_rows(ds, mu_values, T):
    rows = []
    for name in ds.data_vars:
        if name.endswith("_error") or "omega" in ds[name].dims:
            continue
        component = default_component(ds, name)
        if not _plottable(ds, name, component):
            continue
        da = plot.select_component(ds[name], component)
        row = [name, "".join(component)]
        for m in mu_values:
            value = float(da.sel(mu=m, T=T).values)
            error = (float(plot.select_component(ds[name + "_error"], component).sel(mu=m, T=T).values)
                     if name + "_error" in ds else None)
            row.append(f"{value: .4e}" + (f" ± {error:.1e}" if error is not None else ""))
        row.append(ds[name].attrs.get("units", ""))
        rows.append(row)
    return rows


def _html(ds, model, options, figures, checks, exact_rows, convergence, notes, field_text, config_text,
          command) -> str:
    from qgtransport import __version__

    title = options.title or f"qgtransport report: {plot.model_title(ds)}"
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
    facts = [
        ("model", f"{attrs.get('model', model.name)} {attrs.get('model_parameters', '')}"),
        ("dimension, bands, spin degeneracy", f"{model.dim}D, {model.norb} bands, g_s = {model.spin_degeneracy}"),
        ("units", f"{attrs.get('units', '')} (μ in {mu_unit}, T in {T_unit}, τ in {attrs.get('tau_units', '')})"),
        ("k-grid", f"{attrs.get('grid', '')}, shift {attrs.get('grid_shift', '')}"),
        ("μ scan", f"{mu_values[0]:g} .. {mu_values[-1]:g} {mu_unit}, {len(mu_values)} points"),
        ("temperatures", ", ".join(f"{t:g}" for t in ds["T"].values) + f" {T_unit}"),
        ("relaxation time τ", f"{attrs.get('tau', 'none')} {attrs.get('tau_units', '')}"),
        ("options", f"kernel = {attrs.get('kernel', '')}, rho1 = {attrs.get('rho1', '')}"),
        ("qgtransport", str(attrs.get("qgtransport_version", __version__))),
    ]
    if command:
        facts.append(("command", command))
    overview = _table(["", ""], facts)
    overview += "".join(f'<p class="note">{_esc(n)}</p>' for n in notes)
    if field_text:
        overview += f'<p class="note">{_esc(field_text)}</p>'
    T0 = float(ds["T"].values.min())
    mu_show = pick_mu(mu_values, 3)
    summary = _summary_rows(ds, mu_show, T0)
    if summary:
        overview += (f"<p>Responses at T = {T0:g} {_esc(T_unit)} (± the grid-error estimate):</p>"
                     + _table(["quantity", "comp", *(f"μ = {m:.3g} {mu_unit}" for m in mu_show), "units"],
                              summary, numeric=range(2, 2 + len(mu_show))))
    failures = [c for c in checks if c.verdict == "FAILS"]
    if checks:
        status = (f'<p class="bad">{len(failures)} of {len(checks)} checks FAIL: see the relation table.</p>'
                  if failures else f'<p class="ok">All {len([c for c in checks if c.verdict != "skipped"])} '
                  "relation checks hold (or deviate only where expected).</p>")
        overview = status + overview
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
                "fields (qgtransport.verify; the same table as <code>qgt verify</code>).</p>"
                + _table(["quantity", "a", "closed form", "exact", "±", "rel. diff", "expected", "verdict"], rows,
                         numeric=(2, 3, 4, 5)))
    rows = [[r["quantity"], _num(r["max_value"]), _num(r["max_error"], 1),
             "-" if r["relative"] is None else f"{r['relative']:.1e}", r["units"],
             (r["status"], _verdict_class(r["status"].split(":")[0]))] for r in convergence]
    section("convergence", "Grid convergence",
            "<p>Estimate |I(nk) - I(nk/2)| from a second grid of nk/2 points (the <code>&lt;name&gt;_error</code> "
            "variables), largest over the scan. Gapped, smooth integrands converge exponentially; metals at low T "
            "algebraically and need T ≫ (band velocity) × (grid spacing).</p>"
            + _table(["quantity", "max |value|", "max error", "error / value", "units", "status"], rows,
                     numeric=(1, 2, 3)))
    conventions = [(key, attrs[key]) for key in CONVENTION_KEYS if key in attrs]
    conventions += [("kernel", attrs.get("kernel", "")), ("rho1", attrs.get("rho1", "")),
                    ("spin_degeneracy", attrs.get("spin_degeneracy", model.spin_degeneracy))]
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


__all__ = [
    "KPath", "high_symmetry_path", "custom_path", "lattice_kind", "sample_path", "band_data",
    "band_structure_figure", "entropy_production_density", "entropy_density_figure", "field_unit_vector",
    "plot_vs_T", "responses_vs_T_figure", "more_responses_figure", "frequency_figure", "relation_checks",
    "exact_checks", "grid_convergence", "applicable_errata", "Check", "ReportOptions", "Report",
    "write_report", "ERRATA",
]
