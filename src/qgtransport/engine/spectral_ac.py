"""Binned scan of the AC linear and optical responses: the k-work once, every (mu, T, omega) point afterwards.

The AC and optical responses of `qgtransport.responses.optical` are pair sums

    R(mu, T, omega) = c sum_k sum_nm W_mn K_nm(omega) P^ab_nm,   P^ab_nm = v^a_nm v^b_mn,

with K_nm(omega) independent of (mu, T) and W_mn a divided difference of the occupation,
F_mn = (f_m - f_n)/(e_m - e_n) or F^s_mn (s for f). With g_nm = K_nm(omega) P^ab_nm (complex, one per
omega of the grid) and e_nm = e_n - e_m, the pairs split in two (delta = h/8 as in
`qgtransport.engine.spectral`, h the bin width):

- far pairs, |e_nm| >= delta: F_mn = (f_n - f_m)/e_nm splits exactly into band terms,

      sum_{far nm} F_mn g_nm = sum_n f_n Q_n(omega),   Q_n(omega) = sum_{m far} (g_nm + g_mn)/e_nm,

  (relabel n <-> m in the f_m half), a Fermi-sea form histogrammed over e_n with an omega axis;
- level pairs (one degenerate level, the diagonal included) and near pairs (|e_nm| < delta):
  F_mn = f'(c) + f'''(xi) e_nm^2/24 at the pair's midpoint c = (e_n + e_m)/2: g_nm histogrammed at c
  and weighted with f'; the rest is bounded by sup|f'''| max(delta, degeneracy_tol)^2/24 sum|g|.

The heat response ((e_n + e_m)/2 - mu) F_mn g_nm: with (e_n + e_m)/2 - mu = (e_n - mu) - e_nm/2 the far
pairs give sum_n f_n [(e_n - mu) Q_n - R_n/2], R_n = sum_{m far} (g_nm + g_mn), i.e.

    sum_n f_n H_n - (mu - e_0) sum_n f_n Q_n,   H_n = sum_{m far} (g_nm + g_mn) (c_nm - e_0)/e_nm,

with e_0 the middle of the mu range (a known polynomial in mu, the f weight's exact limit below the
energy window); near pairs (c - mu) f'(c) = T ds/de(c). Each histogram then carries the moments
M^0, M^1, M^2 and A = sum|.| per bin as in `spectral.histogram`, of the real and imaginary parts of
every (omega, a, b), and each (mu, T) point is the quadrature sum_j [w(c_j) M^0_j + w'(c_j) M^1_j +
w''(c_j) M^2_j] over every bin (weights evaluated at all bin centres, no window). The bound added to
<name>_error: sum_j max|w'''| (h/2)^3/6 A_j (max over the bin and its neighbours) plus, for level and
near pairs, sum_j max|f'''| spread^2/24 A_j; the real and imaginary bounds combined as their hypot.

| quantity | c | far (weight f or s) | level / near pairs (weight) |
|---|---|---|---|
| conductivity_ac | -1 | Q_n, f | g_nm, f' |
| drude_ac | -1 | - | g_nm of level pairs only, f' |
| entropy_conductivity_ac | 1 | Q_n, s | g_nm, s' |
| heat_conductivity_ac | 1, -(mu - e_0), T | H_n, f; Q_n, f | g_nm, s' (factor T) |
| optical_conductivity | 1 | Q_n, f (K = pi omega delta(e_mn - omega)/e_nm) | g_nm, f' |
| optical_entropy_conductivity | -1 | same K, s | g_nm, s' |

with K_nm(omega) = 1/(eta - i omega + i e_mn) (Eq. 13) except for the optical rows (Eqs. 32-33, 0 in a
level). Memory: each band quantity is a (bins + 2) x 4 x 2 x omega x d^2 histogram per chunk (the DC
ones (bins + 2) x 4 x their independent components, `dc_columns`); scan="auto" bins only below
AUTO_MAX_DOUBLES in all, an explicit scan="binned" is refused above
MAX_DOUBLES (1 GiB), naming the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from qgtransport.bands import occupation as occ
from qgtransport.bands.geometry import degenerate
from qgtransport.engine import spectral
from qgtransport.engine.backend import array_module
from qgtransport.engine.groups import group_grids
from qgtransport.engine.spectral import MOMENTS, EnergyGrid, histogram, near_pair_spread, weight_derivatives

AUTO_MAX_DOUBLES = 1 << 26  # scan="auto": the AC histograms of a chunk (512 MiB)
MAX_DOUBLES = 1 << 27  # scan="binned": refused above (1 GiB)
POINT_BLOCK = 1 << 22  # (points x bins) weight values evaluated at once


@dataclass(frozen=True)
class ACTerm:
    """c sum w(e) X of one histogram X: weight w in f, s, df, ds; factor c in "1", "-1", "T",
    "-(mu - e0)"; third: for level/near pairs, the occupation whose third derivative bounds
    F_mn - w(c) ("f", "s", or "xf" for (c - mu) f''')."""

    band_quantity: str
    weight: str
    factor: str
    third: str | None = None


def near_terms(family: str, weight: str, factor: str, third: str) -> list:
    return [ACTerm(f"{family}_level", weight, factor, third), ACTerm(f"{family}_near", weight, factor, third)]


TERMS_AC = {
    "conductivity_ac": [ACTerm("propagator_sea", "f", "-1")] + near_terms("propagator", "df", "-1", "f"),
    "drude_ac": [ACTerm("propagator_level", "df", "-1", "f")],
    "entropy_conductivity_ac": [ACTerm("propagator_sea", "s", "1")] + near_terms("propagator", "ds", "1", "s"),
    "heat_conductivity_ac": [ACTerm("propagator_heat", "f", "1"), ACTerm("propagator_sea", "f", "-(mu - e0)")]
    + near_terms("propagator", "ds", "T", "xf"),
    "optical_conductivity": [ACTerm("resonance_sea", "f", "1"), ACTerm("resonance_near", "df", "1", "f")],
    "optical_entropy_conductivity": [ACTerm("resonance_sea", "s", "-1"), ACTerm("resonance_near", "ds", "-1", "s")],
}


def split(quantities) -> tuple[tuple, tuple]:
    """(DC quantities of spectral.TERMS, AC quantities of TERMS_AC)."""
    return tuple(q for q in quantities if q not in TERMS_AC), tuple(q for q in quantities if q in TERMS_AC)


def band_quantity_names(quantities) -> list:
    return sorted({t.band_quantity for q in quantities if q in TERMS_AC for t in TERMS_AC[q]})


def histogram_doubles(quantities, grid: EnergyGrid, n_omega: int, dim: int) -> int:
    """Doubles of the AC histograms of one chunk: (bins + 2) x MOMENTS x (Re, Im) x omega x d^2 per band
    quantity."""
    return (grid.count + 2) * MOMENTS * 2 * n_omega * dim * dim * len(band_quantity_names(quantities))


def check_binned(quantities, settings, grid: EnergyGrid | list | None = None, n_omega: int = 1, dim: int = 3,
                 limit: int = MAX_DOUBLES) -> None:
    """Raise ValueError unless every quantity has a binned form (DC: `spectral.check_binned`; AC and
    optical: TERMS_AC) and, given the grid (or the grids of the temperature groups, whose histograms a
    chunk holds together), the DC and AC histograms fit `limit` doubles."""
    dc, ac = split(quantities)
    missing = [q for q in dc if q not in spectral.TERMS]
    if missing:
        binned = sorted(spectral.TERMS) + sorted(TERMS_AC)
        raise ValueError(f'scan="binned" has no form for {missing}; binned: {binned}. Use scan="direct".')
    spectral.check_binned(dc, settings)
    grids = grid if isinstance(grid, list) else [] if grid is None else [grid]
    if grids:
        columns = dc_columns(dc, dim)
        doubles = sum((g.count + 2) * MOMENTS * columns + (histogram_doubles(ac, g, n_omega, dim) if ac else 0)
                      for g in grids)
        bins = " + ".join(f"({g.count} + 2)" for g in grids)
        if doubles > limit:
            ac_part = (f" + 2 (Re, Im) x {n_omega} omega x {dim}^2 components x {len(band_quantity_names(ac))} AC band "
                       "quantities" if ac else "")
            raise ValueError(
                f'scan="binned" for {list(quantities)} would need histograms of {doubles} doubles '
                f"({doubles * 8 / 2**30:.3g} GiB: {bins} energy bins x {MOMENTS} moments x ({columns} DC components"
                f"{ac_part})) per chunk; the limit is {limit} ({limit * 8 / 2**30:.3g} GiB). Use fewer omega, narrow "
                'the mu range, raise the lowest T, pass a larger bin_width, or use scan="direct".')


def dc_columns(quantities, dim: int) -> int:
    """Independent tensor components of the DC band quantities of a histogram (`spectral.pack`)."""
    sizes = {"vector": dim, "symmetric": dim * (dim + 1) // 2, "antisymmetric": dim * (dim - 1) // 2}
    names = {t.band_quantity for q in quantities for t in spectral.TERMS[q]}
    return sum(sizes[spectral.tensor_kind(name)] for name in names)


def auto_scan(quantities, settings, mu: np.ndarray, T: np.ndarray, bin_width=None, n_omega: int = 1,
              dim: int = 3) -> str:
    """What scan="auto" stands for: "binned" when every quantity has a binned form (DC or AC, `check_binned`),
    there are at least AUTO_MIN_POINTS (mu, T) points, every T > 0, the bins of every temperature group fit
    (`qgtransport.engine.groups`) and the histograms (DC and AC) stay within AUTO_MAX_DOUBLES; else "direct".
    The binned scan's error stays inside <name>_error (its bound is added there), 1e-9 to 1e-7 of the value
    at the default bin width."""
    if len(mu) < spectral.AUTO_MIN_POINTS or np.any(np.asarray(T) <= 0):
        return "direct"
    try:
        grids = [grid for _, grid in group_grids(np.asarray(mu, dtype=float), np.asarray(T, dtype=float), bin_width)]
        check_binned(quantities, settings, grids, n_omega, dim, AUTO_MAX_DOUBLES)
    except ValueError:
        return "direct"
    return "binned"


def energy_origin(mu: np.ndarray) -> float:
    """e_0 of the heat response's far-pair split: the middle of the mu range."""
    return 0.5 * (float(np.min(mu)) + float(np.max(mu)))


def pair_kernel(family: str, e_nm, same, omega, settings, xp):
    """K_nm(omega), (k, n, m, omega) complex: the Eq. 13 propagator 1/(eta - i omega + i e_mn) or the
    optical pi omega delta(e_mn - omega)/e_nm (0 in a level; broadened as `Block.resonance`)."""
    e = e_nm[..., None]
    if family == "propagator":
        return 1.0 / (settings.eta - 1j * omega + 1j * (-e))
    x = -e - omega
    w = settings.width
    if settings.broadening == "lorentzian":
        peak = (w / np.pi) / (x * x + w * w)
    else:
        peak = xp.exp(-0.5 * (x / w) ** 2) / (np.sqrt(2 * np.pi) * w)
    inverse = xp.where(same, 0.0, 1.0 / xp.where(same, 1.0, e_nm))[..., None]
    return (np.pi * omega * peak * inverse).astype(complex)


def pair_products(velocity, xp):
    """P^ab_nm = v^a_nm v^b_mn = v^a_nm conj(v^b_nm), (k, n, m, d^2) complex."""
    k, d, n, _ = velocity.shape
    return xp.einsum("kanm,kbnm->knmab", velocity, velocity.conj()).reshape(k, n, n, d * d)


def sea_sum(K, X, Y):
    """sum_m [K_nm(omega) X_nm + K_mn(omega) Y_nm] -> (k, n, omega, C): two (omega, m) @ (m, C) products per (k, n)."""
    return K.transpose(0, 1, 3, 2) @ X + K.transpose(0, 2, 3, 1) @ Y


def as_real(values, xp):
    """(..., C) complex -> (..., C, 2) real (Re, Im)."""
    return xp.stack([values.real, values.imag], axis=-1)


def ac_band_quantities(geo, names, settings, omega, delta: float, origin: float, xp) -> tuple[dict, dict]:
    """({far name: (k, n, omega, C, 2)} at e_n, {pair name: (energies (r, 1), values (r, 1, omega, C, 2))}
    at the pair midpoints) of the histograms `names` of one batch (module docstring)."""
    e = geo.energies
    P = pair_products(geo.velocity, xp)
    e_nm = e[:, :, None] - e[:, None, :]
    same = degenerate(e, settings.degeneracy_tol, xp)
    near = same | (xp.abs(e_nm) < delta)
    inverse = xp.where(near, 0.0, 1.0 / xp.where(near, 1.0, e_nm))[..., None]  # far pairs only
    far, pairs = {}, {}
    for family in ("propagator", "resonance"):
        wanted = [name for name in names if name.startswith(family)]
        if not wanted:
            continue
        K = pair_kernel(family, e_nm, same, xp.asarray(omega), settings, xp)
        if f"{family}_sea" in wanted:
            far[f"{family}_sea"] = sea_sum(K, P * inverse, P.conj() * inverse)
        if f"{family}_heat" in wanted:
            weight = inverse * (0.5 * (e[:, :, None] + e[:, None, :])[..., None] - origin)
            far[f"{family}_heat"] = sea_sum(K, P * weight, P.conj() * weight)
        masks = {f"{family}_level": same, f"{family}_near": near & ~same}
        for name in (name for name in wanted if name in masks):
            k, n, m = xp.nonzero(masks[name])
            g = K[k, n, m][:, :, None] * P[k, n, m][:, None, :]  # (r, omega, C)
            pairs[name] = (0.5 * (e[k, n] + e[k, m])[:, None], as_real(g, xp)[:, None])
    return {name: as_real(value, xp) for name, value in far.items()}, pairs


class BinnedACSums:
    """Geometry-level sum of the binned AC scan (a `GridChunks` base, like `spectral.BinnedSums`):
    prepare(geo) -> (energies, far values, pair values) of a batch, finish(parts) ->
    {"binned_ac:<band quantity>": moments} of the chunk."""

    host = False
    curvature = "diagonal"
    eigenvectors = False
    order = 1

    def __init__(self, request, grid: EnergyGrid, backend: str = "numpy"):
        self.settings = request.settings
        self.omega = np.asarray(request.omega, dtype=float)
        self.grid = grid
        self.backend = backend
        self.origin = energy_origin(request.mu)
        self.names = band_quantity_names(request.quantities)

    def prepare(self, geo):
        xp = array_module(self.backend)
        far, pairs = ac_band_quantities(geo, self.names, self.settings, self.omega, near_pair_spread(self.grid),
                                        self.origin, xp)
        return geo.energies, far, pairs

    def finish(self, parts) -> dict:
        xp = array_module(self.backend)
        out = {}
        far_names = list(parts[0][1])
        if far_names:
            energies = xp.concatenate([p[0] for p in parts])
            values = {name: xp.concatenate([p[1][name] for p in parts]) for name in far_names}
            out.update(histogram(energies, values, self.grid, xp))
        for name in parts[0][2]:
            energies = xp.concatenate([p[2][name][0] for p in parts])
            values = xp.concatenate([p[2][name][1] for p in parts])
            if len(energies):
                out.update(histogram(energies, {name: values}, self.grid, xp))
            else:  # no such pairs in the chunk
                out[name] = np.zeros((self.grid.count + 2, MOMENTS) + values.shape[2:])
        return {f"binned_ac:{name}": value for name, value in out.items()}


class BinnedScan:
    """The binned scan of a request of DC (`spectral.BinnedSums`) and AC (`BinnedACSums`) quantities:
    one GridChunks base preparing both from each batch."""

    host = False
    curvature = "diagonal"
    eigenvectors = False

    def __init__(self, request, grid: EnergyGrid, backend: str = "numpy"):
        dc, ac = split(request.quantities)
        self.dc = spectral.BinnedSums(replace(request, quantities=dc), grid, backend) if dc else None
        self.ac = BinnedACSums(replace(request, quantities=ac), grid, backend) if ac else None
        self.order = self.dc.order if self.dc is not None else 1
        self.rows = MOMENTS * (grid.count + 2)

    def chunk_points(self, norb: int, points: int) -> int:
        """k-points per chunk: for AC quantities about as many band values as the histogram has rows, so that
        the stored (k, n, omega, C) values stay within the histogram's size; else `points`."""
        return points if self.ac is None else max(1, self.rows // norb)

    def prepare(self, geo, shared: dict | None = None):
        """shared: band data of the batch shared with other temperature groups (`spectral.BinnedSums.prepare`)."""
        return (None if self.dc is None else self.dc.prepare(geo, shared),
                None if self.ac is None else self.ac.prepare(geo))

    def finish(self, parts) -> dict:
        out = {}
        for i, part in enumerate((self.dc, self.ac)):
            if part is not None:
                out.update(part.finish([p[i] for p in parts]))
        return out


def evaluate(sums: dict, request, grid: EnergyGrid) -> tuple[dict, dict]:
    """({quantity: values}, {quantity: binning-error bounds}) of a request of DC and AC quantities
    (`spectral.evaluate` and `evaluate_ac`)."""
    dc, ac = split(request.quantities)
    values, bounds = spectral.evaluate(sums, replace(request, quantities=dc), grid) if dc else ({}, {})
    if ac:
        more = evaluate_ac(sums, replace(request, quantities=ac), grid)
        values.update(more[0])
        bounds.update(more[1])
    return values, bounds


def third_derivative(third: str, x, T, fermi_derivatives):
    """f''', s''' = (2 f2 + x f3)/T^3, or (c - mu) f''' = x f3/T^2 divided by the factor T ("xf")."""
    _, f2, f3, _ = fermi_derivatives
    if third == "f":
        return f3 / T**3
    if third == "s":
        return (2 * f2 + x * f3) / T**3
    return x * f3 / T**3


def neighbour_max(values):
    """max of |values| over each bin and its two neighbours (last axis): the sup over a bin, sampled."""
    a = np.abs(values)
    out = a.copy()
    out[..., 1:] = np.maximum(out[..., 1:], a[..., :-1])
    out[..., :-1] = np.maximum(out[..., :-1], a[..., 1:])
    return out


def term_integrals(sums: dict, terms, mu, T, grid: EnergyGrid, spread: float) -> dict:
    """{term: (value (p, cols), bound (p, cols))}: the quadrature of each term's histogram at every point,
    weights evaluated at every bin centre (blocks of points), the limit of f (= 1) below the window; spread:
    the largest |e_nm| of a level or near pair."""
    centres = grid.centres
    h3 = (grid.width / 2) ** 3 / 6
    spread2 = spread**2 / 24
    bins = {t.band_quantity: np.asarray(sums[f"binned_ac:{t.band_quantity}"]) for t in terms}
    bins = {name: value.reshape(value.shape[0], MOMENTS, -1) for name, value in bins.items()}
    # (M^0, M^1, M^2) of bins 1..count stacked as one contiguous (3 count, cols) matrix, A as (count, cols)
    stacked = {name: np.ascontiguousarray(value[1:grid.count + 1, :3].transpose(1, 0, 2)).reshape(3 * grid.count, -1)
               for name, value in bins.items()}
    absolute = {name: np.ascontiguousarray(value[1:grid.count + 1, 3]) for name, value in bins.items()}
    out = {t: (np.empty((len(mu), bins[t.band_quantity].shape[-1])),
               np.empty((len(mu), bins[t.band_quantity].shape[-1]))) for t in terms}
    block = max(1, POINT_BLOCK // max(1, grid.count))
    for start in range(0, len(mu), block):
        window = slice(start, start + block)
        t = T[window, None]
        x = (centres[None, :] - mu[window, None]) / t
        fd = occ.fermi_derivatives(x)
        weights = {w: weight_derivatives(w, x, t, fd) for w in sorted({term.weight for term in terms})}
        taylor = {w: np.concatenate(values[:3], axis=1) for w, values in weights.items()}  # (p, 3 count)
        remainder = {w: neighbour_max(values[3]) * h3 for w, values in weights.items()}
        thirds = {third: neighbour_max(third_derivative(third, x, t, fd)) * spread2
                  for third in {term.third for term in terms} - {None}}
        for term in terms:
            name = term.band_quantity
            below = spectral.WEIGHT_LIMITS[term.weight] * bins[name][0, 0]  # f = 1 below the window, the others 0
            value = taylor[term.weight] @ stacked[name] + below
            bound = remainder[term.weight] @ absolute[name]
            if term.third is not None:
                bound += thirds[term.third] @ absolute[name]
            out[term][0][window] = value
            out[term][1][window] = bound
    return out


def factor_of(factor: str, mu, T, origin: float) -> np.ndarray:
    return {"1": np.ones_like(T), "-1": -np.ones_like(T), "T": T, "-(mu - e0)": -(mu - origin)}[factor]


def evaluate_ac(sums: dict, request, grid: EnergyGrid) -> tuple[dict, dict]:
    """({quantity: (p omega, d, d) complex}, {quantity: (p omega, d, d) bound}) of the AC quantities from
    the summed histograms: sum over TERMS_AC of c(mu, T) x term_integrals, points ordered (mu, T, omega)
    as `compute.Request.points`; the bound |c| x (Re bound, Im bound), combined as their hypot."""
    mu, T = np.asarray(request.mu, float), np.asarray(request.T, float)
    n_omega = len(request.omega)
    terms = sorted({t for q in request.quantities for t in TERMS_AC[q]}, key=repr)
    spread = max(near_pair_spread(grid), request.settings.degeneracy_tol)
    integrals = term_integrals(sums, terms, mu, T, grid, spread)
    origin = energy_origin(mu)
    values, bounds = {}, {}
    for q in request.quantities:
        total, bound = 0.0, 0.0
        for term in TERMS_AC[q]:
            c = factor_of(term.factor, mu, T, origin)[:, None]
            total = total + c * integrals[term][0]
            bound = bound + np.abs(c) * integrals[term][1]
        total = total.reshape(len(mu) * n_omega, -1, 2)
        bound = bound.reshape(len(mu) * n_omega, -1, 2)
        d = int(round(np.sqrt(total.shape[1])))
        values[q] = (total[..., 0] + 1j * total[..., 1]).reshape(-1, d, d)
        bounds[q] = np.hypot(bound[..., 0], bound[..., 1]).reshape(-1, d, d)
    return values, bounds
