"""Order-by-order coefficients of the exact steady state, and where perturbation theory fails.

Two independent routes to the coefficients of E, E^2, E^3 (field E = |E| g/|g|, natural units):

(a) The exact perturbative recursion on the same grid and with the same operator as the solver
    (`density_matrix_orders`), in the periodic gauge of qgtransport.exact:

        (eta + i ad_W) rho(i) = c d rho(i-1)/dt_line - i [g^ . tau, rho(i-1)],   rho(0) = f(W),

    per unit field (c = 1/|g|), the line derivative spectral (FFT) except for rho(1), whose source
    d f(H(k))/dk is known in closed form (first_derivative="analytic"). Observables follow from the
    Frechet (Daleckii-Krein) expansion of s(rho) and phi(rho) = ln((1 - rho)/rho) in the band basis:

        D phi[X]_nm = phi[f_n, f_m] X_nm,   (1/2) D^2 phi[X, X]_nm = sum_l phi[f_n, f_l, f_m] X_nl X_lm,

    with divided differences phi[., .], phi[., ., .] (ERRATA E1: the kernel of Pi(2) is
    K_nm = -phi[f_n, f_m] = (phi(f_m) - phi(f_n))/(f_n - f_m), not 1/(f_n (1 - f_n))):

        Pi(2) = eta sum_nm int K_nm |rho(1)_nm|^2,
        Pi(3) = -eta int [2 sum_nm phi[f_n, f_m] Re(rho(1)_nm rho(2)_mn)
                          + sum_nlm phi[f_n, f_l, f_m] rho(1)_nl rho(1)_lm rho(1)_mn].

(b) Polynomial interpolation of the exact solver at the fields 0, +-h, ..., +-P h
    (`fitted_coefficients`), with the change from P - 1 to P pairs as the stated error.

Numerical conditioning. Pi of Eq. 9 evaluated directly, -eta Tr[(phi(rho) - phi(rho_eq))(rho - rho_eq)],
weights an error delta of rho at a state of occupation f by ~ delta^2/(f(1 - f)): the solver's
grid (Fourier-truncation) error, spread along a line, is amplified by up to exp(max|e - mu|/T).
The first order is therefore taken analytically (exact at every k) both in the recursion and in
the solver (first_order="analytic"), so that grid errors enter the direct Pi at O(E^4) only, and
the steady-state identity Pi = J . E/T (linear in rho, not amplified) is reported beside it. On an
under-resolved grid (T small against the band velocity times the grid step) the direct Pi is the
first quantity to go wrong; the currents and J . E/T converge fastest.

The steady-state identity Pi = J . E/T gives a third value: Pi(i+1) = -g^ . j(i)/T.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qgtransport.bands import occupation
from qgtransport.bands.geometry import DEGENERACY_TOL, degenerate
from qgtransport.exact.lines import LineSystem, field_in_volts_per_meter, line_system, spectral_line_derivative
from qgtransport.exact.solver import solve_dc

CONFLUENCE = 1e-4  # |x_a - x_c| below which a second divided difference uses its Taylor value


# ---------------------------------------------------------------------------------------------
# divided differences of phi(f) and s(f), as functions of x = (e - mu)/T


def phi_divided_difference(x_a, x_b) -> np.ndarray:
    """phi[f_a, f_b] = (phi(f_a) - phi(f_b))/(f_a - f_b) = (x_a - x_b)/(f_a - f_b) = 1/f[x_a, x_b]
    (phi'(f) = -1/(f(1 - f)) at x_a = x_b). Always < 0."""
    return 1.0 / occupation.fermi_divided_difference(x_a, x_b)


def entropy_divided_difference_in_f(x_a, x_b) -> np.ndarray:
    """s[f_a, f_b] = (s(f_a) - s(f_b))/(f_a - f_b) (= s'(f) = phi(f) = x at x_a = x_b)."""
    return occupation.entropy_divided_difference(x_a, x_b) / occupation.fermi_divided_difference(x_a, x_b)


def phi_second_derivative(x) -> np.ndarray:
    """phi''(f) = (1 - 2f)/(f(1 - f))^2 = tanh(x/2) exp(-2 ln(f(1 - f)))."""
    return np.tanh(np.asarray(x) / 2) * np.exp(-2 * occupation.log_fermi_variance(x))


def entropy_second_derivative(x) -> np.ndarray:
    """s''(f) = phi'(f) = -1/(f(1 - f))."""
    return -np.exp(-occupation.log_fermi_variance(x))


def second_divided_difference(first, second_derivative, x_a, x_b, x_c) -> np.ndarray:
    """h[f_a, f_b, f_c] = (h[f_b, f_c] - h[f_a, f_b])/(f_c - f_a) with x_a <= x_b <= x_c after sorting.

    first(x, y) = h[f(x), f(y)]; second_derivative(x) = h''(f(x)). When the outer points are within
    CONFLUENCE, h''(f(xbar))/2 at the mean xbar (error O(CONFLUENCE^2)).
    """
    xs = np.sort(np.stack(np.broadcast_arrays(x_a, x_b, x_c)), axis=0)
    lo, mid, hi = xs
    spread = hi - lo
    confluent = spread < CONFLUENCE
    safe_hi = np.where(confluent, lo + 1.0, hi)
    safe_mid = np.where(confluent, lo + 0.5, mid)
    df = occupation.fermi_divided_difference(lo, safe_hi) * (safe_hi - lo)
    general = (first(safe_mid, safe_hi) - first(lo, safe_mid)) / df
    return np.where(confluent, 0.5 * second_derivative(xs.mean(axis=0)), general)


# ---------------------------------------------------------------------------------------------
# route (a): the perturbative recursion


@dataclass(frozen=True)
class BandOrders:
    """rho(i) per unit field in the band basis of W (i = 0..order), with the band data.

    orders : (order + 1, lines, N, n, n); x : (lines, N, n) = (e - mu)/T; energies : (lines, N, n);
    velocity : (lines, N, dim, n, n) in the band basis.
    """

    orders: np.ndarray
    x: np.ndarray
    energies: np.ndarray
    velocity: np.ndarray


def density_matrix_orders(system: LineSystem, order: int = 3,
                          first_derivative: str = "analytic", eta=None) -> BandOrders:
    """rho(i) per unit field from the recursion (eta + i ad_W) rho(i) = c d_t rho(i-1) - i[g^.tau, rho(i-1)].

    The resolvent is applied in the band basis: rho(i)_nm = Y_nm/(eta + i e_nm). The source of rho(1)
    is the k-derivative of the known function f(H(k)): with first_derivative="analytic" (default) it
    is taken exactly by the Daleckii-Krein formula, Y_nm = f[e_n, e_m] (g^ . v)_nm, so rho(1) has no
    grid error (this is Eq. 13 at omega = 0); with "spectral" by FFT like every later order. The
    entropy-production kernel 1/(f(1 - f)) multiplies |rho(1)|^2 and would amplify the spectral
    truncation error where f(1 - f) is small. eta: the relaxation rate of the resolvent (default
    1/tau of the system; a complex value continues the orders analytically in eta).
    """
    eta = system.eta if eta is None else eta
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order!r}")
    if first_derivative not in ("analytic", "spectral"):
        raise ValueError(f"first_derivative must be 'analytic' or 'spectral', got {first_derivative!r}")
    U = system.eigenvectors
    Ud = U.conj().swapaxes(-1, -2)
    e = system.energies
    resolvent = 1.0 / (eta + 1j * (e[..., :, None] - e[..., None, :]))
    x = (e - system.mu) / system.T
    velocity = Ud[:, :, None] @ system.velocity @ U[:, :, None]
    band = [np.zeros_like(system.W)]
    band[0][..., np.arange(e.shape[-1]), np.arange(e.shape[-1])] = occupation.fermi(x)
    rho = system.rho_eq
    tau_term = system.position_energy
    for i in range(1, order + 1):
        if i == 1 and first_derivative == "analytic":
            fermi_dd = occupation.fermi_divided_difference(x[..., :, None], x[..., None, :]) / system.T
            source_band = fermi_dd * np.einsum("a,lkanm->lknm", system.grid.unit, velocity)
        else:
            commutator = tau_term @ rho - rho @ tau_term
            source = system.c_per_field * spectral_line_derivative(rho) - 1j * commutator
            source_band = Ud @ source @ U
        band.append(resolvent * source_band)
        rho = U @ band[-1] @ Ud
    return BandOrders(np.stack(band), x, e, velocity)


