"""Linear DC charge responses. Charge current J = -Tr[v rho] (electron charge -e, e = 1), so a
conductivity here is J_a = sigma_ab E_b. Each function returns the band sum of one k-chunk,
shape (p, a, b); the integrator divides by the number of k-points and the cell volume
(int_k = d^dk/(2 pi)^d).

With F_mn = (f_m - f_n)/(e_m - e_n) (f'(e_n) within a degenerate level) the first-order density
matrix of the equation of motion is rho(1)_mn = F_mn v^b_mn E_b/(eta + i e_mn) (Eq. 13 at omega = 0,
written with v_mn = i e_nm r_mn so that degenerate levels need no special case).
"""

from __future__ import annotations

import numpy as np

from qgtransport.bands import occupation
from qgtransport.responses.kernels import Block, band_sum, position_curvature_sum


def drude(block: Block) -> np.ndarray:
    """Drude conductivity (intraband, first term of Eq. 14):

        sigma^D_ab = -tau sum_n int v^a_n d_b f_n = tau sum_{nm in a level} int (-F_mn) Re v^a_nm v^b_mn.

    Non-negative on the diagonal. Units e^2/hbar x length^(2-d).
    """
    kernel = np.where(block.same_level, -block.settings.tau * block.fermi_dd, 0.0)
    return band_sum(kernel, block.products.real)


def anomalous_hall(block: Block) -> np.ndarray:
    """Intrinsic anomalous Hall conductivity (second term of Eq. 14, eta -> 0):

        sigma_ab = -sum_n int f_n Omega^ab_n = -sum_{n != m} int F_mn Im(v^a_nm v^b_mn)/e_mn.

    With our conventions sigma_xy = -C/(2 pi) for a Chern insulator of Chern number C
    (sigma_xy = -C e^2/h), as in Wang et al., Phys. Rev. B 74, 195118 (2006). Units e^2/hbar x
    length^(2-d). With the full position matrix Omega_n also has the band-diagonal term X_n
    (`qgtransport.bands.geometry.position_matrix_terms`), added as -sum_n int f_n X^ab_n.
    """
    return band_sum(block.fermi_dd * block.inverse_gap, block.products.imag) + position_curvature_sum(
        block, -block.fermi)


def anomalous_nernst(block: Block) -> np.ndarray:
    """Anomalous Nernst coefficient, J_a = alpha_ab (-d_b T) (Xiao, Yao, Fang, Niu, PRL 97,
    026603 (2006), Eq. 8, k_B = e = hbar = 1):

        alpha_ab = (1/T) sum_n int Omega^ab_n [(e_n - mu) f_n + T ln(1 + exp(-(e_n - mu)/T))].

    Equals the entropy Hall conductivity sigma^s_ab exactly (Onsager, Eq. 29; ERRATA E7).
    Units e k_B/hbar x length^(2-d). Omega_n includes X_n with the full position matrix.
    """
    weight = occupation.nernst_weight(block.x)
    omega_kernel = -2 * block.inverse_gap**2 * weight[:, :, None, :]
    return band_sum(omega_kernel, block.products.imag) + position_curvature_sum(block, weight)
