"""Band geometry at a batch of k-points, from one eigen-decomposition per k.

Conventions (docs/conventions.md): H(k) u_n = e_n u_n; v^a = dH/dk_a;
v^a_nm = <u_n|v^a|u_m>; e_nm = e_n - e_m;
r^a_nm = <u_n|i d_a u_m> = i v^a_nm / (e_m - e_n) for n != m (interband Berry connection);
g^ab_nm = Re(r^a_nm r^b_mn) (band-resolved quantum metric, Eq. 18);
Omega^ab_nm = -2 Im(r^a_nm r^b_mn) = i(r^a_nm r^b_mn - r^b_nm r^a_mn) (text after Eq. 18);
g^ab_n = sum_{m != n} g^ab_nm, Omega^ab_n = sum_{m != n} Omega^ab_nm (ERRATA E5);
v^ab_n = <u_n| d_a d_b H |u_n> (Eq. 20).

With the full position matrix (band_geometry(..., positions="full")), r_nm includes the off-diagonal
position elements and Omega_n gains the band-diagonal term X_n of `position_matrix_terms` (WYSV 2006,
Eq. 27 with every term); g_n stays the metric inside the Wannier subspace, a lower bound of the full
metric (the part from bands outside the subspace needs <0 m|r_a r_b|R n>, not known; docs/physics.md).

Degenerate and near-degenerate bands: the levels at a k-point are the groups of bands whose sorted
energies are closer than tol (DEGENERACY_TOL, in the model's energy unit, default 1e-6) to the next
(`level_labels`; a chain of close bands is one level, so "same level" is an equivalence). Pairs in one
level get r_nm = g_nm = Omega_nm = 0 (no division by a vanishing gap) and the responses treat them as
intraband. Within a degenerate level only traces over the level are gauge invariant (the
eigenvectors LAPACK returns there are arbitrary): where a response multiplies two band quantities
(v_n Omega_n, v_n d_b v_n) it uses the level matrices instead, `level_velocity`,
`level_berry_curvature` (non-Abelian) and `level_mass`, and their trace over the level.
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
    or None when not computed; position_curvature : (nk, n, dim, dim), the band-diagonal Berry
    curvature term of the position matrix (`position_matrix_terms`), None without positions="full".
    """

    energies: np.ndarray
    eigenvectors: np.ndarray
    velocity: np.ndarray
    curvature: np.ndarray | None = None
    position_curvature: np.ndarray | None = None


