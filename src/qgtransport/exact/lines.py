"""The k-grid as closed lines along the field, and everything on them that does not depend on the
field strength: the geometry of the lines, the equilibrium data in the periodic gauge, and Fourier
series along a line (the exact solver of `qgtransport.exact.solver` works on these).

Natural units k_B = e = hbar = 1 in the model's energy and length units; E in energy/(e length)
(E = 1 is 1 V/Angstrom for an eV-Angstrom model, see `field_in_volts_per_meter`).

Lines. For E parallel to g = n . b (n integer, b_i the reciprocal vectors), E . grad_k = c d/dt
along the closed lines k(t) = k_0 + t g, t in [0, 1), with c = |E|/|g|; on a uniform grid the
lines are orbits of the grid shift by n and the problem splits into independent lines.

Periodic gauge. H(k) of `TightBinding.hamiltonian` (convention I) is not periodic along a line
when orbitals sit off the origin: H(k + g) = V^+ H(k) V. We solve for rho~ = D rho D^+, D =
diag(exp(i k.tau_m)), which is periodic; it obeys the same equation with
H~ = W(k) + E . tau (W = sum_R exp(ik.R) H(R), tau the Cartesian orbital positions):

    d rho~/dt = -i[W + E . tau, rho~] + E . grad_k rho~ - eta (rho~ - f(W)).

Every output density matrix is transformed back to the basis of `model.hamiltonian(k)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

import numpy as np

from qgtransport.bands.occupation import check_temperature, fermi
from qgtransport.models.tightbinding import ENERGY_UNITS_IN_EV, LENGTH_UNITS_IN_ANGSTROM

MIN_LINE_POINTS = 8
MAX_DIRECTION_INDEX = 12


# ---------------------------------------------------------------------------------------------
# units and validation


def field_in_volts_per_meter(E, energy_unit: str = "eV", length_unit: str = "Angstrom"):
    """Field in V/m from natural units: E_SI = E_nat (energy unit in eV) / (length unit in m).

    For an eV-Angstrom model E_nat = 1 is 1 V/Angstrom = 1e10 V/m.
    """
    if energy_unit not in ENERGY_UNITS_IN_EV:
        raise ValueError(f"energy_unit {energy_unit!r} not in {sorted(ENERGY_UNITS_IN_EV)}")
    if length_unit not in LENGTH_UNITS_IN_ANGSTROM:
        raise ValueError(f"length_unit {length_unit!r} not in {sorted(LENGTH_UNITS_IN_ANGSTROM)}")
    return np.asarray(E) * ENERGY_UNITS_IN_EV[energy_unit] / (LENGTH_UNITS_IN_ANGSTROM[length_unit] * 1e-10)


def check_relaxation_time(tau) -> float:
    """Return tau as a float; raise ValueError unless it is finite and > 0."""
    tau = float(tau)
    if not (np.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be finite and > 0 (hbar/energy), got {tau!r}")
    return tau


def reduced_direction(direction, dim: int) -> tuple[int, ...]:
    """The integer vector n of g = n . b, divided by the gcd of its entries."""
    n = np.asarray(direction)
    if n.shape != (dim,) or not np.allclose(n, np.round(n)) or not np.any(np.round(n) != 0):
        raise ValueError(f"direction must be {dim} integers, not all zero (g = n . b), got {direction!r}")
    n = np.round(n).astype(int)
    common = 0
    for x in n:
        common = gcd(common, int(x))
    return tuple(int(x) // common for x in n)


def lattice_direction(model, E) -> tuple[int, ...]:
    """The integer n with E parallel to g = n . b (same orientation), or ValueError.

    E . a_i / (2 pi) must be proportional to n_i; components up to MAX_DIRECTION_INDEX are tried.
    """
    E = np.asarray(E, dtype=float).reshape(-1)
    if E.shape != (model.dim,) or not np.all(np.isfinite(E)):
        raise ValueError(f"E must be a finite Cartesian vector of length {model.dim}, got {E!r}")
    c = model.lattice @ E / (2 * np.pi)
    if not np.any(c != 0):
        raise ValueError("E = 0 has no direction; give the direction n explicitly")
    c = c / np.max(np.abs(c))
    for multiple in range(1, MAX_DIRECTION_INDEX + 1):
        trial = c * multiple
        if np.allclose(trial, np.round(trial), atol=1e-9 * multiple):
            return reduced_direction(np.round(trial), model.dim)
    raise ValueError(
        f"E = {E.tolist()} is not along a reciprocal-lattice direction g = n . b with integers "
        f"|n_i| <= {MAX_DIRECTION_INDEX} (E . a_i / 2pi = {c.tolist()} up to a factor); the exact solver "
        "needs E parallel to some g"
    )


def field_vector(model, direction, strength: float) -> np.ndarray:
    """Cartesian E = strength g/|g|, g = n . b (natural units)."""
    n = reduced_direction(direction, model.dim)
    g = np.asarray(n) @ model.reciprocal
    return float(strength) * g / np.linalg.norm(g)


# ---------------------------------------------------------------------------------------------
# the grid as lines along the field


@dataclass(frozen=True)
class LineGrid:
    """A uniform grid k = (i + shift)/nk (reduced) ordered as closed lines along g = n . b.

    kappa : (lines, N, dim) reduced k; point j of a line is kappa_0 + j n/N.
    k : (lines, N, dim) Cartesian k.
    nk : points per reciprocal direction; direction : n; g_length : |g|; unit : g/|g|.
    """

    nk: tuple[int, ...]
    direction: tuple[int, ...]
    kappa: np.ndarray
    k: np.ndarray
    g_length: float
    unit: np.ndarray

    @property
    def lines(self) -> int:
        return self.kappa.shape[0]

    @property
    def points(self) -> int:
        """N, the points on one line."""
        return self.kappa.shape[1]


def field_lines(model, direction, nk, shift=0.5) -> LineGrid:
    """Arrange the grid (i + shift)/nk into closed lines along g = n . b.

    The entries of nk along the directions with n_i != 0 must be equal (N, the points per line,
    at least MIN_LINE_POINTS) and some n_p must be coprime to N, so that each line visits N points.
    """
    dim = model.dim
    n = np.array(reduced_direction(direction, dim))
    shape = (int(nk),) * dim if np.isscalar(nk) else tuple(int(x) for x in nk)
    if len(shape) != dim or any(x < 1 for x in shape):
        raise ValueError(f"nk must be a positive int or {dim} positive ints, got {nk!r}")
    along = {shape[i] for i in range(dim) if n[i] != 0}
    if len(along) != 1:
        raise ValueError(
            f"nk must be equal along the directions with n_i != 0 (n = {n.tolist()}), got {shape}")
    N = along.pop()
    if N < MIN_LINE_POINTS:
        raise ValueError(
            f"grid too small: {N} points per line; the spectral solver needs >= {MIN_LINE_POINTS}")
    coprime = [i for i in range(dim) if n[i] != 0 and gcd(int(n[i]), N) == 1]
    if not coprime:
        raise ValueError(
            f"no entry of n = {n.tolist()} is coprime to nk = {N}: lines would not visit every point")
    p = coprime[0]
    coords = np.stack(np.meshgrid(*[np.arange(x) for x in shape], indexing="ij"), axis=-1).reshape(-1, dim)
    starts = coords[coords[:, p] == 0]
    steps = np.arange(N)[None, :, None] * n[None, None, :]
    line_coords = (starts[:, None, :] + steps) % np.array(shape)
    shift = np.broadcast_to(np.asarray(shift, dtype=float), (dim,))
    kappa = (line_coords + shift) / np.array(shape)
    g = n @ model.reciprocal
    g_length = float(np.linalg.norm(g))
    return LineGrid(shape, tuple(int(x) for x in n), kappa, kappa @ model.reciprocal, g_length, g / g_length)


# ---------------------------------------------------------------------------------------------
# equilibrium data on the lines


@dataclass(frozen=True)
class LineSystem:
    """The model, (mu, T, tau) and everything field-independent on the lines (periodic gauge).

    harmonics : {p: (lines, n, n)}, W(t) = sum_p W_p exp(2 pi i p t) on each line (exact).
    position_energy : (n, n), diag(unit . tau_m): the term E . tau per unit field.
    W : (lines, N, n, n) periodic-gauge H; velocity : (lines, N, dim, n, n), D (dH/dk) D^+.
    gauge : (lines, N, n), exp(i k . tau_m); energies, eigenvectors : of W.
    rho_eq : (lines, N, n, n), f(W).
    """

    model: object
    grid: LineGrid
    mu: float
    T: float
    tau: float
    harmonics: dict
    position_energy: np.ndarray
    W: np.ndarray
    velocity: np.ndarray
    gauge: np.ndarray
    energies: np.ndarray
    eigenvectors: np.ndarray
    rho_eq: np.ndarray

    @property
    def eta(self) -> float:
        return 1.0 / self.tau

    @property
    def c_per_field(self) -> float:
        """c/|E| = 1/|g|: E . grad_k = c d/dt along the line."""
        return 1.0 / self.grid.g_length

    @property
    def measure(self) -> float:
        """int_k = measure x sum over the grid: g_s/(N_k V_cell)."""
        return self.model.spin_degeneracy / (self.W.shape[0] * self.W.shape[1] * self.model.cell_volume)


def line_harmonics(model, grid: LineGrid) -> dict:
    """W_p on each line: W(k_0 + t g) = sum_R e^{2 pi i (kappa_0 + t n) . R} H(R) = sum_p W_p e^{2 pi i p t},
    W_p = sum_{R: n . R = p} e^{2 pi i kappa_0 . R} H(R)."""
    n = model.norb
    p_of_R = model.R @ np.array(grid.direction)
    phase = np.exp(2j * np.pi * grid.kappa[:, 0, :] @ model.R.T)  # (lines, nR)
    flat = model.H_R.reshape(len(model.R), n * n)
    return {
        int(p): (phase[:, p_of_R == p] @ flat[p_of_R == p]).reshape(-1, n, n)
        for p in np.unique(p_of_R)
    }


def line_system(model, direction, mu: float, T: float, tau: float, nk, shift=0.5) -> LineSystem:
    """Equilibrium data of a model on the lines along g = n . b (one eigen-decomposition per k)."""
    T = float(check_temperature(T))
    tau = check_relaxation_time(tau)
    mu = float(mu)
    if not np.isfinite(mu):
        raise ValueError(f"mu must be finite, got {mu!r}")
    grid = field_lines(model, direction, nk, shift)
    n = model.norb
    shape = grid.k.shape[:2]
    H, dH = model.hamiltonian(grid.k.reshape(-1, model.dim), order=1)
    tau_cart = model.positions @ model.lattice
    gauge = np.exp(1j * grid.k.reshape(-1, model.dim) @ tau_cart.T)  # (npts, n)
    if np.any(tau_cart != 0):
        H = gauge[:, :, None] * H * gauge.conj()[:, None, :]
        dH = gauge[:, None, :, None] * dH * gauge.conj()[:, None, None, :]
    W, velocity = H, dH
    energies, U = np.linalg.eigh(W)
    occupation = fermi((energies - mu) / T)
    rho_eq = (U * occupation[:, None, :]) @ U.conj().swapaxes(-1, -2)
    return LineSystem(
        model=model, grid=grid, mu=mu, T=T, tau=tau,
        harmonics=line_harmonics(model, grid),
        position_energy=np.diag(tau_cart @ grid.unit).astype(complex),
        W=W.reshape(shape + (n, n)), velocity=velocity.reshape(shape + (model.dim, n, n)),
        gauge=gauge.reshape(shape + (n,)), energies=energies.reshape(shape + (n,)),
        eigenvectors=U.reshape(shape + (n, n)), rho_eq=rho_eq.reshape(shape + (n, n)),
    )


def to_orbital_basis(system: LineSystem, rho_periodic: np.ndarray) -> np.ndarray:
    """rho = D^+ rho~ D: from the periodic gauge to the basis of model.hamiltonian(k)."""
    D = system.gauge
    return D.conj()[..., :, None] * rho_periodic * D[..., None, :]


# ---------------------------------------------------------------------------------------------
# Fourier series along the lines


def harmonic_range(N: int, P: int) -> np.ndarray:
    """Kept line harmonics q = -N//2 ... (a multiple of P of them, at least N//2 on each side)."""
    Q = N // 2
    blocks = -(-(2 * Q + 1) // P)
    return np.arange(-Q, -Q + blocks * P)


def line_fourier_coefficients(values: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Fourier coefficients x_q of samples x(t_j), t_j = j/N (axis 1), for the harmonics q.

    The Nyquist coefficient of an even N is split equally between q = +-N/2; |q| > N/2 get zero.
    """
    N = values.shape[1]
    X = np.fft.fft(values, axis=1) / N
    out = np.take(X, q % N, axis=1)
    if N % 2 == 0:
        out = np.where((np.abs(q) == N // 2).reshape((1, -1) + (1,) * (values.ndim - 2)), out / 2, out)
    return np.where((np.abs(q) > N // 2).reshape((1, -1) + (1,) * (values.ndim - 2)), 0, out)


def line_samples(coefficients: np.ndarray, q: np.ndarray, N: int) -> np.ndarray:
    """x(t_j) = sum_q x_q e^{2 pi i q t_j}, t_j = j/N (axis 1): the exact sum at the grid points."""
    folded = np.zeros((coefficients.shape[0], N) + coefficients.shape[2:], dtype=complex)
    np.add.at(folded, (slice(None), q % N), coefficients)
    return np.fft.ifft(folded, axis=1) * N


def spectral_line_derivative(values: np.ndarray) -> np.ndarray:
    """d/dt along the lines (axis 1, t_j = j/N, period 1) by FFT: multiply x_q by 2 pi i q.

    The Nyquist coefficient of an even N is dropped (the derivative of a real trigonometric
    interpolant); exact for trigonometric polynomials of degree < N/2, exponentially accurate for
    analytic periodic functions.
    """
    N = values.shape[1]
    q = np.fft.fftfreq(N, 1.0 / N)
    if N % 2 == 0:
        q[N // 2] = 0
    factor = (2j * np.pi * q).reshape((1, N) + (1,) * (values.ndim - 2))
    return np.fft.ifft(np.fft.fft(values, axis=1) * factor, axis=1)