@dataclass(frozen=True)
class ExpansionCoefficients:
    """Coefficients of E^i (E = |E| along g/|g|; natural units), index i of each array.

    particle_current : (order + 1, dim), j(i) = int Tr[v rho(i)]; charge current J(i) = -j(i).
    entropy_current : (3, dim), int Tr[v s(i)] from the Frechet expansion of s(rho) to 2nd order
        (NaN for i = 2 if order < 2).
    entropy_production : (4,), Pi(2) (divided-difference kernel) and Pi(3) (NaN if order < 2).
    entropy_production_drude, entropy_production_interband : (4,), Pi(2) split into the pairs within
        one level and between levels.
    entropy_production_printed_kernel : (4,), Pi(2) with the kernel 1/(tau f_n (1 - f_n)) of Eq. 18
        applied to the same rho(1) (wrong, ERRATA E1; for comparison).
    entropy_production_joule : (order + 2,), Pi(i+1) = -g^ . j(i)/T (steady-state identity).
    """

    direction: tuple
    particle_current: np.ndarray
    entropy_current: np.ndarray
    entropy_production: np.ndarray
    entropy_production_drude: np.ndarray
    entropy_production_interband: np.ndarray
    entropy_production_printed_kernel: np.ndarray
    entropy_production_joule: np.ndarray


