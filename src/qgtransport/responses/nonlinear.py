"""The second-order charge response by powers of tau, and the tau^0 currents of the literature.

The exact response of the seed's equation (`qgtransport.responses.second_order`) is a Laurent series in
eta = 1/tau, chi = tau^2 chi^(2) + tau chi^(1) + chi^(0) + O(1/tau): here the nonlinear Drude (tau^2)
and Berry-curvature-dipole (tau^1) terms, the exact tau^0 term (a contour average of the exact
response) and its closed form, the tau^0 formulas of Gao-Yang-Niu, Kaplan-Holder-Yan and the
normalized quantum-metric dipole (ERRATA O3), and the diagonal of rho(2) (Eq. 15). Charge responses
are of J = -Tr[v rho].

Degenerate levels (docs/conventions.md): where a formula multiplies two band quantities (v_n Omega_n,
v_n d_b v_n, v_n g_nm, v_n v_n) it is the trace over the level of the level matrices of
`qgtransport.bands.geometry` (`level_velocity`, the non-Abelian `level_berry_curvature`,
`level_mass`): invariant under any unitary within a degenerate level, where the eigenvectors LAPACK
returns are arbitrary, and equal to the per-band form for a non-degenerate band. The exact responses
of `second_order` are traces of matrix products with divided-difference kernels and need no such care.

The names of `second_order` stay importable from here (qgtransport 0.1 had both families in this module).
"""

from __future__ import annotations

import numpy as np

from qgtransport.bands import occupation as occ
from qgtransport.bands.geometry import degenerate, velocity_derivative
from qgtransport.responses.kernels import Block, band_sum
from qgtransport.responses.second_order import (  # noqa: F401  (re-exported)
    ENTROPY,
    FERMI,
    Occupation,
    PairKernel,
    ac_combination,
    ac_rates,
    ac_second_order_entropy_current,
    ac_second_order_heat_current,
    ac_second_order_response,
    entropy_frechet_kernels,
    entropy_linear_term,
    entropy_production_third_order,
    entropy_quadratic_term,
    first_order_density_matrix,
    heat_current_trace,
    per_frequency,
    propagated_velocity,
    rectified_current,
    rectified_entropy_current,
    rectified_heat_current,
    second_divided_difference,
    second_harmonic_current,
    second_harmonic_entropy_current,
    second_harmonic_heat_current,
    second_order_current,
    second_order_density_matrix,
    second_order_entropy_current,
    second_order_entropy_current_replaced,
    second_order_heat_current,
    second_order_response,
    split_by_point,
    symmetrise_abc,
    symmetrise_bc,
)


def occupation_second_order(block: Block, variant: str = "single_eta") -> np.ndarray:
    """Diagonal of rho(2) (Eq. 15) per k, band and (mu, T): shape (k, n, p, b, c).

    variant="single_eta" (the equation of motion as written, ERRATA E10; exact at finite eta):
        rho(2)_nn = tau^2 d_b d_c f_n + 2 sum_m f_mn g^bc_nm e_nm^2/(e_nm^2 (e_nm^2 + eta^2)),
    variant="printed" (Eq. 15 as printed, eta -> 0): tau^2 d_b d_c f_n - sum_m g^bc_nm f_nm/e_nm^2,

    d_b d_c f_n = f''_n Re(v^b v^c)_nn + f'_n M^bc_nn with the level matrices (v^b v^c)_nn = sum_{n' in the
    level} v^b_nn' v^c_n'n and M = `level_mass` (v^b_n v^c_n and d_b v^c_n for a non-degenerate band), m over
    the other levels. Inside a degenerate level the diagonal depends on the basis; its sum over the level
    does not.
    """
    tau = block.settings.tau
    x, T = block.x, block.T
    v_level = block.level_velocity  # (k, a, n, m)
    product = np.einsum("kbnm,kcmn->knbc", v_level, v_level).real
    dv = velocity_derivative(block.geo, block.settings.degeneracy_tol)  # M^bc_nn
    f1, f2 = occ.fermi_derivative(x, 1) / T, occ.fermi_derivative(x, 2) / T**2
    drude = tau**2 * (np.einsum("knp,knbc->knpbc", f2, product) + np.einsum("knp,knbc->knpbc", f1, dv))
    f = block.fermi  # (k, n, p)
    f_mn = f[:, None, :, :] - f[:, :, None, :]  # [k, n, m, p] = f_m - f_n
    metric_e2 = symmetrise_bc(block.products.real)  # g^bc_nm e_nm^2 = Re v^b_nm v^c_mn, [k, n, m, b, c]
    if variant == "printed":
        weight = f_mn * block.inverse_gap**4  # -f_nm/e_nm^2 with g = Re P/e_nm^2, f_mn = -f_nm
        return drude + np.einsum("knmp,knmbc->knpbc", weight, metric_e2)
    eta = block.settings.eta
    weight = 2 * f_mn * block.inverse_gap**2 / (block.e_nm**2 + eta**2)
    return drude + np.einsum("knmp,knmbc->knpbc", weight, metric_e2)


