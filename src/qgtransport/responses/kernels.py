"""Band data of one k-chunk, occupation kernels of one block of (mu, T) points, and the band sum.

Every response in qgtransport is a band sum

    R^ab(mu, T) = sum_k sum_nm K_nm(k; mu, T) X^ab_nm(k),

with a kernel K built from energies and occupations and a geometric factor X: Re or Im of
P^ab_nm = v^a_nm v^b_mn (P = e_nm^2 r^a_nm r^b_mn: Re P = e^2 g, Im P = -e^2 Omega/2), or a
band-diagonal quantity (the group velocity, v^ab_n, and with the full position matrix the per-band
Berry curvature term X_n of `qgtransport.bands.geometry.position_matrix_terms`). `band_sum` contracts
K (k, n, m, p) with X (k, n, m, a, b) in one matrix product; p runs over the flattened (mu, T) points
of a block.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from qgtransport.bands import occupation
from qgtransport.bands.geometry import (
    DEGENERACY_TOL,
    BandGeometry,
    band_curvature,
    band_velocity,
    degenerate,
    energy_differences,
    level_berry_curvature_pairs,
    level_mass_pairs,
    level_pairs,
    level_triples,
    level_velocity,
    velocity_products,
)


@dataclass(frozen=True)
class Settings:
    """Options shared by the responses.

    tau : relaxation time (model units hbar/energy) or None.
    rho1 : "finite_eta" (Eq. 13 at omega = 0: interband 1/(i e_mn + eta); default, ERRATA E2) or
        "dc_limit" (Eq. 14: eta -> 0 in the interband part).
    kernel : "divided_difference" (exact second order of Eq. 9, ERRATA E1; default) or "printed"
        (the kernel 1/(tau f_n (1 - f_n)) printed in Eq. 18).
    degeneracy_tol : pairs with |e_n - e_m| < tol are one degenerate level (model energy unit).
    broadening, width : broadened delta function of the optical responses ("gaussian" or
        "lorentzian", width in the model's energy unit).
    """

    tau: float | None = None
    rho1: str = "finite_eta"
    kernel: str = "divided_difference"
    degeneracy_tol: float = DEGENERACY_TOL
    broadening: str = "gaussian"
    width: float = 0.02

    @property
    def eta(self) -> float:
        if self.tau is None:
            raise ValueError("this response needs the relaxation time tau")
        return 1.0 / self.tau


class Block:
    """Band data of a k-chunk together with one block of (mu, T) points (flattened to p).

    Kernels are computed on first use and shared by every response of the block.
    """

    def __init__(self, geo: BandGeometry, mu: np.ndarray, T: np.ndarray, settings: Settings, omega=None):
        self.geo = geo
        self.mu = np.asarray(mu, dtype=float)
        self.T = np.asarray(T, dtype=float)
        self.omega = np.zeros_like(self.mu) if omega is None else np.asarray(omega, dtype=float)
        self.settings = settings

    @cached_property
    def energies(self) -> np.ndarray:
        return self.geo.energies

    @cached_property
    def x(self) -> np.ndarray:
        """x_n = (e_n - mu)/T, shape (k, n, p); at T = 0 its limit -inf, 0, +inf (occupation.reduced_energy_at)."""
        return occupation.reduced_energy_at(self.energies[..., None], self.mu, self.T)

    @cached_property
    def zero_temperature(self) -> np.ndarray:
        """(p,): True at the points with T = 0 (step occupation; Fermi-sea responses only)."""
        return self.T == 0

    def kernel_or_step(self, kernel, step) -> np.ndarray:
        """kernel(x_n, x_m, T) at T > 0 and step() at the T = 0 points (only evaluated when there are some)."""
        zero = self.zero_temperature
        if not np.any(zero):
            return kernel(self.x_n, self.x_m, self.T)
        T = np.where(zero, 1.0, self.T)
        x = np.where(zero, 0.0, self.x)
        return np.where(zero, step(), kernel(x[:, :, None, :], x[:, None, :, :], T))

    def step_divided_difference(self, values) -> np.ndarray:
        """(g_m - g_n)/(e_m - e_n) between levels from band values g_n (k, n, p), 0 within a level
        (the T = 0 divided differences: f' and s' are delta functions there, used by no Fermi-sea response)."""
        return (values[:, :, None, :] - values[:, None, :, :]) * self.inverse_gap

    @cached_property
    def x_n(self) -> np.ndarray:
        return self.x[:, :, None, :]

    @cached_property
    def x_m(self) -> np.ndarray:
        return self.x[:, None, :, :]

    @cached_property
    def same_level(self) -> np.ndarray:
        """(k, n, m, 1): True for pairs in one degenerate level (the diagonal included; levels of
        `qgtransport.bands.geometry.level_labels`)."""
        return degenerate(self.energies, self.settings.degeneracy_tol)[..., None]

    @cached_property
    def e_nm(self) -> np.ndarray:
        """e_n - e_m, shape (k, n, m, 1)."""
        return energy_differences(self.energies)[..., None]

    @cached_property
    def inverse_gap(self) -> np.ndarray:
        """1/e_nm between levels, 0 within a level, shape (k, n, m, 1)."""
        safe = np.where(self.same_level, 1.0, self.e_nm)
        return np.where(self.same_level, 0.0, 1.0 / safe)

    @cached_property
    def fermi_dd(self) -> np.ndarray:
        """F_mn = (f_m - f_n)/(e_m - e_n), f'(e_n) at degeneracy, shape (k, n, m, p); always < 0.
        At T = 0: the step's divided difference between levels, 0 within a level."""
        return self.kernel_or_step(lambda x_n, x_m, T: occupation.fermi_divided_difference(x_n, x_m) / T,
                            lambda: self.step_divided_difference(self.fermi))

    @cached_property
    def entropy_dd(self) -> np.ndarray:
        """F^s_mn = (s_m - s_n)/(e_m - e_n), s'(e_n) at degeneracy, shape (k, n, m, p). At T = 0: between
        levels from s_n (0, or ln 2 at e_n = mu), 0 within a level."""
        return self.kernel_or_step(lambda x_n, x_m, T: occupation.entropy_divided_difference(x_n, x_m) / T,
                            lambda: self.step_divided_difference(self.entropy))

    @cached_property
    def fermi(self) -> np.ndarray:
        """f_n, shape (k, n, p)."""
        return occupation.fermi(self.x)

    @cached_property
    def entropy(self) -> np.ndarray:
        """s_n, shape (k, n, p)."""
        return occupation.entropy(self.x)

    @cached_property
    def ac_propagator(self) -> np.ndarray:
        """1/(eta - i omega + i e_mn), shape (k, n, m, p) (Eq. 13; e_mn = e_m - e_n)."""
        return 1.0 / (self.settings.eta - 1j * self.omega + 1j * (-self.e_nm))

    @cached_property
    def resonance(self) -> np.ndarray:
        """Broadened delta(e_mn - omega) between levels (0 within a level), shape (k, n, m, p).

        Gaussian exp(-x^2/(2 w^2))/(sqrt(2 pi) w) or Lorentzian (w/pi)/(x^2 + w^2), w = width.
        """
        x = -self.e_nm - self.omega
        w = self.settings.width
        if self.settings.broadening == "lorentzian":
            peak = (w / np.pi) / (x * x + w * w)
        else:
            peak = np.exp(-0.5 * (x / w) ** 2) / (np.sqrt(2 * np.pi) * w)
        return np.where(self.same_level, 0.0, peak)

    @cached_property
    def products(self) -> np.ndarray:
        """P^ab_nm = v^a_nm v^b_mn, shape (k, n, m, a, b)."""
        return velocity_products(self.geo)

    @cached_property
    def velocity(self) -> np.ndarray:
        """v^a_n, shape (k, n, a)."""
        return band_velocity(self.geo)

    @cached_property
    def band_curvature(self) -> np.ndarray:
        """v^ab_n, shape (k, n, a, b)."""
        return band_curvature(self.geo)

    @cached_property
    def level_velocity(self) -> np.ndarray:
        """v^a_nm within the levels, 0 between them, shape (k, a, n, m) (`geometry.level_velocity`)."""
        return level_velocity(self.geo, self.settings.degeneracy_tol)

    @cached_property
    def level_pairs(self) -> tuple:
        """Index arrays (k, n, l) of the pairs of bands in one level, the diagonal included (`geometry.level_pairs`)."""
        return level_pairs(self.energies, self.settings.degeneracy_tol)

    @cached_property
    def level_triples(self) -> tuple:
        """Index arrays (k, n, m, l) of the triples of bands in one level (`geometry.level_triples`)."""
        return level_triples(self.energies, self.settings.degeneracy_tol)

    @cached_property
    def level_berry_curvature(self) -> np.ndarray:
        """Non-Abelian Omega^ab_nl of the levels at the pairs of `level_pairs`, shape (q, a, b)
        (`geometry.level_berry_curvature_pairs`)."""
        return level_berry_curvature_pairs(self.geo, self.level_pairs, self.settings.degeneracy_tol)

    @cached_property
    def level_mass(self) -> np.ndarray:
        """Inverse-mass matrix M^ab_nl of the levels at the pairs of `level_pairs`, shape (q, a, b)
        (`geometry.level_mass_pairs`)."""
        return level_mass_pairs(self.geo, self.level_pairs, self.settings.degeneracy_tol)


def position_curvature_sum(block: Block, weight: np.ndarray):
    """sum_k sum_n w_n(k, p) X^ab_n(k) -> (p, a, b): the band-diagonal Berry curvature term of the full
    position matrix (`qgtransport.bands.geometry.position_matrix_terms`) weighted like Omega_n; 0 when the
    geometry has none (positions="diagonal")."""
    if block.geo.position_curvature is None:
        return 0.0
    return band_sum(weight, block.geo.position_curvature)


def band_sum(kernel: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """sum_{k n m} K_nm(k, p) X^ab_nm(k) -> (p, a, b).

    The kernel's leading axes (k, n, m) or (k, n) are summed against the same leading axes of the
    factor; what remains is (p, tensor indices...).
    """
    axes = list(range(kernel.ndim - 1))
    return np.tensordot(kernel, factor, axes=(axes, axes))