def band_trace(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """sum over the grid of Tr[A B]; A may carry a Cartesian axis before the matrix axes."""
    if A.ndim == B.ndim + 1:
        return np.einsum("lkaij,lkji->a", A, B)
    return np.einsum("lkij,lkji->", A, B)


def entropy_production_second_order(orders: BandOrders, eta: float, tol: float = DEGENERACY_TOL):
    """Pi(2) = eta sum_nm int K_nm |rho(1)_nm|^2 with K_nm = -phi[f_n, f_m]; returns the sums
    (total, within levels, between levels, printed kernel 1/(f_n (1 - f_n))) over the grid."""
    x_n, x_m = orders.x[..., :, None], orders.x[..., None, :]
    weight = np.abs(orders.orders[1]) ** 2
    K = -phi_divided_difference(x_n, x_m)
    e = orders.energies
    same = degenerate(e, tol)
    drude = eta * np.sum(np.where(same, K * weight, 0.0))
    inter = eta * np.sum(np.where(same, 0.0, K * weight))
    printed = eta * np.sum(np.exp(-occupation.log_fermi_variance(x_n)) * weight)
    return drude + inter, drude, inter, printed


def entropy_production_third_order(orders: BandOrders, eta: float) -> float:
    """Pi(3) = -eta sum [2 phi[f_n, f_m] Re(rho1_nm rho2_mn) + phi[f_n, f_l, f_m] rho1_nl rho1_lm rho1_mn]."""
    x = orders.x
    X1, X2 = orders.orders[1], orders.orders[2]
    first = phi_divided_difference(x[..., :, None], x[..., None, :])
    second = second_divided_difference(
        phi_divided_difference, phi_second_derivative, x[..., :, None, None], x[..., None, :, None],
        x[..., None, None, :])
    linear = 2 * np.sum(first * (X1 * X2.swapaxes(-1, -2)).real)
    cubic = np.einsum("lknpm,lknp,lkpm,lkmn->", second, X1, X1, X1).real
    return -eta * (linear + cubic)


def entropy_operator_orders(orders: BandOrders) -> list:
    """Frechet orders of s(rho) (band basis):

        s(1)_nm = s[f_n, f_m] rho(1)_nm,
        s(2)_nm = s[f_n, f_m] rho(2)_nm + sum_l s[f_n, f_l, f_m] rho(1)_nl rho(1)_lm.
    """
    x = orders.x
    first = entropy_divided_difference_in_f(x[..., :, None], x[..., None, :])
    s1 = first * orders.orders[1]
    if len(orders.orders) < 3:
        return [s1]
    second = second_divided_difference(
        entropy_divided_difference_in_f, entropy_second_derivative, x[..., :, None, None],
        x[..., None, :, None], x[..., None, None, :])
    X1 = orders.orders[1]
    s2 = first * orders.orders[2] + np.einsum("lknpm,lknp,lkpm->lknm", second, X1, X1)
    return [s1, s2]


def perturbative_coefficients(system: LineSystem, order: int = 3,
                              first_derivative: str = "analytic") -> ExpansionCoefficients:
    """Coefficients of E^i of the currents and of Pi from the recursion (route a), per unit field."""
    orders = density_matrix_orders(system, order, first_derivative)
    measure = system.measure
    eta = system.eta
    dim = system.model.dim
    current = np.array([measure * band_trace(orders.velocity, X).real for X in orders.orders])
    entropy_current = np.full((3, dim), np.nan)
    entropy_current[0] = measure * np.einsum(
        "lkann,lkn->a", orders.velocity, occupation.entropy(orders.x)).real
    for i, s in enumerate(entropy_operator_orders(orders), start=1):
        entropy_current[i] = measure * band_trace(orders.velocity, s).real
    total, drude, inter, printed = (measure * v for v in entropy_production_second_order(orders, eta))
    pi = np.array([0.0, 0.0, total, np.nan])
    if order >= 2:
        pi[3] = measure * entropy_production_third_order(orders, eta)
    joule = np.concatenate([[0.0], -current @ system.grid.unit / system.T])
    return ExpansionCoefficients(
        direction=system.grid.direction,
        particle_current=current,
        entropy_current=entropy_current,
        entropy_production=pi,
        entropy_production_drude=np.array([0.0, 0.0, drude, np.nan]),
        entropy_production_interband=np.array([0.0, 0.0, inter, np.nan]),
        entropy_production_printed_kernel=np.array([0.0, 0.0, printed, np.nan]),
        entropy_production_joule=joule,
    )


def intrinsic_second_order_current(model, mu: float, T: float, nk, *, direction=None, shift=0.5,
                                   points: int = 16) -> np.ndarray:
    """The tau^0 part of the exact second-order charge current of the seed's equation on the field
    lines, J(2)/E^2 = chi^(0)_abc u_b u_c (u = g/|g|), shape (dim,), natural units:

        chi^(0) = (1/2 pi i) oint J(2)(eta) d eta/eta = mean_j J(2)(eta_j),  eta_j = r exp(2 pi i (j + 1/2)/N),

    with J(2)(eta) from the perturbative recursion of `density_matrix_orders` (spectral line
    derivatives, periodic gauge: a route independent of the band-basis covariant recursion of
    qgtransport.responses.nonlinear) continued to complex eta. J(2)(eta) has poles at eta = 0
    (tau^2, tau^1 terms) and at eta = -i e_nm; r is a quarter of the smallest interband gap on the grid,
    so the average is exact up to O(4^-N). This decides which tau^0 formula the equation produces
    (ERRATA O3; `qgtransport.exact.verify.verify_intrinsic`).
    """
    if direction is None:
        direction = (1,) + (0,) * (model.dim - 1)
    system = line_system(model, direction, mu, T, 1.0, nk, shift)
    e = system.energies
    gaps = np.abs(e[..., :, None] - e[..., None, :])
    gaps = gaps[gaps > DEGENERACY_TOL]
    if gaps.size == 0:
        raise ValueError("a single-band model has no interband tau^0 current")
    radius = gaps.min() / 4
    total = np.zeros(model.dim, dtype=complex)
    for j in range(points):
        eta = radius * np.exp(2j * np.pi * (j + 0.5) / points)
        orders = density_matrix_orders(system, 2, eta=eta)
        total += system.measure * band_trace(orders.velocity, orders.orders[2])
    return -(total / points).real


# ---------------------------------------------------------------------------------------------
# route (b): fits of the exact solver at small fields


FITTED_QUANTITIES = ("particle_current", "entropy_current", "entropy_production", "entropy_production_joule")


@dataclass(frozen=True)
class FittedCoefficients:
    """Coefficients of E^i (i = 0..order) from the exact solver at fields 0, +-h, ..., +-pairs h.

    values, errors : {quantity: (order + 1, ...)}; errors = |c(pairs) - c(pairs - 1)| (a coefficient
    the smaller fit cannot give counts as 0 there, so its error is |c| itself).
    """

    step: float
    pairs: int
    values: dict
    errors: dict


def default_step(system: LineSystem) -> float:
    """h = 1e-3 min(eta, 1): a k-space drift E tau of 1e-3 per step, far below the ~0.2 where
    perturbation theory fails (ERRATA, exact facts). A compromise measured on QWZ and the tilted
    Dirac model (tau = 10): the direct Pi of Eq. 9 carries grid errors of order E^4 amplified by
    1/(f(1 - f)) and wants small h (c2 error 4e-6 at h = 1e-4, 1e-9 at 3e-5, QWZ mu = 1.5,
    T = 0.2, nk = 48), while rounding limits the E^2 and E^3 coefficients of the currents
    (~1e-15/h^2: 3e-5 relative for j(2) at h = 2e-5)."""
    return 1e-3 * min(system.eta, 1.0)


def interpolation_coefficients(u: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Coefficients a_i of the polynomial of degree len(u) - 1 through (u_j, values_j) (axis 0)."""
    vandermonde = np.vander(u, increasing=True)
    flat = values.reshape(len(u), -1)
    return np.linalg.solve(vandermonde, flat).reshape(values.shape)


def fitted_coefficients(system: LineSystem, step: float | None = None, pairs: int = 3,
                        order: int = 3) -> FittedCoefficients:
    """Route (b): interpolate Q(E) through E = 0, +-h, ..., +-pairs h (exact DC solves) and return
    the coefficients of E^0..E^order, with the change from pairs - 1 to pairs as the error."""
    if pairs < 2:
        raise ValueError(f"pairs must be >= 2 (the error estimate drops one pair), got {pairs!r}")
    h = default_step(system) if step is None else float(step)
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"step must be finite and > 0, got {step!r}")
    u = np.arange(-pairs, pairs + 1, dtype=float)
    results = [solve_dc(system, h * ui).observables for ui in u]
    values, errors = {}, {}
    for name in FITTED_QUANTITIES:
        samples = np.array([np.asarray(getattr(r, name), dtype=float) for r in results])
        full = interpolation_coefficients(u, samples)
        inner = np.zeros_like(full)
        inner[: 2 * pairs - 1] = interpolation_coefficients(u[1:-1], samples[1:-1])
        scale = (h ** -np.arange(order + 1)).reshape((-1,) + (1,) * (samples.ndim - 1))
        values[name] = full[: order + 1] * scale
        errors[name] = np.abs(full[: order + 1] - inner[: order + 1]) * scale
    return FittedCoefficients(h, pairs, values, errors)


# ---------------------------------------------------------------------------------------------
# where perturbation theory fails


@dataclass(frozen=True)
class BreakdownField:
    """The field where |Pi(2) E^2 - Pi(E)| = threshold Pi(E) (first crossing from small E).

    field : natural units (energy/(e length)); field_si : V/m; drift : E tau (k-space drift per
    relaxation time, 1/length); drift_fraction : E tau/|g| (fraction of the reciprocal vector);
    pi2 : the E^2 coefficient used; samples : rows (E, Pi exact = J . E/T, Pi(2) E^2, relative
    deviation, Pi of Eq. 9 evaluated directly).
    """

    field: float
    field_si: float
    drift: float
    drift_fraction: float
    threshold: float
    pi2: float
    samples: tuple


def relative_deviation(system: LineSystem, pi2: float, strength: float) -> tuple:
    """(E, Pi(E), Pi(2) E^2, |Pi(2) E^2 - Pi(E)|/Pi(E), Pi of Eq. 9 evaluated directly) from one
    exact DC solve; Pi(E) = J . E/T, exact in a steady state and free of the log-kernel's
    amplification of grid errors."""
    observables = solve_dc(system, strength).observables
    exact = observables.entropy_production_joule
    approx = pi2 * strength**2
    return strength, exact, approx, abs(approx - exact) / exact, observables.entropy_production


def perturbation_breakdown_field(model, mu: float, T: float, tau: float, *, direction=None, nk=48,
                                 threshold: float = 0.1, shift=0.5, start: float | None = None,
                                 growth: float = 1.5, max_steps: int = 80, rtol: float = 1e-3
                                 ) -> BreakdownField:
    """Field at which the leading-order entropy production Pi(2) E^2 departs from the exact Pi by
    `threshold` (relative), for E along g = n . b (default n = (1, 0, ...)).

    Pi(2) is the recursion's divided-difference value (ERRATA E1). The field is scanned upward
    geometrically from `start` (default 0.01 min(eta, 1)) by `growth`, then the first crossing is
    bisected (in log E) to relative width rtol. Raises RuntimeError when no crossing is found.
    """
    if not (0 < threshold < 1):
        raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
    if direction is None:
        direction = (1,) + (0,) * (model.dim - 1)
    system = line_system(model, direction, mu, T, tau, nk, shift)
    pi2 = float(perturbative_coefficients(system, order=1).entropy_production[2])
    E = 0.01 * min(system.eta, 1.0) if start is None else float(start)
    samples = [relative_deviation(system, pi2, E)]
    if samples[-1][3] >= threshold:
        raise RuntimeError(
            f"Pi(2) E^2 is already {samples[-1][3]:.3g} off at the start field {E:.3g}; lower `start`")
    for _ in range(max_steps):
        samples.append(relative_deviation(system, pi2, samples[-1][0] * growth))
        if samples[-1][3] >= threshold:
            break
    else:
        raise RuntimeError(f"no {threshold:.0%} deviation up to E = {samples[-1][0]:.3g}")
    lo, hi = samples[-2][0], samples[-1][0]
    while hi / lo > 1 + rtol:
        mid = np.sqrt(lo * hi)
        samples.append(relative_deviation(system, pi2, mid))
        lo, hi = (mid, hi) if samples[-1][3] < threshold else (lo, mid)
    field = float(np.sqrt(lo * hi))
    return BreakdownField(
        field=field,
        field_si=float(field_in_volts_per_meter(field, model.energy_unit, model.length_unit)),
        drift=field * system.tau,
        drift_fraction=field * system.tau / system.grid.g_length,
        threshold=float(threshold),
        pi2=pi2,
        samples=tuple(sorted(samples)),
    )
