"""Entropy production and entropy currents to leading order in E (Eqs. 18-28 with ERRATA E1-E7).

Natural units k_B = e = hbar = 1. Each function returns the band sum of one k-chunk; the integrator
divides by the number of k-points and the cell volume. Entropy currents are j^s = Tr[v s] (Eq. 5),
an entropy flux: no charge sign. Entropy production is the coefficient Pi_ab of Pi = Pi_ab E_a E_b.

Kernels: F_mn = (f_m - f_n)/(e_m - e_n), F^s_mn = (s_m - s_n)/(e_m - e_n) (f', s' within a degenerate
level); the first-order entropy operator is the f -> s replacement of rho(1) (ERRATA, verified as
printed: Eqs. 26-27).
"""

from __future__ import annotations

import numpy as np

from qgtransport.bands import occupation
from qgtransport.responses.kernels import Block, band_sum, position_curvature_sum


def interband_propagator_squared(block: Block) -> np.ndarray:
    """|1/(i e_mn + eta)|^2 e_mn^2 / e_mn^2 factor of |rho(1)_mn|^2, as 1/(e_mn^2 + eta^2) for
    rho1 = "finite_eta" (Eq. 13) or 1/e_mn^2 for rho1 = "dc_limit" (Eq. 14); 0 within a level."""
    if block.settings.rho1 == "dc_limit":
        return block.inverse_gap**2
    eta = block.settings.eta
    return np.where(block.same_level, 0.0, 1.0 / (block.e_nm**2 + eta**2))


def entropy_production_drude(block: Block) -> np.ndarray:
    """Drude (intraband) entropy production, first term of Eq. 18 = Joule form Eq. 19:

        Pi(2;1)_ab = tau sum_n int d_a f_n d_b f_n / (f_n (1 - f_n)) = (tau/T) sum_n int v^a_n v^b_n f_n(1 - f_n)/T
                   = J^D_a E_a / T per E^2 (= sigma^D_ab / T).

    Within a degenerate level, v^a_n v^b_n -> Re v^a_nm v^b_mn summed over the level.
    """
    tau = block.settings.tau
    kernel = np.where(block.same_level, -tau * block.fermi_dd / block.T, 0.0)
    return band_sum(kernel, block.products.real)


def entropy_production_interband(block: Block) -> np.ndarray:
    """Interband entropy production, the exact second order of Eq. 9 (ERRATA E1, default):

        Pi(2)_inter,ab = (1/tau) sum_{n != m} int K_nm Re(rho(1)a_mn rho(1)b_nm),
        K_nm = (phi(f_m) - phi(f_n))/(f_n - f_m) = -e_nm/(T f_nm) > 0,
        = -(eta/T) sum_{n != m} int F_mn Re(v^a_nm v^b_mn) / (e_mn^2 + eta^2)       (rho1 = finite_eta)
        = -(1/(tau T)) sum_{n != m} int (f_nm/e_nm) g^ab_nm                          (rho1 = dc_limit).

    With settings.kernel = "printed", the kernel printed in Eq. 18, 1/(tau f_n (1 - f_n)):

        Pi(2)_inter,printed = (1/tau) sum_{n != m} int f_nm^2 |r_nm . E|^2 (e^2/(e^2 + eta^2)) / (f_n (1 - f_n)),

    which grows like exp(|e - mu|/T) and has no T -> 0 limit; an OverflowError names the point where
    it leaves float64.
    """
    eta = block.settings.eta
    propagator = interband_propagator_squared(block)
    if block.settings.kernel == "printed":
        log_ratio = 2 * occupation.log_abs_fermi_difference(block.x_n, block.x_m) - occupation.log_fermi_variance(
            block.x_n
        )
        if np.any(log_ratio > 700):
            worst = float(np.max(log_ratio))
            raise OverflowError(
                f"the printed Eq. 18 kernel f_nm^2/(f_n(1 - f_n)) reaches exp({worst:.0f}) and overflows "
                "float64 (it has no T -> 0 limit, ERRATA E1); raise T or use kernel='divided_difference'"
            )
        kernel = eta * np.exp(log_ratio) * propagator * block.inverse_gap**2
    else:
        kernel = -eta * block.fermi_dd / block.T * propagator
    return band_sum(kernel, block.products.real)


