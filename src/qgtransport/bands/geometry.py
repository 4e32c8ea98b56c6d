"""Band geometry at a batch of k-points, from one eigen-decomposition per k.

Conventions (docs/conventions.md): H(k) u_n = e_n u_n; v^a = dH/dk_a;
v^a_nm = <u_n|v^a|u_m>; e_nm = e_n - e_m;
r^a_nm = <u_n|i d_a u_m> = i v^a_nm / (e_m - e_n) for n != m (interband Berry connection);
g^ab_nm = Re(r^a_nm r^b_mn) (band-resolved quantum metric, Eq. 18);
Omega^ab_nm = -2 Im(r^a_nm r^b_mn) = i(r^a_nm r^b_mn - r^b_nm r^a_mn) (text after Eq. 18);
g^ab_n = sum_{m != n} g^ab_nm, Omega^ab_n = sum_{m != n} Omega^ab_nm (ERRATA E5);
v^ab_n = <u_n| d_a d_b H |u_n> (Eq. 20).

Degenerate and near-degenerate bands: a pair (n, m) with |e_n - e_m| < tol (DEGENERACY_TOL,
in the model's energy unit, default 1e-6) is treated as one degenerate level: its r_nm, g_nm,
Omega_nm are set to 0 (no division by a vanishing gap), and the responses treat the pair as
intraband. Within a degenerate level only sums over the level are gauge invariant; every
response in qgtransport weights a level with one kernel and so is gauge invariant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEGENERACY_TOL = 1e-6


@dataclass(frozen=True)
class BandGeometry:
    """Eigen-decomposition of H(k) and the derivatives of H in the band basis.

    energies : (nk, n); eigenvectors : (nk, norb, n) (columns);
    velocity : (nk, dim, n, n), v^a_nm; curvature : (nk, dim, dim, n, n), <u_n|d_a d_b H|u_m>
    or None when not computed.
    """

    energies: np.ndarray
    eigenvectors: np.ndarray
    velocity: np.ndarray
    curvature: np.ndarray | None = None


def band_geometry(model, k: np.ndarray, order: int = 1, positions: str = "diagonal") -> BandGeometry:
    """Diagonalise H(k) once and rotate dH (and d2H for order 2) into the band basis.

    v^a = U^+ (dH/dk_a) U,  [d_a d_b H]_nm = U^+ (d2H/dk_a dk_b) U.

    positions="full" adds the off-diagonal position matrix of the model (model.connection, A) to the
    velocity, v = dH/dk + i[H, A], i.e. v^a_nm += i (e_n - e_m) (U^+ A^a U)_nm, so that
    r^a_nm = -i v^a_nm/e_nm includes it (Wannier interpolation beyond the tight-binding
    approximation). Not available with order=2.
    """
    if positions not in ("diagonal", "full"):
        raise ValueError(f"positions must be 'diagonal' or 'full', got {positions!r}")
    if positions == "full" and order == 2:
        raise ValueError("positions='full' is not implemented for second-order responses (d2H)")
    if order == 1:
        H, dH = model.hamiltonian(k, order=1)
        d2H = None
    else:
        H, dH, d2H = model.hamiltonian(k, order=2)
    energies, U = np.linalg.eigh(H)
    Ud = np.conj(np.swapaxes(U, -1, -2))[:, None]
    velocity = Ud @ dH @ U[:, None]
    if positions == "full":
        A = Ud @ model.connection(k) @ U[:, None]
        velocity = velocity + 1j * (energies[:, None, :, None] - energies[:, None, None, :]) * A
    curvature = None
    if d2H is not None:
        curvature = Ud[:, None] @ d2H @ U[:, None, None]
    return BandGeometry(energies, U, velocity, curvature)


def energy_differences(energies: np.ndarray) -> np.ndarray:
    """e_nm = e_n - e_m, shape (nk, n, n)."""
    return energies[:, :, None] - energies[:, None, :]


def degenerate(energies: np.ndarray, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """Boolean (nk, n, n): True where |e_n - e_m| < tol (the diagonal included)."""
    return np.abs(energy_differences(energies)) < tol


def inverse_gap(energies: np.ndarray, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """1/e_nm for non-degenerate pairs, 0 for degenerate ones (and the diagonal)."""
    e_nm = energy_differences(energies)
    mask = np.abs(e_nm) < tol
    return np.where(mask, 0.0, 1.0 / np.where(mask, 1.0, e_nm))


def berry_connection(geo: BandGeometry, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """Interband Berry connection r^a_nm = i v^a_nm/(e_m - e_n) = -i v^a_nm/e_nm, (nk, dim, n, n)."""
    return -1j * geo.velocity * inverse_gap(geo.energies, tol)[:, None]


def velocity_products(geo: BandGeometry) -> np.ndarray:
    """P^ab_nm = v^a_nm v^b_mn, shape (nk, n, m, a, b); g^ab_nm e_nm^2 = Re P, Omega e^2 = -2 Im P."""
    v = geo.velocity
    forward = np.moveaxis(v, 1, -1)  # v^a_nm as [k, n, m, a]
    backward = np.moveaxis(np.swapaxes(v, -1, -2), 1, -1)  # v^b_mn as [k, n, m, b]
    return forward[..., :, None] * backward[..., None, :]


def quantum_metric_nm(geo: BandGeometry, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """g^ab_nm = Re(r^a_nm r^b_mn), shape (nk, n, m, a, b) (Eq. 18)."""
    inv2 = inverse_gap(geo.energies, tol) ** 2
    return velocity_products(geo).real * inv2[..., None, None]


def berry_curvature_nm(geo: BandGeometry, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """Omega^ab_nm = -2 Im(r^a_nm r^b_mn), shape (nk, n, m, a, b) (text after Eq. 18)."""
    inv2 = inverse_gap(geo.energies, tol) ** 2
    return -2 * velocity_products(geo).imag * inv2[..., None, None]


def quantum_metric(geo: BandGeometry, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """g^ab_n = sum_{m != n} g^ab_nm, shape (nk, n, a, b)."""
    return quantum_metric_nm(geo, tol).sum(axis=2)


def berry_curvature(geo: BandGeometry, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """Omega^ab_n = sum_{m != n} Omega^ab_nm, shape (nk, n, a, b); in 2D Omega_n = Omega^xy_n."""
    return berry_curvature_nm(geo, tol).sum(axis=2)


def band_velocity(geo: BandGeometry) -> np.ndarray:
    """Group velocity v^a_n = v^a_nn = d e_n/dk_a, shape (nk, n, a)."""
    return np.einsum("kann->kna", geo.velocity).real


def band_curvature(geo: BandGeometry) -> np.ndarray:
    """v^ab_n = <u_n| d_a d_b H |u_n>, shape (nk, n, a, b) (Eq. 20); needs order=2 geometry."""
    if geo.curvature is None:
        raise ValueError("band_curvature needs band_geometry(..., order=2)")
    return np.einsum("kabnn->knab", geo.curvature).real


def velocity_derivative(geo: BandGeometry, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """d_b v^a_n = v^ab_n + 2 sum_m e_nm g^ab_nm (the identity before Eq. 20), shape (nk, n, a, b)."""
    e_nm = energy_differences(geo.energies)
    return band_curvature(geo) + 2 * np.einsum("knm,knmab->knab", e_nm, quantum_metric_nm(geo, tol))
