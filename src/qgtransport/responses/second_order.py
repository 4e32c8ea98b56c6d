"""Second-order currents j_a = chi_abc E_b E_c of the seed's equation of motion (single eta), exact in tau:
charge, f -> s replaced, Tr[v s(rho)] (Frechet) and heat currents, DC and AC, and the entropy production
at E^3. Their terms by powers of tau and the literature's tau^0 currents are in
`qgtransport.responses.nonlinear`.

Exact second order at finite eta (no expansion in tau): with L = eta + i ad_H, the steady state gives
rho(1) = L^{-1} E.grad f(H) and rho(2) = L^{-1} E.grad rho(1) (Eq. 12 with eta(i) = eta, the default of
ERRATA E10). In the band basis rho(1)_mn = Lambda_mn v^b_mn E_b with Lambda_mn = F_mn/(eta + i e_mn)
(F_mn = (f_m - f_n)/(e_m - e_n), e_mn = e_m - e_n) and the covariant derivative of rho(1) is

    [D_c rho(1)]_mn = Lambda_mn W^bc_mn + sum_l [ v^c_ml v^b_ln Lambda[ml;n] + v^b_ml v^c_ln Lambda[m;ln] ],

W^bc = U^+ d_b d_c H U, Lambda[ml;n] = (Lambda_ln - Lambda_mn)/(e_l - e_m), Lambda[m;ln] =
(Lambda_ml - Lambda_mn)/(e_l - e_n) (divided differences; derivatives at coincidence, so degenerate
levels need no special case: every response here is a trace of matrix products with kernels of the
energies only, gauge invariant within degenerate levels). Then j_a = sum_mn v^a_nm [D_c rho(1)]_mn/(eta +
i e_mn), symmetrised in (b, c). Results are for the particle current Tr[v rho]; the charge response is its negative.

The occupation is generic (f for charge, s for the f -> s replaced entropy current): an `Occupation`
bundles g, its divided difference and derivatives in x = (e - mu)/T.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from qgtransport.bands import occupation as occ
from qgtransport.responses.kernels import Block


@dataclass(frozen=True)
class Occupation:
    """An occupation function g(x) with its divided difference and derivatives in x."""

    divided_difference: Callable
    derivative: Callable  # derivative(x, order) for order 1, 2, 3


FERMI = Occupation(occ.fermi_divided_difference, occ.fermi_derivative)
ENTROPY = Occupation(occ.entropy_divided_difference, occ.entropy_derivative)


def second_divided_difference(g: Occupation, x, y, threshold=1e-3):
    """g[x, x, y] = (g'(x) - g[x, y])/(x - y); near x = y its series g''/2 + g''' d/6 + g'''' d^2/24 +
    g^(5) d^3/120 at x (d = y - x, error below |g^(6)| d^4/720) (reduced units)."""
    d = y - x
    small = np.abs(d) < threshold
    taylor = (g.derivative(x, 2) / 2 + g.derivative(x, 3) * d / 6 + g.derivative(x, 4) * d * d / 24
              + g.derivative(x, 5) * d**3 / 120)
    safe = np.where(small, 1.0, -d)
    return np.where(small, taylor, (g.derivative(x, 1) - g.divided_difference(x, y)) / safe)


class PairKernel:
    """Lambda(x, y) = G(x, y)/(eta + i(x - y)) in energies x = e_m, y = e_n, with G the divided
    difference of g((e - mu)/T) in energy, its partial derivatives and divided differences."""

    def __init__(self, g: Occupation, mu, T, eta):
        """eta: a number, or one (complex) value per k-point, shape (k,)."""
        self.g, self.mu, self.T = g, mu, T
        self.eta = np.asarray(eta)
        self.scale = min(np.min(T), np.min(np.abs(self.eta)))

    def eta_like(self, x):
        """eta broadcast against an array whose first axis is k."""
        return self.eta if self.eta.ndim == 0 else self.eta.reshape((-1,) + (1,) * (np.ndim(x) - 1))

    def reduced(self, e):
        return (e - self.mu) / self.T

    def value(self, x, y):
        G = self.g.divided_difference(self.reduced(x), self.reduced(y)) / self.T
        return G / (self.eta_like(G) + 1j * (x - y))

    def d_first(self, x, y):
        """d Lambda/dx = [G_x (eta + i(x - y)) - i G]/(eta + i(x - y))^2, G_x = g[x, x, y]/T^2."""
        xr, yr = self.reduced(x), self.reduced(y)
        G = self.g.divided_difference(xr, yr) / self.T
        G_x = second_divided_difference(self.g, xr, yr) / self.T**2
        denominator = self.eta_like(G_x) + 1j * (x - y)
        return (G_x * denominator - 1j * G) / denominator**2

    def d_second(self, x, y):
        """d Lambda/dy = [G_y (eta + i(x - y)) + i G]/(eta + i(x - y))^2, G_y = g[y, y, x]/T^2."""
        xr, yr = self.reduced(x), self.reduced(y)
        G = self.g.divided_difference(xr, yr) / self.T
        G_y = second_divided_difference(self.g, yr, xr) / self.T**2
        denominator = self.eta_like(G_y) + 1j * (x - y)
        return (G_y * denominator + 1j * G) / denominator**2

    def divided_first(self, x1, x2, y):
        """(Lambda(x2, y) - Lambda(x1, y))/(x2 - x1), d Lambda/dx at the midpoint when close."""
        d = x2 - x1
        small = np.abs(d) < 1e-4 * self.scale
        safe = np.where(small, 1.0, d)
        return np.where(small, self.d_first((x1 + x2) / 2, y), (self.value(x2, y) - self.value(x1, y)) / safe)

    def divided_second(self, x, y1, y2):
        """(Lambda(x, y2) - Lambda(x, y1))/(y2 - y1), d Lambda/dy at the midpoint when close."""
        d = y2 - y1
        small = np.abs(d) < 1e-4 * self.scale
        safe = np.where(small, 1.0, d)
        return np.where(small, self.d_second(x, (y1 + y2) / 2), (self.value(x, y2) - self.value(x, y1)) / safe)


def symmetrise_bc(chi):
    return (chi + np.swapaxes(chi, -1, -2)) / 2


def first_order_density_matrix(block: Block, g: Occupation, eta=None) -> np.ndarray:
    """rho(1)^b_mn = Lambda_mn v^b_mn (E_b = 1), shape (k, m, n, p, b); Lambda = G_mn/(eta + i e_mn)."""
    eta = block.settings.eta if eta is None else eta
    e = block.energies[..., None]
    lam = PairKernel(g, block.mu, block.T, eta).value(e[:, :, None, :], e[:, None, :, :])
    return np.einsum("kmnp,kbmn->kmnpb", lam, block.geo.velocity)


def second_order_density_matrix(block: Block, g: Occupation, eta=None, outer=None,
                                symmetrise: bool = True) -> np.ndarray:
    """rho(2)^bc_mn = [D_c rho(1)^b]_mn / (eta' + i e_mn) (module docstring), symmetrised in (b, c).

    Shape (k, m, n, p, b, c), complex; E_b = E_c = 1. eta: the rate of rho(1) (default 1/tau; eta - i
    omega_1 for a field b at frequency omega_1); outer: eta' of rho(2) (default eta; eta - i(omega_1 +
    omega_2) at second order in AC fields). symmetrise=False keeps b (the field of rho(1)) and c apart.
    """
    eta = block.settings.eta if eta is None else eta
    e = block.energies[..., None]  # (k, n, p)
    kernel = PairKernel(g, block.mu, block.T, eta)
    lam = kernel.value(e[:, :, None, :], e[:, None, :, :])  # Lambda[k, m, n, p]
    em, el, en = e[:, :, None, None, :], e[:, None, :, None, :], e[:, None, None, :, :]
    first = kernel.divided_first(em, el, en)  # Lambda[ml;n], (k, m, l, n, p)
    second = kernel.divided_second(em, el, en)  # Lambda[m;ln]
    e_mn = block.energies[:, :, None] - block.energies[:, None, :]  # [k, m, n] = e_m - e_n
    outer_kernel = kernel if outer is None else PairKernel(g, block.mu, block.T, outer)
    propagator = 1.0 / (outer_kernel.eta_like(e_mn) + 1j * e_mn)
    v, W = block.geo.velocity, block.geo.curvature
    derivative = np.einsum("kmnp,kbcmn->kmnpbc", lam, W)
    derivative = derivative + np.einsum("kcml,kbln,kmlnp->kmnpbc", v, v, first, optimize=True)
    derivative = derivative + np.einsum("kbml,kcln,kmlnp->kmnpbc", v, v, second, optimize=True)
    rho2 = propagator[:, :, :, None, None, None] * derivative
    return symmetrise_bc(rho2) if symmetrise else rho2


def second_order_response(block: Block, g: Occupation, eta=None, outer=None, symmetrise: bool = True) -> np.ndarray:
    """chi_abc(eta) = sum_mn v^a_nm rho(2)^bc_mn: of Tr[v rho(2)] (g = f) or of the f -> s replaced
    current (g = s), exact in eta. eta: the settings' 1/tau, or one complex value per k-point (for the
    contour average of `intrinsic_second_order`); outer, symmetrise: as in second_order_density_matrix.
    Shape (p, a, b, c), complex.
    """
    rho2 = second_order_density_matrix(block, g, eta, outer, symmetrise)
    return np.einsum("kanm,kmnpbc->pabc", block.geo.velocity, rho2, optimize=True)


def ac_second_order_response(block: Block, g: Occupation, kind: str) -> np.ndarray:
    """Second-order response to E(t) = sum over +-omega of E(omega) e^{-i omega t} (one omega per point
    of the block), J(t) = sum_{w1, w2} chi_abc(w1, w2) E_b(w1) E_c(w2) e^{-i(w1 + w2)t}, of Tr[v rho(2)]:

        kind "second_harmonic": chi(omega, omega) = Sym_bc X(eta - i omega, eta - 2 i omega),
        kind "rectification":   chi(omega, -omega) = (1/2)[X_abc(eta - i omega, eta) + conj X_acb(eta - i omega, eta)],

    X_abc(eta1, eta2) = sum v^a rho(2)^bc with rho(1) at rate eta1 (field b) and rho(2) at eta2 (Eq. 12
    with eta -> eta - i omega per order). Both tend to the DC response as omega -> 0. Shape (p, a, b, c);
    every point of the block at one omega (`per_frequency`).
    """
    X = second_order_response(block, g, *ac_rates(block, kind), symmetrise=False)
    return ac_combination(X, kind)


def ac_rates(block: Block, kind: str) -> tuple:
    """(rate of rho(1), rate of rho(2)) at the block's omega: (eta - i omega, eta - 2i omega) for the
    second harmonic, (eta - i omega, eta) for rectification."""
    eta, w = block.settings.eta, float(block.omega[0])
    return eta - 1j * w, (eta - 2j * w if kind == "second_harmonic" else eta)


def ac_combination(X: np.ndarray, kind: str) -> np.ndarray:
    """The response from X_abc(omega_1 = omega, omega_2) (field b in rho(1)): Sym_bc X for the second
    harmonic, (1/2)[X_abc + conj X_acb] for rectification (X_acb(-omega, omega) = conj X_acb(omega, -omega))."""
    if kind == "second_harmonic":
        return symmetrise_bc(X)
    return 0.5 * (X + np.conj(np.swapaxes(X, -1, -2)))


def per_frequency(function, block: Block, *args) -> np.ndarray:
    """function(block, *args) of an AC second-order response, point by point when the block's
    frequencies differ (its rates depend on omega), concatenated over the points."""
    if np.any(block.omega != block.omega[0]):
        return np.concatenate([function(sub, *args) for sub in split_by_point(block)], axis=0)
    return function(block, *args)


def split_by_point(block: Block) -> list:
    """One Block per (mu, T, omega) point (the AC second order has per-point rates)."""
    return [Block(block.geo, block.mu[i:i + 1], block.T[i:i + 1], block.settings, block.omega[i:i + 1])
            for i in range(len(block.mu))]


def second_harmonic_current(block: Block) -> np.ndarray:
    """Second-harmonic charge response chi_abc(omega, omega) of the seed's equation, exact in tau:
    for E(t) = Re[E e^{-i omega t}] the 2 omega current is Re[(1/2) chi_abc E_b E_c e^{-2 i omega t}]
    (`ac_second_order_response`). Checked against the Floquet steady state of the exact solver."""
    return -per_frequency(ac_second_order_response, block, FERMI, "second_harmonic")


def rectified_current(block: Block) -> np.ndarray:
    """Rectification (photogalvanic) charge response chi_abc(omega, -omega) of the seed's equation,
    exact in tau: for E(t) = Re[E e^{-i omega t}] the DC current is (1/2) Re[chi_abc E_b E_c^*]
    (`ac_second_order_response`; Im chi, antisymmetric in (b, c), is the circular part). Checked
    against the Floquet steady state of the exact solver."""
    return -per_frequency(ac_second_order_response, block, FERMI, "rectification")


def propagated_velocity(block: Block, eta=None) -> np.ndarray:
    """u^b_mn = v^b_mn/(eta + i e_mn), e_mn = e_m - e_n, shape (k, m, n, b): rho(1)^b_mn = F_mn u^b_mn
    (F_mn = (f_m - f_n)/(e_m - e_n)). eta: the settings' 1/tau or a (complex) rate."""
    eta = block.settings.eta if eta is None else eta
    e_mn = block.energies[:, :, None] - block.energies[:, None, :]
    return np.einsum("kbmn,kmn->kmnb", block.geo.velocity, 1.0 / (eta + 1j * e_mn))


def second_order_entropy_current(block: Block) -> np.ndarray:
    """The entropy current of Eq. 5, Tr[v s(rho)], at second order in E (ERRATA S1):

        j^s(2)_a = sum_mn v^a_nm [ s^[1]_mn rho(2)_mn + sum_l s^[2]_mln rho(1)_ml rho(1)_ln ],

    the first and second Frechet derivatives of s(rho) at rho_eq (Daleckii-Krein), with s^[1], s^[2]
    the divided differences of s(f) = -f ln f - (1 - f) ln(1 - f) at the occupations f_n. Differs from
    the f -> s replaced current; Maxwell and Sommerfeld hold only for the latter. Shape (p, a, b, c).
    s^[2] (~ 1/f) enters only multiplied by the occupation factors of rho(1)_ml rho(1)_ln
    (`entropy_frechet_kernels`), so nothing overflows at low T.
    """
    rho2 = second_order_density_matrix(block, FERMI)
    u = propagated_velocity(block)
    s1, s2 = entropy_frechet_kernels(block)
    linear = entropy_linear_term(block, s1, rho2)
    return symmetrise_bc(linear + entropy_quadratic_term(block, s2, u, u)).real


def entropy_frechet_kernels(block: Block) -> tuple:
    """(s^[1]_mn, K_mln), shapes (k, m, n, p), (k, m, l, n, p): s^[1] = s[f_m, f_n], the divided
    difference of s(f) (`occupation.entropy_fermi_ratio`), and K = s[f_m, f_l, f_n] F_ml F_ln, the
    second one times the occupation factors of rho(1)_ml rho(1)_ln (F = (f_m - f_l)/(e_m - e_l)),
    = `occupation.entropy_frechet_quadratic_kernel`/T^2: bounded where s[f_m, f_l, f_n] ~ 1/f is not."""
    x = block.x  # (k, n, p)
    s1 = occ.entropy_fermi_ratio(x[:, :, None, :], x[:, None, :, :])
    s2 = occ.entropy_frechet_quadratic_kernel(x[:, :, None, None, :], x[:, None, :, None, :],
                                              x[:, None, None, :, :]) / block.T**2
    return s1, s2


def entropy_linear_term(block: Block, s1, rho2) -> np.ndarray:
    """sum_mn v^a_nm s^[1]_mn rho(2)^bc_mn, shape (p, a, b, c)."""
    return np.einsum("kanm,kmnp,kmnpbc->pabc", block.geo.velocity, s1, rho2, optimize=True)


def entropy_quadratic_term(block: Block, s2, first, second) -> np.ndarray:
    """sum_mln v^a_nm K_mln first^b_ml second^c_ln = sum_mln v^a_nm s^[2]_mln rho(1)^b_ml rho(1)^c_ln,
    with K from `entropy_frechet_kernels` and first, second the propagated velocities of rho(1)
    (`propagated_velocity`, (k, m, l, b)). Shape (p, a, b, c)."""
    return np.einsum("kanm,kmlnp,kmlb,klnc->pabc", block.geo.velocity, s2, first, second, optimize=True)


def ac_second_order_entropy_current(block: Block, kind: str) -> np.ndarray:
    """Tr[v s(rho)] at second order in AC fields (Frechet expansion as second_order_entropy_current,
    with the rates of `ac_second_order_response`):

        Y_abc(w1, w2) = sum_mn v^a_nm [ s^[1]_mn rho(2)^bc_mn(w1, w2)
                                         + sum_l s^[2]_mln rho(1)^b_ml(w1) rho(1)^c_ln(w2) ],

    kind "second_harmonic": Sym_bc Y(omega, omega); "rectification": (1/2)[Y_abc(omega, -omega) +
    Y_acb(-omega, omega)] (the rho(2) part of the second term is the complex conjugate of the first's,
    the quadratic part is the product in the other order). Entropy-current sign; shape (p, a, b, c).
    """
    inner, outer = ac_rates(block, kind)
    u_b = propagated_velocity(block, inner)
    u_c = u_b if kind == "second_harmonic" else propagated_velocity(block, np.conj(inner))
    rho2 = second_order_density_matrix(block, FERMI, inner, outer, symmetrise=False)
    s1, s2 = entropy_frechet_kernels(block)
    linear = entropy_linear_term(block, s1, rho2)
    quadratic = entropy_quadratic_term(block, s2, u_b, u_c)
    if kind == "second_harmonic":
        return symmetrise_bc(linear + quadratic)
    # rho(1)(t)^2 has the DC part rho1^b(w) rho1^c(-w) + rho1^c(-w) rho1^b(w): both orders of the product
    swapped = np.swapaxes(entropy_quadratic_term(block, s2, u_c, u_b), -1, -2)
    return ac_combination(linear, kind) + 0.5 * (quadratic + swapped)


def second_harmonic_entropy_current(block: Block) -> np.ndarray:
    """Second-harmonic entropy current Tr[v s(rho)] per E^2, chi^s(omega, omega) (conventions of
    second_harmonic_current; entropy-current sign). Not the f -> s replacement (ERRATA S1)."""
    return per_frequency(ac_second_order_entropy_current, block, "second_harmonic")


def rectified_entropy_current(block: Block) -> np.ndarray:
    """Rectified (DC) entropy current Tr[v s(rho)] per E^2, chi^s(omega, -omega): for E(t) =
    Re[E e^{-i omega t}] the time-averaged entropy current is (1/2) Re[chi^s_abc E_b E_c^*]."""
    return per_frequency(ac_second_order_entropy_current, block, "rectification")


def entropy_production_third_order(block: Block) -> np.ndarray:
    """Entropy production at E^3, the exact third order of Eq. 9 (Frechet expansion of phi):

        Pi(3) = -eta { 2 Tr[Dphi[rho(1)] rho(2)] + (1/2) Tr[D^2phi[rho(1), rho(1)] rho(1)] }
              = -eta { 2 sum_mn phi^[1]_mn rho(1)_mn rho(2)_nm + sum_mln phi^[2]_mln rho(1)_ml rho(1)_ln rho(1)_nm },

    returned as the tensor Pi_abc (Pi = Pi_abc E_a E_b E_c), symmetric in (a, b, c). In the steady
    state it equals J(2).E/T (ERRATA, exact facts): nonzero for the intrinsic (tau^0) current of a
    PT-symmetric model, which therefore dissipates. Odd in E; Pi(2) + Pi(3) >= 0 for small E.

    The divided differences of phi(f) = ln((1 - f)/f) grow like 1/f and 1/f^2 (they overflowed below
    ~120 K on QWZ); with rho(1)^a_mn = F_mn u^a_mn (`propagated_velocity`), F = f[x_m, x_n]/T, they
    enter only through the exact products (divided differences of the inverse function x(f))

        phi^[1]_mn F_mn = 1/T,   phi^[2]_mln F_ml F_ln F_nm = -f[x_m, x_l, x_n]/T^3,

        Pi(3) = -eta { (2/T) sum_mn u^a_mn rho(2)^bc_nm - (1/T^3) sum_mln f[x_m, x_l, x_n] u^a_ml u^b_ln u^c_nm },

    with f[., ., .] the second divided difference of f in x (bounded by 0.05).
    """
    rho2 = second_order_density_matrix(block, FERMI)  # (k, m, n, p, b, c)
    u = propagated_velocity(block)  # (k, m, n, a)
    x = block.x
    f3 = occ.fermi_second_divided_difference(x[:, :, None, None, :], x[:, None, :, None, :], x[:, None, None, :, :])
    T = block.T[:, None, None, None]
    cross = 2 * np.einsum("kmna,knmpbc->pabc", u, rho2, optimize=True) / T
    cubic = -np.einsum("kmlnp,kmla,klnb,knmc->pabc", f3, u, u, u, optimize=True) / T**3
    total = -block.settings.eta * (cross + cubic).real
    return symmetrise_abc(total)


def symmetrise_abc(tensor):
    """Average over the six permutations of the last three axes."""
    axes = tensor.ndim
    a, b, c = axes - 3, axes - 2, axes - 1
    perms = [(a, b, c), (a, c, b), (b, a, c), (b, c, a), (c, a, b), (c, b, a)]
    lead = tuple(range(axes - 3))
    return sum(np.transpose(tensor, lead + p) for p in perms) / 6


def second_order_heat_current(block: Block) -> np.ndarray:
    """Second-order heat current j^q(2) = Tr[(1/2){v, H - mu} rho(2)], per E^2, exact in tau:

        chi^q_abc = sum_mn v^a_nm ((e_n + e_m)/2 - mu) rho(2)^bc_mn.

    Compared with T times the entropy currents it shows j^s != j^q/T beyond linear order (the seed's
    claim; tests/responses/test_nonlinear.py). Shape (p, a, b, c).
    """
    return heat_current_trace(block, second_order_density_matrix(block, FERMI)).real


def heat_current_trace(block: Block, rho2) -> np.ndarray:
    """sum_mn v^a_nm ((e_n + e_m)/2 - mu) rho(2)^bc_mn = Tr[(1/2){v, H - mu} rho(2)], shape (p, a, b, c)."""
    energy = (block.energies[:, :, None] + block.energies[:, None, :])[..., None] / 2 - block.mu  # [k, n, m, p]
    return np.einsum("kanm,knmp,kmnpbc->pabc", block.geo.velocity, energy, rho2, optimize=True)


def ac_second_order_heat_current(block: Block, kind: str) -> np.ndarray:
    """Tr[(1/2){v, H - mu} rho(2)] in AC fields, with the rho(2) and the combinations of
    `ac_second_order_response` (kind "second_harmonic" or "rectification"). Shape (p, a, b, c)."""
    rho2 = second_order_density_matrix(block, FERMI, *ac_rates(block, kind), symmetrise=False)
    return ac_combination(heat_current_trace(block, rho2), kind)


def second_harmonic_heat_current(block: Block) -> np.ndarray:
    """Second-harmonic heat current Tr[(1/2){v, H - mu} rho(2)] per E^2, chi^q(omega, omega)
    (conventions of second_harmonic_current). Beside T x second_harmonic_entropy_current it shows
    j^s != j^q/T (tests/responses/test_nonlinear.py)."""
    return per_frequency(ac_second_order_heat_current, block, "second_harmonic")


def rectified_heat_current(block: Block) -> np.ndarray:
    """Rectified (DC) heat current per E^2, chi^q(omega, -omega): <j^q> = (1/2) Re[chi^q E E^*]."""
    return per_frequency(ac_second_order_heat_current, block, "rectification")


def second_order_current(block: Block) -> np.ndarray:
    """Second-order DC charge response J_a = chi_abc E_b E_c, exact in tau (see module docstring).

    chi = -(chi of Tr[v rho(2)]); contains the nonlinear Drude (tau^2), Berry-curvature-dipole
    (tau^1) and intrinsic (tau^0) terms and all higher orders in 1/tau.
    """
    return -second_order_response(block, FERMI).real


def second_order_entropy_current_replaced(block: Block) -> np.ndarray:
    """The f -> s replaced second-order entropy current (Eq. 30's correspondence), exact in tau.

    This is NOT Tr[v s(rho)] at second order (ERRATA S1): s(rho) has terms quadratic in rho(1).
    Entropy-current sign (Tr[v s]).
    """
    return second_order_response(block, ENTROPY).real


__all__ = ["second_order_current", "second_order_entropy_current_replaced", "second_order_entropy_current",
           "second_order_heat_current", "entropy_production_third_order", "second_harmonic_current",
           "rectified_current", "second_harmonic_entropy_current", "rectified_entropy_current",
           "second_harmonic_heat_current", "rectified_heat_current"]