def band_normalized_metric(block: Block) -> np.ndarray:
    """Berry-connection polarizability G^ab_n = 2 sum_{m != n} g^ab_nm/(e_n - e_m), shape (k, n, a, b)
    (Gao, Yang, Niu, PRL 112, 166601 (2014)): the field-induced Berry connection A'^a_n = G^ab_n E_b
    of a band under the potential energy +E.r of an electron (charge -1). Per band: inside a degenerate
    level it depends on the basis, and the responses use the level trace of `polarizability_velocity`."""
    inverse = block.inverse_gap[..., 0]
    return 2 * np.einsum("knmab,knm->knab", block.products.real, inverse**3)


def polarizability_velocity(block: Block) -> np.ndarray:
    """X^{a,bc}_n = Re sum_{n' in the level of n} v^a_{n'n} G^bc_{nn'}, shape (k, n, a, b, c), with the
    level matrix G^bc_{nn'} = sum_{m not in the level} (v^b_nm v^c_mn' + v^c_nm v^b_mn')/(e_n - e_m)^3.

    For a non-degenerate band X^{a,bc}_n = v^a_n G^bc_n; for a degenerate level (e.g. Kramers pairs of
    PT-symmetric antiferromagnets) the level sum of X is gauge invariant, which v^a_n G^bc_n is not.
    """
    v = block.geo.velocity  # (k, a, n, m)
    weight = block.inverse_gap[..., 0] ** 3  # (k, n, m), zero within a level
    k, n, l = block.level_pairs  # grouped by (k, n), the diagonal in every group
    half = (v[k, :, n, :] * weight[k, n][:, None, :]) @ np.swapaxes(v[k, :, :, l], -1, -2)  # (q, b, c)
    G = half + np.swapaxes(half, -1, -2)
    terms = (v[k, :, l, n][:, :, None, None] * G[:, None]).real  # v^a_ln G^bc_nl, (q, a, b, c)
    first = np.flatnonzero(np.concatenate([[True], (k[1:] != k[:-1]) | (n[1:] != n[:-1])]))
    return np.add.reduceat(terms, first, axis=0).reshape(block.energies.shape + terms.shape[1:])


def fermi_surface_bcp_sum(block: Block, weights) -> np.ndarray:
    """sum_n int f'_n [w1 X^{a,bc} + w2 (X^{b,ac} + X^{c,ab})] for weights (w1, w2), shape (p, a, b, c)
    (X: polarizability_velocity; f'_n = df/de at e_n)."""
    f1 = occ.fermi_derivative(block.x, 1) / block.T  # (k, n, p)
    X = np.einsum("knp,knabc->pabc", f1, polarizability_velocity(block))
    w1, w2 = weights
    return w1 * X + w2 * (np.swapaxes(X, 1, 2) + np.swapaxes(np.swapaxes(X, 1, 2), 2, 3))


def berry_connection_polarizability_current(block: Block) -> np.ndarray:
    """Intrinsic second-order (nonlinear anomalous Hall) charge response of the Berry-connection
    polarizability: Gao, Yang, Niu, PRL 112, 166601 (2014); in this form Liu et al., PRL 127, 277202
    (2021) and Wang et al., PRL 127, 277201 (2021). From J = -sum_n int f_n Omega'^ab_n E_b with the
    field-induced curvature Omega'^ab = d_a A'^b - d_b A'^a, A'^b = G^bc E_c, symmetrised in (b, c):

        chi^BCP_abc = -sum_n int f_n [d_a G^bc_n - (1/2)(d_b G^ac_n + d_c G^ab_n)]
                    =  sum_n int f'_n [v^a_n G^bc_n - (1/2)(v^b_n G^ac_n + v^c_n G^ab_n)].

    Transcribed into docs/conventions.md (electron charge -1, Omega = -2 Im sum r r, sigma_xy = -sum f Omega)
    by that derivation, so that its sign follows ours. Purely Hall: its fully symmetric part vanishes,
    J.E = 0 (tests/responses/test_nonlinear.py). Not what the seed's equation gives (docs/physics.md, ERRATA O3).
    """
    return fermi_surface_bcp_sum(block, (1.0, -0.5))


