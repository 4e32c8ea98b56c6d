"""Temperature groups of the binned scan: one energy grid per group of (mu, T) points.

One grid of bin width h = T_min/32 over [min mu - 40 T_max, max mu + 40 T_max]
(`spectral.EnergyGrid.for_points`) has

    bins = (max mu - min mu + 80 T_max) 32 / T_min,

which grows with T_max/T_min: for mu over 1 eV and T = 10, 100, 1000 K, 290,000 bins, about 420 MB
of histograms per chunk for the linear DC set (45 tensor components x 4 moments), against 42 MB for
T = 100, 300, 1000 K. The points are therefore grouped by temperature, greedily from the lowest T:
a group takes the next temperature while its own grid keeps at most GROUP_BINS bins. Each group gets
the grid of its own points (width T_min(group)/32, window 40 T_max(group)); for the example above
{10 K} and {100 K, 1000 K}, 69,000 bins in all. The k-work (H(k), one eigh, the band geometry) is
shared by the groups, and so are the pair products and the band quantities that do not depend on the
grid; each group makes its interband sea / near-pair split and its histogram (`GroupedScan`), and its
points are evaluated on its grid by the same quadrature, with the same binning-error bound
(`evaluate_groups`). A scan whose temperatures fit one grid runs as before, ungrouped; so does a scan
with an explicit bin_width (one width for every point).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from qgtransport.engine.spectral import DEFAULT_RESOLUTION, TAILS, EnergyGrid

GROUP_BINS = 1 << 15  # the most bins of one group's grid (a group of one temperature may hold more)


def window_bins(mu_min: float, mu_max: float, T_min: float, T_max: float) -> int:
    """Bins of width T_min/32 over [mu_min - TAILS T_max, mu_max + TAILS T_max], as `EnergyGrid.for_points`
    counts them."""
    lower, upper = mu_min - TAILS * T_max, mu_max + TAILS * T_max
    return int(np.ceil((upper - lower) / (DEFAULT_RESOLUTION * T_min)))


def grid_bins(mu: np.ndarray, T: np.ndarray) -> int:
    """Bins of the default grid of these points: (max mu - min mu + 2 TAILS T_max) / (T_min / 32)."""
    return window_bins(np.min(mu), np.max(mu), np.min(T), np.max(T))


def temperature_groups(mu: np.ndarray, T: np.ndarray, bin_width=None) -> list[np.ndarray]:
    """Indices of the (mu, T) points of each group, the temperatures ascending: a group takes the next
    temperature while its grid keeps at most GROUP_BINS bins (`grid_bins`, from the mu range of the
    group's points). One group with an explicit bin_width or when every T fits. O(points log points)."""
    mu, T = np.asarray(mu, dtype=float), np.asarray(T, dtype=float)
    if bin_width is not None or len(T) == 0 or np.any(T <= 0):
        return [np.arange(len(T))]
    temperatures, inverse = np.unique(T, return_inverse=True)
    lowest = np.full(len(temperatures), np.inf)
    highest = np.full(len(temperatures), -np.inf)
    np.minimum.at(lowest, inverse, mu)
    np.maximum.at(highest, inverse, mu)
    label = np.zeros(len(temperatures), dtype=int)
    start, low, high = 0, lowest[0], highest[0]
    for j in range(1, len(temperatures)):
        low_j, high_j = min(low, lowest[j]), max(high, highest[j])
        if window_bins(low_j, high_j, temperatures[start], temperatures[j]) <= GROUP_BINS:
            low, high = low_j, high_j
        else:
            start, low, high = j, lowest[j], highest[j]
        label[j] = label[j - 1] + (start == j)
    point_label = label[inverse.ravel()]
    order = np.argsort(point_label, kind="stable")
    return np.split(order, np.cumsum(np.bincount(point_label))[:-1])


def group_grids(mu: np.ndarray, T: np.ndarray, bin_width=None) -> list[tuple[np.ndarray, EnergyGrid]]:
    """[(point indices, EnergyGrid of those points)] per temperature group; ValueError (from
    `EnergyGrid.for_points`) when one group's grid is too fine."""
    return [(points, EnergyGrid.for_points(mu[points], T[points], bin_width))
            for points in temperature_groups(mu, T, bin_width)]


def group_request(request, points: np.ndarray):
    """The request restricted to the (mu, T) points of one group."""
    return replace(request, mu=np.asarray(request.mu)[points], T=np.asarray(request.T)[points])


class GroupedScan:
    """GridChunks base of a grouped binned scan: the bases of the groups (one per grid) prepare from
    the same batch of band geometry; finish() prefixes their sums with "group<g>:"."""

    host = False
    eigenvectors = False

    def __init__(self, bases: list):
        self.bases = bases
        self.curvature = bases[0].curvature
        self.order = max(base.order for base in bases)

    def chunk_points(self, norb: int, points: int) -> int:
        """k-points per chunk: the most that any group's base asks for."""
        return max(base.chunk_points(norb, points) for base in self.bases)

    def prepare(self, geo):
        """Each group's band data of the batch; what does not depend on the grid is made once (shared)."""
        shared: dict = {}
        return tuple(base.prepare(geo, shared) for base in self.bases)

    def finish(self, parts) -> dict:
        out = {}
        for g, base in enumerate(self.bases):
            out.update({f"group{g}:{name}": value for name, value in base.finish([p[g] for p in parts]).items()})
        return out


def evaluate_groups(sums: dict, request, groups: list, evaluate) -> tuple[dict, dict]:
    """({quantity: values}, {quantity: bounds}) of a grouped scan: evaluate(sums, request, grid) of each
    group on its own sums and points, put back at the points' places (rows p, or p x omega for the
    frequency-dependent quantities, whose rows are the group's points each repeated over omega)."""
    n_omega = max(1, len(np.atleast_1d(request.omega)))
    values: dict = {}
    bounds: dict = {}
    for g, (points, grid) in enumerate(groups):
        prefix = f"group{g}:"
        part = {name[len(prefix):]: value for name, value in sums.items() if name.startswith(prefix)}
        group_values, group_bounds = evaluate(part, group_request(request, points), grid)
        for out, found in ((values, group_values), (bounds, group_bounds)):
            for name, value in found.items():
                value = np.asarray(value)
                repeat = value.shape[0] // len(points)
                rows = (points[:, None] * repeat + np.arange(repeat)[None, :]).ravel()
                if name not in out:
                    total = len(request.mu) * (n_omega if repeat > 1 else 1)
                    out[name] = np.zeros((total,) + value.shape[1:], dtype=value.dtype)
                out[name][rows] = value
    return values, bounds


__all__ = ["GROUP_BINS", "GroupedScan", "evaluate_groups", "group_grids", "temperature_groups"]
