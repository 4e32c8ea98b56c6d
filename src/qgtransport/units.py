"""Natural (seed) units <-> SI: one table, one place.

Natural units: k_B = e = hbar = 1, energies in the model's energy unit (eV by default), lengths in
its length unit (Angstrom by default), tau in hbar/energy, T in energy, k-integrals
int_k = int d^dk/(2 pi)^d. A response computed this way carries length^(2-d) (conductivities) and
converts to SI by one factor per unit kind below; d is the model's dimension, so 3D results are
per volume (S/m) and 2D results are sheet quantities (S).

SI inputs: mu in the model's energy unit, T in K, tau in fs.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy import constants as C

from qgtransport.models.tightbinding import ENERGY_UNITS_IN_EV, LENGTH_UNITS_IN_ANGSTROM

E_CHARGE = C.e
HBAR = C.hbar
K_B = C.k


def energy_unit_in_joule(model) -> float:
    return ENERGY_UNITS_IN_EV[model.energy_unit] * C.eV


def length_unit_in_metre(model) -> float:
    return LENGTH_UNITS_IN_ANGSTROM[model.length_unit] * 1e-10


def temperature_to_natural(T_kelvin, model):
    """T in the model's energy unit: k_B T / E_unit."""
    return K_B * T_kelvin / energy_unit_in_joule(model)


def relaxation_time_to_natural(tau_fs, model):
    """tau in hbar/E_unit: tau[s] E_unit / hbar."""
    return tau_fs * 1e-15 * energy_unit_in_joule(model) / HBAR


def field_to_si(E_natural, model):
    """Electric field in V/m from the natural unit E_unit/(e length_unit)."""
    return E_natural * energy_unit_in_joule(model) / E_CHARGE / length_unit_in_metre(model)


@dataclass(frozen=True)
class UnitKind:
    """A natural-unit result carries e^charge k_B^boltzmann E_unit^energy hbar^-hbar length^(offset - d)
    (E_unit the model's energy unit in J, length in m); `si_unit` names the SI unit by dimension d."""

    charge: int
    boltzmann: int
    energy: int
    hbar: int
    offset: int
    si_unit: dict
    natural_unit: str


UNIT_KINDS = {
    "conductivity": UnitKind(2, 0, 0, 1, 2, {1: "S m", 2: "S", 3: "S/m"}, "e^2/hbar length^(2-d)"),
    "entropy_conductivity": UnitKind(1, 1, 0, 1, 2, {1: "A m/K", 2: "A/K", 3: "A/(m K)"},
                                     "e k_B/hbar length^(2-d)"),
    "entropy_production": UnitKind(
        2, 1, -1, 1, 2, {1: "W/(K m) per (V/m)^2", 2: "W/(K m^2) per (V/m)^2", 3: "W/(K m^3) per (V/m)^2"},
        "k_B e^2/(hbar E_unit) length^(2-d) per field^2"),
    "heat_conductivity": UnitKind(1, 0, 1, 1, 2, {1: "W m/V", 2: "W/V", 3: "W/(V m)"}, "e E_unit/hbar length^(2-d)"),
    "second_order_conductivity": UnitKind(3, 0, -1, 1, 3, {1: "A m^2/V^2", 2: "A m/V^2", 3: "A/V^2"},
                                          "e^3/(hbar E_unit) length^(3-d)"),
    "second_order_entropy_conductivity": UnitKind(
        2, 1, -1, 1, 3, {1: "W m^2/(K V^2)", 2: "W m/(K V^2)", 3: "W/(K V^2)"}, "e^2 k_B/(hbar E_unit) length^(3-d)"),
    "second_order_heat_conductivity": UnitKind(2, 0, 0, 1, 3, {1: "W m^2/V^2", 2: "W m/V^2", 3: "W/V^2"},
                                               "e^2/hbar length^(3-d)"),
    "third_order_entropy_production": UnitKind(
        3, 1, -2, 1, 3, {1: "W/(K m) per (V/m)^3", 2: "W/(K m^2) per (V/m)^3", 3: "W/(K m^3) per (V/m)^3"},
        "k_B e^3/(hbar E_unit^2) length^(3-d) per field^3"),
    "density_of_states": UnitKind(1, 0, -1, 0, 0, {1: "1/(eV m)", 2: "1/(eV m^2)", 3: "1/(eV m^3)"},
                                  "1/(E_unit length^d)"),
    "entropy_current": UnitKind(0, 1, 1, 1, 1, {1: "W/K", 2: "W/(K m)", 3: "W/(K m^2)"},
                                "k_B E_unit/hbar length^(1-d)"),
}


def si_factor(kind: str, model) -> float:
    """Multiply a natural-unit result of this kind by this factor to get SI (model.dim decides d)."""
    if kind not in UNIT_KINDS:
        raise ValueError(f"unknown unit kind {kind!r}")
    u = UNIT_KINDS[kind]
    return (E_CHARGE**u.charge * K_B**u.boltzmann * energy_unit_in_joule(model) ** u.energy / HBAR**u.hbar
            * length_unit_in_metre(model) ** (u.offset - model.dim))


def si_unit(kind: str, model) -> str:
    return UNIT_KINDS[kind].si_unit[model.dim]