def quantum_metric_dipole_current(block: Block) -> np.ndarray:
    """The normalized-quantum-metric dipole term on its own:

        chi^QMD_abc = sum_n int f'_n v^a_n G^bc_n = -sum_n int f_n d_a G^bc_n,

    G^bc_n = 2 sum_m g^bc_nm/(e_n - e_m) (the quantum metric normalised by the gap). It is the
    longitudinal, dissipative tau^0 term that Kaplan, Holder, Yan, PRL 132, 026301 (2024) add to the
    BCP Hall current (kaplan_holder_yan_current = BCP + this term); Das et al., PRB 108, L201405 (2023)
    report a dissipative tau^0 quantum-metric current of the same kind. Its fully symmetric part is
    what makes J.E != 0.
    """
    return fermi_surface_bcp_sum(block, (1.0, 0.0))


def kaplan_holder_yan_current(block: Block) -> np.ndarray:
    """Intrinsic second-order charge response of Kaplan, Holder, Yan, PRL 132, 026301 (2024):

        chi^KHY_abc = -sum_n int f_n [2 d_a G^bc_n - (1/2)(d_b G^ac_n + d_c G^ab_n)]
                    =  sum_n int f'_n [2 v^a_n G^bc_n - (1/2)(v^b_n G^ac_n + v^c_n G^ab_n)]
                    =  chi^BCP + chi^QMD,

    the coefficient 2 on the current index (a) is theirs (Gao-Yang-Niu's is 1); the overall sign is
    fixed so that its Hall part is the BCP current in our conventions. Not what the seed's equation
    gives (docs/physics.md, ERRATA O3).
    """
    return fermi_surface_bcp_sum(block, (2.0, -0.5))


def intrinsic_second_order_closed_form(block: Block) -> np.ndarray:
    """Closed form of the tau^0 second-order charge response of the seed's equation (single eta):

        chi^(0)_abc = (1/2) sum_n int f'_n [v^a_n G^bc_n - v^b_n G^ac_n - v^c_n G^ab_n]
                      + (1/2) sum_{n, m} int (f_n - f_m)(v^a_n - v^a_m) g^bc_nm / e_nm^2,

    f'_n = df/de at e_n, G the Berry-connection polarizability (band_normalized_metric; v^a_n G^bc_n
    taken as polarizability_velocity, a level trace). Found here as the exact eta^0 coefficient
    (`intrinsic_second_order`, contour average) and checked against it on two- and three-band models
    to the grid accuracy (tests/responses/test_nonlinear.py): the Fermi-surface BCP terms with weights
    (1/2, -1/2, -1/2) plus a Fermi-sea interband quantum-metric-dipole term. The weights differ from
    those of Gao, Yang, Niu (1, -1/2, -1/2: berry_connection_polarizability_current) and of Kaplan,
    Holder, Yan (2, -1/2, -1/2: kaplan_holder_yan_current), which assume other relaxation schemes
    (ERRATA O3; the comparison table is in docs/physics.md).
    """
    surface = fermi_surface_bcp_sum(block, (0.5, -0.5))
    return surface + interband_metric_dipole(block)


def interband_metric_dipole(block: Block) -> np.ndarray:
    """The Fermi-sea term of the closed form, (1/2) sum_{n, m} int (f_n - f_m)(v^a_n - v^a_m) g^bc_nm/e_nm^2
    = sum_{n, m} int (f_n - f_m) v^a_n g^bc_nm/e_nm^2, written per level:

        sum_{n, m in different levels} (f_n - f_m)/e_nm^4 Re sum_{n' in the level of n} v^a_n'n v^b_nm v^c_mn'

    (symmetrised in (b, c)), the trace over the level of n of v^a and the interband product; shape (p, a, b, c).
    """
    f = block.fermi
    kernel = (f[:, :, None, :] - f[:, None, :, :]) * block.inverse_gap**4  # (k, n, m, p)
    back = np.einsum("kcml,kaln->kmnca", block.geo.velocity, block.level_velocity)  # (v^c v_level^a)_mn
    sea = np.einsum("knmp,kbnm,kmnca->pabc", kernel, block.geo.velocity, back, optimize=True).real
    return symmetrise_bc(sea)


def contour_radius(energies: np.ndarray, tol: float) -> np.ndarray:
    """Per-k radius r_k = (1/4) min |e_n - e_m| over pairs of distinct levels (inf for one level)."""
    gaps = np.abs(energies[:, :, None] - energies[:, None, :])
    gaps = np.where(degenerate(energies, tol), np.inf, gaps)
    return gaps.min(axis=(1, 2)) / 4


