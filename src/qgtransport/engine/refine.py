"""Adaptive refinement of the k-grid around hot spots of Berry curvature and quantum metric.

As postw90's `berry_curv_adpt_kmesh` (and WannierBerri's refinement), a grid point whose integrand
is large is replaced by a finer sub-grid of its own cell: the cell of k0 (side 1/nk in reduced
coordinates, centred on k0) is divided into m^d cells whose centres k0 + ((j + 1/2)/m - 1/2)/nk carry
weight 1/m^d each; the sum over the grid changes by

    C_1 = sum_{k0 hot} [ (1/m^d) sum_{sub} F(k_sub) - F(k0) ],

and with `levels` > 1 hot sub-points are refined again (cells of side 1/(nk m^L)). This is still a
midpoint rule on a partition of the Brillouin zone, so nothing is counted twice. A cell of level L
is refined again when its share of the integrand, h(k) m^-dL, exceeds the threshold (so the cascade
stops once the hot spot is resolved).

Hot spot indicator (per k, model length^2), at up to 8 of the requested (mu, T) points:

    h(k) = max_p sum_{n, m distinct levels} |f_n - f_m| tr g_nm,   tr g_nm = sum_a |v^a_nm|^2 / e_nm^2,

the occupation-weighted quantum metric; it bounds the Berry curvature summands
(|Omega^ab_nm| <= 2 sqrt(g^aa_nm g^bb_nm) <= tr g_nm), vanishes for pairs both occupied or both empty,
and is large where bands near mu nearly touch. A point is hot when h(k) > threshold; the threshold is
given, or taken as the (1 - fraction) quantile of h over the grid of nk/2 (a histogram of log10 h,
one extra pass at 1/2^d of the cost). The decision is per point, so the result does not depend on
the chunking, the executor or the order of the tasks. With `resolution` kappa > 0 a point is hot only where also
h(k) dk^2 > kappa, dk the longest Cartesian side of its cell (at every level): the hot spot, of size
~ 1/sqrt(h), is narrower than the cell. Where the uniform grid already resolves a gapped integrand it
converges exponentially, and refining a patch of it (midpoint sub-cells, seams with the plain cells)
only adds error (benchmarks/refinement_accuracy.py: with kappa = 0 refined results were worse than the
uniform grid nk in 128 of 212 runs, with kappa = 1 in 24, with as many 2-fold improvements). The
default 0 keeps the plain rule: kappa also shrinks the refined patch of a wide hot spot.
Fermi-surface responses (Drude) are not targeted by this indicator.

Error estimate (`refined_error`): the refined quadrature is applied to the grids nk and nk/2 (same
threshold) and

    <name>_error = |I_refined(nk) - I_refined(nk/2)| + |I_refined(nk) - I_uniform(nk)|.

The two-grid term alone is too optimistic: both grids refine the same hot spot with cells of the
same kind, so it misses the error of the refinement itself (the midpoint rule of the sub-cells and
the seams between refined and plain cells), and in a gap, where the uniform grid converges
exponentially, refinement can make the result worse than the uniform grid (benchmarks/
refinement_accuracy.py: the two-grid term covered the actual error in 85 % of the gapped runs, the
sum in all). The second term, the change the refinement made, bounds the refined result's error
when the refinement at least halved the uniform error, and equals it where the uniform grid was
already converged. <name>_refinement = I_refined(nk) - I_uniform(nk) shows that change.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from qgtransport.bands import occupation as occ
from qgtransport.bands.geometry import BandGeometry
from qgtransport.engine.backend import EngineGeometry, GridChunks, to_host

LOG_BINS = np.linspace(-40.0, 40.0, 8001)  # histogram edges of log10 h for the quantile


@dataclass(frozen=True)
class Refinement:
    """Options of the adaptive refinement.

    levels : refinement levels (1 = postw90's single level).
    subdivision : m, the sub-grid of a hot cell is m^d points (odd: the centre is the old point).
    fraction : share of the grid points to refine (sets the threshold from the nk/2 grid), or
    threshold : the indicator value above which a point is refined (model length^2); overrides fraction.
    resolution : kappa, a cell is refined only where h(k) dk^2 > kappa as well (dk its longest
        Cartesian side): the hot spot, of size ~ 1/sqrt(h), is not resolved by the cell. 0: no such
        condition.
    """

    levels: int = 1
    subdivision: int = 5
    fraction: float = 1e-3
    threshold: float | None = None
    resolution: float = 0.0

    def __post_init__(self):
        if int(self.levels) != self.levels or self.levels < 0:
            raise ValueError(f"refinement levels must be an integer >= 0, got {self.levels!r}")
        if int(self.subdivision) != self.subdivision or self.subdivision < 2:
            raise ValueError(f"refinement subdivision must be an integer >= 2, got {self.subdivision!r}")
        if not (0 < self.fraction < 1):
            raise ValueError(f"refinement fraction must be in (0, 1), got {self.fraction!r}")
        if self.threshold is not None and not (np.isfinite(self.threshold) and self.threshold >= 0):
            raise ValueError(f"refinement threshold must be finite and >= 0, got {self.threshold!r}")
        if not (np.isfinite(self.resolution) and self.resolution >= 0):
            raise ValueError(f"refinement resolution must be finite and >= 0, got {self.resolution!r}")


def as_refinement(refine) -> Refinement | None:
    """None/False -> None, True -> defaults, dict -> Refinement(**dict), Refinement -> itself."""
    if refine is None or refine is False:
        return None
    if refine is True:
        return Refinement()
    if isinstance(refine, Refinement):
        return refine
    if isinstance(refine, dict):
        return Refinement(**refine)
    raise ValueError(f"refine must be None, True, a dict or a Refinement, got {refine!r}")


def indicator_points(request, count: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Up to `count` evenly spaced (mu, T) points of the request for the indicator."""
    index = np.unique(np.linspace(0, len(request.mu) - 1, min(count, len(request.mu))).round().astype(int))
    return request.mu[index], request.T[index]


def hot_spot_indicator(geo: BandGeometry, mu: np.ndarray, T: np.ndarray, tol: float, xp=np) -> np.ndarray:
    """h(k) = max_p sum_{n, m distinct} |f_n - f_m| tr g_nm, shape (k,) (see the module docstring)."""
    e = geo.energies
    e_nm = e[:, :, None] - e[:, None, :]
    same = xp.abs(e_nm) < tol
    inverse2 = xp.where(same, 0.0, 1.0 / xp.where(same, 1.0, e_nm) ** 2)
    metric = (xp.abs(geo.velocity) ** 2).sum(axis=1) * inverse2  # tr g_nm, (k, n, m)
    best = xp.zeros(e.shape[0])
    for m, t in zip(mu, T, strict=True):
        f = xp.asarray(occ.fermi(occ.reduced_energy_at(to_host(e), m, t)))
        weight = xp.abs(f[:, :, None] - f[:, None, :])
        best = xp.maximum(best, (weight * metric).sum(axis=(1, 2)))
    return best


def subset(geo: BandGeometry, index) -> BandGeometry:
    """The geometry of the k-points `index` of a batch; an `EngineGeometry` keeps its band diagonal of d2H and
    its weighted band sums (curvature_trace, a partial of the batch's arrays, taken at the same k-points)."""
    def pick(array):
        return None if array is None else array[index]

    parts = (geo.energies, geo.eigenvectors, geo.velocity, geo.curvature, geo.position_curvature)
    if not isinstance(geo, EngineGeometry):
        return BandGeometry(*(pick(part) for part in parts))
    trace = geo.curvature_trace
    if trace is not None:
        trace = partial(trace.func, *(pick(argument) for argument in trace.args))
    return EngineGeometry(*(pick(part) for part in parts), pick(geo.curvature_diagonal), trace)


def sub_grid(points: np.ndarray, spacing: np.ndarray, m: int) -> np.ndarray:
    """The m^d cell centres of the cells (side `spacing`, centred on each point), (len * m^d, d)."""
    d = points.shape[1]
    offsets = (np.stack(np.meshgrid(*[np.arange(m)] * d, indexing="ij"), axis=-1).reshape(-1, d) + 0.5) / m - 0.5
    return (points[:, None, :] + offsets[None] * spacing).reshape(-1, d)


def add_scaled(total: dict, sums: dict, weight: float) -> None:
    for name, value in sums.items():
        total[name] = weight * value if name not in total else total[name] + weight * value


class RefinedChunks(GridChunks):
    """Chunk function of a refined grid: the base sums of the chunk plus, per level L, the correction
    C_L under the key "refine<L>:<name>" and the number of refined cells under "refine<L>:cells".

    base: a `GridChunks` base (prepare/finish, linear in the set of k-points). Picklable.
    symmetry: with a `qgtransport.symmetry.Symmetry` the chunk holds irreducible points of one orbit
    size s (the integrator multiplies its sums by s): a hot point's cell is refined together with the
    cells of its whole star, their sums divided by s, so that the symmetrised result is the one of
    refining the full grid.
    """

    def __init__(self, model, base, order: int, shape, refinement: Refinement, threshold: float, request,
                 backend: str = "numpy", batch: int | None = None, symmetry=None):
        super().__init__(model, base, order, backend, batch, request.positions)
        self.spacing = 1.0 / np.asarray(shape, dtype=float)
        self.refinement = refinement
        self.threshold = threshold
        self.mu, self.T = indicator_points(request)
        self.tol = request.settings.degeneracy_tol
        self.symmetry = symmetry

    def cell_side2(self, spacing) -> float:
        """dk^2, the longest Cartesian side of a cell of reduced sides `spacing`, squared."""
        return float(np.max((np.linalg.norm(self.model.reciprocal, axis=1) * spacing) ** 2))

    def hot(self, geo, threshold: float, side2: float) -> np.ndarray:
        """h(k) > threshold and h(k) dk^2 > resolution (the hot spot is narrower than the cell)."""
        xp = np if self.base.host else self.bands.xp
        h = to_host(hot_spot_indicator(geo, self.mu, self.T, self.tol, xp))
        return (h > threshold) & (h * side2 > self.refinement.resolution)

    def sweep(self, points: np.ndarray, threshold: float | None, side2: float = 0.0):
        """(sum over the points, hot points, sum over the hot points) in geometry batches; no hot
        points when threshold is None; side2: dk^2 of the points' cells."""
        parts, hot_points, hot_parts = [], [], []
        for start in range(0, len(points), self.batch):
            batch = points[start:start + self.batch]
            geo = self.geometry(batch)
            parts.append(self.base.prepare(geo))
            if threshold is not None:
                hot = self.hot(geo, threshold, side2)
                if hot.any():
                    hot_points.append(batch[hot])
                    hot_parts.append(self.base.prepare(subset(geo, np.nonzero(hot)[0])))
        hot_sum = self.base.finish(hot_parts) if hot_parts else None
        hot_points = np.concatenate(hot_points) if hot_points else np.zeros((0, points.shape[1]))
        return self.base.finish(parts), hot_points, hot_sum

    def __call__(self, k_reduced) -> dict:
        levels = self.refinement.levels
        # a cell of level L (weight m^-dL) is refined when its share h(k) m^-dL of the integrand
        # exceeds the threshold: the cascade stops where the hot spot is resolved
        m, d = self.refinement.subdivision, self.model.dim
        sums, points, parent_sum = self.sweep(k_reduced, self.threshold if levels > 0 else None,
                                              self.cell_side2(self.spacing))
        spacing, weight, star = self.spacing, 1.0, 1.0
        for level in range(1, levels + 1):
            cells = len(points) / star
            correction: dict = {}
            next_points, next_parent = np.zeros((0, d)), None
            if len(points):
                parent_weight = weight / star  # level 1: the irreducible point itself (star = 1 here)
                if level == 1 and self.symmetry is not None:  # the cells of the whole star, weight 1/s
                    expanded = np.concatenate([self.symmetry.star(k) for k in points])
                    star = len(expanded) / len(points)
                    points = expanded
                child_threshold = self.threshold * m ** (d * level) if level < levels else None
                child_sum, next_points, next_parent = self.sweep(sub_grid(points, spacing, m), child_threshold,
                                                                 self.cell_side2(spacing / m))
                add_scaled(correction, child_sum, weight / m**d / star)
                add_scaled(correction, parent_sum, -parent_weight)
            for name, value in correction.items():
                sums[f"refine{level}:{name}"] = value
            sums[f"refine{level}:cells"] = np.array([float(cells)])  # times s by the integrator
            points, parent_sum = next_points, next_parent
            spacing, weight = spacing / m, weight / m**d
        return sums


class IndicatorHistogram(GridChunks):
    """Chunk function: histogram of log10 h(k) over LOG_BINS (for the quantile threshold)."""

    def __init__(self, model, request, backend: str = "numpy", batch: int | None = None):
        super().__init__(model, IndicatorBase(request), 1, backend, batch, request.positions)


class IndicatorBase:
    """GridChunks base: histogram of log10 of the hot-spot indicator."""

    host = True

    def __init__(self, request):
        self.mu, self.T = indicator_points(request)
        self.tol = request.settings.degeneracy_tol

    def prepare(self, geo):
        h = hot_spot_indicator(geo, self.mu, self.T, self.tol)
        with np.errstate(divide="ignore"):
            logs = np.clip(np.log10(h), LOG_BINS[0], LOG_BINS[-1])
        return np.histogram(logs, LOG_BINS)[0].astype(float)

    def finish(self, parts) -> dict:
        return {"log10_indicator": np.sum(parts, axis=0)}


def quantile_threshold(histogram: np.ndarray, fraction: float) -> float:
    """The indicator value above which `fraction` of the points lie (upper bin edge, conservative)."""
    total = histogram.sum()
    above = np.cumsum(histogram[::-1])[::-1]  # points in bins >= i
    index = int(np.searchsorted(-above, -fraction * total, side="right"))  # first bin with above <= fraction
    index = min(max(index, 0), len(LOG_BINS) - 1)
    return float(10 ** LOG_BINS[index])


ERROR_ESTIMATE = "|I_refined(nk) - I_refined(nk/2)| + |I_refined(nk) - I_uniform(nk)|"


def refined_error(value, coarse, change):
    """|I_refined(nk) - I_refined(nk/2)| + |I_refined(nk) - I_uniform(nk)| (module docstring).

    value, coarse: refined results of the grids nk and nk/2; change: value - I_uniform(nk). With a
    symmetry all three are symmetrised values, so the error is symmetric like the value.
    """
    return np.abs(value - coarse) + np.abs(change)


def split_levels(values: dict, levels: int) -> tuple[dict, dict, list]:
    """(refined totals, uniform totals, refined cells per level) from RefinedChunks' sums."""
    uniform = {name: value for name, value in values.items() if not name.startswith("refine")}
    refined = {name: value.copy() for name, value in uniform.items()}
    cells = []
    for level in range(1, levels + 1):
        for name in uniform:
            key = f"refine{level}:{name}"
            if key in values:
                refined[name] = refined[name] + values[key]
        cells.append(int(round(float(values.get(f"refine{level}:cells", np.zeros(1))[0]))))
    return refined, uniform, cells