def entropy_production(block: Block) -> np.ndarray:
    """Leading-order entropy production Pi(2)_ab = Drude + interband (Eq. 18 with ERRATA E1, E2).

    Positive semi-definite for the divided-difference kernel (Pi_k >= 0 at every k).
    """
    return entropy_production_drude(block) + entropy_production_interband(block)


def entropy_production_band_curvature(block: Block) -> np.ndarray:
    """The v^ab part of the Drude entropy production (Eq. 20, first term):

        (tau/T) sum_n int v^ab_n f_n,   v^ab_n = <u_n|d_a d_b H|u_n>.

    Not negligible (ERRATA E3): typically larger than the whole Drude entropy production.
    """
    kernel = block.settings.tau / block.T * block.fermi
    return band_sum(kernel, block.band_curvature)


def entropy_production_drude_quantum_metric(block: Block) -> np.ndarray:
    """The quantum-metric part of the Drude entropy production (Eq. 20, second term):

        (tau/T) sum_{n != m} int 2 e_nm g^ab_nm f_n = (tau/T) sum_{n != m} int 2 f_n Re(v^a_nm v^b_mn)/e_nm.

    Non-positive on the diagonal at every k (ERRATA E3). Eq. 20 = band_curvature + this part.
    """
    kernel = block.settings.tau / block.T * 2 * block.fermi[:, :, None, :] * block.inverse_gap
    return band_sum(kernel, block.products.real)


def entropy_production_quantum_metric(block: Block) -> np.ndarray:
    """Eq. 21 corrected (ERRATA E1, E3): Pi(2;QM) = sum_nm int lambda_nm g^ab_nm,

        lambda_nm = (1/T) [2 tau e_nm f_n - f_nm/(tau e_nm)]   (the interband term as chosen by rho1).

    This is NOT the entropy production: it omits the v^ab part and can be negative.
    """
    return entropy_production_drude_quantum_metric(block) + entropy_production_interband(block)


def equilibrium_entropy_current(block: Block) -> np.ndarray:
    """Equilibrium entropy current (Eqs. 24-25): j^s(0)_a = sum_n int v^a_n s_n.

    Vanishes identically (a total derivative of a periodic function, ERRATA E6): a check, shape (p, a).
    """
    return band_sum(block.entropy, block.velocity)


def entropy_current_drude(block: Block) -> np.ndarray:
    """Entropy Drude conductivity (Eq. 27, first term, integrated by parts):

        j^s_a = sigma^s,D_ab E_b,  sigma^s,D_ab = tau sum_n int v^a_n d_b s_n
                                              = tau sum_{nm in a level} int F^s_mn Re v^a_nm v^b_mn.
    """
    kernel = np.where(block.same_level, block.settings.tau * block.entropy_dd, 0.0)
    return band_sum(kernel, block.products.real)


def entropy_hall(block: Block) -> np.ndarray:
    """Intrinsic entropy anomalous Hall conductivity (Eq. 28 with ERRATA E5):

        sigma^s_ab = sum_n int s_n Omega^ab_n = sum_{n != m} int F^s_mn Im(v^a_nm v^b_mn)/e_mn,

    j^s_a = sigma^s_ab E_b; equals the anomalous Nernst coefficient alpha_ab (ERRATA E7). With the full
    position matrix Omega_n also has the band-diagonal term X_n, added as sum_n int s_n X^ab_n.
    """
    return band_sum(-block.entropy_dd * block.inverse_gap, block.products.imag) + position_curvature_sum(
        block, block.entropy)