def intrinsic_second_order(block: Block, points: int = 16) -> np.ndarray:
    """The tau^0 (intrinsic) second-order charge response of the seed's equation of motion, exactly:

        chi^(0)_abc = (1/2 pi i) oint chi(eta) d eta / eta = mean over eta_j = r_k exp(2 pi i j/N) of chi(eta_j),

    the eta^0 coefficient of the Laurent series of chi(eta) (poles at eta = 0 from the Drude and
    Berry-curvature-dipole terms and at eta = -i e_mn). r_k is a quarter of the smallest interband gap
    at k, so the circle average is exact up to O(4^-N). This is the reference against which the
    literature's tau^0 formulas (Gao-Yang-Niu 2014; Das et al. 2023; Kaplan-Holder-Yan 2024) are to be
    compared (ERRATA O3); it includes every tau^0 term the single-eta equation produces.
    """
    radius = contour_radius(block.energies, block.settings.degeneracy_tol)
    radius = np.where(np.isfinite(radius), radius, 1.0)
    total = 0.0
    for j in range(points):
        total = total + second_order_response(block, FERMI, eta=radius * np.exp(2j * np.pi * (j + 0.5) / points))
    return -(total / points).real



def nonlinear_drude(block: Block) -> np.ndarray:
    """Nonlinear Drude (tau^2) charge response: chi_abc = -tau^2 sum_n int v^a_n d_b d_c f_n, with
    d_b d_c f_n = f''(e_n) v^b_n v^c_n + f'(e_n) d_b v^c_n (Eq. 15's tau^2 term; Ideue et al. 2017).

    Per level (the eta^-2 coefficient of the exact response), symmetrised in (b, c):

        chi_abc = -tau^2 sum_levels { Tr[f'' v^a v^b v^c] + sum_{n, n'} F_nn' v^a_n'n M^bc_nn' },

    v the level velocity matrix, M = `level_mass`, F_nn' = (f_n - f_n')/(e_n - e_n') (f' at degeneracy);
    f'' in the triple trace is the mean of f''(e) over its three bands (equal inside an exact level).
    Summed over the triples and pairs of bands inside one level only (Block.level_triples, level_pairs):
    O(n^2) per k, not the n^3 of full matrix products.
    """
    tau = block.settings.tau
    v = block.geo.velocity  # (k, a, n, m)
    f2 = occ.fermi_derivative(block.x, 2) / block.T**2  # (k, n, p)
    k, n, m, l = block.level_triples  # n, m, l in one level
    triple = np.einsum("tp,ta,tb,tc->pabc", f2[k, n], v[k, :, n, m], v[k, :, m, l], v[k, :, l, n],
                       optimize=True)  # sum_n f''_n (v^a v^b v^c)_nn
    chi = (triple + np.einsum("pbca->pabc", triple) + np.einsum("pcab->pabc", triple)) / 3
    k, n, m = block.level_pairs
    chi = chi + np.einsum("qp,qa,qbc->pabc", block.fermi_dd[k, n, m], v[k, :, m, n], block.level_mass,
                          optimize=True)
    return -tau**2 * symmetrise_bc(chi.real)


def berry_curvature_dipole_current(block: Block) -> np.ndarray:
    """Berry-curvature-dipole (tau^1) charge response (Sodemann & Fu, PRL 115, 216806 (2015)):

        chi_abc = -(tau/2) sum_n int (d_b f_n Omega^ac_n + d_c f_n Omega^ab_n),

    the intrinsic Hall current sum_n int f_n Omega^ab_n E_b of a distribution shifted by tau E.grad f.
    Per level (gauge invariant; the eta^-1 coefficient of the exact response), f'_n v^b_n Omega^ac_n is

        sum_{n, n' in a level} F_nn' v^b_n'n Omega^ac_nn' = Tr_level[f' v^b Omega^ac],

    with the non-Abelian curvature Omega_nn' of `level_berry_curvature` (states outside the level only)
    and F_nn' = (f_n - f_n')/(e_n - e_n') (f' at degeneracy), summed over the pairs inside one level only
    (Block.level_pairs).
    """
    tau = block.settings.tau
    k, n, m = block.level_pairs
    chi = np.einsum("qp,qb,qac->pabc", block.fermi_dd[k, n, m], block.geo.velocity[k, :, m, n],
                    block.level_berry_curvature, optimize=True)
    return -tau * symmetrise_bc(chi.real)


__all__ = ["nonlinear_drude", "berry_curvature_dipole_current", "intrinsic_second_order",
           "intrinsic_second_order_closed_form", "berry_connection_polarizability_current",
           "kaplan_holder_yan_current", "quantum_metric_dipole_current", "occupation_second_order",
           "second_order_current", "second_order_entropy_current_replaced", "second_order_entropy_current",
           "second_order_heat_current", "entropy_production_third_order", "second_harmonic_current",
           "rectified_current", "second_harmonic_entropy_current", "rectified_entropy_current",
           "second_harmonic_heat_current", "rectified_heat_current", "band_sum"]
