"""Binned (energy-resolved) scan: the k-work once, every (mu, T) point afterwards.

Every DC linear response of qgtransport is a band sum that can be written as a sum of terms

    R(mu, T) = c(T) sum_k sum_n w((e_n - mu)/T) Q_n(k),

with a weight w in {f, s, df/de, ds/de} and a band quantity Q_n that does not depend on (mu, T)
(the Fermi-sea / Fermi-surface forms; equations below). So each chunk of k-points only accumulates
histograms of Q_n over the band energy e_n, with moments inside each bin (c_j its centre, h its width),

    M^P_j = sum_{k, n: e_n in bin j} Q_n(k) (e_n - c_j)^P / P!,   P = 0, 1, 2,

and after the k-sum each (mu, T) point is the quadrature sum_j [w(c_j) M^0_j + w'(c_j) M^1_j +
w''(c_j) M^2_j] (Taylor expansion of w in each bin). Its error is bounded by
sup|w'''| (h/2)^3/6 sum |Q_n|, for w = f about 1e-7 (32 h/T)^3 of sum_n |Q_n| within a few T of mu.
The default bin width h = T_min/32 (`DEFAULT_RESOLUTION`; on a uniform mu grid lowered, by at most half,
so that the steps of mu are whole bins, `aligned_width`: then every point is one weight kernel shifted)
was measured to give 1e-9 to 1e-7 of the direct sum on 2D, 3D and degenerate models
(tests/engine/test_integrate.py asserts 1e-6). Scans over a wide range of T run on one grid per
temperature group (`qgtransport.engine.groups`). Each bin also
accumulates A_j = sum |Q_n|, and the result carries the remainder bound
sum_j |w'''(c_j)| (h/2)^3/6 A_j (plus the near-pair term below) as its binning-error estimate,
added to <name>_error; it was measured 3-30 times the actual error, and the tests check that it
bounds the difference to the direct sum. Energies below the window [min mu - 40 T_max,
max mu + 40 T_max] go to one bin with the limits w(-inf) (f = 1, s = f' = s' = 0; e^-40 = 4e-18);
above it every weight vanishes.

Terms (F_mn = (f_m - f_n)/(e_m - e_n); P^ab_nm = v^a_nm v^b_mn; "level": a group of bands closer than
degeneracy_tol, `qgtransport.bands.geometry.level_labels`; the direct forms are those of
qgtransport.responses, with ERRATA E1-E7 applied there):

| quantity | c | w | Q_n |
|---|---|---|---|
| anomalous_hall | -1 | f | Omega^ab_n = -2 sum_{m not in level} Im P^ab_nm / e_nm^2 (+ X^ab_n, positions="full") |
| anomalous_nernst, entropy_hall | 1 | s | Omega^ab_n |
| drude | -tau | df/de | sum_{m in level} Re P^ab_nm |
| entropy_current_drude | tau | ds/de | same |
| entropy_production_drude | -tau/T | df/de | same |
| entropy_production_band_curvature | tau/T | f | v^ab_n |
| entropy_production_drude_quantum_metric | tau/T | f | 2 sum_{m not in level} Re P^ab_nm / e_nm |
| entropy_production_interband | -eta/T | f | 2 sum_{m: |e_nm| >= delta} G_nm / e_nm (sea) |
|  | -eta/T | df/de | sum_{m: tol <= |e_nm| < delta} G_nm (near pairs) |
| equilibrium_entropy_current | 1 | s | v^a_n |

entropy_production and entropy_production_quantum_metric are sums of the rows above. The interband
term: sum_{n != m} F_mn G_nm with G_nm = Re P_nm/(e_nm^2 + eta^2) (rho1 = "finite_eta") or Re P_nm/e_nm^2
("dc_limit") symmetric in (n, m); for |e_nm| >= delta, F_mn = (f_m - f_n)/(e_m - e_n) splits exactly
into 2 sum_n f_n sum_m G_nm/e_nm; closer pairs use F_mn = f'(e_n) + O(e_nm^2 f'''), with
delta = h/8 (relative error < (delta/T)^2/12 ~ 1e-6 on those pairs alone). The AC and optical
responses have their binned form, on the same energy grid with an omega axis, in
`qgtransport.engine.spectral_ac`. The printed Eq. 18 kernel (kernel="printed"), the joint density of
states and the second-order responses have no binned form: use scan="direct" for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qgtransport.bands import occupation as occ
from qgtransport.bands.geometry import degenerate
from qgtransport.engine import compiled
from qgtransport.engine.backend import array_module, to_host
from qgtransport.engine.pairs import PairProducts, interband_propagator

DEFAULT_RESOLUTION = 1 / 32  # bin width / T_min
TAILS = 40.0  # window half-width in units of T: f(-40) = 1 - 4e-18
MAX_BINS = 1 << 20
SCANS = ("auto", "direct", "binned")
AUTO_MIN_POINTS = 5  # scan="auto" bins from this many (mu, T) points on
QUADRATURE_BLOCK = 32  # (mu, T) points per dense weight matrix of the quadrature (`evaluate`)


@dataclass(frozen=True)
class Term:
    """c(T) sum_n w(x_n) Q_n: band quantity, weight name and the factor c as a function of
    (T array, settings)."""

    band_quantity: str
    weight: str
    factor: str  # "-1", "1", "-tau", "tau", "-tau/T", "tau/T", "-eta/T"


def factor_values(factor: str, T: np.ndarray, settings) -> np.ndarray:
    one = np.ones_like(T)
    if factor in ("1", "-1"):
        return float(factor) * one
    if factor == "-eta/T":
        return -settings.eta / T
    tau = settings.tau
    return {"tau": tau * one, "-tau": -tau * one, "tau/T": tau / T, "-tau/T": -tau / T}[factor]


INTERBAND = [Term("interband_sea", "f", "-eta/T"), Term("interband_near", "df", "-eta/T")]
TERMS = {
    "anomalous_hall": [Term("berry_curvature", "f", "-1")],
    "anomalous_nernst": [Term("berry_curvature", "s", "1")],
    "entropy_hall": [Term("berry_curvature", "s", "1")],
    "drude": [Term("level_products", "df", "-tau")],
    "entropy_current_drude": [Term("level_products", "ds", "tau")],
    "entropy_production_drude": [Term("level_products", "df", "-tau/T")],
    "entropy_production_band_curvature": [Term("band_curvature", "f", "tau/T")],
    "entropy_production_drude_quantum_metric": [Term("drude_metric", "f", "tau/T")],
    "entropy_production_interband": INTERBAND,
    "entropy_production": [Term("level_products", "df", "-tau/T")] + INTERBAND,
    "entropy_production_quantum_metric": [Term("drude_metric", "f", "tau/T")] + INTERBAND,
    "equilibrium_entropy_current": [Term("velocity", "s", "1")],
}
VECTOR_QUANTITIES = ("velocity",)  # Q_n of shape (a,); the others are (a, b)


def check_binned(quantities, settings) -> None:
    """Raise ValueError unless every quantity has a binned form with these settings."""
    missing = [q for q in quantities if q not in TERMS]
    if missing:
        raise ValueError(f'scan="binned" has no form for {missing}; binned: {sorted(TERMS)}. Use scan="direct".')
    if settings.kernel == "printed" and any(t.band_quantity.startswith("interband") for q in quantities
                                            for t in TERMS[q]):
        raise ValueError('scan="binned" supports kernel="divided_difference" only; use scan="direct" for "printed"')


def aligned_width(mu: np.ndarray, T: np.ndarray, width: float) -> float:
    """The bin width, at most `width` and at least half of it, that makes the steps of a uniform mu grid whole
    multiples of the bins of every merge level used (widths 2^l width' for T up to 2^l T_min; `evaluate`):
    width' = step / (2^L K), K the least integer with width' <= width, L the highest level that keeps
    width' >= width / 2 (L lowered one by one). Then every point of a level is the same weight kernel
    shifted by whole bins (`evaluate`). `width` itself when mu is not uniform or has one value."""
    values = np.unique(np.asarray(mu, dtype=float))
    if len(values) < 2:
        return width
    steps = np.diff(values)
    step = float(steps.mean())
    if not np.allclose(steps, step, rtol=1e-9, atol=0.0) or step <= 0:
        return width
    top = int(np.floor(np.log2(np.max(T) / np.min(T)) + 1e-9))
    for level in range(top, -1, -1):
        unit = step / 2**level
        aligned = unit / np.ceil(unit / width - 1e-9)
        if aligned >= width / 2:
            return float(aligned)
    return width


@dataclass(frozen=True)
class EnergyGrid:
    """Bins [lower + (j - 1) width, lower + j width) for j = 1..count; bin 0 holds every energy
    below `lower`, bin count + 1 every energy above the last bin."""

    lower: float
    width: float
    count: int

    @classmethod
    def for_points(cls, mu: np.ndarray, T: np.ndarray, bin_width: float | None = None) -> EnergyGrid:
        lower = float(np.min(mu) - TAILS * np.max(T))
        upper = float(np.max(mu) + TAILS * np.max(T))
        width = (float(bin_width) if bin_width is not None
                 else aligned_width(mu, T, DEFAULT_RESOLUTION * float(np.min(T))))
        if not (np.isfinite(width) and width > 0):
            raise ValueError(f"bin_width must be finite and > 0, got {bin_width!r}")
        count = int(np.ceil((upper - lower) / width))
        if count > MAX_BINS:
            raise ValueError(
                f'scan="binned" would need {count} energy bins of {width:.3g} (T_min/32) to cover '
                f"[{lower:.4g}, {upper:.4g}]; the limit is {MAX_BINS}. Narrow the mu range, raise the lowest T, "
                'pass a larger bin_width, or use scan="direct".')
        return cls(lower, width, max(count, 1))

    @property
    def centres(self) -> np.ndarray:
        """Centres of bins 1..count."""
        return self.lower + (np.arange(self.count) + 0.5) * self.width


PAIR_BAND_QUANTITIES = ("berry_curvature", "level_products", "drude_metric", "interband_sea", "interband_near")


def band_quantities(geo, names, settings, delta: float, xp, products: PairProducts | None = None,
                    levels=None) -> dict:
    """{name: (k, n, comps...)} of the (mu, T)-independent band quantities of the TERMS table, from
    the pair products P^ab_nm of the batch (`PairProducts`, shared; made here when not given) and
    levels = (e_nm, same) (`pair_levels`, shared; made here when not given)."""
    out, real_kernels = {}, {}
    if "band_curvature" in names:
        diagonal = getattr(geo, "curvature_diagonal", None)  # an engine geometry without the full d2H
        out["band_curvature"] = diagonal if diagonal is not None else xp.einsum("kabnn->knab", geo.curvature).real
    if "velocity" in names:
        out["velocity"] = xp.einsum("kann->kna", geo.velocity).real
    if not set(names) & set(PAIR_BAND_QUANTITIES):
        return {name: out[name] for name in names}
    products = products if products is not None else PairProducts(geo.velocity, xp)
    e_nm, same = levels if levels is not None else pair_levels(geo.energies, settings, xp)
    inverse = xp.where(same, 0.0, 1.0 / xp.where(same, 1.0, e_nm))
    if "berry_curvature" in names:
        out["berry_curvature"] = products.band_sum(-2 * inverse * inverse, "imag")
        if geo.position_curvature is not None:  # the full position matrix's band-diagonal term X_n
            out["berry_curvature"] = out["berry_curvature"] + xp.asarray(geo.position_curvature)
    if "level_products" in names:
        real_kernels["level_products"] = same
    if "drude_metric" in names:
        real_kernels["drude_metric"] = 2 * inverse
    if "interband_sea" in names or "interband_near" in names:
        propagator = interband_propagator(e_nm, same, settings, xp)
        near = (xp.abs(e_nm) < delta) & ~same
        real_kernels["interband_sea"] = xp.where(near | same, 0.0, 2 * propagator * inverse)
        real_kernels["interband_near"] = xp.where(near, propagator, 0.0)
    out.update(real_band_sums(real_kernels, products, xp))
    return {name: out[name] for name in names}


def compiled_band_quantities(geo, names, settings, delta: float) -> dict:
    """The pair quantities among names (PAIR_BAND_QUANTITIES) of `band_quantities`, already packed (`pack`),
    by the compiled loop `compiled.band_pair_quantities` (numpy, numba): no pair products or (k, n, m)
    kernels in memory. Same values to rounding (tests/engine/test_compiled.py)."""
    wanted = np.array([name in names for name in PAIR_BAND_QUANTITIES])
    velocity, labels, energies, eta_squared, dc_limit = compiled.pair_inputs(geo, settings, wanted[3] or wanted[4])
    arrays = compiled.band_pair_quantities(velocity, labels, energies, float(delta), eta_squared, dc_limit,
                                           *compiled.components(geo.velocity.shape[1]), wanted)
    out = dict(zip(PAIR_BAND_QUANTITIES, arrays, strict=True))
    if geo.position_curvature is not None:  # the full position matrix's band-diagonal term X_n
        out["berry_curvature"] = out["berry_curvature"] + pack(np.asarray(geo.position_curvature), "antisymmetric")
    return {name: out[name] for name in names if name in out}


def real_band_sums(kernels: dict, products: PairProducts, xp) -> dict:
    """{name: (k, n, a, b)} = sum_m K_nm Re P^ab_nm for every kernel K (k, n, m) of `kernels`: the kernels
    stacked as rows (k, n, J, m), then one (J, m) @ (m, C) product per (k, n) for all of them."""
    if not kernels:
        return {}
    names = list(kernels)
    stacked = xp.empty(next(iter(kernels.values())).shape[:2] + (len(names),) + products.vr.shape[-1:])
    for j, name in enumerate(names):
        stacked[:, :, j] = kernels[name]
    sums = stacked @ products.real  # (k, n, J, C)
    return {name: products.tensor(sums[:, :, j], "real") for j, name in enumerate(names)}


def pair_levels(e, settings, xp):
    """e_nm = e_n - e_m (k, n, m) and same (k, n, m): bands n, m in one degenerate level (`degenerate`)."""
    return e[:, :, None] - e[:, None, :], degenerate(e, settings.degeneracy_tol, xp)


DIAGONAL_BAND_QUANTITIES = ("berry_curvature", "level_products", "drude_metric", "band_curvature", "velocity")
def band_resolved(quantity: str, settings=None) -> bool:
    """True when the direct scan evaluates the quantity from band quantities Q_n with exact weights
    (every term c(T) sum_n w(x_n) Q_n) and, given settings with the divided-difference kernel, the
    exact interband pair sum: then no (k, n, m, p) kernels of `qgtransport.responses` are needed
    beyond one divided difference F_mn."""
    terms = TERMS.get(quantity)
    if terms is None:
        return False
    pairs_allowed = settings is not None and settings.kernel == "divided_difference"
    return all(t.band_quantity in DIAGONAL_BAND_QUANTITIES
               or (pairs_allowed and t.band_quantity.startswith("interband")) for t in terms)


MOMENTS = 4  # M^0, M^1, M^2 and A = sum |Q_n| per bin (for the error bound)


def histogram(energies, values: dict, grid: EnergyGrid, xp) -> dict:
    """{name: (count + 2, 4, comps...)}: per bin the moments M^0, M^1, M^2 of each band quantity
    and A = sum |Q_n| (bin 0: below the window, count + 1: above)."""
    e = energies.reshape(-1)
    j = xp.clip(xp.floor((e - grid.lower) / grid.width).astype(xp.int64) + 1, 0, grid.count + 1)
    offset = e - (grid.lower + (j - 0.5) * grid.width)  # e - c_j (meaningless in the end bins: unused)
    inside = (j >= 1) & (j <= grid.count)
    offset = xp.where(inside, offset, 0.0)
    names = list(values)
    flat = xp.concatenate([values[name].reshape(e.shape[0], -1) for name in names], axis=1)  # (kn, C)
    if xp is np:
        sums = sparse_moments(j, offset, flat, grid.count + 2)
    else:
        moments = xp.stack([xp.ones_like(offset), offset, 0.5 * offset * offset], axis=1)  # (kn, 3)
        weighted = xp.concatenate([moments[:, :, None] * flat[:, None, :], xp.abs(flat)[:, None, :]], axis=1)
        weighted = weighted.reshape(e.shape[0], -1)  # (kn, 4C)
        ncol = weighted.shape[1]
        index = (j[:, None] * ncol + xp.arange(ncol)[None, :]).reshape(-1)
        sums = xp.bincount(index, weights=weighted.reshape(-1), minlength=(grid.count + 2) * ncol)
        sums = to_host(sums).reshape(grid.count + 2, MOMENTS, -1)
    out, start = {}, 0
    for name in names:
        shape = values[name].shape[2:]
        size = int(np.prod(shape))
        out[name] = sums[:, :, start:start + size].reshape((grid.count + 2, MOMENTS) + shape)
        start += size
    return out


def sparse_moments(j, offset, flat, count: int) -> np.ndarray:
    """(count, 4, C): per bin sum_{rows in the bin} (1, offset, offset^2/2) x flat and |flat|, as four
    products S_P @ flat of a sparse (count, rows) matrix with one entry per row (bin j, value the
    moment's factor): the work of reading flat four times, without (rows, 4C) temporaries."""
    import scipy.sparse as sparse

    out = np.empty((count, MOMENTS, flat.shape[1]))
    rows = np.arange(len(j) + 1)
    ones = np.ones_like(offset)
    for moment, (factor, values) in enumerate(((ones, flat), (offset, flat), (0.5 * offset * offset, flat),
                                               (ones, np.abs(flat)))):
        out[:, moment] = sparse.csc_matrix((factor, j, rows), shape=(count, len(j))) @ values
    return out


def near_pair_spread(grid: EnergyGrid) -> float:
    """delta: pairs of levels closer than this use the Fermi-surface form of the interband term."""
    return grid.width / 8


ANTISYMMETRIC_QUANTITIES = ("berry_curvature",)  # the other (a, b) band quantities are symmetric


def tensor_kind(band_quantity: str) -> str:
    if band_quantity in VECTOR_QUANTITIES:
        return "vector"
    return "antisymmetric" if band_quantity in ANTISYMMETRIC_QUANTITIES else "symmetric"


def pack(values, kind: str, xp=np):
    """(..., d, d) -> (..., C): the independent components a <= b (symmetric) or a < b (antisymmetric)
    of a band quantity, so that the histograms carry no duplicates; vectors unchanged."""
    if kind == "vector":
        return values
    d = values.shape[-1]
    pairs = [(a, b) for a in range(d) for b in range(a if kind == "symmetric" else a + 1, d)]
    if not pairs:  # antisymmetric in 1D
        return xp.zeros(values.shape[:-2] + (0,))
    return xp.stack([values[..., a, b] for a, b in pairs], axis=-1)


def unpack(values: np.ndarray, kind: str, sign: float = 1.0) -> np.ndarray:
    """(..., C) -> (..., d, d), the inverse of `pack` (the (b, a) entries times sign for antisymmetric
    quantities: sign = 1 for error bounds)."""
    if kind == "vector":
        return values
    C = values.shape[-1]
    d = int(round((np.sqrt(8 * C + 1) + (-1 if kind == "symmetric" else 1)) / 2))
    a, b = np.triu_indices(d, 0 if kind == "symmetric" else 1)
    out = np.zeros(values.shape[:-1] + (d, d))
    out[..., a, b] = values
    out[..., b, a] = values if kind == "symmetric" else sign * values
    return out


class BinnedSums:
    """Geometry-level sum of the binned scan (a `GridChunks` base): prepare(geo) -> (energies, band
    quantities) of a batch, finish(parts) -> {"binned:<band quantity>": moments} of the chunk, one
    histogram per chunk, of the independent tensor components only (`pack`). Works on the backend's
    arrays (host = False)."""

    host = False
    curvature = "diagonal"  # v^ab_n alone (band_quantities)
    eigenvectors = False

    def __init__(self, request, grid: EnergyGrid, backend: str = "numpy"):
        self.settings = request.settings
        self.grid = grid
        self.backend = backend
        self.names = sorted({t.band_quantity for q in request.quantities for t in TERMS[q]})
        self.order = 2 if "band_curvature" in self.names else 1

    def prepare(self, geo, shared: dict | None = None):
        """(energies, packed band quantities) of a batch. shared: what another temperature group's base
        made from the same batch (`qgtransport.engine.groups.GroupedScan`), filled here for the next:
        the pair products, the levels and the band quantities that do not depend on the grid (all but
        the interband sea / near-pair split at delta = h/8), made once for every group."""
        xp = array_module(self.backend)
        shared = {} if shared is None else shared
        known = shared.setdefault("packed", {})
        names = [name for name in self.names if name.startswith("interband") or name not in known]
        if xp is np and compiled.enabled():  # the pair quantities by one compiled loop, packed
            packed = compiled_band_quantities(geo, names, self.settings, near_pair_spread(self.grid))
            rest = [name for name in names if name not in packed]
            values = band_quantities(geo, rest, self.settings, 0.0, xp) if rest else {}
            packed.update({name: pack(value, tensor_kind(name), xp) for name, value in values.items()})
            known.update({name: value for name, value in packed.items() if not name.startswith("interband")})
            return geo.energies, {name: packed[name] if name in packed else known[name] for name in self.names}
        if "products" not in shared:
            shared["products"] = PairProducts(geo.velocity, xp)
            shared["levels"] = pair_levels(geo.energies, self.settings, xp)
        values = band_quantities(geo, names, self.settings, near_pair_spread(self.grid), xp, shared["products"],
                                 shared["levels"])
        packed = {name: pack(value, tensor_kind(name), xp) for name, value in values.items()}
        known.update({name: value for name, value in packed.items() if not name.startswith("interband")})
        return geo.energies, {name: packed[name] if name in packed else known[name] for name in self.names}

    def finish(self, parts) -> dict:
        xp = array_module(self.backend)
        energies = xp.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        values = {name: xp.concatenate([p[1][name] for p in parts]) if len(parts) > 1 else parts[0][1][name]
                  for name in self.names}
        return {f"binned:{name}": value for name, value in histogram(energies, values, self.grid, xp).items()}


WEIGHT_LIMITS = {"f": 1.0, "s": 0.0, "df": 0.0, "ds": 0.0}


def weight_derivatives(weight: str, x: np.ndarray, T: float, fermi_derivatives=None) -> tuple:
    """(w, dw/de, d2w/de2, d3w/de3) at x = (e - mu)/T for w in f, s, df/de, ds/de, from one Fermi
    function. With d/dx and g = f(1 - f): f1 = -g, f2 = g(1 - 2f), f3 = -g(1 - 6f + 6f^2),
    f4 = g(1 - 2f)(1 - 12f + 12f^2); s1 = x f1, s2 = f1 + x f2, s3 = 2 f2 + x f3, s4 = 3 f3 + x f4.
    fermi_derivatives: (f1, f2, f3, f4) at x where already computed (shared by the weights of one x)."""
    if fermi_derivatives is None:
        fermi_derivatives = occ.fermi_derivatives(x)  # accurate in both tails
    f1, f2, f3, f4 = fermi_derivatives
    if weight == "f":
        return occ.fermi(x), f1 / T, f2 / T**2, f3 / T**3
    if weight == "s":
        return occ.entropy(x), x * f1 / T, (f1 + x * f2) / T**2, (2 * f2 + x * f3) / T**3
    if weight == "df":
        return f1 / T, f2 / T**2, f3 / T**3, f4 / T**4
    if weight == "ds":
        return x * f1 / T, (f1 + x * f2) / T**2, (2 * f2 + x * f3) / T**3, (3 * f3 + x * f4) / T**4
    raise ValueError(f"unknown weight {weight!r}")


def coarsen(width: float, bins: np.ndarray) -> np.ndarray:
    """Moments (count, 4, C) on bins of twice the width (same lower edge): pairs of bins merged and
    their moments re-expanded about the new centre (exact: with delta = c_old - c_new = -+ width/2,
    M'^0 = sum M^0, M'^1 = sum (M^1 + delta M^0), M'^2 = sum (M^2 + delta M^1 + delta^2/2 M^0),
    A' = sum A)."""
    if len(bins) % 2:
        bins = np.concatenate([bins, np.zeros((1,) + bins.shape[1:])])
    pairs = bins.reshape(len(bins) // 2, 2, MOMENTS, -1)
    low, high = pairs[:, 0], pairs[:, 1]
    out = low + high
    half = 0.5 * width
    out[:, 1] += half * (high[:, 0] - low[:, 0])
    out[:, 2] += half * (high[:, 1] - low[:, 1]) + 0.5 * half**2 * out[:, 0]
    return out


def padded_kernels(kernel: np.ndarray, size: int) -> np.ndarray:
    """kernel (span,) or (points, span) between `size` zeros on each side: (1 or points, 2 size + span)."""
    kernel = np.atleast_2d(kernel)
    padded = np.zeros((kernel.shape[0], size + kernel.shape[1] + size))
    padded[:, size:size + kernel.shape[1]] = kernel
    return padded


def shifted_rows(padded: np.ndarray, rows: np.ndarray, offsets: np.ndarray, size: int) -> np.ndarray:
    """(len(offsets), size) dense rows from `padded_kernels`: row p holds the kernel padded[rows_p] at columns
    offsets_p .. offsets_p + span - 1, zero elsewhere and outside [0, size)."""
    span = padded.shape[1] - 2 * size
    column = size - np.clip(offsets, -span, size)  # where column 0 of row p starts in padded
    return np.lib.stride_tricks.sliding_window_view(padded, size, axis=1)[rows, column]


def evaluate(sums: dict, request, grid: EnergyGrid) -> tuple[dict, dict]:
    """({quantity: (p, ...)}, {quantity: binning-error bound (p, ...)}) from the summed moments.

    value = sum_j [w(c_j) M^0_j + w'(c_j) M^1_j + w''(c_j) M^2_j]; the bound is
    sum_j |w'''(c_j)| (h/2)^3/6 A_j (the Taylor remainder, w''' taken at the bin centre), plus
    sum_j |w''(c_j)| delta^2/12 A_j for the near pairs of the interband term (F_mn ~ f'(e_n)).
    Per point only the bins within TAILS T of mu are weighted; the bins below use the weight's
    limit through prefix sums of M^0, those above contribute nothing. Points at T above T_min use
    bins merged by powers of two (moments re-expanded exactly) of width up to T/32, so every point
    costs about 2 TAILS x 32 weight evaluations whatever its T.
    """
    mu, T = request.mu, request.T
    cache: dict = {}
    levels = np.floor(np.log2(T / np.min(T)) + 1e-9).astype(int)

    def pyramid(band_quantity: str) -> list:
        flat = sums[f"binned:{band_quantity}"].reshape(grid.count + 2, MOMENTS, -1)
        below = flat[0, 0]
        bins = flat[1:grid.count + 1]
        out = []
        width = grid.width
        for level in range(int(levels.max()) + 1):
            if level:
                bins = coarsen(width, bins)
                width *= 2
            cumulative = np.concatenate([below[None], below[None] + np.cumsum(bins[:, 0], axis=0)])
            out.append((width, bins, cumulative))
        return out

    def window_weights(weights) -> dict:
        """{weight: [(points, first, start, (W0, W1, W2, |W3|)) per block]}: the points of one merge level and
        temperature in blocks of QUADRATURE_BLOCK, mu ascending; W_i (block points, bins [start, start + U))
        dense, row p holding d^i w/de^i at the centres of its bins [first_p, last_p) and 0 elsewhere, so that
        a block is one matrix product. Where the points' mu differ by whole bins (a uniform mu grid, the grid
        aligned by `EnergyGrid.for_points`) every row is the same kernel shifted (`shifted_rows`); else each
        point's weights are evaluated at its own bins."""
        out: dict = {weight: [] for weight in weights}
        for level, t in sorted({(int(a), float(b)) for a, b in zip(levels, T, strict=True)}):
            points = np.flatnonzero((levels == level) & (T == t))
            points = points[np.argsort(mu[points], kind="stable")]
            width = grid.width * 2**level
            count = cache[("count", level)]
            m = mu[points]
            steps = (m - m[0]) / width
            shift = np.rint(steps).astype(int)
            if np.all(np.abs(steps - shift) < 1e-6):  # one kernel for every point
                base = int(np.floor((m[0] - TAILS * t - grid.lower) / width))
                span = max(int(np.ceil((m[0] + TAILS * t - grid.lower) / width)) - base, 1)
                x = (grid.lower + (base + np.arange(span) + 0.5) * width - m[0]) / t
                lower_edge = base + shift  # unclipped first bin of each point
            else:  # each point its own bins
                lower_edge = np.floor((m - TAILS * t - grid.lower) / width).astype(int)
                span = max(int(np.max(np.ceil((m + TAILS * t - grid.lower) / width).astype(int) - lower_edge)), 1)
                x = (grid.lower + (lower_edge[:, None] + np.arange(span)[None, :] + 0.5) * width - m[:, None]) / t
            first = np.clip(lower_edge, 0, count)
            last = np.clip(lower_edge + span, 0, count)
            derivatives = {}
            fermi_derivatives = occ.fermi_derivatives(x)
            for weight in weights:
                d = weight_derivatives(weight, x, t, fermi_derivatives)
                derivatives[weight] = d[:3] + (np.abs(d[3]),)
            blocks = [np.arange(b, min(b + QUADRATURE_BLOCK, len(points))) for b in range(0, len(points),
                                                                                      QUADRATURE_BLOCK)]
            size = max(max(int(last[rows].max()) - int(first[rows].min()), 1) for rows in blocks)  # one for all
            for weight in weights:
                padded = [padded_kernels(w, size) for w in derivatives[weight]]  # once per (level, T, weight)
                for rows in blocks:
                    start = int(first[rows].min())
                    kernel_rows = rows if x.ndim == 2 else np.zeros_like(rows)
                    matrices = tuple(shifted_rows(p, kernel_rows, lower_edge[rows] - start, size) for p in padded)
                    out[weight].append((points[rows], first[rows], start, matrices))
        return out

    def integral(term: Term):
        key = (term.band_quantity, term.weight)
        if key in cache:
            return cache[key]
        shape = sums[f"binned:{term.band_quantity}"].shape[2:]
        if ("pyramid", term.band_quantity) not in cache:  # once per band quantity and per weight
            cache[("pyramid", term.band_quantity)] = pyramid(term.band_quantity)
        levels_data = cache[("pyramid", term.band_quantity)]
        for level, (_, bins, _) in enumerate(levels_data):
            cache[("count", level)] = len(bins)
        if "weights" not in cache:  # every weight of the request at once
            cache["weights"] = window_weights(sorted({t.weight for q in request.quantities for t in TERMS[q]}))
        limit = WEIGHT_LIMITS[term.weight]
        size = int(np.prod(shape))
        values = np.empty((len(mu), size))
        bounds = np.empty_like(values)
        for points, first, start, (W0, W1, W2, W3) in cache["weights"][term.weight]:  # one block of points
            width, bins, cumulative = levels_data[levels[points[0]]]
            window = bins[start:start + W0.shape[1]]
            if len(window) < W0.shape[1]:  # blocks whose windows all lie above the grid
                window = np.concatenate([window, np.zeros((W0.shape[1] - len(window),) + window.shape[1:])])
            values[points] = W0 @ window[:, 0] + W1 @ window[:, 1] + W2 @ window[:, 2] + limit * cumulative[first]
            bounds[points] = (W3 @ window[:, 3]) * (width / 2) ** 3 / 6
            if term.band_quantity == "interband_near":  # F_mn ~ f'(e_n) on pairs closer than delta
                bounds[points] += (np.abs(W2) @ window[:, 3]) * near_pair_spread(grid) ** 2 / 12
        kind = tensor_kind(term.band_quantity)
        cache[key] = (unpack(values.reshape((len(mu),) + shape), kind, -1.0),
                      unpack(bounds.reshape((len(mu),) + shape), kind, 1.0))
        return cache[key]

    results, errors = {}, {}
    for quantity in request.quantities:
        total, error = 0.0, 0.0
        for term in TERMS[quantity]:
            value, bound = integral(term)
            c = factor_values(term.factor, T, request.settings).reshape((-1,) + (1,) * (value.ndim - 1))
            total = total + c * value
            error = error + np.abs(c) * bound
        results[quantity] = total
        errors[quantity] = error
    return results, errors
