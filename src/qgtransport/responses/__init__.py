"""The registry of responses: name -> function, shape, unit kind, what it needs, description."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from qgtransport.responses import charge, entropy, nonlinear, optical, second_order


@dataclass(frozen=True)
class Response:
    function: Callable
    unit: str  # a key of units.UNIT_KINDS
    description: str
    current: str  # "charge", "entropy" or "-" (entropy production)
    rank: int = 2  # tensor rank: 0 scalar, 1 (a), 2 (a, b), 3 (a, b, c)
    frequency: bool = False  # depends on omega (complex in general)
    needs_tau: bool = False
    needs_curvature: bool = False  # needs d2H (band_geometry order 2)
    band_power: int = 2  # largest band-index power of its per-k arrays (memory: k n^power p)
    zero_temperature: bool = False  # a Fermi-sea sum with a T -> 0 limit, computed at T = 0 with the step f
    # how the band sum F(k) transforms under time reversal (k -> -k; docs/symmetry.md): "even",
    # "odd", "transpose" (F_ab(-k) = F_ba(k)) or None (exact in tau: no rule); every index is polar
    time_reversal: str | None = None
    axial: bool = False


# T = 0 (step occupation theta(mu - e), 1/2 at e = mu; docs/conventions.md): the sums over occupied
# states with weights f or s and no 1/T, f', s' (anomalous Hall -sum f Omega; entropy Hall, Nernst
# and the equilibrium entropy current, which vanish with s at T = 0; the interband optical
# responses and the joint density of states). Drude, Fermi-surface (f', f'') and entropy-production
# (1/T) responses have no T = 0 value on a k-grid and refuse T = 0.
ZERO_TEMPERATURE = ("anomalous_hall", "entropy_hall", "anomalous_nernst", "equilibrium_entropy_current",
                    "optical_conductivity", "optical_entropy_conductivity", "joint_density_of_states")


RESPONSES = {
    "entropy_production": Response(
        entropy.entropy_production, "entropy_production",
        "leading-order entropy production Pi = Pi_ab E_a E_b, Drude + interband (Eq. 18, ERRATA E1-E2)",
        "-", needs_tau=True),
    "entropy_production_drude": Response(
        entropy.entropy_production_drude, "entropy_production",
        "intraband (Drude) entropy production = J^D.E/T (Eqs. 18-19)", "-", needs_tau=True),
    "entropy_production_interband": Response(
        entropy.entropy_production_interband, "entropy_production",
        "interband entropy production (Eq. 18 second term; kernel per the 'kernel' attribute)", "-",
        needs_tau=True),
    "entropy_production_band_curvature": Response(
        entropy.entropy_production_band_curvature, "entropy_production",
        "v^ab part of the Drude entropy production (Eq. 20; ERRATA E3)", "-",
        needs_tau=True, needs_curvature=True),
    "entropy_production_drude_quantum_metric": Response(
        entropy.entropy_production_drude_quantum_metric, "entropy_production",
        "quantum-metric part of the Drude entropy production (Eq. 20; <= 0, ERRATA E3)", "-",
        needs_tau=True),
    "entropy_production_quantum_metric": Response(
        entropy.entropy_production_quantum_metric, "entropy_production",
        "Eq. 21 corrected: quantum-metric entropy production (not the total; ERRATA E3)", "-",
        needs_tau=True),
    "equilibrium_entropy_current": Response(
        entropy.equilibrium_entropy_current, "entropy_current",
        "equilibrium entropy current sum_n int v_n s_n (Eqs. 24-25; zero identically, ERRATA E6)",
        "entropy", rank=1),
    "entropy_current_drude": Response(
        entropy.entropy_current_drude, "entropy_conductivity",
        "entropy Drude conductivity j^s = sigma^s,D E (Eq. 27 first term)", "entropy", needs_tau=True),
    "entropy_hall": Response(
        entropy.entropy_hall, "entropy_conductivity",
        "intrinsic entropy anomalous Hall conductivity sigma^s = sum_n int s_n Omega_n (Eq. 28)", "entropy"),
    "anomalous_hall": Response(
        charge.anomalous_hall, "conductivity",
        "intrinsic anomalous Hall conductivity of the charge current J = -Tr[v rho]", "charge"),
    "drude": Response(
        charge.drude, "conductivity", "Drude conductivity of the charge current J = -Tr[v rho]", "charge",
        needs_tau=True),
    "anomalous_nernst": Response(
        charge.anomalous_nernst, "entropy_conductivity",
        "anomalous Nernst coefficient J = alpha (-grad T) (Xiao, Yao, Fang, Niu, PRL 97, 026603 (2006))",
        "charge"),
    "conductivity_ac": Response(
        optical.conductivity_ac, "conductivity",
        "AC charge conductivity sigma(omega), Drude + interband (Eq. 13)", "charge", frequency=True, needs_tau=True),
    "drude_ac": Response(
        optical.drude_ac, "conductivity", "AC Drude charge conductivity, 1/(eta - i omega) (Eq. 13)", "charge",
        frequency=True, needs_tau=True),
    "entropy_conductivity_ac": Response(
        optical.entropy_conductivity_ac, "entropy_conductivity",
        "AC entropy conductivity sigma^s(omega) (Eq. 13 with f -> s)", "entropy", frequency=True, needs_tau=True),
    "heat_conductivity_ac": Response(
        optical.heat_conductivity_ac, "heat_conductivity",
        "AC heat-current response j^q = Tr[{v, H - mu} rho(1)]/2 per E", "heat", frequency=True, needs_tau=True),
    "optical_conductivity": Response(
        optical.optical_conductivity, "conductivity",
        "interband optical charge conductivity (Eq. 32), broadened delta", "charge", frequency=True),
    "optical_entropy_conductivity": Response(
        optical.optical_entropy_conductivity, "entropy_conductivity",
        "interband optical entropy conductivity (Eq. 33, sign of j^s = Tr[v s])", "entropy", frequency=True),
    "joint_density_of_states": Response(
        optical.joint_density_of_states, "density_of_states",
        "joint density of states sum_nm int delta(e_m - e_n - omega)", "-", rank=0, frequency=True),
    "second_order_current": Response(
        second_order.second_order_current, "second_order_conductivity",
        "second-order DC charge response J = chi E E of the seed's equation of motion, exact in tau", "charge",
        rank=3, needs_tau=True, needs_curvature=True, band_power=3),
    "nonlinear_drude": Response(
        nonlinear.nonlinear_drude, "second_order_conductivity",
        "nonlinear Drude (tau^2) second-order charge response", "charge", rank=3, needs_tau=True,
        needs_curvature=True),
    "berry_curvature_dipole_current": Response(
        nonlinear.berry_curvature_dipole_current, "second_order_conductivity",
        "Berry-curvature-dipole (tau^1) second-order charge response (Sodemann-Fu 2015)", "charge", rank=3,
        needs_tau=True),
    "intrinsic_second_order": Response(
        nonlinear.intrinsic_second_order, "second_order_conductivity",
        "tau^0 (intrinsic) second-order charge response of the seed's equation of motion (contour average)",
        "charge", rank=3, needs_curvature=True, band_power=3),
    "entropy_production_third_order": Response(
        second_order.entropy_production_third_order, "third_order_entropy_production",
        "entropy production at E^3, Pi = Pi_abc E_a E_b E_c (exact third order of Eq. 9)", "-", rank=3,
        needs_tau=True, needs_curvature=True, band_power=3),
    "second_order_heat_current": Response(
        second_order.second_order_heat_current, "second_order_heat_conductivity",
        "second-order heat current Tr[{v, H - mu} rho(2)]/2 per E^2", "heat", rank=3, needs_tau=True,
        needs_curvature=True, band_power=3),
    "second_order_entropy_current": Response(
        second_order.second_order_entropy_current, "second_order_entropy_conductivity",
        "second-order entropy current Tr[v s(rho)] of Eq. 5 (Frechet expansion of s, ERRATA S1)", "entropy",
        rank=3, needs_tau=True, needs_curvature=True, band_power=3),
    "intrinsic_second_order_closed_form": Response(
        nonlinear.intrinsic_second_order_closed_form, "second_order_conductivity",
        "closed form of the tau^0 second-order charge response (BCP Fermi-surface + interband metric dipole)",
        "charge", rank=3),
    "second_harmonic_current": Response(
        second_order.second_harmonic_current, "second_order_conductivity",
        "second-harmonic charge response chi(omega, omega): J(2 omega) = Re[chi E E e^{-2i omega t}]/2, exact in tau",
        "charge", rank=3, needs_tau=True, needs_curvature=True, band_power=3, frequency=True),
    "rectified_current": Response(
        second_order.rectified_current, "second_order_conductivity",
        "rectification charge response chi(omega, -omega): J_DC = Re[chi E E*]/2, exact in tau", "charge",
        rank=3, needs_tau=True, needs_curvature=True, band_power=3, frequency=True),
    "second_harmonic_entropy_current": Response(
        second_order.second_harmonic_entropy_current, "second_order_entropy_conductivity",
        "second-harmonic entropy current Tr[v s(rho)], chi^s(omega, omega) (ERRATA S1: not f -> s)", "entropy",
        rank=3, needs_tau=True, needs_curvature=True, band_power=3, frequency=True),
    "rectified_entropy_current": Response(
        second_order.rectified_entropy_current, "second_order_entropy_conductivity",
        "rectified entropy current Tr[v s(rho)], chi^s(omega, -omega): <j^s> = Re[chi^s E E*]/2", "entropy",
        rank=3, needs_tau=True, needs_curvature=True, band_power=3, frequency=True),
    "second_harmonic_heat_current": Response(
        second_order.second_harmonic_heat_current, "second_order_heat_conductivity",
        "second-harmonic heat current Tr[{v, H - mu} rho(2)]/2, chi^q(omega, omega)", "heat",
        rank=3, needs_tau=True, needs_curvature=True, band_power=3, frequency=True),
    "rectified_heat_current": Response(
        second_order.rectified_heat_current, "second_order_heat_conductivity",
        "rectified heat current Tr[{v, H - mu} rho(2)]/2, chi^q(omega, -omega): <j^q> = Re[chi^q E E*]/2", "heat",
        rank=3, needs_tau=True, needs_curvature=True, band_power=3, frequency=True),
    "berry_connection_polarizability_current": Response(
        nonlinear.berry_connection_polarizability_current, "second_order_conductivity",
        "tau^0 BCP nonlinear anomalous Hall response (Gao-Yang-Niu 2014; Liu et al., Wang et al. 2021)",
        "charge", rank=3),
    "kaplan_holder_yan_current": Response(
        nonlinear.kaplan_holder_yan_current, "second_order_conductivity",
        "tau^0 second-order response of Kaplan-Holder-Yan 2024 (BCP + normalized quantum-metric dipole)",
        "charge", rank=3),
    "quantum_metric_dipole_current": Response(
        nonlinear.quantum_metric_dipole_current, "second_order_conductivity",
        "tau^0 normalized quantum-metric dipole term sum_n f'_n v^a_n G^bc_n (dissipative)", "charge", rank=3),
    "second_order_entropy_current_replaced": Response(
        second_order.second_order_entropy_current_replaced, "second_order_entropy_conductivity",
        "f -> s replaced second-order entropy current (not Tr[v s(rho)], ERRATA S1)", "entropy", rank=3,
        needs_tau=True, needs_curvature=True, band_power=3),
}
RESPONSES.update({name: replace(RESPONSES[name], zero_temperature=True) for name in ZERO_TEMPERATURE})

# Time reversal maps the band sum F(k) of a response to F(-k) (docs/symmetry.md). A linear response
# sum_nm c(e_n, e_m) v^a_nm v^b_mn goes to its transpose (Onsager: symmetric part even, Hall part odd);
# a sum over f and its derivatives of products of velocities (odd), Berry curvatures (odd), metrics
# and band curvatures (even) takes the sign of the product: tau-odd terms (Drude, Berry-curvature
# dipole) even, tau-even ones (nonlinear Drude tau^2, intrinsic tau^0) odd. A response exact in tau
# maps to the response at -tau: no rule (only the unitary operations are used with it).
TIME_REVERSAL = {
    **{name: "transpose" for name in (
        "entropy_production", "entropy_production_drude", "entropy_production_interband",
        "entropy_production_band_curvature", "entropy_production_drude_quantum_metric",
        "entropy_production_quantum_metric", "entropy_current_drude", "entropy_hall", "anomalous_hall", "drude",
        "anomalous_nernst", "conductivity_ac", "drude_ac", "entropy_conductivity_ac", "heat_conductivity_ac",
        "optical_conductivity", "optical_entropy_conductivity")},
    "equilibrium_entropy_current": "odd",
    "joint_density_of_states": "even",
    "berry_curvature_dipole_current": "even",
    "nonlinear_drude": "odd",
    "intrinsic_second_order": "odd",
    "intrinsic_second_order_closed_form": "odd",
    "berry_connection_polarizability_current": "odd",
    "kaplan_holder_yan_current": "odd",
    "quantum_metric_dipole_current": "odd",
    **{name: None for name in (
        "second_order_current", "entropy_production_third_order", "second_order_heat_current",
        "second_order_entropy_current", "second_harmonic_current", "rectified_current",
        "second_harmonic_entropy_current", "rectified_entropy_current", "second_harmonic_heat_current",
        "rectified_heat_current", "second_order_entropy_current_replaced")},
}
RESPONSES.update({name: replace(RESPONSES[name], time_reversal=TIME_REVERSAL.get(name)) for name in RESPONSES})

__all__ = ["RESPONSES", "Response", "TIME_REVERSAL", "ZERO_TEMPERATURE"]
