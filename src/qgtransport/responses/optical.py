"""AC linear response at frequency omega (Eq. 13) and the interband optical conductivities (Eqs. 32-34).

E(t) = E e^{-i omega t}; hbar omega in the model's energy unit. With F_mn = (f_m - f_n)/(e_m - e_n)
(f' within a level) the first-order density matrix of the equation of motion is

    rho(1)_mn(omega) = F_mn v^b_mn E_b / (eta - i omega + i e_mn)                       (Eq. 13)

(the Drude term for n, m in one level, the interband term otherwise). Charge conductivities are for
J = -Tr[v rho]; entropy conductivities for j^s = Tr[v s] with s(1) the f -> s replacement (ERRATA:
verified at first order for any omega and eta); heat conductivities for
j^q = Tr[(1/2){v, H - mu} rho]. All complex, shape (p, a, b).
"""

from __future__ import annotations

import numpy as np

from qgtransport.responses.kernels import Block, band_sum


def conductivity_ac(block: Block) -> np.ndarray:
    """Charge conductivity sigma_ab(omega) = -sum_nm int F_mn v^a_nm v^b_mn / (eta - i omega + i e_mn).

    Drude + interband, any omega and eta. At omega = 0, Re sigma_ab E_a E_b / T is the entropy
    production Pi(2) (ERRATA, exact facts: Pi = J . E / T in any steady state).
    """
    return band_sum(-block.fermi_dd * block.ac_propagator, block.products)


def drude_ac(block: Block) -> np.ndarray:
    """Drude (intraband) charge conductivity sigma^D_ab(omega) = sum_n int (-f'_n) v^a_n v^b_n / (eta - i omega)."""
    kernel = np.where(block.same_level, -block.fermi_dd * block.ac_propagator, 0.0)
    return band_sum(kernel, block.products)


def entropy_conductivity_ac(block: Block) -> np.ndarray:
    """Entropy conductivity sigma^s_ab(omega) = sum_nm int F^s_mn v^a_nm v^b_mn / (eta - i omega + i e_mn).

    The AC form of Eq. 27 (f -> s in rho(1)); its DC, eta -> 0 limit is the entropy Drude term plus
    the entropy Hall conductivity.
    """
    return band_sum(block.entropy_dd * block.ac_propagator, block.products)


def heat_conductivity_ac(block: Block) -> np.ndarray:
    """Heat-current response j^q_a = K_ab(omega) E_b, j^q = Tr[(1/2){v, H - mu} rho(1)]:

        K_ab = sum_nm int ((e_n + e_m)/2 - mu) F_mn v^a_nm v^b_mn / (eta - i omega + i e_mn).

    For the Drude term K/T equals the entropy conductivity (local equilibrium); interband and AC
    terms differ: j^s != j^q/T (the seed's claim).
    """
    mean_energy = (block.energies[:, :, None] + block.energies[:, None, :]) / 2
    weight = mean_energy[..., None] - block.mu
    return band_sum(weight * block.fermi_dd * block.ac_propagator, block.products)


def optical_conductivity(block: Block) -> np.ndarray:
    """Interband optical charge conductivity (Eq. 32), broadened delta function:

        sigma^e_ab(omega) = pi omega sum_nm int r^a_nm r^b_mn f_nm delta(e_mn - omega),

    r^a_nm r^b_mn f_nm = F_mn v^a_nm v^b_mn / e_nm. Charge current J = -Tr[v rho] (ERRATA E8: Eq. 32
    is the charge conductivity). Re of the diagonal is the absorptive part (>= 0 for omega > 0).
    """
    kernel = np.pi * block.omega * block.fermi_dd * block.inverse_gap * block.resonance
    return band_sum(kernel, block.products)


def optical_entropy_conductivity(block: Block) -> np.ndarray:
    """Interband optical entropy conductivity (Eq. 33) for j^s = Tr[v s]:

        sigma^s_ab(omega) = -pi omega sum_nm int r^a_nm r^b_mn (s_n - s_m) delta(e_mn - omega).

    The sign is that of the particle current, as in Eq. 27 (Eq. 33 as printed has the charge sign of
    Eq. 32; ERRATA E8). sigma^s / (-sigma^e) is the ratio of Eq. 34.
    """
    kernel = -np.pi * block.omega * block.entropy_dd * block.inverse_gap * block.resonance
    return band_sum(kernel, block.products)


def joint_density_of_states(block: Block) -> np.ndarray:
    """Joint density of states J(omega) = sum_{n, m} int delta(e_m - e_n - omega) (pairs of levels),
    per energy and per cell volume; shape (p,)."""
    return block.resonance.sum(axis=(0, 1, 2))
