"""How far a model breaks the operations of a group.

For each operation g = (R, theta) and random k (not on any grid):

    energy violation     max_n |e_n(k) - e_n(g k)|                             (eV)
    curvature violation  max |W(g k) - D(g) W(k)| / max |W|,  W^ab(k) = sum_n w(e_n) Omega^ab_n(k)

with w a smooth occupation (Fermi functions at a few mu across the bands, width a twentieth of the
band width), so that W is gauge invariant and defined at degeneracies; D(g) W = R W R^T, and -W^T
(= W^T with the antisymmetric W... Omega is odd) under time reversal. Energies alone cannot see a
broken time reversal in a model whose bands are even in k (a Chern insulator): the curvature can.
An operation is respected when both are below the tolerances; the respected operations form the
largest subgroup the model respects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qgtransport.bands.geometry import band_geometry, berry_curvature
from qgtransport.bands.occupation import fermi
from qgtransport.symmetry.group import Group, SymmetryError, close
from qgtransport.symmetry.kpoints import cartesian_block

ENERGY_TOL = 1e-5  # eV (model energy unit): a declared operation broken by more is refused by compute
CURVATURE_TOL = 2e-2  # relative (tight-binding positions off the atoms break it at ~1e-2: Te 6e-3)
SAMPLES = 24
REQUIRE_SAMPLES = 8  # compute's check before a symmetric run (a fixed cost: 8 (|G| + 1) k-points)


@dataclass(frozen=True)
class SymmetryCheck:
    """Per operation of `group`: energy (model energy unit) and relative curvature violations;
    `respected` the largest subgroup respected to the tolerances."""

    group: Group
    energy: np.ndarray
    curvature: np.ndarray
    energy_tol: float
    curvature_tol: float
    respected: Group

    @property
    def broken(self) -> list[str]:
        return [self.group.names[i] for i in np.nonzero(~self.passes)[0]]

    @property
    def passes(self) -> np.ndarray:
        return (self.energy <= self.energy_tol) & (self.curvature <= self.curvature_tol)

    def rows(self) -> list[dict]:
        return [{"operation": name, "energy": float(e), "curvature": float(c), "respected": bool(ok)}
                for name, e, c, ok in zip(self.group.names, self.energy, self.curvature, self.passes, strict=True)]

    def message(self, unit: str = "eV") -> str:
        """One line per broken operation, for errors."""
        return "; ".join(f"{r['operation']} (bands differ by {r['energy']:.3g} {unit}, Berry curvature by "
                         f"{r['curvature']:.3g} relative)" for r in self.rows() if not r["respected"])


def weighted_curvature(model, k_cart: np.ndarray, mus: np.ndarray, width: float) -> np.ndarray:
    """W (k, p, a, b) = sum_n fermi((e_n - mu_p)/width) Omega^ab_n(k), and the energies (k, n)."""
    geo = band_geometry(model, k_cart)
    omega = berry_curvature(geo)
    weights = fermi((geo.energies[:, None, :] - mus[None, :, None]) / width)
    return np.einsum("kpn,knab->kpab", weights, omega), geo.energies


def check_group(model, group: Group, samples: int = SAMPLES, seed: int = 0, energy_tol: float = ENERGY_TOL,
          curvature_tol: float = CURVATURE_TOL) -> SymmetryCheck:
    """How far the model breaks each operation of the group (module docstring)."""
    R = cartesian_block(group, model.dim)
    rng = np.random.default_rng(seed)
    k = model.to_cartesian(rng.random((samples, model.dim)))
    W, e = weighted_curvature(model, k, np.zeros(1), 1.0)
    low, high = float(e.min()), float(e.max())
    width = max(high - low, 1e-6) / 20
    mus = np.linspace(low, high, 7)[1:-1]
    W, e = weighted_curvature(model, k, mus, width)
    scale = max(float(np.abs(W).max()), 1e-300)
    energy, curvature = np.zeros(group.order), np.zeros(group.order)
    for g in range(group.order):
        sign = -1.0 if group.time_reversal[g] else 1.0
        W_g, e_g = weighted_curvature(model, sign * k @ R[g].T, mus, width)
        expected = np.einsum("ai,kpij,bj->kpab", R[g], W, R[g])
        if group.time_reversal[g]:
            expected = np.swapaxes(expected, -1, -2)
        energy[g] = float(np.abs(e_g - e).max())
        curvature[g] = float(np.abs(W_g - expected).max()) / scale
    passes = (energy <= energy_tol) & (curvature <= curvature_tol)
    respected = close([(group.rotations[i], bool(group.time_reversal[i])) for i in np.nonzero(passes)[0]],
                      [group.names[i] for i in np.nonzero(passes)[0]] or ["E"])
    return SymmetryCheck(group, energy, curvature, energy_tol, curvature_tol, respected)


def require_group(model, group: Group, energy_tol: float = ENERGY_TOL, curvature_tol: float = CURVATURE_TOL,
                  samples: int = REQUIRE_SAMPLES) -> SymmetryCheck:
    """check_group(), raising a SymmetryError that names every broken operation and its violation."""
    result = check_group(model, group, samples=samples, energy_tol=energy_tol, curvature_tol=curvature_tol)
    if result.broken:
        raise SymmetryError(
            f"the model breaks the symmetry it was given: {result.message(model.energy_unit)} (tolerances "
            f"{energy_tol:g} {model.energy_unit}, {curvature_tol:g} relative); drop these operations, or pass "
            "symmetry_force=True to symmetrise anyway (the results are then those of the symmetrised model)")
    return result
