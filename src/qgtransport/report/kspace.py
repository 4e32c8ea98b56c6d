"""Figures over k-space: the band structure along a high-symmetry path coloured by the band
geometry, Brillouin-zone maps of the Berry curvature and the quantum metric of one band, and the map
of the entropy-production density pi(k) (computed by `qgtransport.entropy_density`).

Every function returns a `matplotlib.figure.Figure` (no pyplot), like `qgtransport.report.figures`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.colors import LogNorm, Normalize, TwoSlopeNorm
from matplotlib.figure import Figure

from qgtransport import units as U
from qgtransport.bands.geometry import band_geometry, berry_curvature, quantum_metric
from qgtransport.entropy_density import entropy_production_density, field_unit_vector
from qgtransport.report.figures import new_axes, pretty_units
from qgtransport.results import model_label

# ---------------------------------------------------------------- high-symmetry paths


@dataclass(frozen=True)
class KPath:
    """A path through the Brillouin zone: vertex labels and vertices in reduced coordinates
    (fractions of the model's reciprocal vectors b_i), visited in order; `breaks` holds the indices i
    where the path jumps from vertex i to vertex i + 1 without drawing (seekpath's "U|K")."""

    labels: tuple
    points: np.ndarray
    lattice: str = "custom"
    breaks: tuple = ()


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
    """The standard path of the model's lattice.

    1D and 2D: chain -X - Gamma - X; square Gamma - X - M - Gamma; rectangular Gamma - X - S - Y -
    Gamma; hexagonal Gamma - K - M - Gamma (K the zone corner: (2/3, 1/3) when b1.b2 < 0, else
    (1/3, 1/3)); any other 2D lattice Gamma - b1/2 - (b1 + b2)/2 - Gamma.
    3D: the path of Hinuma et al., Comput. Mater. Sci. 128, 140 (2017) for the Bravais lattice, from
    seekpath (e.g. bcc Gamma-H-N-Gamma-P-H|P-N, fcc Gamma-X-U|K-Gamma-L-W-X), given here in the model's
    own reciprocal basis (`seekpath_path`); the simple cubic lattice keeps Gamma-X-M-Gamma-R-X-Gamma-Z
    (Z = b3/2: the kz axis, where the Weyl nodes of the built-in Weyl model lie). The lattice alone
    decides (one atom per cell): a crystal of lower symmetry may want more segments; give them in the
    configuration ([report] path_labels, path_points).
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
    try:
        return seekpath_path(model)
    except (ValueError, RuntimeError) as exc:  # seekpath found no symmetry it can standardise
        import warnings

        warnings.warn(f"no standard path for the lattice of {model.name!r} ({exc}); using one along the reciprocal "
                      "axes", stacklevel=2)
    return KPath((_G, "b1/2", "(b1+b2)/2", _G, "b3/2", "(b1+b2+b3)/2", _G),
                 np.array([[0, 0, 0], [0.5, 0, 0], [0.5, 0.5, 0], [0, 0, 0], [0, 0, 0.5], [0.5, 0.5, 0.5],
                           [0, 0, 0]], float), "other")


GREEK = {"GAMMA": "Γ", "SIGMA": "Σ", "DELTA": "Δ", "LAMBDA": "Λ"}
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def point_label(name: str) -> str:
    """seekpath's 'GAMMA' -> 'Γ', 'SIGMA_0' -> 'Σ₀', 'X_1' -> 'X₁'."""
    head, _, index = name.partition("_")
    return GREEK.get(head, head) + index.translate(SUBSCRIPTS)


def seekpath_path(model, symprec: float = 1e-3) -> KPath:
    """The standard path of a 3D model's Bravais lattice (Hinuma et al. 2017, via seekpath), its
    vertices converted to reduced coordinates of the model's reciprocal vectors.

    seekpath may rotate and re-choose the cell: its vertex k_s = c_s . B_s (B_s its reciprocal
    primitive vectors) is rotated back to the model's frame, k = k_s . R (R the rotation that makes
    its primitive vectors integer combinations of the model's), and c = k . A^T / 2 pi.
    """
    import warnings

    import seekpath

    A = np.asarray(model.lattice, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # spglib's notice about its error handling
        result = seekpath.get_path((A, [[0.0, 0.0, 0.0]], [1]), with_time_reversal=True, symprec=symprec)
    primitive = np.asarray(result["primitive_lattice"], dtype=float)
    rotation = np.asarray(result["rotation_matrix"], dtype=float)
    frame = None
    for candidate in (rotation, rotation.T, np.eye(3)):
        combination = primitive @ candidate @ np.linalg.inv(A)
        if np.allclose(combination, np.round(combination), atol=1e-4):
            frame = candidate
            break
    if frame is None:
        raise ValueError("seekpath's primitive cell is not a sublattice of the model's")
    B = np.asarray(result["reciprocal_primitive_lattice"], dtype=float)
    labels, points, breaks = [], [], []
    for start, stop in result["path"]:
        if labels and labels[-1] != start:
            breaks.append(len(labels) - 1)
        if not labels or labels[-1] != start:
            labels.append(start)
            points.append(result["point_coords"][start])
        labels.append(stop)
        points.append(result["point_coords"][stop])
    k = np.asarray(points, dtype=float) @ B @ frame
    reduced = k @ A.T / (2 * np.pi)
    reduced[np.abs(reduced) < 1e-12] = 0.0
    return KPath(tuple(point_label(x) for x in labels), reduced, result["bravais_lattice_extended"], tuple(breaks))


def custom_path(labels, points) -> KPath:
    """A KPath from labels and reduced vertices (e.g. from a configuration file)."""
    points = np.atleast_2d(np.asarray(points, dtype=float))
    if len(labels) != len(points) or len(points) < 2:
        raise ValueError(f"a path needs as many labels as points (>= 2), got {len(labels)} and {len(points)}")
    return KPath(tuple(labels), points)


def sample_path(model, path: KPath, npoints: int = 240):
    """k-points along a path, spaced evenly in Cartesian length (each vertex included; at a break
    the distance does not advance and both vertices are sampled).

    Returns (k_reduced (N, dim), distance (N,) in 1/length_unit, vertex distances (n_vertices,)).
    """
    points = np.asarray(path.points, dtype=float)
    cart = points @ model.reciprocal
    lengths = np.linalg.norm(np.diff(cart, axis=0), axis=1)
    lengths[list(path.breaks)] = 0.0
    total = lengths.sum()
    if total == 0:
        raise ValueError("the band-structure path has zero length")
    counts = np.maximum(1, np.round(lengths / total * (npoints - 1)).astype(int))
    segments, distances = [], []
    offset = 0.0
    for start, stop, count, length in zip(points[:-1], points[1:], counts, lengths, strict=True):
        if length == 0:  # a break (or a repeated vertex): only its first vertex here
            segments.append(start[None])
            distances.append(np.array([offset]))
            continue
        t = np.arange(count)[:, None] / count
        segments.append(start + t * (stop - start))
        distances.append(offset + t[:, 0] * length)
        offset += length
    segments.append(points[-1:])
    distances.append(np.array([offset]))
    ticks = np.concatenate([[0.0], np.cumsum(lengths)])
    return np.concatenate(segments), np.concatenate(distances), ticks


def tick_labels(path: KPath, ticks) -> tuple[list, list]:
    """Tick positions and labels with the two labels of a break joined ("U|K")."""
    positions, labels = [], []
    for tick, label in zip(ticks, path.labels, strict=True):
        if positions and abs(tick - positions[-1]) < 1e-12:
            if labels[-1] != label:
                labels[-1] = f"{labels[-1]}|{label}"
            continue
        positions.append(float(tick))
        labels.append(label)
    return positions, labels


def route(path: KPath) -> str:
    """'Γ – H – N – Γ – P – H | P – N'."""
    text = path.labels[0]
    for i, label in enumerate(path.labels[1:]):
        text += (" | " if i in path.breaks else " – ") + label
    return text


def nearest_band(model, mu: float, nk: int = 24, kz: float = 0.0) -> int:
    """The band nearest mu on the plane of the zone maps (k3 = kz in 3D; the whole line in 1D): the
    band n with the smallest min_k |e_n(k) - mu|; among bands that cross mu, the one whose median
    energy is nearest mu."""
    if model.dim == 1:
        k = (np.arange(4 * nk)[:, None] + 0.5) / (4 * nk) - 0.5
    else:
        k, _ = bz_grid(model, int(nk), kz)
    energies = np.linalg.eigvalsh(model.hamiltonian(model.to_cartesian(k)))
    distance = np.abs(energies - mu).min(axis=0)
    crossing = (energies.min(axis=0) <= mu) & (energies.max(axis=0) >= mu)
    if crossing.any():
        candidates = np.flatnonzero(crossing)
        return int(candidates[np.argmin(np.abs(np.median(energies[:, candidates], axis=0) - mu))])
    return int(np.argmin(distance))


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
    drawn = np.diff(distance) > 0  # no line across a break of the path
    for n in range(energies.shape[1]):
        xy = np.stack([distance, energies[:, n]], axis=-1)
        segments.append(np.stack([xy[:-1], xy[1:]], axis=1)[drawn])
        colours.append((0.5 * (values[:-1, n] + values[1:, n]))[drawn])
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
    unit = pretty_units(model.length_unit)
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
        positions, labels = tick_labels(path, ticks)
        for t in positions:
            ax.axvline(t, color="0.75", lw=0.6, zorder=0)
        for m in np.atleast_1d(mu) if mu is not None else []:
            ax.axhline(float(m), color="0.35", lw=0.8, ls="--", zorder=0)
        ax.set_xticks(positions, labels)
        ax.set_facecolor("0.97")
    axes[0].set_ylabel(f"energy ({model.energy_unit})")
    fig.suptitle(f"Bands of {model_label(model.name, model.parameters)} along {route(path)}", fontsize=11)
    return fig


# ---------------------------------------------------------------- Brillouin-zone maps

BZ_QUANTITIES = {
    "berry_curvature": "Berry curvature",
    "quantum_metric": "quantum metric",
}


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
    model : TightBinding
        A 2D or 3D model.
    quantity : {"berry_curvature", "quantum_metric"}
        Omega^xy_n or g^xx_n + g^yy_n.
    band : int
        Band index, 0 = lowest (`nearest_band` finds the band at a chemical potential).
    nk : int
        Grid points per direction (cell-centred; odd nk puts a point at Gamma).
    kz : float
        For 3D models, the third reduced coordinate of the plane (fraction of b3).
    cartesian : bool
        False: axes k1, k2 in reduced coordinates (fractions of b1, b2); True: Cartesian kx, ky
        (1/length_unit) of k = k1 b1 + k2 b2 + kz b3 (a parallelogram).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        The map; its title gives the integral over the plane: the Chern number
        C_n = (1/2 pi) int Omega^xy_n d^2k, or (1/2 pi) int tr g_n d^2k, which is >= |C_n| (the
        quantum-geometric bound). Colours are clipped at the 99th percentile of |value|.

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
    # colours clipped at the 99th percentile: both quantities diverge where bands touch
    magnitude = np.abs(values)
    clipped = float(np.percentile(magnitude, 99)) if magnitude.size else 0.0
    limit = (clipped if clipped > 0 else float(magnitude.max())) or 1.0
    extend = "neither" if limit >= float(magnitude.max()) else ("both" if quantity == "berry_curvature" else "max")
    if quantity == "berry_curvature":
        norm, cmap = TwoSlopeNorm(0.0, -limit, limit), "RdBu_r"
        label = rf"$\Omega^{{xy}}_{{{band}}}$ ({pretty_units(model.length_unit)}$^2$)"
        summary = rf"$C_{{{band}}} = \frac{{1}}{{2\pi}}\int\Omega^{{xy}}_{{{band}}} = {integral:.3f}$"
    else:
        norm, cmap = Normalize(0.0, limit), "viridis"
        label = rf"$g^{{xx}}_{{{band}}} + g^{{yy}}_{{{band}}}$ ({pretty_units(model.length_unit)}$^2$)"
        summary = rf"$\frac{{1}}{{2\pi}}\int {{\rm tr}}\, g_{{{band}}} = {integral:.3f}$ ($\geq |C_{{{band}}}|$)"
    mesh = ax.pcolormesh(X, Y, values, cmap=cmap, norm=norm, shading="flat", rasterized=True)
    fig.colorbar(mesh, ax=ax, label=label, shrink=0.9, extend=extend)
    ax.set_aspect("equal")
    plane = f", plane $k_3$ = {kz:g}" if model.dim == 3 else ""
    ax.set_title(f"{BZ_QUANTITIES[quantity]}, band {band}{plane}\n{summary}", fontsize=10)
    return fig


def plot_bz_maps(model, band: int | None = 0, nk: int = 101, kz: float = 0.0, *, cartesian: bool = False,
                 mu: float | None = None) -> Figure:
    """Berry curvature and quantum-metric trace of one band, side by side (see `bz_map`); band=None:
    the band nearest mu (`nearest_band`)."""
    if band is None:
        if mu is None:
            raise ValueError("band=None picks the band nearest mu: give mu")
        band = nearest_band(model, mu, kz=kz)
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
    fig.suptitle(f"Band geometry of {model_label(model.name, model.parameters)}", fontsize=11)
    return fig


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
        ax.set_ylabel(rf"$\pi(k)$ ({pretty_units(_pi_units(model, units))})")
        ax.legend(frameon=False, fontsize=8)
        ax.grid(alpha=0.25)
        values["mean_total"] = float(values["total"].mean())
        fig.suptitle(f"Entropy-production density, E ∥ {e_text}, μ = {mu:g} {model.energy_unit}, "
                     f"T = {T:g} {T_unit}", fontsize=11)
        return fig, values
    k, edges = bz_grid(model, nk, kz)
    values = entropy_production_density(model, k, mu, T, tau, units=units, rho1=rho1, direction=direction)
    values = {key: v.reshape(nk, nk) for key, v in values.items()}
    values["mean_total"] = float(values["total"].mean())
    fig = Figure(figsize=(14.0, 4.4), layout="constrained")
    axes = fig.subplots(1, 3)
    E1, E2 = np.meshgrid(edges, edges, indexing="ij")
    per_field = units == "SI"  # the SI unit of Pi ends in /(V/m)^2; the natural one is per unit field
    units_text = pretty_units(_pi_units(model, units).removesuffix("/(V/m)^2"))
    titles = {"total": "total (Drude + interband)", "drude": "Drude (intraband, Fermi surface)",
              "interband": "interband (quantum metric)"}
    for ax, key in zip(axes, ("total", "drude", "interband"), strict=True):
        data = values[key]
        top = float(np.max(data)) or 1.0
        low = min(float(np.min(data)), 0.0)
        mesh = ax.pcolormesh(E1, E2, data, cmap="magma", norm=Normalize(low, top), shading="flat", rasterized=True)
        fig.colorbar(mesh, ax=ax, shrink=0.9, label=rf"$\pi_{{EE}}(\mathbf{{k}})$ ({units_text}"
                     + ("/(V/m)$^{2}$)" if per_field else ")"))
        ax.set_aspect("equal")
        ax.set_xlabel(r"$k_1$ (units of $\mathbf{b}_1$)")
        ax.set_ylabel(r"$k_2$ (units of $\mathbf{b}_2$)")
        ax.set_title(f"{titles[key]}\nzone average {float(data.mean()):.3e}", fontsize=9)
    plane = f", plane k₃ = {kz:g}" if model.dim == 3 else ""
    fig.suptitle(f"Where the entropy is produced: per-k contribution to Π_EE, E ∥ {e_text}, "
                 f"μ = {mu:g} {model.energy_unit}, T = {T:g} {T_unit}{plane}", fontsize=11)
    return fig, values


def _pi_units(model, units: str) -> str:
    return U.units_of("entropy_production", model, units)


__all__ = [
    "KPath", "high_symmetry_path", "seekpath_path", "custom_path", "lattice_kind", "sample_path", "band_data",
    "nearest_band", "tick_labels",
    "band_structure_figure", "bz_grid", "bz_values", "bz_map", "plot_bz_maps", "entropy_density_figure",
]