def band_geometry(model, k: np.ndarray, order: int = 1, positions: str = "diagonal") -> BandGeometry:
    """Diagonalise H(k) once and rotate dH (and d2H for order 2) into the band basis.

    v^a = U^+ (dH/dk_a) U,  [d_a d_b H]_nm = U^+ (d2H/dk_a dk_b) U.

    positions="full" adds the off-diagonal position matrix of the model (model.connection, A) to the
    velocity, v = dH/dk + i[H, A], i.e. v^a_nm += i (e_n - e_m) (U^+ A^a U)_nm, so that
    r^a_nm = -i v^a_nm/e_nm includes it, and sets position_curvature, the band-diagonal Berry
    curvature term X_n (`position_matrix_terms`): Wannier interpolation beyond the tight-binding
    approximation (WYSV 2006). Not available with order=2.
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
    position_curvature = None
    if positions == "full":
        velocity, position_curvature = position_matrix_terms(model, k, energies, U, velocity)
    curvature = None
    if d2H is not None:
        curvature = Ud[:, None] @ d2H @ U[:, None, None]
    return BandGeometry(energies, U, velocity, curvature, position_curvature)


def position_matrix_terms(model, k: np.ndarray, energies: np.ndarray, U: np.ndarray, velocity: np.ndarray):
    """(velocity, position_curvature) of the full position matrix (Wannier interpolation, Wang, Yates,
    Souza, Vanderbilt, PRB 74, 195118 (2006), "WYSV", Eqs. 21-32), in our Fourier convention.

    With A and F^ab = d_a A^b - d_b A^a from model.connection_and_curl(k) (orbital basis) and the
    band-basis connection Abar^a = U^+ A^a U:

        v^a_nm = (U^+ d_a H U)_nm + i (e_n - e_m) Abar^a_nm,
        X^ab_n = [U^+ (F^ab - i[A^a, A^b]) U]_nn = (U^+ F^ab U)_nn + 2 Im sum_m Abar^a_nm Abar^b_mn.

    The interband connection r_nm = -i v_nm/e_nm = Abar_nm + i D_nm (D_nm = (U^+ dH U)_nm/(e_m - e_n):
    WYSV Eq. 25) then gives the pair sum sum_{m not in level(n)} -2 Im(r^a_nm r^b_mn) = the D-D and
    D-Abar terms of WYSV Eq. 27 plus -2 Im sum_{m not in level} Abar^a_nm Abar^b_mn; X_n adds
    Omegabar_nn and removes that Abar-Abar sum for m outside the level, so

        Omega^ab_n = sum_{m not in level(n)} Omega^ab_nm + X^ab_n
                   = Omegabar^ab_nn - [D^a, Abar^b]_nn + [D^b, Abar^a]_nn - i[D^a, D^b]_nn  (m outside the level)
                     - i sum_{m in level(n)} (Abar^a_nm Abar^b_mn - Abar^b_nm Abar^a_mn),

    WYSV Eq. 27 per band. The last line (inside a degenerate level) has zero trace over the level, so
    level sums of Omega_n, the only gauge-invariant ones, are WYSV's. X_n is a band-diagonal (per
    band, not pair) quantity: the responses weight it with f_n, s_n as the rest of Omega_n.
    """
    A_basis, F = model.connection_and_curl(k)
    A = np.conj(np.swapaxes(U, -1, -2))[:, None] @ A_basis @ U[:, None]
    velocity = velocity + 1j * (energies[:, None, :, None] - energies[:, None, None, :]) * A
    dim = A.shape[1]
    X = np.zeros(energies.shape + (dim, dim))
    for (a, b), F_ab in F.items():
        curl = (np.conj(U) * (F_ab @ U)).sum(axis=1).real  # (U^+ F^ab U)_nn
        commutator = 2 * (A[:, a] * np.swapaxes(A[:, b], -1, -2)).sum(axis=-1).imag  # 2 Im (Abar^a Abar^b)_nn
        X[:, :, a, b], X[:, :, b, a] = curl + commutator, -(curl + commutator)
    return velocity, X


def energy_differences(energies: np.ndarray) -> np.ndarray:
    """e_nm = e_n - e_m, shape (nk, n, n)."""
    return energies[:, :, None] - energies[:, None, :]


def level_labels(energies, tol: float = DEGENERACY_TOL, xp=np):
    """(..., n) integer label of the degenerate level of each band: bands are sorted by energy and a
    new level starts wherever the gap to the previous band is >= tol (a chain of bands closer than tol
    is one level). xp: numpy or a numpy-like array module (CuPy)."""
    order = xp.argsort(energies, axis=-1)
    ordered = xp.take_along_axis(energies, order, axis=-1)
    starts = xp.diff(ordered, axis=-1) >= tol
    first = xp.zeros(energies.shape[:-1] + (1,), dtype=int)
    sorted_labels = xp.concatenate([first, xp.cumsum(starts, axis=-1, dtype=int)], axis=-1)
    return xp.take_along_axis(sorted_labels, xp.argsort(order, axis=-1), axis=-1)


def degenerate(energies: np.ndarray, tol: float = DEGENERACY_TOL, xp=np) -> np.ndarray:
    """Boolean (..., n, n) of energies (..., n): True where bands n and m are in one degenerate level
    (`level_labels`; the diagonal included)."""
    labels = level_labels(energies, tol, xp)
    return labels[..., :, None] == labels[..., None, :]


def inverse_gap(energies: np.ndarray, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """1/e_nm for pairs in different levels, 0 within a level (and on the diagonal)."""
    e_nm = energy_differences(energies)
    mask = degenerate(energies, tol)
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
    """g^ab_n = sum_{m != n} g^ab_nm, shape (nk, n, a, b). With the full position matrix this is the metric
    inside the Wannier subspace (m over the Wannier bands, r = Abar + iD): the full metric minus the
    positive semi-definite part Re<d_a u_n|Q|d_b u_n> of the bands outside, which needs <0 m|r_a r_b|R n>."""
    return quantum_metric_nm(geo, tol).sum(axis=2)


def berry_curvature(geo: BandGeometry, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """Omega^ab_n = sum_{m != n} Omega^ab_nm (+ X^ab_n with the full position matrix,
    `position_matrix_terms`), shape (nk, n, a, b); in 2D Omega_n = Omega^xy_n."""
    omega = berry_curvature_nm(geo, tol).sum(axis=2)
    return omega if geo.position_curvature is None else omega + geo.position_curvature


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


def level_velocity(geo: BandGeometry, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """The velocity matrix inside the levels, v^a_nm for n, m in one level and 0 otherwise,
    (nk, dim, n, n). Its diagonal is the group velocity; within a degenerate level it is a Hermitian
    matrix (proportional to the identity only where the level stays degenerate around k)."""
    return geo.velocity * degenerate(geo.energies, tol)[:, None]


def level_pairs(energies: np.ndarray, tol: float = DEGENERACY_TOL) -> tuple:
    """Index arrays (k, n, l) of the pairs of bands in one level (`degenerate`; the diagonal included),
    grouped by (k, n) in increasing order: about nk * n pairs, since most levels are single bands."""
    return np.nonzero(degenerate(energies, tol))


def level_triples(energies: np.ndarray, tol: float = DEGENERACY_TOL) -> tuple:
    """Index arrays (k, n, m, l) of the triples of bands in one level (size^3 per level), from the pairs:
    each pair (k, n, m) is repeated once for every l in the level of n."""
    k, n, m = level_pairs(energies, tol)
    size = degenerate(energies, tol).sum(axis=-1)[k, n]  # size of the level of each pair's n
    first = np.flatnonzero(np.concatenate([[True], (k[1:] != k[:-1]) | (n[1:] != n[:-1])]))  # group starts
    group = np.repeat(first, size[first])  # start of the (k, n) group of each pair
    pair = np.repeat(np.arange(len(k)), size)
    within = np.arange(len(pair)) - np.repeat(np.cumsum(size) - size, size)
    return k[pair], n[pair], m[pair], m[group[pair] + within]


def level_berry_curvature_pairs(geo: BandGeometry, pairs: tuple, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """`level_berry_curvature` at the pairs (k, n, l) of `level_pairs` only, shape (q, a, b):
    Omega^ab_nl = i sum_m (r^a_nm r^b_ml - r^b_nm r^a_ml), O(n) per pair and component."""
    k, n, l = pairs
    r = berry_connection(geo, tol)  # (k, a, n, m)
    product = r[k, :, n, :] @ np.swapaxes(r[k, :, :, l], -1, -2)  # sum_m r^a_nm r^b_ml, (q, a, b)
    return 1j * (product - np.swapaxes(product, -1, -2))


def level_mass_pairs(geo: BandGeometry, pairs: tuple, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """`level_mass` at the pairs (k, n, l) of `level_pairs` only, shape (q, a, b):
    M^ab_nl = <u_n|d_a d_b H|u_l> + (1/2) sum_m (v^a_nm v^b_ml + v^b_nm v^a_ml)(1/e_nm + 1/e_lm)."""
    if geo.curvature is None:
        raise ValueError("level_mass needs band_geometry(..., order=2)")
    k, n, l = pairs
    v = geo.velocity
    inverse = inverse_gap(geo.energies, tol)  # (k, n, m), 0 within a level
    weight = inverse[k, n] + inverse[k, l]  # (q, m)
    half = (v[k, :, n, :] * weight[:, None, :]) @ np.swapaxes(v[k, :, :, l], -1, -2)  # (q, a, b)
    return geo.curvature[k, :, :, n, l] + (half + np.swapaxes(half, -1, -2)) / 2


def level_matrix(values: np.ndarray, pairs: tuple, shape: tuple) -> np.ndarray:
    """The (nk, n, n, a, b) matrix with the pair values (q, a, b) at the pairs of `level_pairs`, 0 elsewhere."""
    out = np.zeros(shape + values.shape[1:], dtype=values.dtype)
    out[pairs] = values
    return out


def level_berry_curvature(geo: BandGeometry, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """Non-Abelian Berry curvature of the levels, (nk, n, n', a, b), zero unless n, n' are in one level:

        Omega^ab_nn' = i sum_{m not in the level} (r^a_nm r^b_mn' - r^b_nm r^a_mn'),

    r^a_nm = -i v^a_nm/e_nm. Hermitian in (n, n'); its diagonal is Omega^ab_n and its trace over a
    level the level's (gauge-invariant) Berry curvature; it transforms as W^+ Omega W under a unitary
    W within the level. Computed at the pairs of `level_pairs` only (`level_berry_curvature_pairs`)."""
    pairs = level_pairs(geo.energies, tol)
    n = geo.energies.shape[-1]
    return level_matrix(level_berry_curvature_pairs(geo, pairs, tol), pairs, (len(geo.energies), n, n))


def level_mass(geo: BandGeometry, tol: float = DEGENERACY_TOL) -> np.ndarray:
    """Inverse-mass matrix of the levels, (nk, n, n', a, b), zero unless n, n' are in one level:

        M^ab_nn' = <u_n|d_a d_b H|u_n'> + (1/2) sum_{m not in the level} (v^a_nm v^b_mn' + v^b_nm v^a_mn')
                                                                       (1/e_nm + 1/e_n'm),

    the second derivative of the level's effective Hamiltonian (second-order quasi-degenerate
    perturbation theory). Hermitian; its diagonal is d_b v^a_n for a non-degenerate band
    (`velocity_derivative`), its trace over a level the level's gauge-invariant sum. Computed at the
    pairs of `level_pairs` only (`level_mass_pairs`)."""
    pairs = level_pairs(geo.energies, tol)
    n = geo.energies.shape[-1]
    return level_matrix(level_mass_pairs(geo, pairs, tol), pairs, (len(geo.energies), n, n))
