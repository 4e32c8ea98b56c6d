"""Exact (non-perturbative) solutions of the seed's equation of motion, Eqs. 6 + 10:

    d rho/dt = -i[H(k), rho(k)] + E(t) . grad_k rho(k) - eta (rho(k) - f(H(k))),   eta = 1/tau,

on a uniform k-grid, in the orbital basis, for a field along a reciprocal-lattice direction.
Natural units k_B = e = hbar = 1 in the model's energy and length units; E in energy/(e length)
(E = 1 is 1 V/Angstrom for an eV-Angstrom model, see `field_in_volts_per_meter`). Electrons feel
the force -E; j = Tr[v rho] is the particle current and J = -j the charge current.

The lines along the field, the periodic gauge and the equilibrium data are in
`qgtransport.exact.lines`.

DC steady state (Galerkin in the line Fourier harmonics). With rho~(t) = sum_q rho_q e^{2 pi i q t}
and W(t) = sum_p W_p e^{2 pi i p t} (|p| <= P, p = n . R, exact from H(R)):

    (eta - 2 pi i c q) rho_q + i sum_p [W_p, rho_{q-p}] + i [E . tau, rho_q] = eta f_q,

for |q| <= nk/2 (f_q: FFT of f(W) on the nk points of the line). The matrix is eta + i K with K
Hermitian (a shifted skew-Hermitian system), block-tridiagonal in blocks of P harmonics; it is
solved exactly by block elimination, vectorised over lines. Every Schur complement keeps a
Hermitian part >= eta, so the elimination needs no pivoting and is stable at every field strength,
weak (k-local) or strong (many Bloch oscillations per tau). By default (first_order="analytic")
the first order in E, rho(1) of Eq. 13, is taken exactly at every k and the Galerkin solve gives
the remainder, so that grid errors enter at O(E^2) (see dc_density_matrix).

Observables (density_matrix_observables): j = Tr[v rho], J = -j, s(rho) and phi(rho) =
ln((1 - rho)/rho) from one eigen-decomposition of each rho(k) (eigenvalues clipped), the entropy
current Tr[v s(rho)] (Eq. 5), dS/dt (Eq. 8), Phi and Pi (Eq. 9), and the steady-state identities
Pi = -Phi = J . E/T as checks. Pi evaluated directly is the quantity most sensitive to the grid
(its kernel 1/(f(1 - f)) amplifies grid errors at states far from mu); J . E/T is the robust one.

Accuracy of the k-derivative: the derivative is exact on the kept harmonics; the only error is
the truncation |q| <= nk/2 (and the exponentially small aliasing of f_q), i.e. the size of the
Fourier coefficients of rho(t) at |q| ~ nk/2. For analytic rho these decay as exp(-2 pi d q), d
the distance in t of the nearest singularity, set by T/(|v| |g|), the gap and eta/|E|: the error
falls exponentially with nk (tests/exact/test_exact.py measures the rate).

AC (E(t) = E cos(omega t)): the Floquet harmonics rho~(t) = sum_h rho_h e^{-i h omega t},
|h| <= M, add the index h to the same block-tridiagonal system. Transients: `propagate` integrates
the equation in time with the spectral (FFT) line derivative.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
from scipy.special import entr

from qgtransport.bands.occupation import fermi_divided_difference
from qgtransport.exact.lines import (
    LineSystem,
    harmonic_range,
    lattice_direction,
    line_fourier_coefficients,
    line_samples,
    line_system,
    spectral_line_derivative,
    to_orbital_basis,
)

try:  # many small dense solves: one BLAS thread each is much faster than oversubscribed threads
    from threadpoolctl import threadpool_limits
except ImportError:  # optional; without it BLAS keeps its default thread count
    threadpool_limits = None

BLOCK_BYTES = 128 * 2**20  # bound on the per-chunk arrays of the block elimination
EIGENVALUE_CLIP = np.finfo(float).eps  # eigenvalues of rho are clipped into [eps, 1 - eps]


# ---------------------------------------------------------------------------------------------
# the linear solve: block elimination over line harmonics


def commutator_superoperator(X: np.ndarray) -> np.ndarray:
    """ad_X as a matrix on row-major vec(rho): vec([X, rho]) = (X (x) 1 - 1 (x) X^T) vec(rho)."""
    n = X.shape[-1]
    one = np.eye(n)
    ad = np.einsum("...ik,jl->...ijkl", X, one) - np.einsum("ik,...lj->...ijkl", one, X)
    return ad.reshape(X.shape[:-2] + (n * n, n * n))


def single_blas_thread():
    """Context with one BLAS thread (threadpoolctl, when installed): the block elimination makes
    many small batched products and solves, for which multithreaded BLAS was measured 5-20x slower
    on a loaded 2-core machine (STYLE.md, 'k-space engine')."""
    return threadpool_limits(1, user_api="blas") if threadpool_limits is not None else nullcontext()


def block_tridiagonal_solve(diagonal, lower, upper, rhs) -> np.ndarray:
    """Solve the block-tridiagonal systems of many independent lines by block elimination.

    diagonal(j) -> (L, m, m), the j-th diagonal block; lower, upper : (L, m, m), the blocks coupling
    block j to j - 1 and j + 1 (the same for every j); rhs : (nb, L, m). Returns x : (nb, L, m).
    No pivoting: for matrices eta + i K (K Hermitian) every Schur complement S has Hermitian
    part >= eta, so |S^-1| <= 1/eta.
    """
    nb = rhs.shape[0]
    m = rhs.shape[-1]
    reduced = np.empty((nb,) + upper.shape, dtype=complex)
    d = np.empty(rhs.shape, dtype=complex)
    S = diagonal(0)
    r = rhs[0]
    for j in range(nb):
        if j > 0:
            S = diagonal(j) - lower @ reduced[j - 1]
            r = rhs[j] - (lower @ d[j - 1][..., None])[..., 0]
        solved = np.linalg.solve(S, np.concatenate([upper, r[..., None]], axis=-1))
        reduced[j] = solved[..., :m]
        d[j] = solved[..., m]
    x = np.empty_like(d)
    x[-1] = d[-1]
    for j in range(nb - 2, -1, -1):
        x[j] = d[j] - (reduced[j] @ x[j + 1][..., None])[..., 0]
    return x


def floquet_line_solve(system: LineSystem, strength: float, coupling: np.ndarray, frequencies: np.ndarray,
                       source, block_bytes: int = BLOCK_BYTES) -> np.ndarray:
    """Solve the (DC or AC) Galerkin system in line harmonics q and time harmonics h.

    Unknowns x_{h,q} (periodic gauge), x~(t, s) = sum_{h,q} x_{h,q} e^{-i h omega s} e^{2 pi i q t}:

        (eta - i omega_h) x_{h,q} + i sum_p [W_p, x_{h,q-p}]
            + sum_h' C_hh' (i [E . tau, x_{h',q}] - 2 pi i c q x_{h',q}) = b_{h,q},

    with omega_h = h omega (frequencies) and C the field's time coupling (DC: C = 1; E cos(omega t):
    C_{h,h+-1} = 1/2). source(q) -> b, shape (lines, nq, H, n*n), gives the right-hand side for the
    kept harmonics q. Returns x_h on the grid, (H, lines, N, n, n).
    """
    model = system.model
    n = model.norb
    n2 = n * n
    H = len(frequencies)
    N = system.grid.points
    P = max(1, max(abs(p) for p in system.harmonics))
    q = harmonic_range(N, P)
    nb = len(q) // P
    m = P * H * n2
    c = strength * system.c_per_field
    b_q = source(q)
    field_ad = strength * commutator_superoperator(system.position_energy)
    # q-independent part of K inside a block: time coupling of the field and -h omega
    time_part = np.kron(np.eye(P), np.kron(coupling, field_ad) - np.kron(np.diag(frequencies), np.eye(n2)))
    # q-dependent part: -2 pi c q_r C (x) 1 on sub-block r
    shift_blocks = np.stack([np.kron(np.diag(np.eye(P)[r]), np.kron(coupling, np.eye(n2))) for r in range(P)])
    identity_h = np.eye(H)
    L_total = system.grid.lines
    chunk = max(1, min(L_total, block_bytes // max(1, nb * m * (m + 2) * 16)))
    result = np.empty((L_total, len(q), H, n2), dtype=complex)
    for start in range(0, L_total, chunk):
        lines = slice(start, min(start + chunk, L_total))
        ad = {p: commutator_superoperator(Wp[lines]) for p, Wp in system.harmonics.items()}
        Lc = next(iter(ad.values())).shape[0]
        K_diag = np.zeros((Lc, P, H * n2, P, H * n2), dtype=complex)
        K_low = np.zeros_like(K_diag)
        K_up = np.zeros_like(K_diag)
        for r in range(P):
            for rr in range(P):
                for target, p in ((K_diag, r - rr), (K_low, P + r - rr), (K_up, r - rr - P)):
                    if p in ad:
                        target[:, r, :, rr, :] = np.einsum("hg,lab->lhagb", identity_h, ad[p]).reshape(
                            Lc, H * n2, H * n2)
        base = system.eta * np.eye(m) + 1j * (K_diag.reshape(Lc, m, m) + time_part)
        lower = 1j * K_low.reshape(Lc, m, m)
        upper = 1j * K_up.reshape(Lc, m, m)

        def diagonal(j, base=base):
            shift = np.tensordot(q[j * P:(j + 1) * P], shift_blocks, axes=1)
            return base + (-2j * np.pi * c) * shift

        rhs = b_q[lines].reshape(Lc, nb, m).swapaxes(0, 1)
        x = block_tridiagonal_solve(diagonal, lower, upper, rhs)
        result[lines] = x.swapaxes(0, 1).reshape(Lc, nb * P, H, n2)
    rho = line_samples(result, q, N)  # (L, N, H, n2)
    return np.moveaxis(rho, 2, 0).reshape((H,) + system.W.shape)


def hermitian_part(rho: np.ndarray) -> np.ndarray:
    return 0.5 * (rho + rho.conj().swapaxes(-1, -2))


def first_order_response(system: LineSystem, omega: float = 0.0) -> np.ndarray:
    """rho(1) per unit field at frequency omega (Eq. 13; periodic gauge, (lines, N, n, n)):

        rho(1)_nm = f[e_n, e_m] (g^ . v)_nm / (eta - i omega + i e_nm)   (band basis of W),

    f[e_n, e_m] = (f_n - f_m)/(e_n - e_m) (f' on the diagonal): the exact solution at every k of
    (eta - i omega + i ad_W) rho(1) = g^ . grad_k f - i[g^ . tau, f], the k-derivative of f(H(k))
    taken analytically (Daleckii-Krein), with no grid error.
    """
    U = system.eigenvectors
    Ud = U.conj().swapaxes(-1, -2)
    e = system.energies
    x = (e - system.mu) / system.T
    fermi_dd = fermi_divided_difference(x[..., :, None], x[..., None, :]) / system.T
    v_along = Ud @ np.einsum("a,lkaij->lkij", system.grid.unit, system.velocity) @ U
    propagator = 1.0 / (system.eta - 1j * omega + 1j * (e[..., :, None] - e[..., None, :]))
    return U @ (fermi_dd * v_along * propagator) @ Ud


def field_term_coefficients(system: LineSystem, strength: float, x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Line harmonics of i[E . tau, x] - E . grad x = i[E . tau, x_q] - 2 pi i c q x_q, shape (L, nq, n*n)."""
    n2 = system.model.norb ** 2
    x_q = line_fourier_coefficients(x.reshape(x.shape[:2] + (n2,)), q)
    field_ad = strength * commutator_superoperator(system.position_energy)
    c = strength * system.c_per_field
    return 1j * x_q @ field_ad.T - 2j * np.pi * c * q[None, :, None] * x_q


FIRST_ORDER = ("analytic", "galerkin")


def check_first_order(first_order: str) -> None:
    if first_order not in FIRST_ORDER:
        raise ValueError(f"first_order must be one of {FIRST_ORDER}, got {first_order!r}")


def dc_density_matrix(system: LineSystem, strength: float, first_order: str = "analytic") -> np.ndarray:
    """Exact DC steady state rho~ (periodic gauge, (lines, N, n, n)) for E = strength g/|g|:

        0 = -i[W + E . tau, rho~] + E . grad_k rho~ - eta (rho~ - f(W))   (Eqs. 6 + 10).

    first_order="analytic" (default): rho = f + E rho(1) + R with rho(1) exact at every k
    (first_order_response) and the Galerkin solve for the remainder,
    (eta + i ad_{W + E.tau} - E . grad) R = E^2 (g^ . grad rho(1) - i[g^ . tau, rho(1)]);
    the grid error then enters at O(E^2) only, which keeps the kernel 1/(f(1 - f)) of Pi from
    amplifying it at O(E^2). "galerkin": the whole rho from the Galerkin solve of L rho = eta f.
    Both converge to the same limit with nk.
    """
    check_first_order(first_order)
    one, zero = np.ones((1, 1)), np.zeros(1)
    n2 = system.model.norb ** 2
    if first_order == "galerkin":
        def source(q):
            f_q = line_fourier_coefficients(system.rho_eq.reshape(system.rho_eq.shape[:2] + (n2,)), q)
            return (system.eta * f_q)[:, :, None, :]

        return hermitian_part(floquet_line_solve(system, strength, one, zero, source)[0])
    linear = strength * first_order_response(system)

    def source(q):
        return -field_term_coefficients(system, strength, linear, q)[:, :, None, :]

    remainder = floquet_line_solve(system, strength, one, zero, source)[0]
    return hermitian_part(system.rho_eq + linear + remainder)


def ac_density_matrices(system: LineSystem, strength: float, omega: float, harmonics: int,
                        first_order: str = "analytic") -> np.ndarray:
    """Periodic steady state for E(t) = strength cos(omega t) g/|g|, Floquet harmonics |h| <= M:

        rho~(t) = sum_h rho_h e^{-i h omega t},
        (eta - i h omega) rho_h + i[W, rho_h] + (1/2) sum_{h' = h +- 1} (i[E . tau, rho_h'] - E . grad rho_h')
            = eta delta_h0 f(W).

    Returns rho_h for h = -M..M, shape (2M + 1, lines, N, n, n), periodic gauge; rho_{-h} = rho_h^+.
    omega = 0 gives the adiabatic (quasi-static) limit. first_order as in dc_density_matrix, with
    rho_{+-1} = (E/2) rho(1)(+-omega) taken exactly.
    """
    check_first_order(first_order)
    M = int(harmonics)
    if M < 1:
        raise ValueError(f"harmonics must be >= 1, got {harmonics!r}")
    h = np.arange(-M, M + 1)
    coupling = 0.5 * (np.eye(2 * M + 1, k=1) + np.eye(2 * M + 1, k=-1))
    n2 = system.model.norb ** 2
    known = np.zeros((2 * M + 1,) + system.W.shape, dtype=complex)
    known[M] = system.rho_eq
    if first_order == "analytic":
        known[M + 1] = 0.5 * strength * first_order_response(system, omega)
        known[M - 1] = 0.5 * strength * first_order_response(system, -omega)

        def source(q):
            # rows h' +- 1 of the field term acting on the exact first harmonics h' = +-1
            terms = np.stack([field_term_coefficients(system, strength, known[M + s], q) for s in (-1, 1)],
                             axis=2)
            return -np.einsum("hg,lqgi->lqhi", coupling[:, [M - 1, M + 1]], terms)

    else:
        known[M] = 0

        def source(q):
            f_q = line_fourier_coefficients(system.rho_eq.reshape(system.rho_eq.shape[:2] + (n2,)), q)
            b = np.zeros(f_q.shape[:2] + (2 * M + 1, n2), dtype=complex)
            b[:, :, M] = system.eta * f_q
            return b
    rho = known + floquet_line_solve(system, strength, coupling, h * float(omega), source)
    return 0.5 * (rho + rho[::-1].conj().swapaxes(-1, -2))


# ---------------------------------------------------------------------------------------------
# observables of a density matrix


def matrix_function_of_rho(rho: np.ndarray, function) -> np.ndarray:
    """F(rho) = V F(lambda) V^+ through the eigen-decomposition of each Hermitian rho(k)."""
    w, V = np.linalg.eigh(rho)
    return (V * function(w)[..., None, :]) @ V.conj().swapaxes(-1, -2)


def entropy_of_eigenvalues(w: np.ndarray) -> np.ndarray:
    """s(lambda) = -lambda ln lambda - (1 - lambda) ln(1 - lambda), lambda clipped into [0, 1]."""
    w = np.clip(w, 0.0, 1.0)
    return entr(w) + entr(1.0 - w)


def potential_of_eigenvalues(w: np.ndarray) -> np.ndarray:
    """phi(lambda) = ln((1 - lambda)/lambda), lambda clipped into [eps, 1 - eps] (eps = 2.2e-16).

    rho is known to ~1e-16 absolutely, so eigenvalues beyond the clip are noise; the clip bounds
    |phi| by 36 and changes Pi_k by at most ~36 eps per state.
    """
    w = np.clip(w, EIGENVALUE_CLIP, 1.0 - EIGENVALUE_CLIP)
    return np.log1p(-w) - np.log(w)


def entropy_operator(rho: np.ndarray) -> np.ndarray:
    """s(rho) = -rho ln rho - (1 - rho) ln(1 - rho) (Eq. 1), eigenvalues clipped into [0, 1]."""
    return matrix_function_of_rho(rho, entropy_of_eigenvalues)


def entropy_potential(rho: np.ndarray) -> np.ndarray:
    """phi(rho) = ln((1 - rho)/rho) (Eqs. 7-9), eigenvalues clipped into [eps, 1 - eps]."""
    return matrix_function_of_rho(rho, potential_of_eigenvalues)


def trace_product(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Tr[A B] over the last two axes."""
    return np.einsum("...ij,...ji->...", A, B)


@dataclass(frozen=True)
class Observables:
    """Currents and entropy balance of one density matrix (natural units, per unit volume).

    particle_current : j = int_k Tr[v rho] (dim,); charge_current : J = -j.
    entropy_current : j^s = int_k Tr[v s(rho)] (Eq. 5); entropy : S = int_k Tr[s(rho)] (per volume).
    entropy_change : dS/dt = int_k Tr[phi(rho) D[rho]] (Eq. 8), D[rho] = -eta (rho - rho_eq).
    entropy_flux : Phi = int_k Tr[phi(rho_eq) D[rho]]; entropy_production : Pi = dS/dt - Phi (Eq. 9).
    entropy_production_energy : (eta/T) int_k Tr[(H - mu)(rho - rho_eq)] = -Phi.
    entropy_production_joule : J . E/T (equals Pi in a steady state).
    local_entropy_production_min : min over k of Pi_k (>= 0 up to rounding).
    """

    field: np.ndarray
    particle_current: np.ndarray
    charge_current: np.ndarray
    entropy_current: np.ndarray
    entropy: float
    entropy_change: float
    entropy_flux: float
    entropy_production: float
    entropy_production_energy: float
    entropy_production_joule: float
    local_entropy_production_min: float


def density_matrix_observables(system: LineSystem, rho: np.ndarray, strength: float) -> Observables:
    """Observables of rho~ (periodic gauge) in the field strength g/|g| (Eqs. 1, 5, 8, 9).

    All traces are taken in the periodic gauge, where v~ = D (dH/dk) D^+ and phi(rho_eq) = (W - mu)/T
    exactly (no logarithm of f).
    """
    measure = system.measure
    eta, T = system.eta, system.T
    delta = rho - system.rho_eq
    phi_eq = (system.W - system.mu * np.eye(system.model.norb)) / T
    w, V = np.linalg.eigh(rho)
    Vd = V.conj().swapaxes(-1, -2)
    phi = (V * potential_of_eigenvalues(w)[..., None, :]) @ Vd
    s = (V * entropy_of_eigenvalues(w)[..., None, :]) @ Vd
    particle = measure * np.einsum("lkaij,lkji->a", system.velocity, rho).real
    entropy = measure * np.einsum("lkaij,lkji->a", system.velocity, s).real
    change_k = -eta * trace_product(phi, delta).real
    flux_k = -eta * trace_product(phi_eq, delta).real
    E = strength * system.grid.unit
    return Observables(
        field=E,
        particle_current=particle,
        charge_current=-particle,
        entropy_current=entropy,
        entropy=measure * float(np.trace(s, axis1=-2, axis2=-1).real.sum()),
        entropy_change=measure * change_k.sum(),
        entropy_flux=measure * flux_k.sum(),
        entropy_production=measure * (change_k - flux_k).sum(),
        entropy_production_energy=-measure * flux_k.sum(),
        entropy_production_joule=float(-particle @ E) / T,
        local_entropy_production_min=float(np.min(change_k - flux_k)),
    )


# ---------------------------------------------------------------------------------------------
# public solvers


@dataclass(frozen=True)
class SteadyState:
    """Exact DC steady state: rho (lines, N, n, n) in the basis of model.hamiltonian(k) at
    k = system.grid.k, and its observables."""

    system: LineSystem
    strength: float
    rho: np.ndarray
    observables: Observables


def solve_dc(system: LineSystem, strength: float, first_order: str = "analytic") -> SteadyState:
    """Exact DC steady state for E = strength g/|g| on a prepared LineSystem (see dc_density_matrix)."""
    with single_blas_thread():
        rho = dc_density_matrix(system, strength, first_order)
        return SteadyState(system, float(strength), to_orbital_basis(system, rho),
                           density_matrix_observables(system, rho, strength))


def dc_steady_state(model, E, *, mu: float, T: float, tau: float, nk, shift=0.5, direction=None,
                    first_order: str = "analytic") -> SteadyState:
    """Exact DC steady state of Eqs. 6 + 10 for a Cartesian field E (natural units).

    E must be parallel to a reciprocal-lattice vector g = n . b; for E = 0 give `direction`.
    """
    E = np.asarray(E, dtype=float).reshape(-1)
    if direction is None:
        direction = lattice_direction(model, E)
    system = line_system(model, direction, mu, T, tau, nk, shift)
    strength = float(E @ system.grid.unit)
    if not np.allclose(strength * system.grid.unit, E, atol=1e-12 * (1 + np.linalg.norm(E))):
        raise ValueError(f"E = {E.tolist()} is not parallel to the direction {direction}")
    return solve_dc(system, strength, first_order)


@dataclass(frozen=True)
class PeriodicSteadyState:
    """Periodic steady state for E(t) = strength cos(omega t) g/|g|.

    rho_harmonics : (2M + 1, lines, N, n, n), rho(t) = sum_h rho_h e^{-i h omega t} (h = -M..M), in the
    basis of model.hamiltonian(k). current_harmonics : (M + 1, dim) particle current j_h, h = 0..M
    (j(t) = sum_h j_h e^{-i h omega t}; the linear AC particle conductivity is 2 j_1/E).
    phases : omega t of the samples; observables : per sample. Time averages over one period:
    entropy_production (Pi), entropy_change, entropy_flux, entropy_current (dim,),
    entropy_production_energy = (eta/T) int Tr[(H - mu)(rho_0 - rho_eq)] (= <Pi> exactly),
    entropy_production_joule = <J(t) . E(t)>/T.
    """

    system: LineSystem
    strength: float
    omega: float
    rho_harmonics: np.ndarray
    current_harmonics: np.ndarray
    heat_current_harmonics: np.ndarray
    phases: np.ndarray
    observables: tuple
    entropy_production: float
    entropy_change: float
    entropy_flux: float
    entropy_current: np.ndarray
    entropy_production_energy: float
    entropy_production_joule: float


def solve_ac(system: LineSystem, strength: float, omega: float, harmonics: int = 4,
             phases: int | None = None, first_order: str = "analytic") -> PeriodicSteadyState:
    """Periodic steady state for E(t) = strength cos(omega t) g/|g| and its time averages.

    Time averages are the mean over `phases` equally spaced times in one period (default
    4 (2M + 1)), exact for the Floquet truncation up to harmonics of order `phases`.
    """
    with single_blas_thread():
        return periodic_state(system, strength, omega, int(harmonics), phases, first_order)


def periodic_state(system, strength, omega, M, phases, first_order) -> PeriodicSteadyState:
    """solve_ac without the BLAS thread limit: Floquet solve, then the observables at `phases`
    times of one period (omega t = 2 pi s/phases) and their means."""
    rho_h = ac_density_matrices(system, strength, omega, M, first_order)
    n_phases = 4 * (2 * M + 1) if phases is None else int(phases)
    theta = 2 * np.pi * np.arange(n_phases) / n_phases
    h = np.arange(-M, M + 1)
    samples = []
    for angle in theta:
        rho_t = np.einsum("h,h...->...", np.exp(-1j * h * angle), rho_h)
        samples.append(density_matrix_observables(system, hermitian_part(rho_t), strength * np.cos(angle)))
    measure = system.measure
    currents = measure * np.einsum("lkaij,hlkji->ha", system.velocity, rho_h[M:])
    shifted = system.W - system.mu * np.eye(system.model.norb)
    heat_velocity = 0.5 * (system.velocity @ shifted[:, :, None] + shifted[:, :, None] @ system.velocity)
    heat_currents = measure * np.einsum("lkaij,hlkji->ha", heat_velocity, rho_h[M:])
    flux0 = -system.eta * trace_product((system.W - system.mu * np.eye(system.model.norb)) / system.T,
                                        rho_h[M] - system.rho_eq).real
    return PeriodicSteadyState(
        system=system, strength=float(strength), omega=float(omega),
        rho_harmonics=to_orbital_basis(system, rho_h), current_harmonics=currents,
        heat_current_harmonics=heat_currents,
        phases=theta, observables=tuple(samples),
        entropy_production=float(np.mean([s.entropy_production for s in samples])),
        entropy_change=float(np.mean([s.entropy_change for s in samples])),
        entropy_flux=float(np.mean([s.entropy_flux for s in samples])),
        entropy_current=np.mean([s.entropy_current for s in samples], axis=0),
        entropy_production_energy=-measure * flux0.sum(),
        entropy_production_joule=float(np.mean([s.entropy_production_joule for s in samples])),
    )


def ac_steady_state(model, E, omega: float, *, mu: float, T: float, tau: float, nk, harmonics: int = 4,
                    shift=0.5) -> PeriodicSteadyState:
    """Periodic steady state for E(t) = E cos(omega t), E a Cartesian vector along some g = n . b."""
    direction = lattice_direction(model, E)
    system = line_system(model, direction, mu, T, tau, nk, shift)
    return solve_ac(system, float(np.asarray(E, dtype=float) @ system.grid.unit), omega, harmonics)


# ---------------------------------------------------------------------------------------------
# transients


@dataclass(frozen=True)
class Transient:
    """Real-time evolution from rho(0): times, observables at each time, final rho (orbital basis)."""

    times: np.ndarray
    observables: tuple
    rho_final: np.ndarray

    def series(self, name: str) -> np.ndarray:
        """One observable as an array over time, e.g. series('entropy_production')."""
        return np.array([getattr(o, name) for o in self.observables])


def equation_of_motion(system: LineSystem, rho: np.ndarray, strength: float) -> np.ndarray:
    """d rho~/dt = -i[W + E . tau, rho~] + c d rho~/dt_line - eta (rho~ - f(W)), c = strength/|g|."""
    H = system.W + strength * system.position_energy
    commutator = H @ rho - rho @ H
    drift = strength * system.c_per_field * spectral_line_derivative(rho)
    return -1j * commutator + drift - system.eta * (rho - system.rho_eq)


def propagate(system: LineSystem, field, times, rho0=None, rtol: float = 1e-10, atol: float = 1e-12,
              method: str = "DOP853") -> Transient:
    """Integrate the equation of motion in time (scipy solve_ivp) with E(t) = field(t) g/|g|.

    field : callable t -> strength (natural units); times : increasing output times starting at
    t_0; rho0 : initial rho~ in the periodic gauge (default rho_eq). The line derivative is
    spectral (FFT). Returns the observables at each time (Pi, dS/dt, Phi, currents).
    """
    from scipy.integrate import solve_ivp

    times = np.asarray(times, dtype=float)
    shape = system.W.shape
    y0 = (system.rho_eq if rho0 is None else np.asarray(rho0, dtype=complex)).reshape(-1).astype(complex)

    def rhs(t, y):
        return equation_of_motion(system, y.reshape(shape), float(field(t))).reshape(-1)

    with single_blas_thread():  # the Runge-Kutta stage sums are BLAS products on long vectors
        solution = solve_ivp(rhs, (times[0], times[-1]), y0, method=method, t_eval=times,
                             rtol=rtol, atol=atol)
    if not solution.success:
        raise RuntimeError(f"time integration failed: {solution.message}")
    rhos = solution.y.T.reshape((len(times),) + shape)
    observables = tuple(
        density_matrix_observables(system, hermitian_part(r), float(field(t)))
        for t, r in zip(times, rhos, strict=True)
    )
    return Transient(times, observables, to_orbital_basis(system, hermitian_part(rhos[-1])))
