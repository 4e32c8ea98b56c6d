"""Natural (seed) units <-> SI: one table, one place.

Natural units: k_B = e = hbar = 1, energies in the model's energy unit (eV by default), lengths in
its length unit (Angstrom by default), tau in hbar/energy, T in energy, k-integrals
int_k = int d^dk/(2 pi)^d. A response computed this way carries length^(2-d) (conductivities) and
converts to SI by one factor per unit kind below; d is the model's dimension, so 3D results are
per volume (S/m) and 2D results are sheet quantities (S).

SI inputs: mu in the model's energy unit, T in K, tau in fs.
"""

from __future__ import annotations

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


# unit kind -> (SI prefactor, length power offset, SI unit by dimension, natural unit)
UNIT_KINDS = {
    "conductivity": {
        "si_unit": {1: "S m", 2: "S", 3: "S/m"},
        "natural_unit": "e^2/hbar length^(2-d)",
    },
    "entropy_conductivity": {
        "si_unit": {1: "A m/K", 2: "A/K", 3: "A/(m K)"},
        "natural_unit": "e k_B/hbar length^(2-d)",
    },
    "entropy_production": {
        "si_unit": {1: "W/(K m) per (V/m)^2", 2: "W/(K m^2) per (V/m)^2", 3: "W/(K m^3) per (V/m)^2"},
        "natural_unit": "k_B e^2/(hbar E_unit) length^(2-d) per field^2",
    },
    "heat_conductivity": {
        "si_unit": {1: "W m/V", 2: "W/V", 3: "W/(V m)"},
        "natural_unit": "e E_unit/hbar length^(2-d)",
    },
    "second_order_conductivity": {
        "si_unit": {1: "A m^2/V^2", 2: "A m/V^2", 3: "A/V^2"},
        "natural_unit": "e^3/(hbar E_unit) length^(3-d)",
    },
    "second_order_entropy_conductivity": {
        "si_unit": {1: "W m/(K V^2)", 2: "W/(K V^2)", 3: "W/(K m V^2)"},
        "natural_unit": "e^2 k_B/(hbar E_unit) length^(3-d)",
    },
    "second_order_heat_conductivity": {
        "si_unit": {1: "W m^2/V^2", 2: "W m/V^2", 3: "W/V^2"},
        "natural_unit": "e^2/hbar length^(3-d)",
    },
    "third_order_entropy_production": {
        "si_unit": {1: "W/(K m) per (V/m)^3", 2: "W/(K m^2) per (V/m)^3", 3: "W/(K m^3) per (V/m)^3"},
        "natural_unit": "k_B e^3/(hbar E_unit^2) length^(3-d) per field^3",
    },
    "density_of_states": {
        "si_unit": {1: "1/(eV m)", 2: "1/(eV m^2)", 3: "1/(eV m^3)"},
        "natural_unit": "1/(E_unit length^d)",
    },
    "entropy_current": {
        "si_unit": {1: "W/K", 2: "W/(K m)", 3: "W/(K m^2)"},
        "natural_unit": "k_B E_unit/hbar length^(1-d)",
    },
}


def si_factor(kind: str, model) -> float:
    """Multiply a natural-unit result of this kind by this factor to get SI (model.dim decides d)."""
    L = length_unit_in_metre(model)
    E = energy_unit_in_joule(model)
    d = model.dim
    if kind == "conductivity":
        return E_CHARGE**2 / HBAR * L ** (2 - d)
    if kind == "entropy_conductivity":
        return E_CHARGE * K_B / HBAR * L ** (2 - d)
    if kind == "entropy_production":
        return E_CHARGE**2 / HBAR * K_B / E * L ** (2 - d)
    if kind == "heat_conductivity":
        return E_CHARGE * E / HBAR * L ** (2 - d)
    if kind == "second_order_conductivity":
        return E_CHARGE**3 / HBAR / E * L ** (3 - d)
    if kind == "second_order_entropy_conductivity":
        return E_CHARGE**2 * K_B / HBAR / E * L ** (3 - d)
    if kind == "second_order_heat_conductivity":
        return E_CHARGE**2 / HBAR * L ** (3 - d)
    if kind == "third_order_entropy_production":
        return E_CHARGE**3 / HBAR * K_B / E**2 * L ** (3 - d)
    if kind == "density_of_states":
        return 1.0 / ENERGY_UNITS_IN_EV[model.energy_unit] * L ** (-d)
    if kind == "entropy_current":
        return K_B * E / HBAR * L ** (1 - d)
    raise ValueError(f"unknown unit kind {kind!r}")


def si_unit(kind: str, model) -> str:
    return UNIT_KINDS[kind]["si_unit"][model.dim]
